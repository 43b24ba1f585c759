-- +goose Up
-- endpoints are the ERP subscribers that events are delivered to.
CREATE TABLE endpoints (
    id                      TEXT PRIMARY KEY,
    url                     TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    -- space-separated event types; empty for all
    event_types             TEXT NOT NULL DEFAULT '',
    account_id              TEXT NOT NULL DEFAULT '',
    headers                 TEXT NOT NULL DEFAULT '{}',
    timeout_seconds         BIGINT NOT NULL,
    rate_limit              BIGINT NOT NULL DEFAULT 0,
    max_concurrency         BIGINT NOT NULL,
    ordered                 BIGINT NOT NULL DEFAULT 1,
    disabled_at             BIGINT NOT NULL DEFAULT 0,
    disabled_reason         TEXT NOT NULL DEFAULT '',
    failing_since           BIGINT NOT NULL DEFAULT 0,
    secret                  TEXT NOT NULL,
    previous_secret         TEXT NOT NULL DEFAULT '',
    previous_secret_expires BIGINT NOT NULL DEFAULT 0,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

-- deliveries: one event to one endpoint. Written in the event's own
-- transaction (the outbox); a worker claims due ones with a lease.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    charge_id        TEXT NOT NULL DEFAULT '',
    sequence         BIGINT NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    retry_base       BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    event_created_at BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    succeeded_at     BIGINT NOT NULL DEFAULT 0
);
-- what is due, in the order it is claimed
CREATE INDEX deliveries_due ON deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
-- per-charge order: is an earlier event of this charge still pending? (A
-- charge has few pending deliveries, so the endpoint is checked on the row:
-- an index that started with it would look like deliveries_due to the
-- planner, which could then scan every pending delivery per candidate.)
CREATE INDEX deliveries_order ON deliveries (charge_id, sequence) WHERE status = 'pending' AND charge_id <> '';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_charge ON deliveries (charge_id) WHERE charge_id <> '';

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    n           BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    status_code BIGINT NOT NULL DEFAULT 0,
    duration_us BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    -- the first KB of the response body
    response    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, n)
);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE endpoints;
