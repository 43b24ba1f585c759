package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"baixa"
)

var _ baixa.SettleStore = struct {
	*Movements
	*Documents
	*Charges
}{}

// WriteTx runs fn in one write transaction, committed if fn returns nil;
// then it tells the OnDeliveries function which endpoints have new deliveries.
func (s *Movements) WriteTx(ctx context.Context, fn func(baixa.SettleTx) error) error {
	return writeTx(ctx, s.db, func(t *settleTx) error { return fn(t) })
}

// writeTx runs fn in one write transaction over a settleTx, and, once it
// committed, tells of the deliveries and jobs it made (fannedOut).
func writeTx(ctx context.Context, db *DB, fn func(*settleTx) error) error {
	t := &settleTx{db: db}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		t.tx, t.fanned = tx, fanned{}
		return fn(t)
	})
	if err == nil {
		fannedOut(db, t.fanned)
	}
	return err
}

// fannedOut notes the delivery jobs a committed transaction made, and
// calls Config.OnDeliveries, if set, for its deliveries.
func fannedOut(db *DB, f fanned) {
	noteDeliveryJobs(db, f.jobs)
	deliveriesAdded(db, f.endpoints)
}

// deliveriesAdded calls Config.OnDeliveries, if set, for committed deliveries.
func deliveriesAdded(db *DB, endpoints []string) {
	if len(endpoints) > 0 && db.onDeliveries != nil {
		db.onDeliveries(endpoints)
	}
}

// settleTx implements baixa.SettleTx over one *sql.Tx.
type settleTx struct {
	db     *DB
	tx     *sql.Tx
	fanned fanned // deliveries and jobs added in tx
}

var _ baixa.SettleTx = (*settleTx)(nil)

func (t *settleTx) KnownMovements(ctx context.Context, provider string, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := t.db.queryIn(ctx, t.tx, `SELECT natural_key FROM movements WHERE provider = $1 AND natural_key IN (%s)`, []any{provider}, keys,
		func(rows *sql.Rows) error {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			out[k] = true
			return nil
		})
	return out, err
}

func (t *settleTx) FindRefs(ctx context.Context, accountID, kind string, values []string) (map[string][]string, error) {
	return findRefs(ctx, t.db, t.tx, accountID, kind, values)
}

// FindRefs looks references up on the read pool, outside any transaction:
// settling resolves a batch's charges this way while the previous batch is
// being written.
func (s *Charges) FindRefs(ctx context.Context, accountID, kind string, values []string) (map[string][]string, error) {
	db := s.db
	return findRefs(ctx, db, db.R, accountID, kind, values)
}

func findRefs(ctx context.Context, db *DB, c sqlConn, accountID, kind string, values []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := db.queryIn(ctx, c, `SELECT value, charge_id FROM charge_refs WHERE account_id = $1 AND kind = $2 AND value IN (%s)`,
		[]any{accountID, kind}, values, func(rows *sql.Rows) error {
			var v, id string
			if err := rows.Scan(&v, &id); err != nil {
				return err
			}
			out[v] = append(out[v], id)
			return nil
		})
	return out, err
}

// LoadCharges loads charges by id and locks them for the transaction where
// the database needs it (lockRows).
func (t *settleTx) LoadCharges(ctx context.Context, ids []string) (map[string]*baixa.Charge, error) {
	return loadCharges(ctx, t.db, t.tx, ids, t.db.d.lockRows())
}

func loadCharges(ctx context.Context, db *DB, c sqlConn, ids []string, suffix string) (map[string]*baixa.Charge, error) {
	out := make(map[string]*baixa.Charge, len(ids))
	err := db.queryIn(ctx, c, `SELECT `+chargeColumns+` FROM charges WHERE id IN (%s)`+suffix, nil, ids, func(rows *sql.Rows) error {
		c, err := scanCharge(rows)
		if err != nil {
			return err
		}
		out[c.ID] = c
		return nil
	})
	return out, err
}

const movementTypes = `id text, document_id text, account_id text, provider text, natural_key text, kind text,
	charge_id text, result text, reason text, data text, created_at bigint`

// RecordSettled records movements (the settling outcome in columns, the
// movement as decoded in data: Encoded when the decoder prepared it) and,
// if all of them were inserted, the charges' settled state (see
// dialect.recordSettled).
func (t *settleTx) RecordSettled(ctx context.Context, ms []*baixa.Movement, cs []*baixa.Charge, prev []int64) (inserted, updated int, err error) {
	datas := make([]string, len(ms))
	for i, m := range ms {
		data := m.Encoded
		if data == nil {
			if data, err = encodeDecoded(m); err != nil {
				return 0, 0, err
			}
		}
		datas[i] = string(data)
	}
	return t.db.d.recordSettled(ctx, t.tx, len(ms), func(i int) []any {
		m := ms[i]
		return []any{m.ID, m.DocumentID, m.AccountID, m.Provider, m.Key, string(m.Kind), m.ChargeID,
			string(m.Result), m.Reason, datas[i], micros(m.CreatedAt)}
	}, cs, prev)
}

