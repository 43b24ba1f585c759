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

var _ baixa.ChargeService = (*Charges)(nil)

// chargeTypes lists the columns of charges with their PostgreSQL types.
const chargeTypes = `id text, account_id text, kind text, status text, provider_status text, amount bigint,
	due_date text, payer_name text, payer_document text, description text, metadata text, refs text,
	paid_amount bigint, interest_amount bigint, fine_amount bigint, discount_amount bigint, rebate_amount bigint,
	fee_amount bigint, credited_amount bigint, paid_on text, credited_on text, conflict text, sequence bigint,
	created_at bigint, updated_at bigint, payment_link text, reported_at bigint`

var chargeColumns = strings.Join(columnNames(chargeTypes), ", ")

func chargeArgs(c *baixa.Charge) []any {
	refs, _ := json.Marshal(c.References)
	meta := string(c.Metadata)
	if meta == "" {
		meta = "{}"
	}
	return []any{c.ID, c.AccountID, string(c.Kind), string(c.Status), c.ProviderStatus, int64(c.Amount),
		dateString(c.DueDate), c.Payer.Name, c.Payer.Document, c.Description, meta, string(refs),
		int64(c.PaidAmount), int64(c.InterestAmount), int64(c.FineAmount), int64(c.DiscountAmount),
		int64(c.RebateAmount), int64(c.FeeAmount), int64(c.CreditedAmount), dateString(c.PaidOn),
		dateString(c.CreditedOn), c.Conflict, c.Sequence, micros(c.CreatedAt), micros(c.UpdatedAt), c.PaymentLink, micros(c.ReportedAt)}
}

type scanner interface{ Scan(...any) error }

func scanCharge(s scanner) (*baixa.Charge, error) {
	var c baixa.Charge
	var kind, status, due, meta, refs, paidOn, creditedOn string
	var amount, paid, interest, fine, discount, rebate, fee, credited, created, updated, reported int64
	err := s.Scan(&c.ID, &c.AccountID, &kind, &status, &c.ProviderStatus, &amount, &due, &c.Payer.Name,
		&c.Payer.Document, &c.Description, &meta, &refs, &paid, &interest, &fine, &discount, &rebate, &fee,
		&credited, &paidOn, &creditedOn, &c.Conflict, &c.Sequence, &created, &updated, &c.PaymentLink, &reported)
	if err != nil {
		return nil, err
	}
	c.Kind, c.Status = baixa.ChargeKind(kind), baixa.ChargeStatus(status)
	c.Amount, c.PaidAmount, c.InterestAmount, c.FineAmount = baixa.Amount(amount), baixa.Amount(paid), baixa.Amount(interest), baixa.Amount(fine)
	c.DiscountAmount, c.RebateAmount, c.FeeAmount, c.CreditedAmount = baixa.Amount(discount), baixa.Amount(rebate), baixa.Amount(fee), baixa.Amount(credited)
	c.DueDate, c.PaidOn, c.CreditedOn = parseDate(due), parseDate(paidOn), parseDate(creditedOn)
	if meta != "{}" {
		c.Metadata = json.RawMessage(meta)
	}
	if err := json.Unmarshal([]byte(refs), &c.References); err != nil {
		return nil, fmt.Errorf("charge %s references: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt, c.ReportedAt = fromMicros(created), fromMicros(updated), fromMicros(reported)
	return &c, nil
}

// refRows returns the rows of charge_refs that index c's references.
func refRows(c *baixa.Charge) []baixa.Ref {
	var out []baixa.Ref
	for _, r := range c.References.List() {
		if r.Kind != baixa.RefNossoNumero {
			out = append(out, r)
			continue
		}
		n := baixa.NormalizeNossoNumero(r.Value)
		out = append(out, baixa.Ref{Kind: r.Kind, Value: n})
		if len(n) > 1 {
			out = append(out, baixa.Ref{Kind: refNossoNumeroBase, Value: baixa.NormalizeNossoNumero(n[:len(n)-1])})
		}
	}
	return out
}

// refNossoNumeroBase must equal settle.RefNossoNumeroBase.
const refNossoNumeroBase = "nosso_numero_base"

// CreateCharges stores every charge or none. Per-item problems come back as
// one *baixa.Error whose Details name "[i].field"; its code is EConflict
// when every problem is a reference already taken, EInvalid otherwise.
func (s *Charges) CreateCharges(ctx context.Context, cs []*baixa.Charge) error {
	db := s.db
	if len(cs) == 0 {
		return baixa.FieldError("charges", "at least one charge is required")
	}
	now := db.now()
	var details []*baixa.Error
	itemErr := func(i int, code, field, msg string) {
		details = append(details, &baixa.Error{Code: code, Field: fmt.Sprintf("[%d].%s", i, field), Message: msg})
	}
	taken := map[[3]string]int{}
	for i, c := range cs {
		if err := c.Validate(); err != nil {
			var e *baixa.Error
			errors.As(err, &e)
			itemErr(i, baixa.EInvalid, e.Field, e.Message)
			continue
		}
		c.ID = baixa.NewID("chg", now)
		c.Status = baixa.StatusOpen
		c.CreatedAt, c.UpdatedAt = now, now
		c.Sequence = 0
		for _, r := range refRows(c) {
			if r.Kind == refNossoNumeroBase {
				continue
			}
			k := [3]string{c.AccountID, r.Kind, r.Value}
			if j, dup := taken[k]; dup {
				itemErr(i, baixa.EConflict, "references."+r.Kind, fmt.Sprintf("%s %s is also used by item %d", r.Kind, r.Value, j))
				continue
			}
			taken[k] = i
		}
	}
	if len(details) > 0 {
		return bulkError(details)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Unknown accounts.
		accounts := map[string]bool{}
		for _, c := range cs {
			accounts[c.AccountID] = false
		}
		ids := make([]string, 0, len(accounts))
		for id := range accounts {
			ids = append(ids, id)
		}
		if err := db.queryIn(ctx, tx, `SELECT id FROM accounts WHERE id IN (%s)`, nil, ids, func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			accounts[id] = true
			return nil
		}); err != nil {
			return err
		}
		for i, c := range cs {
			if !accounts[c.AccountID] {
				itemErr(i, baixa.EInvalid, "account_id", fmt.Sprintf("account %s not found", c.AccountID))
			}
		}
		// References already taken.
		groups := map[[2]string][]string{}
		for k := range taken {
			groups[[2]string{k[0], k[1]}] = append(groups[[2]string{k[0], k[1]}], k[2])
		}
		for g, values := range groups {
			slices.Sort(values)
			err := db.queryIn(ctx, tx, `SELECT value FROM charge_refs WHERE account_id = $1 AND kind = $2 AND value IN (%s)`,
				[]any{g[0], g[1]}, values, func(rows *sql.Rows) error {
					var v string
					if err := rows.Scan(&v); err != nil {
						return err
					}
					i := taken[[3]string{g[0], g[1], v}]
					itemErr(i, baixa.EConflict, "references."+g[1], fmt.Sprintf("%s %s already belongs to another charge of this account", g[1], v))
					return nil
				})
			if err != nil {
				return err
			}
		}
		if len(details) > 0 {
			slices.SortFunc(details, func(a, b *baixa.Error) int { return strings.Compare(a.Field, b.Field) })
			return bulkError(details)
		}
		if _, err := db.insert(ctx, tx, "charges", chargeTypes, len(cs), func(i int) []any { return chargeArgs(cs[i]) }, ""); err != nil {
			if isUniqueViolation(err) {
				return baixa.Errorf(baixa.EConflict, "a reference was taken by a concurrent request; retry")
			}
			return err
		}
		var refs [][]any
		for _, c := range cs {
			for _, r := range refRows(c) {
				refs = append(refs, []any{c.AccountID, r.Kind, r.Value, c.ID})
			}
		}
		_, err := db.insert(ctx, tx, "charge_refs", "account_id text, kind text, value text, charge_id text", len(refs), func(i int) []any { return refs[i] }, "")
		if isUniqueViolation(err) {
			return baixa.Errorf(baixa.EConflict, "a reference was taken by a concurrent request; retry")
		}
		return err
	})
}

