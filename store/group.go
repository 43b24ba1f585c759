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
	"sort"
	"strings"

	"baixa"
)

// Small documents (callbacks) are stored with group commit: concurrent
// requests share one transaction (a duplicate is skipped by its key, not
// an error that would end it), so that the
// disk's commit rate (synchronous=FULL) and the per-transaction costs do
// not cap how many can be accepted. Each caller still returns only after
// its document committed.

// groupLimit is the largest document stored in a shared transaction.
const groupLimit = 64 << 10

// groupMax is how many documents one shared transaction takes at most.
const groupMax = 256

type groupReq struct {
	ctx  context.Context //nolint:containedctx // the caller's, for the duration of its request
	d    baixa.NewDocument
	body []byte
	sha  string // of body
	key  string // the dedup key it is stored under: d.DedupKey, else sha
	done chan groupRes
}

// smallRequest is d with its body whole, hashed, and the key it is stored
// under.
func smallRequest(ctx context.Context, d baixa.NewDocument, body []byte) *groupReq {
	sum := sha256.Sum256(body)
	sha := hex.EncodeToString(sum[:])
	return &groupReq{ctx: ctx, d: d, body: body, sha: sha, key: cmp.Or(d.DedupKey, sha)}
}

type groupRes struct {
	doc     *baixa.Document
	created bool
	err     error
}

// createGrouped hands d to the committer and waits for its transaction.
func createGrouped(ctx context.Context, db *DB, d baixa.NewDocument, body []byte) (*baixa.Document, bool, error) {
	db.groupOnce.Do(func() {
		db.group = make(chan *groupReq, groupMax)
		// PostgreSQL takes two transactions side by side (each statement
		// is a round trip; more measured slower on two cores); SQLite has
		// one writer.
		for range db.Writers() {
			go committer(db)
		}
	})
	req := smallRequest(ctx, d, body)
	req.done = make(chan groupRes, 1)
	select {
	case db.group <- req:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-db.closing:
		return nil, false, errors.New("store: closing")
	}
	select {
	case r := <-req.done:
		return r.doc, r.created, r.err
	case <-db.closing:
		return nil, false, errors.New("store: closing")
	}
}

// committer writes waiting documents, as many as are there, one
// transaction at a time.
func committer(db *DB) {
	for {
		var batch []*groupReq
		select {
		case r := <-db.group:
			batch = append(batch, r)
		case <-db.closing:
			return
		}
	more:
		for len(batch) < groupMax {
			select {
			case r := <-db.group:
				batch = append(batch, r)
			default:
				break more
			}
		}
		commitGroup(db, batch)
	}
}

func commitGroup(db *DB, batch []*groupReq) {
	// Keys are inserted in one order in every transaction, so that two
	// committers taking the same keys at once wait for each other rather
	// than deadlock.
	sort.Slice(batch, func(i, j int) bool {
		a, b := batch[i], batch[j]
		return a.d.Provider < b.d.Provider || a.d.Provider == b.d.Provider && a.key < b.key
	})
	res := make([]groupRes, len(batch))
	var err error
	for try := 0; try < 3; try++ {
		clear(res)
		if err = writeGroup(db, batch, res); err == nil || !retriable(err) {
			break
		}
	}
	if err != nil && len(batch) > 1 {
		// One document failing (a text PostgreSQL refuses, a constraint)
		// must not fail the others that shared its transaction: each is
		// stored again alone, and only the faulty one gets the error.
		for _, r := range batch {
			commitGroup(db, []*groupReq{r})
		}
		return
	}
	for i, r := range batch {
		switch {
		case err != nil && notText(err):
			r.done <- groupRes{err: baixa.Errorf(baixa.EInvalid, "the document holds text the database refuses (not UTF-8, or NUL)")}
		case err != nil:
			r.done <- groupRes{err: fmt.Errorf("store document: %w", err)}
		case !res[i].created && res[i].err == nil: // a duplicate: the stored one
			existing, ferr := findDocumentByKey(r.ctx, db, db.W, r.d.Provider, r.key)
			r.done <- groupRes{doc: existing, err: ferr}
		default:
			r.done <- res[i]
		}
	}
}

// notText reports PostgreSQL refusing text: invalid UTF-8 or NUL (22021),
// or a character it cannot convert (22P05).
func notText(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 22021") || strings.Contains(s, "SQLSTATE 22P05")
}

// retriable reports a deadlock or serialization failure, which the same
// transaction may clear when run again.
func retriable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40P01") || strings.Contains(s, "SQLSTATE 40001")
}

func writeGroup(db *DB, batch []*groupReq, res []groupRes) error {
	return db.inTx(context.Background(), func(tx *sql.Tx) error {
		if db.jobs == nil {
			return errors.New("store: no job queue configured")
		}
		// One caller giving up must not fail the others' transaction.
		for i, r := range batch {
			res[i].err = r.ctx.Err()
		}
		if err := db.d.insertDocuments(context.Background(), db, tx, batch, res); err != nil {
			return err
		}
		// One job settles the group's new documents, in order: a job row
		// per callback cost more than storing the callback.
		var ids []string
		for _, r := range res {
			if r.created {
				ids = append(ids, r.doc.ID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return db.jobs.InsertTx(context.Background(), tx, baixa.SettleJob{DocumentID: ids[0], Then: ids[1:]})
	})
}

// readSmall reads r whole when it holds at most groupLimit bytes; else it
// returns a reader of everything (what was read, then the rest).
func readSmall(r io.Reader) ([]byte, io.Reader, error) {
	buf, err := io.ReadAll(io.LimitReader(r, groupLimit+1))
	if err != nil {
		return nil, nil, err
	}
	if len(buf) <= groupLimit {
		return buf, nil, nil
	}
	return nil, io.MultiReader(bytes.NewReader(buf), r), nil
}

// documentRow inserts a document's row; a duplicate key inserts nothing.
const documentRow = `INSERT INTO documents (id, provider, connection_id, account_id, content_type, sha256, dedup_key, size,
	status, created_at, settled_at, skip_bad_lines) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11) ON CONFLICT DO NOTHING`

// insertSmall writes a small document alone: its row, with its hash
// and dedup key known up front (created=false, nothing written, when the
// key exists), and its one part.
func insertSmall(ctx context.Context, db *DB, tx *sql.Tx, r *groupReq) (*baixa.Document, bool, error) {
	doc := newDocument(r.d, db.now())
	doc.SHA256, doc.DedupKey, doc.Size = r.sha, r.key, int64(len(r.body))
	args := []any{doc.ID, doc.Provider, doc.ConnectionID, doc.AccountID, doc.ContentType, doc.SHA256, doc.DedupKey, doc.Size,
		string(doc.Status), micros(doc.CreatedAt), boolInt(doc.SkipBadLines)}
	res, err := db.exec(ctx, tx, documentRow, args...)
	if err != nil {
		return nil, false, fmt.Errorf("insert document: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return doc, false, err
	}
	if len(r.body) > 0 {
		if _, err := db.exec(ctx, tx, `INSERT INTO document_parts (document_id, seq, data) VALUES ($1, 0, $2)`, doc.ID, r.body); err != nil {
			return nil, false, fmt.Errorf("insert document part: %w", err)
		}
	}
	return doc, true, nil
}
