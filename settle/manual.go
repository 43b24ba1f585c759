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
	c, err := s.Store.FindChargeByID(ctx, m.ChargeID)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if key == "" {
		key = baixa.NewID("key", now)
	}
	m.Provider = baixa.ProviderManual
	m.AccountID = c.AccountID
	m.Key = key
	if m.OccurredAt.IsZero() {
		m.OccurredAt = now.UTC()
	}
	var out *baixa.Movement
	var counts baixa.Counts
	for attempt := 0; ; attempt++ {
		counts = baixa.Counts{}
		err = s.Store.WriteTx(ctx, func(tx baixa.SettleTx) error {
			doc, created, err := tx.InsertDocument(ctx, baixa.NewDocument{
				Provider: baixa.ProviderManual, AccountID: c.AccountID, ContentType: "application/json", DedupKey: key,
			}, body)
			if err != nil {
				return err
			}
			if !created {
				first, err := tx.FindMovementByKey(ctx, baixa.ProviderManual, key)
				if err != nil {
					return fmt.Errorf("manual document %s: %w", doc.ID, err)
				}
				if first.ChargeID != m.ChargeID {
					return baixa.Errorf(baixa.EConflict, "idempotency key %q was used for another charge", key)
				}
				out = first
				return nil
			}
			m.DocumentID = doc.ID
			if counts, err = s.Settler.Settle(ctx, tx, []*baixa.Movement{m}); err != nil {
				return err
			}
			out = m
			return tx.AdvanceDocument(ctx, doc.ID, counts, 1, 1, true)
		})
		if errors.Is(err, ErrRace) && attempt < 3 {
			continue
		}
		break
	}
	if err != nil {
		return nil, nil, err
	}
	if s.Settled != nil && counts.Total() > 0 {
		s.Settled(baixa.ProviderManual, counts)
	}
	c, err = s.Store.FindChargeByID(ctx, m.ChargeID)
	return c, out, err
}
