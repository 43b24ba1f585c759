package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"baixa"
)

var _ baixa.EndpointService = struct {
	*Endpoints
	*Deliveries
}{}

const endpointColumns = `id, url, description, event_types, account_id, headers, timeout_seconds, rate_limit,
	max_concurrency, ordered, disabled_at, disabled_reason, failing_since, secret, previous_secret,
	previous_secret_expires, created_at, updated_at`

func scanEndpoint(db *DB, s scanner) (*baixa.Endpoint, error) {
	var e baixa.Endpoint
	var types, headers string
	var ordered, disabled, failing, prevExp, created, updated int64
	err := s.Scan(&e.ID, &e.URL, &e.Description, &types, &e.AccountID, &headers, &e.TimeoutSeconds, &e.RateLimit,
		&e.MaxConcurrency, &ordered, &disabled, &e.DisabledReason, &failing, &e.Secret, &e.PreviousSecret,
		&prevExp, &created, &updated)
	if err != nil {
		return nil, err
	}
	e.EventTypes = eventTypesOf(types)
	if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return nil, fmt.Errorf("endpoint %s headers: %w", e.ID, err)
	}
	e.Ordered, e.Disabled = ordered != 0, disabled != 0
	e.DisabledAt, e.FailingSince = fromMicros(disabled), fromMicros(failing)
	e.PreviousSecretExpires = fromMicros(prevExp)
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	if e.Secret, err = db.unseal(e.Secret); err != nil {
		return nil, err
	}
	if e.PreviousSecret, err = db.unseal(e.PreviousSecret); err != nil {
		return nil, err
	}
	return &e, nil
}

// eventTypesOf reads the event_types column.
func eventTypesOf(column string) []baixa.EventType {
	out := []baixa.EventType{}
	for _, t := range strings.Fields(column) {
		out = append(out, baixa.EventType(t))
	}
	return out
}

