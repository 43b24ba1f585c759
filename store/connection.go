package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"baixa"
)

var (
	_ baixa.ConnectionService = (*Connections)(nil)
	_ baixa.FetchStore        = struct {
		*Fetches
		*Documents
	}{}
)

const connectionColumns = `id, account_id, provider, name, settings, secrets, secrets_set, every_seconds, enabled, cursor,
	cert_expires_at, last_run_at, next_run_at, last_error, created_at, updated_at`

func scanConnection(db *DB, s scanner) (*baixa.Connection, error) {
	var c baixa.Connection
	var settings, secrets, set string
	var enabled, certExp, lastRun, nextRun, created, updated int64
	err := s.Scan(&c.ID, &c.AccountID, &c.Provider, &c.Name, &settings, &secrets, &set, &c.EverySeconds, &enabled, &c.Cursor,
		&certExp, &lastRun, &nextRun, &c.LastError, &created, &updated)
	if err != nil {
		return nil, err
	}
	c.Settings = json.RawMessage(settings)
	c.SecretsSet = strings.Fields(set)
	c.Enabled = enabled != 0
	c.CertificateExpiresAt, c.LastRunAt, c.NextRunAt = fromMicros(certExp), fromMicros(lastRun), fromMicros(nextRun)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.Secrets = map[string]string{}
	if secrets != "" {
		opened, err := db.unseal(secrets)
		if err != nil {
			return nil, fmt.Errorf("connection %s secrets: %w", c.ID, err)
		}
		if err := json.Unmarshal([]byte(opened), &c.Secrets); err != nil {
			return nil, fmt.Errorf("connection %s secrets: %w", c.ID, err)
		}
	}
	return &c, nil
}

// sealSecrets returns the secrets column and the names of those set.
func sealSecrets(db *DB, secrets map[string]string) (string, string, error) {
	set := map[string]string{}
	for k, v := range secrets {
		if v != "" {
			set[k] = v
		}
	}
	if len(set) == 0 {
		return "", "", nil
	}
	b, err := json.Marshal(set)
	if err != nil {
		return "", "", err
	}
	return db.seal(string(b)), strings.Join(slices.Sorted(maps.Keys(set)), " "), nil
}

// CreateConnection stores c, sealing its secrets; it is due at once.
func (s *Connections) CreateConnection(ctx context.Context, c *baixa.Connection) error {
	db := s.db
	if _, err := db.Accounts.FindAccountByID(ctx, c.AccountID); baixa.IsCode(err, baixa.ENotFound) {
		return baixa.FieldError("account_id", "no such account")
	} else if err != nil {
		return err
	}
	now := db.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.NextRunAt = baixa.NewID("con", now), now, now, now
	secrets, set, err := sealSecrets(db, c.Secrets)
	if err != nil {
		return err
	}
	c.SecretsSet = strings.Fields(set)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.on(tx).ExecContext(ctx, `INSERT INTO connections (id, account_id, provider, name, settings, secrets, secrets_set,
			every_seconds, enabled, cursor, cert_expires_at, next_run_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			c.ID, c.AccountID, c.Provider, c.Name, string(c.Settings), secrets, set, c.EverySeconds, boolInt(c.Enabled),
			c.Cursor, micros(c.CertificateExpiresAt), micros(now), micros(now))
		return err
	})
}

// FindConnectionByID returns the connection with its secrets opened;
// ENotFound for an unknown id.
func (s *Connections) FindConnectionByID(ctx context.Context, id string) (*baixa.Connection, error) {
	db := s.db
	return findConnection(ctx, db, db.R, id)
}

func findConnection(ctx context.Context, db *DB, q sqlConn, id string) (*baixa.Connection, error) {
	var c *baixa.Connection
	err := db.queryRow(ctx, q, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, []any{id}, func(s scanner) error {
		var err error
		c, err = scanConnection(db, s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "connection %s not found", id)
	}
	return c, err
}

// FindConnections lists connections in creation order.
func (s *Connections) FindConnections(ctx context.Context, after string, limit int) ([]*baixa.Connection, string, error) {
	db := s.db
	limit = pageLimit(limit)
	return page(ctx, db, `SELECT `+connectionColumns+` FROM connections WHERE id > $1 ORDER BY id LIMIT $2`, []any{after, limit + 1}, limit,
		func(sc scanner) (*baixa.Connection, error) { return scanConnection(db, sc) }, func(c *baixa.Connection) string { return c.ID })
}

// UpdateConnection writes c's name, settings, secrets, schedule and
// enabled flag. Its next run moves to now + every when that is sooner.
func (s *Connections) UpdateConnection(ctx context.Context, c *baixa.Connection) error {
	db := s.db
	secrets, set, err := sealSecrets(db, c.Secrets)
	if err != nil {
		return err
	}
	now := db.now()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE connections SET name = $2, settings = $3, secrets = $4, secrets_set = $5,
			every_seconds = $6, enabled = $7, cert_expires_at = $8, updated_at = $9,
			next_run_at = CASE WHEN next_run_at > $10 THEN $10 ELSE next_run_at END WHERE id = $1`,
			c.ID, c.Name, string(c.Settings), secrets, set, c.EverySeconds, boolInt(c.Enabled), micros(c.CertificateExpiresAt),
			micros(now), micros(now.Add(time.Duration(c.EverySeconds)*time.Second)))
		return found(res, err, "connection", c.ID)
	})
	if err != nil {
		return err
	}
	c.SecretsSet, c.UpdatedAt = strings.Fields(set), now
	return nil
}

