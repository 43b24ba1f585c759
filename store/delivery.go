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

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, d.event_type, d.charge_id, d.sequence, d.status, d.attempts,
	d.retry_base, d.next_attempt_at, d.last_status_code, d.last_error, d.event_created_at, d.created_at, d.succeeded_at`

func scanDelivery(s scanner) (*baixa.Delivery, error) {
	var r deliveryRow
	if err := s.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.delivery(), nil
}

// deliveryRow holds deliveryColumns as scanned, for a row that carries
// more (claimed with its event).
type deliveryRow struct {
	d                             baixa.Delivery
	typ, status                   string
	next, evCreated, created, suc int64
}

func (r *deliveryRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &d.EndpointID, &d.EventID, &r.typ, &d.ChargeID, &d.Sequence, &r.status, &d.Attempts,
		&d.RetryBase, &r.next, &d.LastStatusCode, &d.LastError, &r.evCreated, &r.created, &r.suc}
}

func (r *deliveryRow) delivery() *baixa.Delivery {
	d := r.d
	d.EventType, d.Status = baixa.EventType(r.typ), baixa.DeliveryStatus(r.status)
	if d.Status == baixa.DeliveryPending {
		d.NextAttemptAt = fromMicros(r.next)
	}
	d.EventCreatedAt, d.CreatedAt, d.SucceededAt = fromMicros(r.evCreated), fromMicros(r.created), fromMicros(r.suc)
	return &d
}

// ClaimDeliveries leases up to limit of ep's due deliveries until
// now+lease, oldest first. For an ordered endpoint it takes only a charge's
// earliest pending delivery, so a later event of a charge waits while an
// earlier one is in flight or waiting to be retried. A disabled or deleted
// endpoint gets nothing.
// It returns them with their events' JSON bodies (the feed's
// representation) by event id, read by the same statement. How the lease
// is taken is the database's (claimDeliveries).
func (s *Deliveries) ClaimDeliveries(ctx context.Context, ep *baixa.Endpoint, now time.Time, lease time.Duration, limit int) ([]*baixa.Delivery, map[string][]byte, error) {
	db := s.db
	due := `FROM deliveries d WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2 AND d.lease_until <= $2`
	if ep.Ordered {
		due += ` AND (d.charge_id = '' OR NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = d.endpoint_id
			AND p.charge_id = d.charge_id AND p.charge_id <> '' AND p.status = 'pending' AND p.sequence < d.sequence))`
	}
	due += ` AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = d.endpoint_id AND e.disabled_at = 0)
		ORDER BY d.next_attempt_at, d.id LIMIT $3`
	return db.d.claimDeliveries(ctx, db, ep.ID, due, now, lease, limit)
}

// dueOf is the condition on deliveries of the endpoint $ep that are due at
// $now and not leased.
func dueOf(ep, now int) string {
	return fmt.Sprintf(`endpoint_id = $%d AND status = 'pending' AND next_attempt_at <= $%d AND lease_until <= $%d`, ep, now, now)
}

// anyDue reports whether an endpoint has a delivery due at now and not
// leased.
func anyDue(ctx context.Context, db *DB, c sqlConn, endpointID string, now time.Time) (bool, error) {
	var one int
	err := db.queryRow(ctx, c, `SELECT 1 FROM deliveries WHERE `+dueOf(1, 2)+` LIMIT 1`, []any{endpointID, micros(now)},
		func(s scanner) error { return s.Scan(&one) })
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// claimedColumns are a claimed delivery's columns (as d) followed by its
// event's (eventColumns, as e and m).
const claimedColumns = deliveryColumns + `, ` + eventColumns

// collectClaimed scans rows of claimedColumns: the deliveries, and their
// events' bodies by event id.
func collectClaimed(rows *sql.Rows) ([]*baixa.Delivery, map[string][]byte, error) {
	defer rows.Close()
	var ds []*baixa.Delivery
	bodies := map[string][]byte{}
	for rows.Next() {
		var d deliveryRow
		var e eventRow
		if err := rows.Scan(append(d.dest(), e.dest()...)...); err != nil {
			return nil, nil, err
		}
		ev, err := e.event()
		if err != nil {
			return nil, nil, err
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, nil, err
		}
		dl := d.delivery()
		ds = append(ds, dl)
		bodies[dl.EventID] = b
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return ds, bodies, nil
}

// DueEndpoints returns the endpoints, enabled, with deliveries due at now
// and not leased.
func (s *Deliveries) DueEndpoints(ctx context.Context, now time.Time) ([]string, error) {
	db := s.db
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT e.id FROM endpoints e WHERE e.disabled_at = 0 AND EXISTS (
		SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $1
		AND d.lease_until <= $1)`, micros(now))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

