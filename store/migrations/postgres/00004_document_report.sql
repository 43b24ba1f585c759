-- +goose Up
-- A document may settle its good lines and report the bad ones (CNAB files
-- imported with skip_bad_lines), instead of failing whole.
ALTER TABLE documents ADD COLUMN skip_bad_lines BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN report TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE documents DROP COLUMN report;
ALTER TABLE documents DROP COLUMN skip_bad_lines;
