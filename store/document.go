package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"baixa"
)

var _ baixa.DocumentService = (*Documents)(nil)

// partSize is the size of the chunks a document's bytes are stored in.
const partSize = 1 << 20

const documentColumns = `id, provider, connection_id, account_id, content_type, sha256, dedup_key, size, status, error,
	progress, total, applied, duplicate, unmatched, conflict, created_at, settled_at, skip_bad_lines, report`

func scanDocument(s scanner) (*baixa.Document, error) {
	var d baixa.Document
	var status string
	var created, settled, skip int64
	err := s.Scan(&d.ID, &d.Provider, &d.ConnectionID, &d.AccountID, &d.ContentType, &d.SHA256, &d.DedupKey, &d.Size,
		&status, &d.Error, &d.Progress, &d.Total, &d.Applied, &d.Duplicate, &d.Unmatched, &d.Conflict, &created, &settled, &skip, &d.Report)
	if err != nil {
		return nil, err
	}
	d.Status, d.SkipBadLines = baixa.DocumentStatus(status), skip != 0
	d.CreatedAt, d.SettledAt = fromMicros(created), fromMicros(settled)
	return &d, nil
}

// CreateDocument stores the document and queues its settling in one
// transaction. It reads d.Body inside that transaction: pass something quick
// to read (a spooled file or memory), never a network stream.
func (s *Documents) CreateDocument(ctx context.Context, d baixa.NewDocument) (*baixa.Document, bool, error) {
	db := s.db
	small, rest, err := readSmall(d.Body)
	if err != nil {
		return nil, false, fmt.Errorf("read document: %w", err)
	}
	if rest == nil && d.Follow == nil && !d.Ack {
		// A duplicate is found by its savepoint's unique key, not a read first.
		return createGrouped(ctx, db, d, small)
	}
	if rest == nil {
		rest = bytes.NewReader(small)
	}
	if d.DedupKey != "" {
		if doc, err := findDocumentByKey(ctx, db, db.R, d.Provider, d.DedupKey); err == nil {
			return seenAgain(ctx, db, d, doc)
		} else if !baixa.IsCode(err, baixa.ENotFound) {
			return nil, false, err
		}
	}
	d.Body = rest
	var doc *baixa.Document
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		doc, err = insertDocument(ctx, db, tx, d)
		if err != nil {
			return err
		}
		return documentJobs(ctx, db, tx, d, doc)
	})
	if errors.Is(err, errDuplicateDocument) {
		existing, ferr := findDocumentByKey(ctx, db, db.W, d.Provider, cmp.Or(d.DedupKey, doc.SHA256))
		if ferr != nil {
			return nil, false, ferr
		}
		return seenAgain(ctx, db, d, existing)
	}
	if err != nil {
		return nil, false, err
	}
	return doc, true, nil
}

var errDuplicateDocument = errors.New("duplicate document")

// documentJobs queues, in tx, what follows a new document: its settling or
// the fetch it is the input of, and its acknowledgement.
func documentJobs(ctx context.Context, db *DB, tx *sql.Tx, d baixa.NewDocument, doc *baixa.Document) error {
	if db.jobs == nil {
		return errors.New("store: no job queue configured")
	}
	if d.Follow != nil {
		if err := insertFollow(ctx, db, tx, d, doc); err != nil {
			return err
		}
	} else if err := db.jobs.InsertTx(ctx, tx, baixa.SettleJob{DocumentID: doc.ID}); err != nil {
		return err
	}
	if d.Ack {
		return db.jobs.InsertTx(ctx, tx, baixa.AckJob{DocumentID: doc.ID})
	}
	return nil
}

// insertFollow stores the fetch whose input doc is, with its job.
func insertFollow(ctx context.Context, db *DB, tx *sql.Tx, d baixa.NewDocument, doc *baixa.Document) error {
	f, now := d.Follow, db.now()
	f.Scope, f.Final = f.Scope+doc.ID, true
	if f.WindowFrom.IsZero() {
		f.WindowFrom, f.WindowTo = baixa.Today(now), baixa.Today(now)
	}
	inserted, err := insertFetch(ctx, db, tx, d.ConnectionID, f, now)
	if err == nil && !inserted {
		err = fmt.Errorf("insert fetch: a fetch of %s is under way already", f.Scope)
	}
	return err
}

