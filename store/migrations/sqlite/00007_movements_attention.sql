-- +goose Up
-- The movements that need a person (matched no charge, or contradicted
-- one) are listed by result: a partial index, as small as they are rare,
-- so that settling's writes do not pay for it.
CREATE INDEX movements_attention ON movements (result, id) WHERE result IN ('unmatched', 'conflict');

-- +goose Down
DROP INDEX movements_attention;