func eventTypesColumn(ts []baixa.EventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " ")
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// CreateEndpoint validates and stores e, setting its ID. e.Secret must be
// set (baixa.NewWebhookSecret).
func (s *Endpoints) CreateEndpoint(ctx context.Context, e *baixa.Endpoint) error {
	db := s.db
	if err := e.Validate(); err != nil {
		return err
	}
	if !strings.HasPrefix(e.Secret, "whsec_") {
		return baixa.Errorf(baixa.EInternal, "endpoint without a signing secret")
	}
	if err := checkEndpointAccount(ctx, db, e); err != nil {
		return err
	}
	now := db.now()
	e.ID, e.CreatedAt, e.UpdatedAt = baixa.NewID("ep", now), now, now
	headers, err := json.Marshal(e.Headers)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.on(tx).ExecContext(ctx, `INSERT INTO endpoints (id, url, description, event_types, account_id, headers,
			timeout_seconds, rate_limit, max_concurrency, ordered, secret, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			e.ID, e.URL, e.Description, eventTypesColumn(e.EventTypes), e.AccountID, string(headers),
			e.TimeoutSeconds, e.RateLimit, e.MaxConcurrency, boolInt(e.Ordered), db.seal(e.Secret), micros(now), micros(now))
		return err
	})
}

// FindEndpointByID returns ENotFound for an unknown id.
func (s *Endpoints) FindEndpointByID(ctx context.Context, id string) (*baixa.Endpoint, error) {
	db := s.db
	return findEndpoint(ctx, db, db.R, id)
}

func findEndpoint(ctx context.Context, db *DB, c sqlConn, id string) (*baixa.Endpoint, error) {
	var e *baixa.Endpoint
	err := db.queryRow(ctx, c, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1`, []any{id}, func(s scanner) error {
		var err error
		e, err = scanEndpoint(db, s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "endpoint %s not found", id)
	}
	return e, err
}

// FindEndpoints lists endpoints in creation order.
func (s *Endpoints) FindEndpoints(ctx context.Context, after string, limit int) ([]*baixa.Endpoint, string, error) {
	db := s.db
	limit = pageLimit(limit)
	return page(ctx, db, `SELECT `+endpointColumns+` FROM endpoints WHERE id > $1 ORDER BY id LIMIT $2`, []any{after, limit + 1}, limit,
		func(sc scanner) (*baixa.Endpoint, error) { return scanEndpoint(db, sc) }, func(e *baixa.Endpoint) string { return e.ID })
}

// checkEndpointAccount refuses an account filter naming no account.
func checkEndpointAccount(ctx context.Context, db *DB, e *baixa.Endpoint) error {
	if e.AccountID == "" {
		return nil
	}
	_, err := db.Accounts.FindAccountByID(ctx, e.AccountID)
	if baixa.IsCode(err, baixa.ENotFound) {
		return baixa.FieldError("account_id", "no such account")
	}
	return err
}

// UpdateEndpoint writes e's settings.
func (s *Endpoints) UpdateEndpoint(ctx context.Context, e *baixa.Endpoint) error {
	db := s.db
	if err := e.Validate(); err != nil {
		return err
	}
	if err := checkEndpointAccount(ctx, db, e); err != nil {
		return err
	}
	headers, err := json.Marshal(e.Headers)
	if err != nil {
		return err
	}
	now := db.now()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE endpoints SET url = $2, description = $3, event_types = $4,
			account_id = $5, headers = $6, timeout_seconds = $7, rate_limit = $8, max_concurrency = $9, ordered = $10,
			updated_at = $11 WHERE id = $1`,
			e.ID, e.URL, e.Description, eventTypesColumn(e.EventTypes), e.AccountID, string(headers), e.TimeoutSeconds,
			e.RateLimit, e.MaxConcurrency, boolInt(e.Ordered), micros(now))
		if err := found(res, err, "endpoint", e.ID); err != nil {
			return err
		}
		e.UpdatedAt = now
		return nil
	})
}

// SetEndpointDisabled disables or enables an endpoint. Enabling clears its
// failure run, so that it gets the full grace period again.
func (s *Endpoints) SetEndpointDisabled(ctx context.Context, id string, disabled bool, reason string) (*baixa.Endpoint, error) {
	db := s.db
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if disabled {
			res, err = db.on(tx).ExecContext(ctx, `UPDATE endpoints SET disabled_at = CASE WHEN disabled_at = 0 THEN $2 ELSE disabled_at END,
				disabled_reason = $3, updated_at = $2 WHERE id = $1`, id, micros(now), reason)
		} else {
			res, err = db.on(tx).ExecContext(ctx, `UPDATE endpoints SET disabled_at = 0, disabled_reason = '', failing_since = 0,
				updated_at = $2 WHERE id = $1`, id, micros(now))
		}
		return found(res, err, "endpoint", id)
	})
	if err != nil {
		return nil, err
	}
	if !disabled {
		deliveriesAdded(db, []string{id}) // what waited can go now
	}
	return findEndpoint(ctx, db, db.W, id)
}

// RotateSecret makes secret the endpoint's signing secret; the current one
// keeps signing too for overlap.
func (s *Endpoints) RotateSecret(ctx context.Context, id, secret string, overlap time.Duration) (*baixa.Endpoint, error) {
	db := s.db
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE endpoints SET previous_secret = secret, previous_secret_expires = $3,
			secret = $2, updated_at = $4 WHERE id = $1`, id, db.seal(secret), micros(now.Add(overlap)), micros(now))
		return found(res, err, "endpoint", id)
	})
	if err != nil {
		return nil, err
	}
	return findEndpoint(ctx, db, db.W, id)
}

