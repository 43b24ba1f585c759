package baixa

import (
	"context"
	"time"
)

// EventType names an outbound notification.
type EventType string

// Event types.
const (
	EventChargeRegistered     EventType = "charge.registered"
	EventChargeRejected       EventType = "charge.rejected"
	EventChargeDueDateChanged EventType = "charge.due_date_changed"
	EventChargeOverdue        EventType = "charge.overdue"
	EventChargePaid           EventType = "charge.paid"
	EventChargePartiallyPaid  EventType = "charge.partially_paid"
	EventChargeWrittenOff     EventType = "charge.written_off"
	EventChargeCancelled      EventType = "charge.cancelled"
	EventChargeDeclined       EventType = "charge.declined"
	EventChargeStatusChanged  EventType = "charge.status_changed"
	EventChargeConflict       EventType = "charge.conflict"
	EventMovementUnmatched    EventType = "movement.unmatched"
	// EventMovementResolved: a person decided about an attention item
	// (linked, dismissed, refunded, kept as credit); see its resolution.
	EventMovementResolved EventType = "movement.resolved"
	// EventMovementReopened: a decision was taken back; the item is open
	// again (its resolution is the one taken back).
	EventMovementReopened EventType = "movement.reopened"
	EventEndpointDisabled EventType = "endpoint.disabled"
	// EventPing is sent by an endpoint test; it is not recorded in the feed.
	EventPing EventType = "ping"
)

// EventTypes lists every type.
var EventTypes = []EventType{
	EventChargeRegistered, EventChargeRejected, EventChargeDueDateChanged, EventChargeOverdue,
	EventChargePaid, EventChargePartiallyPaid, EventChargeWrittenOff, EventChargeCancelled,
	EventChargeDeclined, EventChargeStatusChanged, EventChargeConflict, EventMovementUnmatched,
	EventMovementResolved, EventMovementReopened, EventEndpointDisabled,
}

// Event is an immutable outbound notification.
type Event struct {
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	AccountID string    `json:"account_id"`
	ChargeID  string    `json:"charge_id,omitempty"`
	// Sequence numbers the events of one charge from 1, with no gaps;
	// 0 for events about no charge.
	Sequence int64     `json:"sequence"`
	Charge   *Charge   `json:"charge,omitempty"`
	Movement *Movement `json:"movement,omitempty"`
	Endpoint *Endpoint `json:"endpoint,omitempty"`
	// Resolution is what a person decided (movement.resolved) or took back
	// (movement.reopened).
	Resolution *Resolution `json:"resolution,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	// Cursor is the event's position in the feed (an opaque string).
	Cursor string `json:"cursor"`
}

// EventFilter selects a page of the feed: events after the cursor After,
// in feed order.
type EventFilter struct {
	After     string
	Limit     int
	AccountID string
	ChargeID  string
}

// EventService reads events.
type EventService interface {
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	FindEventByID(ctx context.Context, id string) (*Event, error)
}
