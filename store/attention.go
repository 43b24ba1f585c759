package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"baixa"
)

// reviewPredicate is movements_review's WHERE, word for word: a query that
// repeats it lets both databases use the partial index.
const reviewPredicate = `(m.result IN ('unmatched', 'conflict')
    OR (m.result = 'applied' AND m.kind IN ('declined', 'rejected'))
    OR (m.result = 'applied' AND m.kind = 'paid' AND m.reason = 'paid without a reported amount'))`

// attentionCase names an item's kind in SQL, as baixa.AttentionOf does in Go.
var attentionCase = `CASE WHEN m.result = 'unmatched' THEN 'unmatched'
	WHEN m.result = 'conflict' AND m.kind = 'paid' AND m.reason LIKE '` + baixa.ReasonPaidAgain + `%' THEN 'paid_twice'
	WHEN m.result = 'conflict' AND m.kind = 'paid' AND m.reason LIKE '` + baixa.ReasonPaidAfterBeing + `%' THEN 'paid_after_write_off'
	WHEN m.result = 'conflict' THEN 'conflict'
	WHEN m.kind IN ('declined', 'rejected') THEN 'declined'
	ELSE 'flagged' END`

const resolutionColumns = `r.movement_id, r.state, r.note, r.charge_id, r.link_movement_id, r.amount, r.by_key_id, r.by_key_name, r.at`

const attentionSelect = `SELECT ` + movementRowColumns + `, ` + resolutionColumns

// attentionWhere gives the conditions of f on the queue (its predicate
// first), numbering its arguments after those in args.
func attentionWhere(f baixa.AttentionFilter, args []any) ([]string, []any, error) {
	where := []string{reviewPredicate}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch f.State {
	case "", baixa.AttentionOpen:
		where = append(where, "r.movement_id IS NULL")
	case baixa.AttentionResolved:
		where = append(where, "r.movement_id IS NOT NULL")
	case baixa.AttentionAll:
	default:
		return nil, nil, baixa.FieldError("state", "want open, resolved or all")
	}
	if f.Kind != "" {
		if !slices.Contains(baixa.AttentionKinds, f.Kind) {
			return nil, nil, baixa.FieldError("kind", "unknown kind %q", f.Kind)
		}
		add("("+strings.ReplaceAll(attentionCase, "%", "%%")+") = $%d", string(f.Kind)) // LIKE's % is no verb
	}
	if f.AccountID != "" {
		add("m.account_id = $%d", f.AccountID)
	}
	if f.Provider != "" {
		add("m.provider = $%d", f.Provider)
	}
	if f.ConnectionID != "" {
		add("m.document_id IN (SELECT id FROM documents WHERE connection_id = $%d)", f.ConnectionID)
	}
	// Movements' ids sort by when they were recorded: a day is a range of
	// the key (and of the queue's index).
	if !f.From.IsZero() {
		add("m.id >= $%d", baixa.IDAt("mov", f.From.Start()))
	}
	if !f.To.IsZero() {
		add("m.id < $%d", baixa.IDAt("mov", f.To.AddDays(1).Start()))
	}
	return where, args, nil
}

// FindAttention lists the queue's items in the order they were recorded.
func (s *Attention) FindAttention(ctx context.Context, f baixa.AttentionFilter) ([]*baixa.AttentionItem, string, error) {
	db := s.db
	where, args, err := attentionWhere(f, []any{f.After})
	if err != nil {
		return nil, "", err
	}
	where = append(where, "m.id > $1")
	limit := pageLimit(f.Limit)
	args = append(args, limit+1)
	q := fmt.Sprintf(`%s FROM %s LEFT JOIN resolutions r ON r.movement_id = m.id WHERE %s ORDER BY m.id LIMIT $%d`,
		attentionSelect, db.d.reviewFrom(), strings.Join(where, " AND "), len(args))
	return page(ctx, db, q, args, limit, scanAttentionItem, func(i *baixa.AttentionItem) string { return i.Movement.ID })
}

// CountAttention counts the items f selects by kind (f.Kind and paging
// are ignored).
func (s *Attention) CountAttention(ctx context.Context, f baixa.AttentionFilter) (map[baixa.AttentionKind]int, error) {
	db := s.db
	f.Kind = ""
	where, args, err := attentionWhere(f, nil)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT %s AS k, COUNT(*) FROM %s LEFT JOIN resolutions r ON r.movement_id = m.id WHERE %s GROUP BY k`,
		attentionCase, db.d.reviewFrom(), strings.Join(where, " AND "))
	rows, err := db.on(db.R).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[baixa.AttentionKind]int, len(baixa.AttentionKinds))
	for _, k := range baixa.AttentionKinds {
		out[k] = 0
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[baixa.AttentionKind(k)] = n
	}
	return out, rows.Err()
}

// FindAttentionItem returns any movement as an item: its kind is empty when
// it needs no one.
func (s *Attention) FindAttentionItem(ctx context.Context, id string) (*baixa.AttentionItem, error) {
	return findAttentionItem(ctx, s.db, s.db.R, id)
}

func findAttentionItem(ctx context.Context, db *DB, c sqlConn, id string) (*baixa.AttentionItem, error) {
	it, err := scanAttentionItem(db.on(c).QueryRowContext(ctx, attentionSelect+
		` FROM movements m LEFT JOIN resolutions r ON r.movement_id = m.id WHERE m.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "movement %s not found", id)
	}
	return it, err
}