// ProbeFailing makes due now, for each enabled endpoint whose attempts
// have all failed since before quiet ago and that has no retry due within
// quiet, its oldest waiting delivery (the first of its charge): a probe,
// so that an endpoint that came back is found within quiet, not at its
// next retry. Like the recovery it may bring, the probe does not move its
// delivery along its retry schedule. It returns the endpoints probed.
func (s *Deliveries) ProbeFailing(ctx context.Context, now time.Time, quiet time.Duration) ([]string, error) {
	db := s.db
	rows, err := db.on(db.W).QueryContext(ctx, `UPDATE deliveries SET next_attempt_at = $1, retry_base = retry_base + 1
		WHERE id IN (SELECT (SELECT d.id FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.lease_until <= $1
				ORDER BY d.event_created_at, d.id LIMIT 1)
			FROM endpoints e WHERE e.disabled_at = 0 AND e.failing_since <> 0 AND e.failing_since <= $2
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.attempts > 0
				AND d.next_attempt_at <= $3))
		RETURNING endpoint_id`, micros(now), micros(now.Add(-quiet)), micros(now.Add(quiet)))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

// RecordAttempts writes the outcome of attempts on ep's deliveries, the
// attempts themselves, and the endpoint's health, in one transaction; if
// that disables the endpoint, an endpoint.disabled event is recorded with
// it. It returns whether the endpoint was disabled now, and whether more
// of its deliveries are due (looked up in the same transaction, where it
// is cheap, so that a drain need not look again when none is).
func (s *Deliveries) RecordAttempts(ctx context.Context, ep *baixa.Endpoint, outs []baixa.DeliveryOutcome, ch baixa.EndpointHealth) (disabled, more bool, err error) {
	db := s.db
	now := db.now()
	if ch.Succeeded && ep.FailingSince.IsZero() {
		// The usual round: nothing to change on the endpoint.
		if more, ok, err := db.d.recordRound(ctx, db, ep.ID, outs, now); ok || err != nil {
			return false, more, err
		}
	}
	var added fanned
	record := func(tx *sql.Tx) error {
		disabled, added = false, fanned{}
		// An endpoint deleted during the attempts took its deliveries along:
		// nothing is left to record.
		n, err := db.d.updateDeliveries(ctx, tx, outs)
		if err != nil || n == 0 {
			return err
		}
		_, err = db.insert(ctx, tx, "delivery_attempts", "delivery_id text, "+attemptTypes, len(outs), func(i int) []any {
			return append([]any{outs[i].Delivery.ID}, attemptArgs(outs[i].Attempt)...)
		}, " ON CONFLICT (delivery_id, n) DO NOTHING")
		if err != nil {
			return err
		}
		c := db.on(tx)
		if ch.Succeeded {
			if ep.FailingSince.IsZero() {
				return nil // it was not failing when read (at most a second ago)
			}
			res, err := db.exec(ctx, tx, `UPDATE endpoints SET failing_since = 0 WHERE id = $1 AND failing_since <> 0`, ep.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			// It recovered: what waits for a retry is due now, rather than
			// at its next retry (minutes or hours away). The attempt this
			// adds does not move a delivery along its schedule (retry_base),
			// so that one the endpoint keeps refusing is not given up sooner.
			// Order per charge holds: the claim still takes a charge's
			// earliest pending delivery first.
			_, err = db.exec(ctx, tx, `UPDATE deliveries SET next_attempt_at = $2, retry_base = retry_base + 1
				WHERE endpoint_id = $1 AND status = 'pending' AND next_attempt_at > $2`, ep.ID, micros(now))
			return err
		}
		if _, err := db.exec(ctx, tx, `UPDATE endpoints SET failing_since = $2 WHERE id = $1 AND failing_since = 0`,
			ep.ID, micros(ch.FailedAt)); err != nil {
			return err
		}
		reason := ch.Disable
		if reason == "" && ch.DisableAfter > 0 {
			var since int64
			if err := c.QueryRowContext(ctx, `SELECT failing_since FROM endpoints WHERE id = $1`, ep.ID).Scan(&since); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return nil // deleted meanwhile
				}
				return err
			}
			if since != 0 && now.Sub(fromMicros(since)) >= ch.DisableAfter {
				reason = fmt.Sprintf("every attempt failed since %s", fromMicros(since).Format(time.RFC3339))
			}
		}
		if reason == "" {
			return nil
		}
		res, err := c.ExecContext(ctx, `UPDATE endpoints SET disabled_at = $2, disabled_reason = $3, updated_at = $2
			WHERE id = $1 AND disabled_at = 0`, ep.ID, micros(now), reason)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		disabled = true
		cur, err := findEndpoint(ctx, db, tx, ep.ID)
		if err != nil {
			return err
		}
		added, err = insertEvents(ctx, db, tx, []*baixa.Event{{
			ID: baixa.NewID("evt", now), Type: baixa.EventEndpointDisabled, AccountID: cur.AccountID,
			Endpoint: cur, CreatedAt: now,
		}})
		return err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := record(tx); err != nil || disabled {
			return err
		}
		var err error
		more, err = anyDue(ctx, db, tx, ep.ID, now)
		return err
	})
	if err == nil {
		fannedOut(db, added)
	}
	return disabled, more, err
}