func bulkError(details []*baixa.Error) error {
	code := baixa.EConflict
	for _, d := range details {
		if d.Code != baixa.EConflict {
			code = baixa.EInvalid
		}
	}
	msg := fmt.Sprintf("%d of the charges are not valid; none was stored", len(details))
	if len(details) == 1 {
		msg = "a charge is not valid; none was stored"
	}
	return &baixa.Error{Code: code, Message: msg, Details: details}
}

func queryChunk(ctx context.Context, q sqlConn, query string, args []any, scan func(*sql.Rows) error) error {
	return queryStmt(ctx, plainStmt{q, query}, args, scan)
}

// FindChargeByID returns ENotFound for an unknown id.
func (s *Charges) FindChargeByID(ctx context.Context, id string) (*baixa.Charge, error) {
	db := s.db
	var c *baixa.Charge
	err := db.queryRow(ctx, db.R, `SELECT `+chargeColumns+` FROM charges WHERE id = $1`, []any{id}, func(s scanner) error {
		var err error
		c, err = scanCharge(s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "charge %s not found", id)
	}
	return c, err
}

// FindCharges lists charges matching f in creation order.
func (s *Charges) FindCharges(ctx context.Context, f baixa.ChargeFilter) ([]*baixa.Charge, string, error) {
	db := s.db
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	add("id > $%d", f.After)
	if f.AccountID != "" {
		add("account_id = $%d", f.AccountID)
	}
	if f.Status != "" {
		add("status = $%d", string(f.Status))
	}
	if f.Kind != "" {
		add("kind = $%d", string(f.Kind))
	}
	if !f.DueFrom.IsZero() {
		add("due_date >= $%d", f.DueFrom.String())
	}
	if !f.DueTo.IsZero() {
		add("due_date <> '' AND due_date <= $%d", f.DueTo.String())
	}
	if v := f.Reference.Value; v != "" {
		nn := baixa.NormalizeNossoNumero(v)
		switch f.Reference.Kind {
		case "":
			add("id IN (SELECT charge_id FROM charge_refs WHERE kind <> 'nosso_numero_base' AND (value = $%d", v)
			add("value = $%d))", nn)
			where[len(where)-2] += " OR " + where[len(where)-1]
			where = where[:len(where)-1]
		case baixa.RefNossoNumero:
			add("id IN (SELECT charge_id FROM charge_refs WHERE kind = 'nosso_numero' AND value = $%d)", nn)
		default:
			args = append(args, f.Reference.Kind, v)
			where = append(where, fmt.Sprintf("id IN (SELECT charge_id FROM charge_refs WHERE kind = $%d AND value = $%d)", len(args)-1, len(args)))
		}
	}
	limit := pageLimit(f.Limit)
	args = append(args, limit+1)
	q := fmt.Sprintf(`SELECT %s FROM charges WHERE %s ORDER BY id LIMIT $%d`, chargeColumns, strings.Join(where, " AND "), len(args))
	return page(ctx, db, q, args, limit, scanCharge, func(c *baixa.Charge) string { return c.ID })
}
