-- +goose Up
-- connections are the provider accounts that baixa reads on a schedule.
CREATE TABLE connections (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    provider        TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    -- the provider's own settings, JSON, normalized by its connector
    settings        TEXT NOT NULL,
    -- JSON object of secrets, sealed with BAIXA_SECRET_KEY when it is set
    secrets         TEXT NOT NULL DEFAULT '',
    secrets_set     TEXT NOT NULL DEFAULT '',
    every_seconds   BIGINT NOT NULL,
    enabled         BIGINT NOT NULL DEFAULT 1,
    cursor          TEXT NOT NULL DEFAULT '',
    cert_expires_at BIGINT NOT NULL DEFAULT 0,
    last_run_at     BIGINT NOT NULL DEFAULT 0,
    next_run_at     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX connections_due ON connections (next_run_at) WHERE enabled = 1;

-- fetches: one request to a provider for one window, from asking to the
-- stored files. At most one is active per connection, window and scope.
CREATE TABLE fetches (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    window_from   TEXT NOT NULL,
    window_to     TEXT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    request_code  TEXT NOT NULL DEFAULT '',
    -- space-separated provider file ids
    files         TEXT NOT NULL DEFAULT '',
    files_done    TEXT NOT NULL DEFAULT '',
    polls         BIGINT NOT NULL DEFAULT 0,
    final         BIGINT NOT NULL DEFAULT 0,
    note          TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL DEFAULT 0,
    done_at       BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX fetches_active ON fetches (connection_id, window_from, scope)
    WHERE status IN ('new', 'requested', 'listed');
CREATE INDEX fetches_connection ON fetches (connection_id, window_from);
CREATE INDEX documents_connection ON documents (connection_id);

-- +goose Down
DROP INDEX documents_connection;
DROP TABLE fetches;
DROP TABLE connections;
