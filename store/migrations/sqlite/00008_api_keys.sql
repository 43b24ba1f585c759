-- +goose Up
-- api_keys: credentials of the /v1 API; only the SHA-256 of each is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    account_id   TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);

-- audit_log: every write made through the API, by key.
CREATE TABLE audit_log (
    id        TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    key_name  TEXT NOT NULL,
    method    TEXT NOT NULL,
    path      TEXT NOT NULL,
    operation TEXT NOT NULL,
    status    BIGINT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_key ON audit_log (key_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_keys;