// seenAgain is what storing a document that exists does: nothing, except
// that its acknowledgement is queued again (a no-op while one waits), and
// that a fetch input that failed (an upload PlugBoleto refused) is
// followed again.
func seenAgain(ctx context.Context, db *DB, d baixa.NewDocument, doc *baixa.Document) (*baixa.Document, bool, error) {
	restart := d.Follow != nil && doc.Status == baixa.DocFailed
	if !d.Ack && !restart {
		return doc, false, nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if d.Ack {
			if err := db.jobs.InsertTx(ctx, tx, baixa.AckJob{DocumentID: doc.ID}); err != nil {
				return err
			}
		}
		if !restart {
			return nil
		}
		if reopened, err := reopen(ctx, db, tx, doc.ID); err != nil || !reopened {
			return err // another import restarted it first
		}
		return insertFollow(ctx, db, tx, d, doc)
	})
	if err != nil {
		return nil, false, err
	}
	if restart {
		doc.Status, doc.Error = baixa.DocPending, ""
	}
	return doc, false, nil
}

// reopen makes a failed document pending again; false when it was not failed.
func reopen(ctx context.Context, db *DB, tx *sql.Tx, id string) (bool, error) {
	res, err := db.on(tx).ExecContext(ctx, `UPDATE documents SET status = $2, error = '' WHERE id = $1 AND status = $3`,
		id, string(baixa.DocPending), string(baixa.DocFailed))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// FinishDocument marks a fetch's input document settled, or failed.
func (s *Documents) FinishDocument(ctx context.Context, id, failure, report string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		status := baixa.DocSettled
		if failure != "" {
			status = baixa.DocFailed
		}
		_, err := db.on(tx).ExecContext(ctx, `UPDATE documents SET status = $2, error = $3, settled_at = $4, report = $5 WHERE id = $1 AND status = 'pending'`,
			id, string(status), failure, micros(db.now()), report)
		return err
	})
}

// newDocument is the row of d, pending, stored at now, before its bytes
// are read.
func newDocument(d baixa.NewDocument, now time.Time) *baixa.Document {
	return &baixa.Document{
		ID: baixa.NewID("doc", now), Provider: d.Provider, ConnectionID: d.ConnectionID, AccountID: d.AccountID,
		ContentType: cmp.Or(d.ContentType, "application/octet-stream"), Status: baixa.DocPending, CreatedAt: now, SkipBadLines: d.SkipBadLines,
	}
}

