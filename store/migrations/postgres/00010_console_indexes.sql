-- +goose Up
-- A reference of any kind, as a person searching the console gives it:
-- the lookup index leads with the account and the kind, which they do not
-- give. (No index on charges' status: settling changes it on every payment,
-- and such an index cost about 9% of SQLite's settling rate; the list by status
-- reads in id order until a page is full. See docs/BENCHMARKS.md.)
CREATE INDEX charge_refs_value ON charge_refs (value);

-- +goose Down
DROP INDEX charge_refs_value;