// movementConflict is how a movement stored before is left alone.
const movementConflict = " ON CONFLICT (provider, natural_key) DO NOTHING"

// encodeDecoded encodes m without what settling sets (kept in columns).
func encodeDecoded(m *baixa.Movement) ([]byte, error) {
	c := *m
	c.ID, c.ChargeID, c.Result, c.Reason, c.CreatedAt = "", "", "", "", time.Time{}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("movement %s: %w", m.Key, err)
	}
	return b, nil
}

// movementColumns are read with every movement: the columns settling
// writes, then the decoded movement.
const movementColumns = `m.id, m.charge_id, m.result, m.reason, m.created_at, m.data`

// movementRowColumns are a movement's columns read from its own row (as m):
// movementColumns and those the decoded movement does not repeat.
const movementRowColumns = movementColumns + `, m.document_id, m.account_id, m.provider, m.natural_key, m.kind`

// scanMovementRow reads movementRowColumns, then more.
func scanMovementRow(s scanner, more ...any) (*baixa.Movement, error) {
	var id, chargeID, result, reason, data, doc, account, provider, key, kind sql.NullString
	var created sql.NullInt64
	if err := s.Scan(append([]any{&id, &chargeID, &result, &reason, &created, &data, &doc, &account, &provider, &key, &kind}, more...)...); err != nil {
		return nil, err
	}
	m, err := scanMovement(id, chargeID, result, reason, created, data)
	if err != nil {
		return nil, err
	}
	m.DocumentID, m.AccountID, m.Provider, m.Key, m.Kind = doc.String, account.String, provider.String, key.String, baixa.MovementKind(kind.String)
	return m, nil
}

// scanMovement reads movementColumns; a NULL id (an outer join that found
// nothing) gives nil.
func scanMovement(id, chargeID, result, reason sql.NullString, created sql.NullInt64, data sql.NullString) (*baixa.Movement, error) {
	if !id.Valid {
		return nil, nil
	}
	var m baixa.Movement
	if err := json.Unmarshal([]byte(data.String), &m); err != nil {
		return nil, fmt.Errorf("movement %s: %w", id.String, err)
	}
	m.ID, m.ChargeID, m.Result, m.Reason = id.String, chargeID.String, baixa.MovementResult(result.String), reason.String
	m.CreatedAt = fromMicros(created.Int64)
	return &m, nil
}

const chargeUpdateTypes = `id text, status text, provider_status text, due_date text, paid_amount bigint,
	interest_amount bigint, fine_amount bigint, discount_amount bigint, rebate_amount bigint, fee_amount bigint,
	credited_amount bigint, paid_on text, credited_on text, conflict text, sequence bigint, updated_at bigint, payment_link text, reported_at bigint`

// chargeUpdateRow updates one charge by id if its sequence is still the
// one it was loaded with: chargeUpdateArgs, then the previous sequence, as
// parameters from $from on.
func chargeUpdateRow(from int) string {
	return fmt.Sprintf(`UPDATE charges SET %s WHERE id = $%d AND sequence = $%d`,
		setColumns(chargeUpdateTypes, paramsFrom(from+1)), from, from+len(columnNames(chargeUpdateTypes)))
}

func chargeUpdateArgs(c *baixa.Charge) []any {
	return []any{c.ID, string(c.Status), c.ProviderStatus, dateString(c.DueDate),
		int64(c.PaidAmount), int64(c.InterestAmount), int64(c.FineAmount), int64(c.DiscountAmount),
		int64(c.RebateAmount), int64(c.FeeAmount), int64(c.CreditedAmount), dateString(c.PaidOn),
		dateString(c.CreditedOn), c.Conflict, c.Sequence, micros(c.UpdatedAt), c.PaymentLink, micros(c.ReportedAt)}
}

// PeekCharges loads charges by id on the read pool, without locking them:
// settling loads a batch's charges this way ahead of its transaction, and
// RecordSettled then checks that none changed in between.
func (s *Charges) PeekCharges(ctx context.Context, ids []string) (map[string]*baixa.Charge, error) {
	db := s.db
	return loadCharges(ctx, db, db.R, ids, "")
}

func (t *settleTx) Savepoint(ctx context.Context) error {
	_, err := t.tx.ExecContext(ctx, `SAVEPOINT settle`)
	return err
}

