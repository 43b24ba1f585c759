package settle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"baixa"
)

// Service records an operator's own movements through the same path as a
// provider's: a Document, a Movement, the state machine, events.
type Service struct {
	Store   baixa.SettleStore
	Settler *Settler
	// Settled, when set, is called after each commit.
	Settled func(provider string, c baixa.Counts)
	Now     func() time.Time
}

var _ baixa.MovementService = (*Service)(nil)

// firstOf is the movement a manual document stored before under key
// settled, when it was for the same charge.
func (s *Service) firstOf(ctx context.Context, tx baixa.SettleTx, doc *baixa.Document, key, chargeID string) (*baixa.Movement, error) {
	first, err := tx.FindMovementByKey(ctx, baixa.ProviderManual, key)
	if err != nil {
		return nil, fmt.Errorf("manual document %s: %w", doc.ID, err)
	}
	if first.ChargeID != chargeID {
		return nil, baixa.Errorf(baixa.EConflict, "idempotency key %q was used for another charge", key)
	}
	return first, nil
}

// settledOne is what settleOne did.
type settledOne struct {
	doc     *baixa.Document
	created bool // false: a document was stored under the key before, and nothing was settled
	counts  baixa.Counts
	charge  *baixa.Charge // m's charge as tx leaves it, when m has one
}

// settleOne stores body as a manual document under key and settles m, the
// one movement it carries, in tx; held, when set, is m's charge as tx
// loaded and locked it. A document already stored under key is returned
// with created false, and nothing is settled.
func (st *Settler) settleOne(ctx context.Context, tx baixa.SettleTx, accountID, key string, body []byte, m *baixa.Movement, held map[string]*baixa.Charge) (settledOne, error) {
	var out settledOne
	var err error
	out.doc, out.created, err = tx.InsertDocument(ctx, baixa.NewDocument{
		Provider: baixa.ProviderManual, AccountID: accountID, ContentType: "application/json", DedupKey: key,
	}, body)
	if err != nil || !out.created {
		return out, err
	}
	m.DocumentID = out.doc.ID
	var charges map[string]*baixa.Charge
	if out.counts, charges, err = st.settle(ctx, tx, []*baixa.Movement{m}, batchOpts{held: held, fresh: true}); err != nil {
		return out, err
	}
	out.charge = charges[m.ChargeID]
	return out, tx.AdvanceDocument(ctx, out.doc.ID, out.counts, 1, 1, true)
}

// afterRaces runs write, a transaction that settles, again while a
// concurrent settlement of the same movements wins the race (ErrRace),
// three more times at most; then it tells settled, when set, what the
// committed run counted.
func afterRaces(settled func(provider string, c baixa.Counts), write func() (baixa.Counts, error)) error {
	for attempt := 0; ; attempt++ {
		counts, err := write()
		if errors.Is(err, ErrRace) && attempt < 3 {
			continue
		}
		if err == nil && settled != nil && counts.Total() > 0 {
			settled(baixa.ProviderManual, counts)
		}
		return err
	}
}

// SettleManual checks a manual payment (an amount above zero, a date),
// stores body as a manual Document, settles m against the
// charge m.ChargeID in the same transaction, and returns the charge and the
// movement as settled. With an idempotency key, a repeated call returns the
// first call's movement and changes nothing.
func (s *Service) SettleManual(ctx context.Context, m *baixa.Movement, body []byte, key string) (*baixa.Charge, *baixa.Movement, error) {
	if m.Kind == baixa.MovePaid {
		if m.PaidAmount <= 0 {
			return nil, nil, baixa.FieldError("amount", "must be greater than zero")
		}
		if m.PaidOn.IsZero() {
			return nil, nil, baixa.FieldError("paid_on", "is required")
		}
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if key == "" {
		key = baixa.NewID("key", now)
	}
	m.Provider = baixa.ProviderManual
	m.Key = key
	if m.OccurredAt.IsZero() {
		m.OccurredAt = now.UTC()
	}
	var out *baixa.Movement
	var after *baixa.Charge
	err := afterRaces(s.Settled, func() (baixa.Counts, error) {
		var counts baixa.Counts
		err := s.Store.WriteTx(ctx, func(tx baixa.SettleTx) error {
			// The charge is read in the transaction, and locked (one
			// statement fewer than reading it before).
			held, err := tx.LoadCharges(ctx, []string{m.ChargeID})
			if err != nil {
				return err
			}
			c := held[m.ChargeID]
			if c == nil {
				return baixa.Errorf(baixa.ENotFound, "charge %s not found", m.ChargeID)
			}
			m.AccountID = c.AccountID
			one, err := s.Settler.settleOne(ctx, tx, c.AccountID, key, body, m, held)
			switch {
			case err != nil:
				return err
			case !one.created:
				out, err = s.firstOf(ctx, tx, one.doc, key, m.ChargeID)
				return err
			}
			counts, out, after = one.counts, m, one.charge
			return nil
		})
		return counts, err
	})
	if err != nil {
		return nil, nil, err
	}
	if after != nil { // as committed: no need to read it back
		return after, out, nil
	}
	c, err := s.Store.FindChargeByID(ctx, m.ChargeID)
	return c, out, err
}
