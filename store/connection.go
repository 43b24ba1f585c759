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
	_ baixa.ConnectionService = (*DB)(nil)
	_ baixa.FetchStore        = (*DB)(nil)
)

const connectionColumns = `id, account_id, provider, name, settings, secrets, secrets_set, every_seconds, enabled, cursor,
	cert_expires_at, last_run_at, next_run_at, last_error, created_at, updated_at`

func (db *DB) scanConnection(s scanner) (*baixa.Connection, error) {
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
func (db *DB) sealSecrets(secrets map[string]string) (string, string, error) {
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
func (db *DB) CreateConnection(ctx context.Context, c *baixa.Connection) error {
	if _, err := db.FindAccountByID(ctx, c.AccountID); baixa.IsCode(err, baixa.ENotFound) {
		return baixa.FieldError("account_id", "no such account")
	} else if err != nil {
		return err
	}
	now := db.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.NextRunAt = baixa.NewID("con", now), now, now, now
	secrets, set, err := db.sealSecrets(c.Secrets)
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
func (db *DB) FindConnectionByID(ctx context.Context, id string) (*baixa.Connection, error) {
	return db.findConnection(ctx, db.R, id)
}

func (db *DB) findConnection(ctx context.Context, q sqlConn, id string) (*baixa.Connection, error) {
	var c *baixa.Connection
	err := db.queryRow(ctx, q, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, []any{id}, func(s scanner) error {
		var err error
		c, err = db.scanConnection(s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "connection %s not found", id)
	}
	return c, err
}

// FindConnections lists connections in creation order.
func (db *DB) FindConnections(ctx context.Context, after string, limit int) ([]*baixa.Connection, string, error) {
	limit = pageLimit(limit)
	return page(ctx, db, `SELECT `+connectionColumns+` FROM connections WHERE id > $1 ORDER BY id LIMIT $2`, []any{after, limit + 1}, limit,
		db.scanConnection, func(c *baixa.Connection) string { return c.ID })
}

// UpdateConnection writes c's name, settings, secrets, schedule and
// enabled flag. Its next run moves to now + every when that is sooner.
func (db *DB) UpdateConnection(ctx context.Context, c *baixa.Connection) error {
	secrets, set, err := db.sealSecrets(c.Secrets)
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
func (db *DB) DeleteConnection(ctx context.Context, id string) error {
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
func (db *DB) RunConnection(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE connections SET next_run_at = $2 WHERE id = $1`, id, micros(db.now()))
		return found(res, err, "connection", id)
	})
}

// DueConnections returns up to limit enabled connections whose next run
// has come.
func (db *DB) DueConnections(ctx context.Context, now time.Time, limit int) ([]*baixa.Connection, error) {
	rows, err := db.on(db.W).QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE enabled = 1 AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, db.scanConnection)
}

// FetchesSince returns the connection's fetches whose window starts on or
// after from, in window order.
func (db *DB) FetchesSince(ctx context.Context, connectionID string, from baixa.Date) ([]*baixa.Fetch, error) {
	rows, err := db.on(db.W).QueryContext(ctx, `SELECT `+fetchColumns+` FROM fetches
		WHERE connection_id = $1 AND window_from >= $2 ORDER BY window_from, id`, connectionID, from.String())
	if err != nil {
		return nil, err
	}
	return collect(rows, scanFetch)
}

// StartRun records a run of c planned at now: the new fetches (those that
// clash with an active one for the same window and scope are skipped), a
// job for each, the new cursor and the next run, in one transaction. It
// returns false, changing nothing, when c's next run moved meanwhile (an
// operator, or another instance, got there first).
func (db *DB) StartRun(ctx context.Context, c *baixa.Connection, fetches []*baixa.Fetch, cursor string, now time.Time) (bool, error) {
	started := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		q := db.on(tx)
		next := now.Add(time.Duration(c.EverySeconds) * time.Second)
		res, err := q.ExecContext(ctx, `UPDATE connections SET next_run_at = $2, last_run_at = $3, cursor = $4
			WHERE id = $1 AND next_run_at = $5 AND enabled = 1`, c.ID, micros(next), micros(now), cursor, micros(c.NextRunAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		started = true
		for _, f := range fetches {
			if _, err := db.insertFetch(ctx, tx, c.ID, f, now); err != nil {
				return err
			}
		}
		c.NextRunAt, c.LastRunAt, c.Cursor = next, now, cursor
		return nil
	})
	return started, err
}

// insertFetch stores a new fetch of connection with its job, in tx; one
// that clashes with an active fetch of the same window and scope is not
// stored (inserted=false).
func (db *DB) insertFetch(ctx context.Context, tx *sql.Tx, connection string, f *baixa.Fetch, now time.Time) (bool, error) {
	f.ID, f.ConnectionID, f.Status, f.CreatedAt, f.UpdatedAt = baixa.NewID("fet", now), connection, baixa.FetchNew, now, now
	res, err := db.on(tx).ExecContext(ctx, `INSERT INTO fetches (id, connection_id, window_from, window_to, scope, status, final,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING`,
		f.ID, connection, f.WindowFrom.String(), f.WindowTo.String(), f.Scope, string(f.Status), boolInt(f.Final), micros(now))
	if err != nil {
		return false, fmt.Errorf("insert fetch: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, db.Jobs.InsertTx(ctx, tx, baixa.FetchArgs{FetchID: f.ID})
}

// SetConnectionError records the connection's last failure ("" clears it).
func (db *DB) SetConnectionError(ctx context.Context, id, msg string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.on(tx).ExecContext(ctx, `UPDATE connections SET last_error = $2 WHERE id = $1 AND last_error <> $2`, id, msg)
		return err
	})
}

// ConnectionStats sums up what a connection fetched and settled.
func (db *DB) ConnectionStats(ctx context.Context, id string) (*baixa.ConnectionStats, error) {
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

const fetchColumns = `id, connection_id, window_from, window_to, scope, status, request_code, files, files_done, polls, final, note,
	created_at, updated_at, requested_at, done_at`

func scanFetch(s scanner) (*baixa.Fetch, error) {
	var f baixa.Fetch
	var from, to, status, files, done string
	var final, created, updated, requested, doneAt int64
	err := s.Scan(&f.ID, &f.ConnectionID, &from, &to, &f.Scope, &status, &f.RequestCode, &files, &done, &f.Polls, &final,
		&f.Note, &created, &updated, &requested, &doneAt)
	if err != nil {
		return nil, err
	}
	f.WindowFrom, f.WindowTo = parseDate(from), parseDate(to)
	f.Status, f.Final = baixa.FetchStatus(status), final != 0
	f.Files, f.FilesDone = strings.Fields(files), strings.Fields(done)
	f.CreatedAt, f.UpdatedAt, f.RequestedAt, f.DoneAt = fromMicros(created), fromMicros(updated), fromMicros(requested), fromMicros(doneAt)
	return &f, nil
}

// FindFetchByID returns ENotFound for an unknown id.
func (db *DB) FindFetchByID(ctx context.Context, id string) (*baixa.Fetch, error) {
	f, err := scanFetch(db.on(db.W).QueryRowContext(ctx, `SELECT `+fetchColumns+` FROM fetches WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "fetch %s not found", id)
	}
	return f, err
}

// SaveFetch writes f's progress.
func (db *DB) SaveFetch(ctx context.Context, f *baixa.Fetch) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.saveFetch(ctx, tx, f) })
}

func (db *DB) saveFetch(ctx context.Context, tx *sql.Tx, f *baixa.Fetch) error {
	f.UpdatedAt = db.now()
	if !f.Status.Active() && f.DoneAt.IsZero() {
		f.DoneAt = f.UpdatedAt
	}
	res, err := db.on(tx).ExecContext(ctx, `UPDATE fetches SET status = $2, request_code = $3, files = $4, files_done = $5,
		polls = $6, note = $7, updated_at = $8, requested_at = $9, done_at = $10 WHERE id = $1`,
		f.ID, string(f.Status), f.RequestCode, strings.Join(f.Files, " "), strings.Join(f.FilesDone, " "), f.Polls, f.Note,
		micros(f.UpdatedAt), micros(f.RequestedAt), micros(f.DoneAt))
	return found(res, err, "fetch", f.ID)
}

// StoreFetchFile stores a downloaded file as a Document with its settling
// job and marks it done on f, in one transaction. A file seen before (same
// dedup key, or same content from the same connection) is not stored again.
func (db *DB) StoreFetchFile(ctx context.Context, f *baixa.Fetch, fileID string, d baixa.NewDocument) (*baixa.Document, error) {
	var doc *baixa.Document
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		doc, err = db.insertDocument(ctx, tx, d, baixa.DocPending)
		if err != nil {
			return err
		}
		var same string
		err = db.on(tx).QueryRowContext(ctx, `SELECT id FROM documents WHERE provider = $1 AND connection_id = $2 AND sha256 = $3
			AND id <> $4 LIMIT 1`, d.Provider, d.ConnectionID, doc.SHA256, doc.ID).Scan(&same)
		switch {
		case err == nil:
			return errDuplicateDocument
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := db.documentJobs(ctx, tx, d, doc); err != nil {
			return err
		}
		f.FilesDone = append(f.FilesDone, fileID)
		return db.saveFetch(ctx, tx, f)
	})
	if errors.Is(err, errDuplicateDocument) {
		// Seen before: mark the file done without a second copy.
		like, err := db.documentLike(ctx, d, doc.SHA256)
		if err != nil {
			return nil, err
		}
		if like, _, err = db.seenAgain(ctx, d, like); err != nil {
			return nil, err
		}
		f.FilesDone = append(f.FilesDone, fileID)
		if err := db.SaveFetch(ctx, f); err != nil {
			return nil, err
		}
		return like, nil
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// documentLike finds the stored document that d duplicates.
func (db *DB) documentLike(ctx context.Context, d baixa.NewDocument, sha string) (*baixa.Document, error) {
	if doc, err := db.findDocumentByKey(ctx, db.W, d.Provider, d.DedupKey); err == nil || !baixa.IsCode(err, baixa.ENotFound) {
		return doc, err
	}
	rows, err := db.on(db.W).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE provider = $1 AND connection_id = $2
		AND sha256 = $3 ORDER BY id LIMIT 1`, d.Provider, d.ConnectionID, sha)
	if err != nil {
		return nil, err
	}
	docs, err := collect(rows, scanDocument)
	if err != nil || len(docs) == 0 {
		return nil, cmpErr(err, baixa.Errorf(baixa.ENotFound, "no document like it"))
	}
	return docs[0], nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// FetchDocuments returns the documents a connection fetched, newest first
// (at most 100).
func (db *DB) FetchDocuments(ctx context.Context, connectionID string) ([]*baixa.Document, error) {
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE connection_id = $1
		ORDER BY id DESC LIMIT 100`, connectionID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDocument)
}