func (t *settleTx) RollbackToSavepoint(ctx context.Context) error {
	_, err := t.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT settle`)
	return err
}

func (t *settleTx) InsertEvents(ctx context.Context, es []*baixa.Event) error {
	f, err := insertEvents(ctx, t.db, t.tx, es)
	t.fanned.add(f)
	return err
}

// InsertDocument stores a small document (an operator's) in as few
// statements as a callback's: the row and its one part at once, under its
// dedup key or else its hash; a document already stored under that key is
// returned with created false.
func (t *settleTx) InsertDocument(ctx context.Context, d baixa.NewDocument, body []byte) (*baixa.Document, bool, error) {
	r := smallRequest(ctx, d, body)
	res := make([]groupRes, 1)
	if err := t.db.d.insertDocuments(ctx, t.db, t.tx, []*groupReq{r}, res); err != nil {
		return nil, false, err
	}
	if res[0].created {
		return res[0].doc, true, nil
	}
	doc, err := findDocumentByKey(ctx, t.db, t.tx, d.Provider, r.key)
	return doc, false, err
}

func (t *settleTx) FindMovementByKey(ctx context.Context, provider, key string) (*baixa.Movement, error) {
	var id, chargeID, result, reason, data sql.NullString
	var created sql.NullInt64
	err := t.db.on(t.tx).QueryRowContext(ctx, `SELECT `+movementColumns+` FROM movements m WHERE m.provider = $1 AND m.natural_key = $2`,
		provider, key).Scan(&id, &chargeID, &result, &reason, &created, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "no movement %s/%s", provider, key)
	}
	if err != nil {
		return nil, err
	}
	return scanMovement(id, chargeID, result, reason, created, data)
}

func (t *settleTx) AdvanceDocument(ctx context.Context, id string, c baixa.Counts, progress, total int64, done bool) error {
	status, settledAt := string(baixa.DocPending), int64(0)
	if done {
		status, settledAt = string(baixa.DocSettled), micros(t.db.now())
	}
	_, err := t.db.exec(ctx, t.tx, `UPDATE documents SET applied = applied + $2, duplicate = duplicate + $3,
		unmatched = unmatched + $4, conflict = conflict + $5,
		progress = CASE WHEN progress > $6 THEN progress ELSE $6 END, total = $7, status = $8, settled_at = $9
		WHERE id = $1`, id, c.Applied, c.Duplicate, c.Unmatched, c.Conflict, progress, total, status, settledAt)
	return err
}

func (t *settleTx) ReportDocument(ctx context.Context, id, report string) error {
	_, err := t.db.on(t.tx).ExecContext(ctx, `UPDATE documents SET report = $2 WHERE id = $1`, id, report)
	return err
}

func (t *settleTx) FailDocument(ctx context.Context, id, reason string) error {
	_, err := t.db.on(t.tx).ExecContext(ctx, `UPDATE documents SET status = $2, error = $3 WHERE id = $1 AND status = $4`,
		id, string(baixa.DocFailed), reason, string(baixa.DocPending))
	return err
}

// FindMovements lists unmatched or conflicting movements in the order they
// were recorded (their ids).
func (s *Movements) FindMovements(ctx context.Context, f baixa.MovementFilter) ([]*baixa.Movement, string, error) {
	db := s.db
	if f.Result != baixa.ResultUnmatched && f.Result != baixa.ResultConflict {
		return nil, "", baixa.FieldError("result", "want unmatched or conflict")
	}
	// The partial index's own term, then the result written literally: so
	// both databases see the index applies.
	where := []string{"result IN ('unmatched', 'conflict')", "result = '" + string(f.Result) + "'", "id > $1"}
	args := []any{f.After}
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		where = append(where, fmt.Sprintf("account_id = $%d", len(args)))
	}
	if f.Provider != "" {
		args = append(args, f.Provider)
		where = append(where, fmt.Sprintf("provider = $%d", len(args)))
	}
	limit := pageLimit(f.Limit)
	args = append(args, limit+1)
	q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY id LIMIT $%d`, movementRowColumns, db.d.attentionFrom(), strings.Join(where, " AND "), len(args))
	return page(ctx, db, q, args, limit, func(s scanner) (*baixa.Movement, error) { return scanMovementRow(s) },
		func(m *baixa.Movement) string { return m.ID })
}

// SumPayments totals, by provider, the payments recorded in [from, to)
// that were not duplicates (nor the manual movements by which a person
// linked a reported payment to its charge: the money was counted when it
// was reported): the movements' ids sort by the time they were
// recorded, so the period is a range of the key; the amounts are summed
// here, exactly, from each movement as decoded.
func (s *Movements) SumPayments(ctx context.Context, accountID string, from, to time.Time) ([]baixa.PaymentTotal, error) {
	db := s.db
	q := `SELECT provider, data FROM movements WHERE id >= $1 AND id < $2 AND kind = 'paid' AND result <> 'duplicate'
		AND NOT (provider = 'manual' AND natural_key LIKE 'link:%')`
	args := []any{baixa.IDAt("mov", from), baixa.IDAt("mov", to)}
	if accountID != "" {
		q += ` AND account_id = $3`
		args = append(args, accountID)
	}
	rows, err := db.on(db.R).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]*baixa.PaymentTotal{}
	var out []baixa.PaymentTotal
	for rows.Next() {
		var provider, data string
		if err := rows.Scan(&provider, &data); err != nil {
			return nil, err
		}
		var m struct {
			PaidAmount baixa.Amount `json:"paid_amount"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, fmt.Errorf("a %s movement: %w", provider, err)
		}
		t := by[provider]
		if t == nil {
			t = &baixa.PaymentTotal{Provider: provider}
			by[provider] = t
		}
		t.Count++
		t.Amount += m.PaidAmount
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b baixa.PaymentTotal) int { return strings.Compare(a.Provider, b.Provider) })
	return out, nil
}
