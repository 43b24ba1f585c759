-- +goose Up
-- A provider may give the link where a charge is paid (Recuperador CRM's
-- invoice, in its answer to a mark-read).
ALTER TABLE charges ADD COLUMN payment_link TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE charges DROP COLUMN payment_link;
