package settle

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"baixa"
)

// AttentionStore is what the attention queue needs of a store: reading the
// queue, and transactions that settle and record decisions.
type AttentionStore interface {
	FindAttention(ctx context.Context, f baixa.AttentionFilter) ([]*baixa.AttentionItem, string, error)
	CountAttention(ctx context.Context, f baixa.AttentionFilter) (map[baixa.AttentionKind]int, error)
	FindAttentionItem(ctx context.Context, movementID string) (*baixa.AttentionItem, error)
	FindResolutionLogs(ctx context.Context, movementID string) ([]*baixa.ResolutionLog, error)
	ResolveTx(ctx context.Context, fn func(baixa.ResolveTx) error) error
}

// Attention decides about the movements that need a person. Linking an
// unmatched movement to a charge settles it through the usual path: a
// manual movement "link:<movement id>" carrying what the provider reported,
// settled by the Settler in the same transaction as the decision; the
// provider's own movement stays recorded, so the same report seen again is
// a duplicate.
type Attention struct {
	AttentionStore
	Settler *Settler
	// Settled, when set, is called after a link commits.
	Settled func(provider string, c baixa.Counts)
	Now     func() time.Time
}

var _ baixa.AttentionService = (*Attention)(nil)

// reopened is the log's action for a decision taken back.
const reopened = "reopened"

