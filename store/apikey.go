package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"baixa"
)

var (
	_ baixa.APIKeyService = (*APIKeys)(nil)
	_ baixa.AuditService  = (*APIKeys)(nil)
)

const apiKeyColumns = `id, name, role, account_id, prefix, created_at, last_used_at, expires_at, revoked_at`

func scanAPIKey(s scanner) (*baixa.APIKey, error) {
	var k baixa.APIKey
	var created, used, expires, revoked int64
	if err := s.Scan(&k.ID, &k.Name, &k.Role, &k.AccountID, &k.Prefix, &created, &used, &expires, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(expires), fromMicros(revoked)
	return &k, nil
}

// CreateAPIKey validates and stores k, setting its id, prefix and time.
func (s *APIKeys) CreateAPIKey(ctx context.Context, k *baixa.APIKey, secret string) error {
	db := s.db
	if k.Name == "" {
		return baixa.FieldError("name", "is required")
	}
	if !baixa.RoleAllows(k.Role, baixa.RoleRead) {
		return baixa.FieldError("role", "want read, operator or admin")
	}
	if k.AccountID != "" {
		if _, err := db.Accounts.FindAccountByID(ctx, k.AccountID); baixa.IsCode(err, baixa.ENotFound) {
			return baixa.FieldError("account_id", "no account %s", k.AccountID)
		} else if err != nil {
			return err
		}
	}
	now := db.now()
	k.ID, k.CreatedAt, k.Prefix = baixa.NewID("key", now), now, baixa.KeyPrefix(secret)
	return db.inTx(ctx, func(tx *sql.Tx) error { return insertAPIKey(ctx, db, tx, k, secret) })
}

func insertAPIKey(ctx context.Context, db *DB, tx *sql.Tx, k *baixa.APIKey, secret string) error {
	_, err := db.on(tx).ExecContext(ctx, `INSERT INTO api_keys (id, name, role, account_id, prefix, hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k.ID, k.Name, k.Role, k.AccountID, k.Prefix, baixa.HashAPIKey(secret), micros(k.CreatedAt), micros(k.ExpiresAt))
	return err
}

// FindAPIKeyBySecret looks the key up by its hash. Its last use is noted
// at most once a minute, so that reads stay reads.
func (s *APIKeys) FindAPIKeyBySecret(ctx context.Context, secret string) (*baixa.APIKey, error) {
	db := s.db
	k, err := scanAPIKey(db.on(db.R).QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, baixa.HashAPIKey(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "no such API key")
	}
	if err != nil {
		return nil, err
	}
	now := db.now()
	if !k.Active(now) {
		return nil, baixa.Errorf(baixa.ENotFound, "the API key was revoked or has expired")
	}
	if now.Sub(k.LastUsedAt) > time.Minute {
		if _, err := db.on(db.W).ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, k.ID, micros(now)); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// FindAPIKeyByID returns ENotFound for an unknown id.
func (s *APIKeys) FindAPIKeyByID(ctx context.Context, id string) (*baixa.APIKey, error) {
	db := s.db
	k, err := scanAPIKey(db.on(db.R).QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "API key %s not found", id)
	}
	return k, err
}

// FindAPIKeys lists keys in creation order.
func (s *APIKeys) FindAPIKeys(ctx context.Context, p baixa.Page) ([]*baixa.APIKey, string, error) {
	db := s.db
	limit := pageLimit(p.Limit)
	return page(ctx, db, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2`, []any{p.After, limit + 1}, limit,
		scanAPIKey, func(k *baixa.APIKey) string { return k.ID })
}

// RotateAPIKey stores the new key and sets the old one's end, in one
// transaction; a revoked or expired key is not rotated.
func (s *APIKeys) RotateAPIKey(ctx context.Context, id, secret string, overlap time.Duration) (*baixa.APIKey, error) {
	db := s.db
	old, err := s.FindAPIKeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := db.now()
	if !old.Active(now) {
		return nil, baixa.Errorf(baixa.EConflict, "API key %s was revoked or has expired", id)
	}
	k := &baixa.APIKey{ID: baixa.NewID("key", now), Name: old.Name, Role: old.Role, AccountID: old.AccountID, Prefix: baixa.KeyPrefix(secret), CreatedAt: now}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertAPIKey(ctx, db, tx, k, secret); err != nil {
			return err
		}
		_, err := db.on(tx).ExecContext(ctx, `UPDATE api_keys SET expires_at = $2 WHERE id = $1`, id, micros(now.Add(max(overlap, time.Microsecond))))
		return err
	})
	return k, err
}

// RevokeAPIKey ends the key's use; revoking it again changes nothing.
func (s *APIKeys) RevokeAPIKey(ctx context.Context, id string) error {
	db := s.db
	if _, err := s.FindAPIKeyByID(ctx, id); err != nil {
		return err
	}
	_, err := db.on(db.W).ExecContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`, id, micros(db.now()))
	return err
}

// EnsureAPIKey stores secret as the admin key id (insert or replace the
// hash), active.
func (s *APIKeys) EnsureAPIKey(ctx context.Context, id, name, secret string) error {
	db := s.db
	now := db.now()
	_, err := db.on(db.W).ExecContext(ctx, `INSERT INTO api_keys (id, name, role, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, prefix = excluded.prefix, role = excluded.role, revoked_at = 0, expires_at = 0`,
		id, name, baixa.RoleAdmin, baixa.KeyPrefix(secret), baixa.HashAPIKey(secret), micros(now))
	return err
}

// AddAudit stores e, setting its id and time.
func (s *APIKeys) AddAudit(ctx context.Context, e *baixa.AuditEntry) error {
	db := s.db
	now := db.now()
	e.ID, e.At = baixa.NewID("aud", now), now
	_, err := db.on(db.W).ExecContext(ctx, `INSERT INTO audit_log (id, at, key_id, key_name, method, path, operation, status, before_json, after_json)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, micros(now), e.KeyID, e.KeyName, e.Method, e.Path, e.Operation, int64(e.Status), e.Before, e.After)
	return err
}

// FindAudit lists entries newest first, of one key when keyID is set.
func (s *APIKeys) FindAudit(ctx context.Context, keyID string, p baixa.Page) ([]*baixa.AuditEntry, string, error) {
	db := s.db
	limit := pageLimit(p.Limit)
	after := p.After
	if after == "" {
		after = "~" // after every id, newest first
	}
	return page(ctx, db, `SELECT id, at, key_id, key_name, method, path, operation, status, before_json, after_json FROM audit_log
		WHERE id < $1 AND ($2 = '' OR key_id = $2) ORDER BY id DESC LIMIT $3`, []any{after, keyID, limit + 1}, limit,
		func(s scanner) (*baixa.AuditEntry, error) {
			var e baixa.AuditEntry
			var at, status int64
			if err := s.Scan(&e.ID, &at, &e.KeyID, &e.KeyName, &e.Method, &e.Path, &e.Operation, &status, &e.Before, &e.After); err != nil {
				return nil, err
			}
			e.At, e.Status = fromMicros(at), int(status)
			return &e, nil
		}, func(e *baixa.AuditEntry) string { return e.ID })
}
