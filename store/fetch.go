package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"baixa"
)

// DueConnections returns up to limit enabled connections whose next run
// has come.
func (s *Fetches) DueConnections(ctx context.Context, now time.Time, limit int) ([]*baixa.Connection, error) {
	db := s.db
	rows, err := db.on(db.W).QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE enabled = 1 AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (*baixa.Connection, error) { return scanConnection(db, sc) })
}

// FetchesSince returns the connection's fetches whose window starts on or
// after from, in window order.
func (s *Fetches) FetchesSince(ctx context.Context, connectionID string, from baixa.Date) ([]*baixa.Fetch, error) {
	db := s.db
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
func (s *Fetches) StartRun(ctx context.Context, c *baixa.Connection, fetches []*baixa.Fetch, cursor string, now time.Time) (bool, error) {
	db := s.db
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
			if _, err := insertFetch(ctx, db, tx, c.ID, f, now); err != nil {
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
func insertFetch(ctx context.Context, db *DB, tx *sql.Tx, connection string, f *baixa.Fetch, now time.Time) (bool, error) {
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
	return true, db.jobs.InsertTx(ctx, tx, baixa.FetchJob{FetchID: f.ID})
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
func (s *Fetches) FindFetchByID(ctx context.Context, id string) (*baixa.Fetch, error) {
	db := s.db
	f, err := scanFetch(db.on(db.W).QueryRowContext(ctx, `SELECT `+fetchColumns+` FROM fetches WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "fetch %s not found", id)
	}
	return f, err
}

// SaveFetch writes f's progress.
func (s *Fetches) SaveFetch(ctx context.Context, f *baixa.Fetch) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error { return saveFetch(ctx, db, tx, f) })
}

func saveFetch(ctx context.Context, db *DB, tx *sql.Tx, f *baixa.Fetch) error {
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
func (s *Fetches) StoreFetchFile(ctx context.Context, f *baixa.Fetch, fileID string, d baixa.NewDocument) (*baixa.Document, error) {
	db := s.db
	var doc *baixa.Document
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		doc, err = insertDocument(ctx, db, tx, d)
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
		if err := documentJobs(ctx, db, tx, d, doc); err != nil {
			return err
		}
		f.FilesDone = append(f.FilesDone, fileID)
		return saveFetch(ctx, db, tx, f)
	})
	if errors.Is(err, errDuplicateDocument) {
		// Seen before: mark the file done without a second copy.
		like, err := documentLike(ctx, db, d, doc.SHA256)
		if err != nil {
			return nil, err
		}
		if like, _, err = seenAgain(ctx, db, d, like); err != nil {
			return nil, err
		}
		f.FilesDone = append(f.FilesDone, fileID)
		if err := s.SaveFetch(ctx, f); err != nil {
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
func documentLike(ctx context.Context, db *DB, d baixa.NewDocument, sha string) (*baixa.Document, error) {
	if doc, err := findDocumentByKey(ctx, db, db.W, d.Provider, d.DedupKey); err == nil || !baixa.IsCode(err, baixa.ENotFound) {
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
func (s *Fetches) FetchDocuments(ctx context.Context, connectionID string) ([]*baixa.Document, error) {
	db := s.db
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE connection_id = $1
		ORDER BY id DESC LIMIT 100`, connectionID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDocument)
}