// FindDeliveries lists deliveries, newest first.
func (s *Deliveries) FindDeliveries(ctx context.Context, f baixa.DeliveryFilter) ([]*baixa.Delivery, string, error) {
	db := s.db
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.EndpointID != "" {
		add("d.endpoint_id = $%d", f.EndpointID)
	}
	if f.EventID != "" {
		add("d.event_id = $%d", f.EventID)
	}
	if f.ChargeID != "" {
		add("d.charge_id = $%d", f.ChargeID)
	}
	if f.Status != "" {
		add("d.status = $%d", string(f.Status))
	}
	if f.Failing {
		where = append(where, "d.status = 'pending' AND d.attempts > 0")
	}
	if f.After != "" {
		add("d.id < $%d", f.After)
	}
	limit := pageLimit(f.Limit)
	q := `SELECT ` + deliveryColumns + ` FROM deliveries d`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(" ORDER BY d.id DESC LIMIT $%d", len(args))
	return page(ctx, db, q, args, limit, scanDelivery, func(d *baixa.Delivery) string { return d.ID })
}

// FindDeliveryByID returns a delivery with its attempts.
func (s *Deliveries) FindDeliveryByID(ctx context.Context, id string) (*baixa.Delivery, error) {
	db := s.db
	d, err := scanDelivery(db.on(db.R).QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "delivery %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.on(db.R).QueryContext(ctx, `SELECT n, at, status_code, duration_us, error, response
		FROM delivery_attempts WHERE delivery_id = $1 ORDER BY n`, id)
	if err != nil {
		return nil, err
	}
	d.AttemptLog, err = collect(rows, func(s scanner) (*baixa.Attempt, error) {
		var a baixa.Attempt
		var at, us int64
		err := s.Scan(&a.N, &at, &a.StatusCode, &us, &a.Error, &a.Response)
		a.At, a.DurationMS = fromMicros(at), us/1000
		return &a, err
	})
	return d, err
}

// RetryDelivery makes a delivery due now: a pending one is moved up, a dead
// or succeeded one is armed again with a fresh schedule.
func (s *Deliveries) RetryDelivery(ctx context.Context, id string) (*baixa.Delivery, error) {
	db := s.db
	now := db.now()
	var endpoint string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE deliveries SET
			retry_base = CASE WHEN status = 'pending' THEN retry_base ELSE attempts END,
			status = 'pending', next_attempt_at = $2, succeeded_at = 0 WHERE id = $1`, id, micros(now))
		if err := found(res, err, "delivery", id); err != nil {
			return err
		}
		return db.on(tx).QueryRowContext(ctx, `SELECT endpoint_id FROM deliveries WHERE id = $1`, id).Scan(&endpoint)
	})
	if err != nil {
		return nil, err
	}
	deliveriesAdded(db, []string{endpoint})
	return s.FindDeliveryByID(ctx, id)
}

