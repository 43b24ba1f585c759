-- The raw reference of bench/callbacks and bench/settle on PostgreSQL: one
-- row of about a callback's size inserted per transaction, committed.
--   psql -c 'CREATE TABLE IF NOT EXISTS raw_insert (id bigserial PRIMARY KEY, body text NOT NULL)' DB
--   pgbench -n -M prepared -c 32 -j 2 -T 10 -f bench/pgbench/insert.sql DB
INSERT INTO raw_insert (body) VALUES (repeat('x', 300));