// insertDocument writes the document row and its parts, hashing as it
// reads; errDuplicateDocument means the provider and dedup key exist.
func insertDocument(ctx context.Context, db *DB, tx *sql.Tx, d baixa.NewDocument) (*baixa.Document, error) {
	now := db.now()
	doc := newDocument(d, now)
	// The row first (parts refer to it), with a provisional dedup key.
	_, err := db.exec(ctx, tx, `INSERT INTO documents (id, provider, connection_id, account_id, content_type, sha256, dedup_key, size, status, created_at, settled_at, skip_bad_lines)
		VALUES ($1, $2, $3, $4, $5, '', $1, 0, $6, $7, 0, $8)`,
		doc.ID, doc.Provider, doc.ConnectionID, doc.AccountID, doc.ContentType, string(doc.Status), micros(now), boolInt(d.SkipBadLines))
	if err != nil {
		return nil, fmt.Errorf("insert document: %w", err)
	}
	h := sha256.New()
	size := partSize
	if l, ok := d.Body.(interface{ Len() int }); ok && l.Len() < partSize {
		size = l.Len() + 1 // a small document (a callback): no megabyte buffer
	}
	buf := make([]byte, size)
	for seq := 0; ; seq++ {
		n, rerr := io.ReadFull(d.Body, buf)
		if n > 0 {
			h.Write(buf[:n])
			doc.Size += int64(n)
			if _, err := db.exec(ctx, tx, `INSERT INTO document_parts (document_id, seq, data) VALUES ($1, $2, $3)`, doc.ID, seq, buf[:n]); err != nil {
				return nil, fmt.Errorf("insert document part: %w", err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("read document: %w", rerr)
		}
	}
	doc.SHA256 = hex.EncodeToString(h.Sum(nil))
	doc.DedupKey = cmp.Or(d.DedupKey, doc.SHA256)
	_, err = db.exec(ctx, tx, `UPDATE documents SET sha256 = $1, dedup_key = $2, size = $3 WHERE id = $4`, doc.SHA256, doc.DedupKey, doc.Size, doc.ID)
	if isUniqueViolation(err) {
		return doc, errDuplicateDocument
	}
	if err != nil {
		return nil, fmt.Errorf("insert document: %w", err)
	}
	return doc, nil
}

func findDocumentByKey(ctx context.Context, db *DB, q sqlConn, provider, key string) (*baixa.Document, error) {
	rows, err := db.on(q).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE provider = $1 AND dedup_key = $2`, provider, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, baixa.Errorf(baixa.ENotFound, "no document with that key")
	}
	return scanDocument(rows)
}

// FindDocumentByID returns ENotFound for an unknown id.
func (s *Documents) FindDocumentByID(ctx context.Context, id string) (*baixa.Document, error) {
	db := s.db
	return findDocument(ctx, db, db.R, id)
}

// OpenDocument streams a document's bytes one stored part at a time; no
// query stays open between reads.
func (s *Documents) OpenDocument(ctx context.Context, id string) (io.ReadCloser, error) {
	db := s.db
	if _, err := s.FindDocumentByID(ctx, id); err != nil {
		return nil, err
	}
	return &partReader{ctx: ctx, db: db.on(db.R), id: id}, nil
}

type partReader struct {
	ctx context.Context
	db  sqlConn
	id  string
	seq int
	buf bytes.Reader
	eof bool
}

func (r *partReader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 {
		if r.eof {
			return 0, io.EOF
		}
		var data []byte
		err := r.db.QueryRowContext(r.ctx, `SELECT data FROM document_parts WHERE document_id = $1 AND seq = $2`, r.id, r.seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read document %s part %d: %w", r.id, r.seq, err)
		}
		r.seq++
		r.buf.Reset(data)
	}
	return r.buf.Read(p)
}

func (r *partReader) Close() error { return nil }

// RetryDocument makes a failed document pending again and queues its
// settling, in one transaction.
func (s *Documents) RetryDocument(ctx context.Context, id string) (*baixa.Document, error) {
	db := s.db
	var doc *baixa.Document
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		reopened, err := reopen(ctx, db, tx, id)
		if err != nil {
			return err
		}
		if !reopened {
			d, err := s.FindDocumentByID(ctx, id)
			if err != nil {
				return err
			}
			return baixa.Errorf(baixa.EConflict, "document %s is %s; only a failed document can be retried", id, d.Status)
		}
		// As queued: once committed, the job may change it at once.
		if doc, err = findDocument(ctx, db, tx, id); err != nil {
			return err
		}
		return db.jobs.InsertTx(ctx, tx, baixa.SettleJob{DocumentID: id})
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

func findDocument(ctx context.Context, db *DB, q sqlConn, id string) (*baixa.Document, error) {
	d, err := scanDocument(db.on(q).QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "document %s not found", id)
	}
	return d, err
}

// FindDocuments lists documents, newest first (their ids sort by time).
func (s *Documents) FindDocuments(ctx context.Context, f baixa.DocumentFilter) ([]*baixa.Document, string, error) {
	db := s.db
	var where []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", col, len(args)))
		}
	}
	add("account_id", f.AccountID)
	add("connection_id", f.ConnectionID)
	add("provider", f.Provider)
	add("status", string(f.Status))
	if f.After != "" {
		args = append(args, f.After)
		where = append(where, fmt.Sprintf("id < $%d", len(args)))
	}
	q := `SELECT ` + documentColumns + ` FROM documents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := pageLimit(f.Limit)
	args = append(args, limit+1)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	return page(ctx, db, q, args, limit, scanDocument, func(d *baixa.Document) string { return d.ID })
}