// Replay re-sends an endpoint's deliveries since r.Since. Without All, dead
// deliveries are armed again. With All, every event the endpoint wants gets
// a pending delivery, unless it has one pending already or, without Force,
// one that succeeded. It returns how many deliveries it armed or created.
func (s *Deliveries) Replay(ctx context.Context, endpointID string, r baixa.ReplayRequest) (int64, error) {
	db := s.db
	ep, err := db.Endpoints.FindEndpointByID(ctx, endpointID)
	if err != nil {
		return 0, err
	}
	now := db.now()
	since := micros(r.Since)
	var total int64
	// Dead deliveries (and, when forced, succeeded ones) armed again.
	statuses := `'dead'`
	if r.All && r.Force {
		statuses = `'dead', 'succeeded'`
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.on(tx).ExecContext(ctx, `UPDATE deliveries SET status = 'pending', retry_base = attempts, next_attempt_at = $2,
			succeeded_at = 0 WHERE endpoint_id = $1 AND status IN (`+statuses+`) AND event_created_at >= $3`, endpointID, micros(now), since)
		if err != nil {
			return err
		}
		if total, err = res.RowsAffected(); err != nil || total == 0 {
			return err
		}
		return db.jobs.InsertTx(ctx, tx, baixa.DeliverJob{EndpointID: endpointID})
	})
	if err != nil || !r.All {
		if total > 0 {
			deliveriesAdded(db, []string{endpointID})
		}
		return total, err
	}
	// Events the endpoint never had a delivery of (it was created after
	// them, or its filters changed): a page of them per transaction, so
	// that a long replay never holds the writer long. Run again after a
	// failure, it takes up where it stopped.
	var after int64
	for {
		var scanned int
		var added int64
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var es []*baixa.Event
			var err error
			from := after
			if scanned, err = replayPage(ctx, db.on(tx), ep, since, &from, &es); err != nil || len(es) == 0 {
				after = from
				return err
			}
			added, err = db.insert(ctx, tx, "deliveries", deliveryTypes, len(es), func(i int) []any {
				e := es[i]
				return []any{baixa.NewID("dlv", now), endpointID, e.ID, string(e.Type), e.ChargeID, e.Sequence,
					string(baixa.DeliveryPending), micros(now), micros(e.CreatedAt), micros(now)}
			}, "")
			if err != nil {
				return err
			}
			after = from
			return db.jobs.InsertTx(ctx, tx, baixa.DeliverJob{EndpointID: endpointID})
		})
		if err != nil {
			return total, err
		}
		total += added
		if added > 0 {
			deliveriesAdded(db, []string{endpointID})
		}
		if scanned == 0 {
			return total, nil
		}
	}
}

// WebhookStats returns pending deliveries by endpoint and the number of
// disabled endpoints (for metrics).
func (s *Deliveries) WebhookStats(ctx context.Context) (map[string]int64, int64, error) {
	db := s.db
	pending := map[string]int64{}
	rows, err := db.R.QueryContext(ctx, `SELECT e.id, (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending')
		FROM endpoints e`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, 0, err
		}
		pending[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var disabled int64
	err = db.R.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE disabled_at <> 0`).Scan(&disabled)
	return pending, disabled, err
}

// replayPage reads the next page of events after *after, recorded since
// since, that ep has no delivery of; it appends those ep wants to es and
// moves *after on. It returns how many events it read.
func replayPage(ctx context.Context, c sqlConn, ep *baixa.Endpoint, since int64, after *int64, es *[]*baixa.Event) (int, error) {
	rows, err := c.QueryContext(ctx, `SELECT e.pos, e.id, e.type, e.account_id, e.charge_id, e.sequence, e.created_at
		FROM events e WHERE e.pos > $1 AND e.created_at >= $2
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.endpoint_id = $3)
		ORDER BY e.pos LIMIT 1000`, *after, since, ep.ID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var e baixa.Event
		var typ string
		var created int64
		if err := rows.Scan(after, &e.ID, &typ, &e.AccountID, &e.ChargeID, &e.Sequence, &created); err != nil {
			return 0, err
		}
		e.Type, e.CreatedAt = baixa.EventType(typ), fromMicros(created)
		if ep.Wants(&e) {
			*es = append(*es, &e)
		}
	}
	return n, rows.Err()
}

const deliveryUpdateTypes = `id text, status text, attempts bigint, next_attempt_at bigint, last_status_code bigint,
	last_error text, succeeded_at bigint`

// attemptTypes are the columns of delivery_attempts after delivery_id.
const attemptTypes = `n bigint, at bigint, status_code bigint, duration_us bigint, error text, response text`

// attemptArgs are an attempt's values in attemptTypes' order.
func attemptArgs(a *baixa.Attempt) []any {
	return []any{int64(a.N), micros(a.At), int64(a.StatusCode), a.DurationMS * 1000, a.Error, a.Response}
}

// deliveryUpdateRow writes one delivery's outcome, deliveryUpdateArgs in
// order.
var deliveryUpdateRow = `UPDATE deliveries SET ` + setColumns(deliveryUpdateTypes, paramsFrom(2)) + `, lease_until = 0 WHERE id = $1`

// deliveryUpdateArgs are an outcome's values in deliveryUpdateTypes' order.
func deliveryUpdateArgs(o baixa.DeliveryOutcome) []any {
	d := o.Delivery
	return []any{d.ID, string(d.Status), int64(d.Attempts), micros(d.NextAttemptAt), int64(d.LastStatusCode), d.LastError, micros(d.SucceededAt)}
}