// Resolve records a decision about an attention item (or takes one back,
// when a.State is empty), announces it as an event and logs it with the
// item before and after; all in one transaction. With an idempotency key
// already used for the same decision on the same item, it changes nothing
// and answers the item as it is.
func (s *Attention) Resolve(ctx context.Context, a baixa.ResolveAction) (*baixa.AttentionItem, error) {
	action := string(a.State)
	switch a.State {
	case "":
		action = reopened
	case baixa.ResolvedLinked:
		if a.ChargeID == "" {
			return nil, baixa.FieldError("charge_id", "is required to link a movement")
		}
	case baixa.ResolvedDismissed:
		if a.Note == "" {
			return nil, baixa.FieldError("note", "a reason is required to dismiss")
		}
	case baixa.ResolvedRefunded, baixa.ResolvedCredit:
	default:
		return nil, baixa.FieldError("state", "unknown decision %q", a.State)
	}
	if a.Amount < 0 {
		return nil, baixa.FieldError("amount", "must not be negative")
	}
	if !baixa.IsText(a.Note) || len(a.Note) > 2000 {
		return nil, baixa.FieldError("note", "must be text of at most 2000 bytes")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var out *baixa.AttentionItem
	err := afterRaces(s.Settled, func() (baixa.Counts, error) {
		var counts baixa.Counts
		err := s.ResolveTx(ctx, func(tx baixa.ResolveTx) error {
			var err error
			out, counts, err = s.resolve(ctx, tx, a, action, now().UTC().Truncate(time.Microsecond))
			return err
		})
		return counts, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Attention) resolve(ctx context.Context, tx baixa.ResolveTx, a baixa.ResolveAction, action string, at time.Time) (*baixa.AttentionItem, baixa.Counts, error) {
	var counts baixa.Counts
	// The item is locked first, so that the same request sent twice at once
	// finds, second, the first one's decision under its key.
	it, err := tx.LockAttentionItem(ctx, a.MovementID)
	if err != nil {
		return nil, counts, err
	}
	if a.IdempotencyKey != "" {
		l, err := tx.FindResolutionLogByKey(ctx, a.IdempotencyKey)
		switch {
		case err == nil && (l.MovementID != a.MovementID || l.Action != action):
			return nil, counts, baixa.Errorf(baixa.EConflict, "idempotency key %q was used to %s movement %s", a.IdempotencyKey, l.Action, l.MovementID)
		case err == nil:
			return it, counts, nil
		case !baixa.IsCode(err, baixa.ENotFound):
			return nil, counts, err
		}
	}
	m := it.Movement
	if it.Kind == "" {
		return nil, counts, baixa.Errorf(baixa.EConflict, "movement %s needs no one: it was %s", m.ID, m.Result)
	}
	before, err := json.Marshal(it)
	if err != nil {
		return nil, counts, err
	}
	after := *it
	event := baixa.EventMovementResolved
	if a.State == "" {
		switch {
		case it.Resolution == nil:
			return nil, counts, baixa.Errorf(baixa.EConflict, "movement %s is open: there is nothing to reopen", m.ID)
		case it.Resolution.State == baixa.ResolvedLinked:
			return nil, counts, baixa.Errorf(baixa.EConflict, "movement %s settled charge %s when it was linked: it cannot be reopened; correct the charge instead",
				m.ID, it.Resolution.ChargeID)
		}
		if err := tx.DeleteResolution(ctx, m.ID); err != nil {
			return nil, counts, err
		}
		after.Resolution, event = nil, baixa.EventMovementReopened
	} else {
		if it.Resolution != nil {
			return nil, counts, baixa.Errorf(baixa.EConflict, "movement %s is already %s: reopen it first", m.ID, it.Resolution.State)
		}
		r := &baixa.Resolution{MovementID: m.ID, State: a.State, Note: a.Note, ByKeyID: a.ByKeyID, ByKeyName: a.ByKeyName, At: at}
		switch a.State {
		case baixa.ResolvedLinked:
			if counts, err = s.link(ctx, tx, it, a, r); err != nil {
				return nil, counts, err
			}
		case baixa.ResolvedRefunded, baixa.ResolvedCredit:
			if m.Kind != baixa.MovePaid || m.PaidAmount <= 0 {
				return nil, counts, baixa.Errorf(baixa.EConflict, "movement %s is not a payment with an amount: it can be dismissed, not %s", m.ID, a.State)
			}
			if a.Amount > m.PaidAmount {
				return nil, counts, baixa.FieldError("amount", "%s is more than the %s paid", a.Amount, m.PaidAmount)
			}
			r.Amount = cmp.Or(a.Amount, m.PaidAmount)
		}
		if err := tx.PutResolution(ctx, r); err != nil {
			return nil, counts, err
		}
		after.Resolution = r
	}
	afterJSON, err := json.Marshal(&after)
	if err != nil {
		return nil, counts, err
	}
	announced := *m
	if err := tx.InsertEvents(ctx, []*baixa.Event{{
		ID: baixa.NewID("evt", at), Type: event, AccountID: m.AccountID, Movement: &announced,
		Resolution: cmp.Or(after.Resolution, it.Resolution), CreatedAt: at,
	}}); err != nil {
		return nil, counts, err
	}
	if err := tx.AddResolutionLog(ctx, &baixa.ResolutionLog{
		ID: baixa.NewID("res", at), MovementID: m.ID, Action: action, IdempotencyKey: a.IdempotencyKey,
		ByKeyID: a.ByKeyID, ByKeyName: a.ByKeyName, Before: before, After: afterJSON, At: at,
	}); err != nil {
		return nil, counts, err
	}
	return &after, counts, nil
}

// link settles an unmatched movement against the charge a.ChargeID, which
// must be of the movement's account and not closed, by a manual movement
// that carries what the provider reported.
func (s *Attention) link(ctx context.Context, tx baixa.ResolveTx, it *baixa.AttentionItem, a baixa.ResolveAction, r *baixa.Resolution) (baixa.Counts, error) {
	var counts baixa.Counts
	m := it.Movement
	if it.Kind != baixa.AttentionUnmatched {
		return counts, baixa.Errorf(baixa.EConflict, "movement %s is %s, not unmatched: only an unmatched movement can be linked to a charge", m.ID, it.Kind)
	}
	cs, err := tx.LoadCharges(ctx, []string{a.ChargeID})
	if err != nil {
		return counts, err
	}
	c := cs[a.ChargeID]
	switch {
	case c == nil:
		return counts, baixa.FieldError("charge_id", "no charge %s", a.ChargeID)
	case c.AccountID != m.AccountID:
		return counts, baixa.FieldError("charge_id", "charge %s is of another account than the movement (%s)", c.ID, m.AccountID)
	case closed(c.Status):
		return counts, baixa.Errorf(baixa.EConflict, "charge %s is already %s: link the movement to a charge still open, or dismiss it", c.ID, c.Status)
	}
	key := "link:" + m.ID
	body, err := json.Marshal(map[string]string{"movement_id": m.ID, "charge_id": c.ID, "note": a.Note, "by": a.ByKeyName})
	if err != nil {
		return counts, err
	}
	lm := *m
	lm.ID, lm.Provider, lm.Key, lm.ChargeID = "", baixa.ProviderManual, key, c.ID
	lm.Result, lm.Reason, lm.Raw, lm.Encoded, lm.CreatedAt = "", "", nil, nil, time.Time{}
	lm.Note = fmt.Sprintf("%s %s linked by %s", m.Provider, m.ID, a.ByKeyName)
	if a.Note != "" {
		lm.Note += ": " + a.Note
	}
	one, err := s.Settler.settleOne(ctx, tx, m.AccountID, key, body, &lm, nil)
	if err != nil {
		return one.counts, err
	}
	if !one.created {
		return one.counts, baixa.Errorf(baixa.EConflict, "movement %s was linked before (document %s)", m.ID, one.doc.ID)
	}
	r.ChargeID, r.LinkMovementID = c.ID, lm.ID
	return one.counts, nil
}