// DeleteEndpoint removes an endpoint, its deliveries and their attempts.
func (s *Endpoints) DeleteEndpoint(ctx context.Context, id string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		c := db.on(tx)
		res, err := c.ExecContext(ctx, `DELETE FROM endpoints WHERE id = $1`, id)
		if err := found(res, err, "endpoint", id); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = $1)`, id); err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, `DELETE FROM deliveries WHERE endpoint_id = $1`, id)
		return err
	})
}

// subscribers returns every endpoint, enabled or not: a disabled endpoint
// keeps its deliveries pending, and gets them when enabled again.
func subscribers(ctx context.Context, db *DB, tx *sql.Tx) ([]*baixa.Endpoint, error) {
	st, done, err := db.d.stmt(ctx, tx, `SELECT id, event_types, account_id FROM endpoints`)
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s scanner) (*baixa.Endpoint, error) {
		var e baixa.Endpoint
		var types string
		err := s.Scan(&e.ID, &types, &e.AccountID)
		e.EventTypes = eventTypesOf(types)
		return &e, err
	})
}

const deliveryTypes = `id text, endpoint_id text, event_id text, event_type text, charge_id text, sequence bigint,
	status text, next_attempt_at bigint, event_created_at bigint, created_at bigint`

// fanOut records a pending delivery of each event to each endpoint that
// wants it, and enqueues a delivery job per endpoint, in tx: the event
// exists if and only if its deliveries and their jobs do. It returns the
// endpoints that got deliveries, and those it enqueued a job for.
//
// A delivery job is unique per endpoint while it waits or runs (River
// skips a second one), so when this process enqueued one that has not
// finished yet, fanOut skips the insert as River would, and saves its
// cost. The note expires after jobNoteTTL, in case another process ran
// that job.
func fanOut(ctx context.Context, db *DB, tx *sql.Tx, es []*baixa.Event) (hit, enqueued []string, err error) {
	eps, err := subscribers(ctx, db, tx)
	if err != nil || len(eps) == 0 {
		return nil, nil, err
	}
	type row struct {
		ep string
		e  *baixa.Event
	}
	var rows []row
	for _, ep := range eps {
		n := len(rows)
		for _, e := range es {
			if ep.Wants(e) {
				rows = append(rows, row{ep.ID, e})
			}
		}
		if len(rows) > n {
			hit = append(hit, ep.ID)
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	now := db.now()
	_, err = db.insert(ctx, tx, "deliveries", deliveryTypes, len(rows), func(i int) []any {
		r := rows[i]
		return []any{baixa.NewID("dlv", now), r.ep, r.e.ID, string(r.e.Type), r.e.ChargeID, r.e.Sequence,
			string(baixa.DeliveryPending), micros(now), micros(r.e.CreatedAt), micros(now)}
	}, "")
	if err != nil {
		return nil, nil, err
	}
	if db.jobs == nil {
		return nil, nil, errors.New("store: no job queue to deliver events with")
	}
	for _, id := range hit {
		if deliveryJobWaiting(db, id) {
			continue
		}
		if err := db.jobs.InsertTx(ctx, tx, baixa.DeliverJob{EndpointID: id}); err != nil {
			return nil, nil, fmt.Errorf("enqueue delivery: %w", err)
		}
		enqueued = append(enqueued, id)
	}
	return hit, enqueued, nil
}

// jobNoteTTL bounds how long fanOut trusts its note of a waiting job.
const jobNoteTTL = 5 * time.Second

func deliveryJobWaiting(db *DB, endpointID string) bool {
	v, ok := db.jobNotes.Load(endpointID)
	return ok && db.now().Sub(v.(time.Time)) < jobNoteTTL
}

// noteDeliveryJobs records, after the commit, the delivery jobs it made.
func noteDeliveryJobs(db *DB, endpointIDs []string) {
	now := db.now()
	for _, id := range endpointIDs {
		db.jobNotes.Store(id, now)
	}
}

// DeliveryJobDone is called when this process's delivery job for an
// endpoint ends: the next event enqueues a new one.
func (s *Deliveries) DeliveryJobDone(endpointID string) { s.db.jobNotes.Delete(endpointID) }

// found turns an update or delete that touched no row into ENotFound.
func found(res sql.Result, err error, what, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baixa.Errorf(baixa.ENotFound, "%s %s not found", what, id)
	}
	return nil
}
