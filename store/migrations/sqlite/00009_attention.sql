-- +goose Up
-- The attention queue: the movements that need a person. Besides those that
-- matched no charge or contradicted one, the charges a provider declined or
-- rejected, and the payments applied without an amount. A partial index, as
-- small as they are rare; its predicate is repeated word for word by the
-- queries that use it (store/attention.go).
CREATE INDEX movements_review ON movements (id) WHERE result IN ('unmatched', 'conflict')
    OR (result = 'applied' AND kind IN ('declined', 'rejected'))
    OR (result = 'applied' AND kind = 'paid' AND reason = 'paid without a reported amount');

-- resolutions: what a person decided about an item, one row per movement
-- while it stands (reopening deletes it).
CREATE TABLE resolutions (
    movement_id      TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    charge_id        TEXT NOT NULL DEFAULT '',
    link_movement_id TEXT NOT NULL DEFAULT '',
    amount           BIGINT NOT NULL DEFAULT 0,
    by_key_id        TEXT NOT NULL,
    by_key_name      TEXT NOT NULL,
    at               BIGINT NOT NULL
);

-- resolution_log: every decision and reopening, with the item before and
-- after, and the idempotency key it was made with.
CREATE TABLE resolution_log (
    id              TEXT PRIMARY KEY,
    movement_id     TEXT NOT NULL,
    action          TEXT NOT NULL,
    idempotency_key TEXT,
    by_key_id       TEXT NOT NULL,
    by_key_name     TEXT NOT NULL,
    before_json     TEXT NOT NULL,
    after_json      TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX resolution_log_key ON resolution_log (idempotency_key);
CREATE INDEX resolution_log_movement ON resolution_log (movement_id, id);

-- +goose Down
DROP TABLE resolution_log;
DROP TABLE resolutions;
DROP INDEX movements_review;
