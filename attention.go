package baixa

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// AttentionKind is why a movement waits for a person.
type AttentionKind string

// Attention kinds.
const (
	// AttentionUnmatched: no charge has the movement's references (a boleto
	// paid at the bank that was never registered).
	AttentionUnmatched AttentionKind = "unmatched"
	// AttentionPaidTwice: a payment of a charge already paid.
	AttentionPaidTwice AttentionKind = "paid_twice"
	// AttentionPaidAfterWriteOff: a payment of a charge written off or
	// cancelled (CNAB's "liquidação após baixa").
	AttentionPaidAfterWriteOff AttentionKind = "paid_after_write_off"
	// AttentionConflict: any other contradiction (a write-off of a paid
	// charge).
	AttentionConflict AttentionKind = "conflict"
	// AttentionDeclined: the provider declined or rejected the charge.
	AttentionDeclined AttentionKind = "declined"
	// AttentionFlagged: applied, but something is missing (a LIQUIDADO
	// without the amount paid).
	AttentionFlagged AttentionKind = "flagged"
)

// AttentionKinds lists every kind, in the order a console shows them.
var AttentionKinds = []AttentionKind{AttentionUnmatched, AttentionPaidTwice, AttentionPaidAfterWriteOff,
	AttentionConflict, AttentionDeclined, AttentionFlagged}

// Reasons settling gives that the attention queue sorts by; settle writes
// them, AttentionOf reads them.
const (
	ReasonPaidAgain         = "paid again"       // prefix: "paid again (150.00 on 2026-12-02) after being paid"
	ReasonPaidAfterBeing    = "paid after being" // prefix: "paid after being written_off"
	ReasonPaidWithoutAmount = "paid without a reported amount"
)

// AttentionOf says why m needs a person, or "" when it does not.
func AttentionOf(m *Movement) AttentionKind {
	switch {
	case m.Result == ResultUnmatched:
		return AttentionUnmatched
	case m.Result == ResultConflict && m.Kind == MovePaid && strings.HasPrefix(m.Reason, ReasonPaidAgain):
		return AttentionPaidTwice
	case m.Result == ResultConflict && m.Kind == MovePaid && strings.HasPrefix(m.Reason, ReasonPaidAfterBeing):
		return AttentionPaidAfterWriteOff
	case m.Result == ResultConflict:
		return AttentionConflict
	case m.Result == ResultApplied && (m.Kind == MoveDeclined || m.Kind == MoveRejected):
		return AttentionDeclined
	case m.Result == ResultApplied && m.Kind == MovePaid && m.Reason == ReasonPaidWithoutAmount:
		return AttentionFlagged
	}
	return ""
}

// ResolutionState is what a person decided about a movement.
type ResolutionState string

// Resolution states.
const (
	// ResolvedLinked: an unmatched movement was linked to a charge, which it
	// then settled (through a manual movement "link:<id>").
	ResolvedLinked ResolutionState = "linked"
	// ResolvedDismissed: nothing to do, for the reason given.
	ResolvedDismissed ResolutionState = "dismissed"
	// ResolvedRefunded: the extra payment was given back to the payer.
	ResolvedRefunded ResolutionState = "refunded"
	// ResolvedCredit: the extra payment is kept as the payer's credit.
	ResolvedCredit ResolutionState = "kept_as_credit"
)

// Resolution is a person's decision about a movement that needed one.
type Resolution struct {
	MovementID string          `json:"movement_id"`
	State      ResolutionState `json:"state"`
	Note       string          `json:"note,omitempty"`
	// ChargeID is the charge a linked movement settled.
	ChargeID string `json:"charge_id,omitempty"`
	// LinkMovementID is the manual movement that settled it.
	LinkMovementID string `json:"link_movement_id,omitempty"`
	// Amount is how much was refunded or kept as credit.
	Amount Amount `json:"amount,omitempty"`
	// By names the API key that decided (its name and id).
	ByKeyID   string    `json:"by_key_id"`
	ByKeyName string    `json:"by_key_name"`
	At        time.Time `json:"at"`
}

// AttentionItem is a movement in the attention queue: why it is there and,
// once someone decided, what they decided.
type AttentionItem struct {
	Kind       AttentionKind `json:"kind"`
	Movement   *Movement     `json:"movement"`
	Resolution *Resolution   `json:"resolution,omitempty"`
}

// AttentionState selects items by whether they were resolved.
type AttentionState string

// Attention states.
const (
	AttentionOpen     AttentionState = "open"
	AttentionResolved AttentionState = "resolved"
	AttentionAll      AttentionState = "all"
)

// AttentionFilter selects the attention queue's items, oldest first.
type AttentionFilter struct {
	State        AttentionState // open when empty
	Kind         AttentionKind  // every kind when empty
	AccountID    string
	ConnectionID string
	Provider     string
	// From and To bound the day the movement was recorded (in
	// America/Sao_Paulo), both included; zero, no bound.
	From, To Date
	Page
}

// ResolveAction is one decision about an attention item.
type ResolveAction struct {
	MovementID string
	// State is the decision; "" reopens the item.
	State    ResolutionState
	ChargeID string // linked: the charge to settle
	Note     string // dismissed: required
	Amount   Amount // refunded, kept_as_credit: at most the amount paid; zero, all of it
	// IdempotencyKey, when set, makes a repeated action a no-op that
	// answers the item as it is.
	IdempotencyKey string
	ByKeyID        string
	ByKeyName      string
}

// AttentionService is the queue of movements that need a person, and the
// decisions taken on them.
type AttentionService interface {
	FindAttention(ctx context.Context, f AttentionFilter) ([]*AttentionItem, string, error)
	CountAttention(ctx context.Context, f AttentionFilter) (map[AttentionKind]int, error)
	FindAttentionItem(ctx context.Context, movementID string) (*AttentionItem, error)
	// FindResolutionLogs is an item's history of decisions, oldest first.
	FindResolutionLogs(ctx context.Context, movementID string) ([]*ResolutionLog, error)
	Resolve(ctx context.Context, a ResolveAction) (*AttentionItem, error)
}

// ResolutionLog is one line of an item's history of decisions.
type ResolutionLog struct {
	ID             string `json:"id"`
	MovementID     string `json:"movement_id"`
	Action         string `json:"action"` // a ResolutionState, or "reopened"
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	ByKeyID        string `json:"by_key_id"`
	ByKeyName      string `json:"by_key_name"`
	// Before and After are the item as it was and became (JSON).
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	At     time.Time       `json:"at"`
}

// ResolveTx is a settling transaction that also records decisions.
type ResolveTx interface {
	SettleTx
	// LockAttentionItem returns movementID's item, locked until the
	// transaction ends.
	LockAttentionItem(ctx context.Context, movementID string) (*AttentionItem, error)
	// FindResolutionLogByKey returns the decision made with an idempotency
	// key, ENotFound if none was.
	FindResolutionLogByKey(ctx context.Context, key string) (*ResolutionLog, error)
	// PutResolution records a decision; DeleteResolution takes it back.
	PutResolution(ctx context.Context, r *Resolution) error
	DeleteResolution(ctx context.Context, movementID string) error
	AddResolutionLog(ctx context.Context, l *ResolutionLog) error
}
