package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"baixa"
)

var _ baixa.EventService = (*Events)(nil)

// insertEvents appends events to the feed.
//
// The feed is read by position (pos > cursor). On PostgreSQL an identity
// value is taken when a row is inserted but becomes visible only at commit,
// so concurrent writers could commit positions out of order and a reader
// could skip the lower one. Writers therefore take a transaction-scoped
// advisory lock as they insert events (in the same statement, see
// postgresDialect.insertEvents) and hold it to commit: positions become
// visible in the order they were taken. The lock is taken last, so it
// covers only the end of the transaction. SQLite has one writer.
//
// Each event's deliveries to the endpoints that want it are recorded with
// it (fanOut), before the lock; insertEvents returns what fanOut did.
func insertEvents(ctx context.Context, db *DB, tx *sql.Tx, es []*baixa.Event) (fanned, error) {
	if len(es) == 0 {
		return fanned{}, nil
	}
	var f fanned
	var err error
	f.endpoints, f.jobs, err = fanOut(ctx, db, tx, es)
	if err != nil {
		return fanned{}, fmt.Errorf("deliveries: %w", err)
	}
	err = db.d.insertEvents(ctx, tx, "id text, type text, account_id text, charge_id text, sequence bigint, movement_id text, payload text, created_at bigint", len(es), func(i int) []any {
		e := *es[i]
		movementID := ""
		if e.Movement != nil {
			movementID = e.Movement.ID
		}
		payload := appendEvent(nil, &e) // its movement is stored once, in movements
		return []any{e.ID, string(e.Type), e.AccountID, e.ChargeID, e.Sequence, movementID, string(payload), micros(e.CreatedAt)}
	})
	return f, err
}

// fanned is what fanOut did in a transaction: the endpoints that got
// deliveries and those it enqueued a job for.
type fanned struct{ endpoints, jobs []string }

func (f *fanned) add(g fanned) {
	f.endpoints = append(f.endpoints, g.endpoints...)
	f.jobs = append(f.jobs, g.jobs...)
}

// eventColumns are an event's columns (as e) with its movement's (as m,
// joined by eventMovement).
const eventColumns = `e.pos, e.payload, ` + movementColumns

// eventMovement joins an event e to its movement m.
const eventMovement = `LEFT JOIN movements m ON m.id = e.movement_id`

// eventSelect reads an event with its movement.
const eventSelect = `SELECT ` + eventColumns + ` FROM events e ` + eventMovement

func scanEvent(s scanner) (*baixa.Event, error) {
	var r eventRow
	if err := s.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.event()
}

// eventRow holds eventColumns as scanned.
type eventRow struct {
	pos                             int64
	payload                         string
	id, chargeID, result, reason, d sql.NullString
	created                         sql.NullInt64
}

func (r *eventRow) dest() []any {
	return []any{&r.pos, &r.payload, &r.id, &r.chargeID, &r.result, &r.reason, &r.created, &r.d}
}

func (r *eventRow) event() (*baixa.Event, error) {
	var e baixa.Event
	if err := json.Unmarshal([]byte(r.payload), &e); err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	m, err := scanMovement(r.id, r.chargeID, r.result, r.reason, r.created, r.d)
	if err != nil {
		return nil, err
	}
	e.Movement = m
	e.Cursor = strconv.FormatInt(r.pos, 10)
	return &e, nil
}

// FindEvents returns events after f.After in feed order. Every committed
// event appears exactly once, after all those before it (see insertEvents).
func (s *Events) FindEvents(ctx context.Context, f baixa.EventFilter) ([]*baixa.Event, error) {
	db := s.db
	after := int64(0)
	if f.After != "" {
		v, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || v < 0 {
			return nil, baixa.FieldError("after", "not a cursor from this feed")
		}
		after = v
	}
	limit := pageLimit(f.Limit)
	q := eventSelect + ` WHERE e.pos > $1`
	args := []any{after}
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		q += fmt.Sprintf(" AND e.account_id = $%d", len(args))
	}
	if f.ChargeID != "" {
		args = append(args, f.ChargeID)
		q += fmt.Sprintf(" AND e.charge_id = $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY e.pos LIMIT $%d", len(args))
	rows, err := db.on(db.R).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEvent)
}

// FindEventByID returns ENotFound for an unknown id.
func (s *Events) FindEventByID(ctx context.Context, id string) (*baixa.Event, error) {
	db := s.db
	e, err := scanEvent(db.on(db.R).QueryRowContext(ctx, eventSelect+` WHERE e.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "event %s not found", id)
	}
	return e, err
}