// DeleteConnection removes the connection and its fetches; the documents it
// fetched stay (they are the record of what the provider said).
func (s *Connections) DeleteConnection(ctx context.Context, id string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `DELETE FROM connections WHERE id = $1`, id)
		if err := found(res, err, "connection", id); err != nil {
			return err
		}
		_, err = db.on(tx).ExecContext(ctx, `DELETE FROM fetches WHERE connection_id = $1`, id)
		return err
	})
}

// RunConnection makes the connection due now.
func (s *Connections) RunConnection(ctx context.Context, id string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE connections SET next_run_at = $2 WHERE id = $1`, id, micros(db.now()))
		return found(res, err, "connection", id)
	})
}

// SetConnectionError records the connection's last failure ("" clears it).
func (s *Connections) SetConnectionError(ctx context.Context, id, msg string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.on(tx).ExecContext(ctx, `UPDATE connections SET last_error = $2 WHERE id = $1 AND last_error <> $2`, id, msg)
		return err
	})
}

// ConnectionStats sums up what a connection fetched and settled.
func (s *Connections) ConnectionStats(ctx context.Context, id string) (*baixa.ConnectionStats, error) {
	db := s.db
	st := &baixa.ConnectionStats{Movements: map[baixa.MovementResult]int64{}}
	var applied, duplicate, unmatched, conflict int64
	err := db.on(db.R).QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), COALESCE(SUM(applied), 0), COALESCE(SUM(duplicate), 0), COALESCE(SUM(unmatched), 0), COALESCE(SUM(conflict), 0)
		FROM documents WHERE connection_id = $1`, id).Scan(&st.Documents, &st.DocumentsFailed, &st.DocumentsPending, &applied, &duplicate, &unmatched, &conflict)
	if err != nil {
		return nil, err
	}
	st.Movements[baixa.ResultApplied], st.Movements[baixa.ResultDuplicate] = applied, duplicate
	st.Movements[baixa.ResultUnmatched], st.Movements[baixa.ResultConflict] = unmatched, conflict
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT `+fetchColumns+` FROM fetches
		WHERE connection_id = $1 AND status IN ('new', 'requested', 'listed') ORDER BY window_from, scope`, id)
	if err != nil {
		return nil, err
	}
	if st.Active, err = collect(rows, scanFetch); err != nil {
		return nil, err
	}
	rows, err = db.on(db.R).QueryContext(ctx, `SELECT `+fetchColumns+` FROM fetches
		WHERE connection_id = $1 AND status IN ('done', 'failed') ORDER BY updated_at DESC LIMIT 10`, id)
	if err != nil {
		return nil, err
	}
	if st.Recent, err = collect(rows, scanFetch); err != nil {
		return nil, err
	}
	rows, err = db.on(db.R).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE connection_id = $1 AND status = 'failed' ORDER BY id DESC LIMIT 5`, id)
	if err != nil {
		return nil, err
	}
	st.Failed, err = collect(rows, scanDocument)
	return st, err
}
