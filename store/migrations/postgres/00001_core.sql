-- +goose Up
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE charges (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    provider_status TEXT NOT NULL DEFAULT '',
    amount          BIGINT NOT NULL,
    due_date        TEXT NOT NULL DEFAULT '',
    payer_name      TEXT NOT NULL DEFAULT '',
    payer_document  TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    metadata        TEXT NOT NULL DEFAULT '{}',
    refs            TEXT NOT NULL DEFAULT '{}',
    paid_amount     BIGINT NOT NULL DEFAULT 0,
    interest_amount BIGINT NOT NULL DEFAULT 0,
    fine_amount     BIGINT NOT NULL DEFAULT 0,
    discount_amount BIGINT NOT NULL DEFAULT 0,
    rebate_amount   BIGINT NOT NULL DEFAULT 0,
    fee_amount      BIGINT NOT NULL DEFAULT 0,
    credited_amount BIGINT NOT NULL DEFAULT 0,
    paid_on         TEXT NOT NULL DEFAULT '',
    credited_on     TEXT NOT NULL DEFAULT '',
    conflict        TEXT NOT NULL DEFAULT '',
    sequence        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
) WITH (fillfactor = 80); -- room on each page for HOT updates
-- No index on status: settling changes it on every payment, and an index
-- on it would cost every update (and, on PostgreSQL, rule out HOT updates).
-- Lists by status go through the account's index or the primary key.
CREATE INDEX charges_account ON charges (account_id, id);
CREATE INDEX charges_due_date ON charges (due_date, id);

-- charge_refs indexes every reference of a charge for matching. Each
-- reference is unique within its account, except nosso_numero_base (the
-- nosso número without its last digit), which only helps matching.
CREATE TABLE charge_refs (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    charge_id  TEXT NOT NULL REFERENCES charges (id)
);
CREATE UNIQUE INDEX charge_refs_unique ON charge_refs (account_id, kind, value) WHERE kind <> 'nosso_numero_base';
CREATE INDEX charge_refs_lookup ON charge_refs (account_id, kind, value);
CREATE INDEX charge_refs_charge ON charge_refs (charge_id);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    connection_id TEXT NOT NULL DEFAULT '',
    account_id    TEXT NOT NULL DEFAULT '',
    content_type  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    dedup_key     TEXT NOT NULL,
    size          BIGINT NOT NULL,
    status        TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    progress      BIGINT NOT NULL DEFAULT 0,
    total         BIGINT NOT NULL DEFAULT 0,
    applied       BIGINT NOT NULL DEFAULT 0,
    duplicate     BIGINT NOT NULL DEFAULT 0,
    unmatched     BIGINT NOT NULL DEFAULT 0,
    conflict      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    settled_at    BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX documents_dedup ON documents (provider, dedup_key);
CREATE INDEX documents_sha256 ON documents (sha256);

-- document_parts holds a document's bytes in chunks, so that a large file is
-- streamed in and out instead of held in memory whole.
CREATE TABLE document_parts (
    document_id TEXT NOT NULL REFERENCES documents (id),
    seq         INTEGER NOT NULL,
    data        BYTEA NOT NULL,
    PRIMARY KEY (document_id, seq)
);

CREATE TABLE movements (
    id          TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',
    provider    TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    kind        TEXT NOT NULL,
    charge_id   TEXT NOT NULL DEFAULT '',
    result      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
-- One index besides the key: a charge's history is its events (which
-- name their movements), and a document's movements are found by its key.
CREATE UNIQUE INDEX movements_key ON movements (provider, natural_key);

-- events is the outbox and the pull feed; pos orders the feed.
CREATE TABLE events (
    pos        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    account_id TEXT NOT NULL,
    charge_id  TEXT NOT NULL DEFAULT '',
    sequence   BIGINT NOT NULL DEFAULT 0,
    -- the movement that caused the event; its JSON is joined in on reading
    movement_id TEXT NOT NULL DEFAULT '',
    -- the event without its movement: type, charge snapshot, ...
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_charge ON events (charge_id, sequence);

-- +goose Down
DROP TABLE events;
DROP TABLE movements;
DROP TABLE document_parts;
DROP TABLE documents;
DROP TABLE charge_refs;
DROP TABLE charges;
DROP TABLE accounts;