func scanAttentionItem(s scanner) (*baixa.AttentionItem, error) {
	var rID, rState, rNote, rCharge, rLink, rBy, rByName sql.NullString
	var rAmount, rAt sql.NullInt64
	m, err := scanMovementRow(s, &rID, &rState, &rNote, &rCharge, &rLink, &rAmount, &rBy, &rByName, &rAt)
	if err != nil {
		return nil, err
	}
	it := &baixa.AttentionItem{Kind: baixa.AttentionOf(m), Movement: m}
	if rID.Valid {
		it.Resolution = &baixa.Resolution{MovementID: rID.String, State: baixa.ResolutionState(rState.String), Note: rNote.String,
			ChargeID: rCharge.String, LinkMovementID: rLink.String, Amount: baixa.Amount(rAmount.Int64),
			ByKeyID: rBy.String, ByKeyName: rByName.String, At: fromMicros(rAt.Int64)}
	}
	return it, nil
}

// FindResolutionLogs is an item's history of decisions, oldest first.
func (s *Attention) FindResolutionLogs(ctx context.Context, movementID string) ([]*baixa.ResolutionLog, error) {
	db := s.db
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT `+logColumns+` FROM resolution_log WHERE movement_id = $1 ORDER BY id`, movementID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanResolutionLog)
}

const logColumns = `id, movement_id, action, idempotency_key, by_key_id, by_key_name, before_json, after_json, at`

func scanResolutionLog(s scanner) (*baixa.ResolutionLog, error) {
	var l baixa.ResolutionLog
	var key sql.NullString
	var before, after string
	var at int64
	if err := s.Scan(&l.ID, &l.MovementID, &l.Action, &key, &l.ByKeyID, &l.ByKeyName, &before, &after, &at); err != nil {
		return nil, err
	}
	l.IdempotencyKey, l.Before, l.After, l.At = key.String, json.RawMessage(before), json.RawMessage(after), fromMicros(at)
	return &l, nil
}

// ResolveTx runs fn in one write transaction that settles and records
// decisions, committed if fn returns nil.
func (s *Attention) ResolveTx(ctx context.Context, fn func(baixa.ResolveTx) error) error {
	return writeTx(ctx, s.db, func(t *settleTx) error { return fn(&resolveTx{t}) })
}

type resolveTx struct{ *settleTx }

var _ baixa.ResolveTx = (*resolveTx)(nil)

func (t *resolveTx) LockAttentionItem(ctx context.Context, id string) (*baixa.AttentionItem, error) {
	var got string
	err := t.db.on(t.tx).QueryRowContext(ctx, `SELECT id FROM movements WHERE id = $1`+t.db.d.lockRows(), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "movement %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	return findAttentionItem(ctx, t.db, t.tx, id)
}

func (t *resolveTx) FindResolutionLogByKey(ctx context.Context, key string) (*baixa.ResolutionLog, error) {
	l, err := scanResolutionLog(t.db.on(t.tx).QueryRowContext(ctx, `SELECT `+logColumns+` FROM resolution_log WHERE idempotency_key = $1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "no decision with idempotency key %q", key)
	}
	return l, err
}

func (t *resolveTx) PutResolution(ctx context.Context, r *baixa.Resolution) error {
	_, err := t.db.on(t.tx).ExecContext(ctx, `INSERT INTO resolutions (movement_id, state, note, charge_id, link_movement_id, amount, by_key_id, by_key_name, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.MovementID, string(r.State), r.Note, r.ChargeID, r.LinkMovementID, int64(r.Amount), r.ByKeyID, r.ByKeyName, micros(r.At))
	if isUniqueViolation(err) {
		return baixa.Errorf(baixa.EConflict, "movement %s was resolved meanwhile", r.MovementID)
	}
	return err
}

func (t *resolveTx) DeleteResolution(ctx context.Context, movementID string) error {
	_, err := t.db.on(t.tx).ExecContext(ctx, `DELETE FROM resolutions WHERE movement_id = $1`, movementID)
	return err
}

func (t *resolveTx) AddResolutionLog(ctx context.Context, l *baixa.ResolutionLog) error {
	var key any
	if l.IdempotencyKey != "" {
		key = l.IdempotencyKey
	}
	_, err := t.db.on(t.tx).ExecContext(ctx, `INSERT INTO resolution_log (`+logColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		l.ID, l.MovementID, l.Action, key, l.ByKeyID, l.ByKeyName, string(l.Before), string(l.After), micros(l.At))
	if isUniqueViolation(err) {
		return baixa.Errorf(baixa.EConflict, "idempotency key %q was used meanwhile", l.IdempotencyKey)
	}
	return err
}
