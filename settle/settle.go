package settle

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"baixa"
)

// ErrRace means a concurrent transaction recorded some of the same movements
// first; roll back and settle the batch again.
var ErrRace = errors.New("settle: concurrent settlement of the same movements")

// Settler settles batches of movements.
type Settler struct {
	Now func() time.Time
}

type refKey struct{ account, kind string }

// Settle settles ms inside tx: it drops repeats within ms, matches the rest
// to charges by their references (unless already resolved), applies the
// state machine in order, and records movements, charge changes and events;
// movements stored before are found by their insert's key conflict and
// become duplicates. Each movement gets its Result, Reason and ChargeID. All
// or nothing: on error, roll tx back; on ErrRace, roll back and call again.
func (s *Settler) Settle(ctx context.Context, tx baixa.SettleTx, ms []*baixa.Movement) (baixa.Counts, error) {
	return s.SettleLocked(ctx, tx, ms, nil)
}

// SettleLocked is Settle, calling locked (when not nil) once the batch's
// charges are locked: a later batch of the same document may start then,
// and will wait for this one on any charge they share.
func (s *Settler) SettleLocked(ctx context.Context, tx baixa.SettleTx, ms []*baixa.Movement, locked func()) (baixa.Counts, error) {
	counts, _, err := s.settle(ctx, tx, ms, batchOpts{locked: locked})
	return counts, err
}

// ChargePeeker loads charges without locking them, ahead of the
// transaction that settles them (a store's read side).
type ChargePeeker interface {
	PeekCharges(ctx context.Context, ids []string) (map[string]*baixa.Charge, error)
}

// batchOpts say how a batch comes to be settled.
type batchOpts struct {
	// peeked are charges loaded ahead, unlocked (may be nil).
	peeked map[string]*baixa.Charge
	// held are charges tx has loaded and locked already (may be nil).
	held map[string]*baixa.Charge
	// locked, when set, is called once the batch's charges are locked.
	locked func()
	// fresh says none of the movements can be stored yet (an operator's,
	// under the key of the document just created in tx): no savepoint is
	// taken, and should one be stored all the same, ErrRace undoes tx.
	fresh bool
}

// settle is SettleLocked with charges loaded ahead (o.peeked): they are
// used instead of loading them inside tx, and if any of them changed in
// between (its sequence moved), the work is redone from the savepoint with
// every charge loaded again, locked, inside tx. It also returns the
// movements' charges as tx leaves them.
func (s *Settler) settle(ctx context.Context, tx baixa.SettleTx, ms []*baixa.Movement, o batchOpts) (baixa.Counts, map[string]*baixa.Charge, error) {
	peeked, locked := o.peeked, o.locked
	var counts baixa.Counts
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	at := now().UTC().Truncate(time.Microsecond)

	// 1. Duplicates within the batch.
	seen := map[[2]string]bool{}
	todo := make([]*baixa.Movement, 0, len(ms))
	for _, m := range ms {
		k := [2]string{m.Provider, m.Key}
		if seen[k] {
			m.Result, m.Reason = baixa.ResultDuplicate, "repeated in the same document"
			counts.Add(m.Result)
			continue
		}
		seen[k] = true
		todo = append(todo, m)
	}
	// Movements stored before are found by the insert below (ON CONFLICT),
	// which costs a query only when there are some: see step 3.

	// 2. Match what the decoding side did not already resolve.
	if err := Resolve(ctx, tx, todo); err != nil {
		return counts, nil, err
	}
	// Charges peeked ahead are taken as they are (checked when written);
	// the others are loaded, locked.
	ids := chargeIDs(todo)
	charges := make(map[string]*baixa.Charge, len(ids))
	var missing []string
	for _, id := range ids {
		if c := o.held[id]; c != nil {
			charges[id] = c
		} else if c := peeked[id]; c != nil {
			charges[id] = c
		} else {
			missing = append(missing, id)
		}
	}
	loaded, err := tx.LoadCharges(ctx, missing)
	if err != nil {
		return counts, nil, fmt.Errorf("load charges: %w", err)
	}
	maps.Copy(charges, loaded)

	if locked != nil {
		locked()
	}

	// 3. Apply in order and record. The charges stay locked throughout: if a
	// concurrent transaction recorded some of the same movements first, only
	// the work since the savepoint is undone, those movements become
	// duplicates, and the rest is applied again to the same locked charges.
	reasons := make([]string, len(todo))
	for i, m := range todo {
		reasons[i] = m.Reason
	}
	before := counts
	for attempt := 0; ; attempt++ {
		counts = before
		events, changed := s.apply(todo, charges, at, &counts)
		if !o.fresh {
			if err := tx.Savepoint(ctx); err != nil {
				return counts, nil, err
			}
		}
		write := changed
		if peeked != nil {
			// A peeked charge that the batch left as it was is written
			// back unchanged, so that its sequence is checked too: the
			// batch's decisions on it must not rest on a stale copy.
			write = append(write[:len(write):len(write)], unchangedPeeked(todo, charges, changed)...)
		}
		prev := make([]int64, len(write))
		for i, c := range write {
			prev[i] = charges[c.ID].Sequence
		}
		n, updated, err := tx.RecordSettled(ctx, todo, write, prev)
		if err != nil {
			return counts, nil, err
		}
		if n == len(todo) {
			if updated == len(write) {
				if err := tx.InsertEvents(ctx, events); err != nil {
					return counts, nil, fmt.Errorf("insert events: %w", err)
				}
				for _, c := range changed {
					charges[c.ID] = c
				}
				return counts, charges, nil
			}
			// Some charge changed since it was loaded: only possible for
			// peeked charges, as loaded ones are locked.
			if peeked == nil {
				return counts, nil, fmt.Errorf("update charges: %d of %d changed while locked", len(write)-updated, len(write))
			}
		}
		if attempt == 5 || o.fresh {
			return counts, nil, ErrRace
		}
		if err := tx.RollbackToSavepoint(ctx); err != nil {
			return counts, nil, err
		}
		if n == len(todo) { // stale peeked charges: load them all, locked
			peeked = nil
			if charges, err = tx.LoadCharges(ctx, ids); err != nil {
				return counts, nil, fmt.Errorf("load charges: %w", err)
			}
			for i, m := range todo {
				m.Result, m.Reason = "", reasons[i]
			}
			continue
		}
		now, err := recorded(ctx, tx, todo)
		if err != nil {
			return counts, nil, err
		}
		kept, keptReasons := todo[:0], reasons[:0]
		for i, m := range todo {
			if now[[2]string{m.Provider, m.Key}] {
				m.ID, m.Result, m.Reason = "", baixa.ResultDuplicate, "already settled"
				before.Add(m.Result)
				continue
			}
			m.Result, m.Reason = "", reasons[i]
			kept, keptReasons = append(kept, m), append(keptReasons, reasons[i])
		}
		todo, reasons = kept, keptReasons
	}
}

// chargeIDs returns the charges ms were matched to, sorted, once each.
func chargeIDs(ms []*baixa.Movement) []string {
	var ids []string
	for _, m := range ms {
		if m.ChargeID != "" {
			ids = append(ids, m.ChargeID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// unchangedPeeked returns the charges that movements of todo were matched
// to and that the batch did not change, once each.
func unchangedPeeked(todo []*baixa.Movement, charges map[string]*baixa.Charge, changed []*baixa.Charge) []*baixa.Charge {
	seen := make(map[string]bool, len(changed))
	for _, c := range changed {
		seen[c.ID] = true
	}
	var out []*baixa.Charge
	for _, m := range todo {
		if c := charges[m.ChargeID]; c != nil && !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// recorded returns which of ms (by provider and key) are already stored.
func recorded(ctx context.Context, tx baixa.SettleTx, ms []*baixa.Movement) (map[[2]string]bool, error) {
	keys := map[string][]string{}
	for _, m := range ms {
		keys[m.Provider] = append(keys[m.Provider], m.Key)
	}
	out := map[[2]string]bool{}
	for p, ks := range keys {
		got, err := tx.KnownMovements(ctx, p, ks)
		if err != nil {
			return nil, fmt.Errorf("known movements: %w", err)
		}
		for k := range got {
			out[[2]string{p, k}] = true
		}
	}
	return out, nil
}

// apply runs the state machine over todo, in order, on copies of the
// loaded charges, and returns the events and the changed charges.
func (s *Settler) apply(todo []*baixa.Movement, loaded map[string]*baixa.Charge, at time.Time, counts *baixa.Counts) ([]*baixa.Event, []*baixa.Charge) {
	charges := make(map[string]*baixa.Charge, len(loaded))
	var events []*baixa.Event
	var changed []*baixa.Charge
	dirty := map[string]bool{}
	for _, m := range todo {
		m.ID = baixa.NewID("mov", at)
		m.CreatedAt = at
		c := charges[m.ChargeID]
		if c == nil && loaded[m.ChargeID] != nil {
			cp := *loaded[m.ChargeID]
			c = &cp
			charges[m.ChargeID] = c
		}
		if c == nil {
			m.ChargeID = ""
			m.Result = baixa.ResultUnmatched
			counts.Add(m.Result)
			if m.Supplement {
				continue // its fact was announced when it came
			}
			mv := *m
			events = append(events, &baixa.Event{
				ID: baixa.NewID("evt", at), Type: baixa.EventMovementUnmatched,
				AccountID: m.AccountID, Movement: &mv, CreatedAt: at,
			})
			continue
		}
		o := Apply(*c, m)
		m.Result = o.Result
		if o.Reason != "" {
			m.Reason = o.Reason
		}
		counts.Add(m.Result)
		if len(o.Events) == 0 {
			continue
		}
		*c = o.Charge
		c.UpdatedAt = at
		for _, t := range o.Events {
			c.Sequence++
			snap := *c
			mv := *m
			events = append(events, &baixa.Event{
				ID: baixa.NewID("evt", at), Type: t, AccountID: c.AccountID, ChargeID: c.ID,
				Sequence: c.Sequence, Charge: &snap, Movement: &mv, CreatedAt: at,
			})
		}
		if !dirty[c.ID] {
			dirty[c.ID] = true
			changed = append(changed, c)
		}
	}
	return events, changed
}

// RefFinder looks charges up by reference: baixa.SettleTx inside a
// transaction, or a store's read side ahead of it.
type RefFinder interface {
	FindRefs(ctx context.Context, accountID, kind string, values []string) (map[string][]string, error)
}

// Resolve sets ChargeID (or, when nothing matches, Reason) on each movement
// of ms that has no ChargeID yet: exact references first, grouped by
// account and kind into few queries; then, for what is still unmatched, the
// nosso número's check-digit variants. A charge's references never change
// once it is registered, so a resolution made before the settling
// transaction stays true; what found nothing is resolved again inside it.
func Resolve(ctx context.Context, f RefFinder, ms []*baixa.Movement) error {
	found := map[refKey]map[string][]string{}
	lookup := func(ms []*baixa.Movement, refs func(*baixa.Movement) []baixa.Ref) error {
		wanted := map[refKey][]string{}
		for _, m := range ms {
			for _, q := range refs(m) {
				k := refKey{m.AccountID, q.Kind}
				wanted[k] = append(wanted[k], q.Value)
			}
		}
		for k, values := range wanted {
			slices.Sort(values)
			got, err := f.FindRefs(ctx, k.account, k.kind, slices.Compact(values))
			if err != nil {
				return fmt.Errorf("find references: %w", err)
			}
			if found[k] == nil {
				found[k] = got
				continue
			}
			for v, ids := range got {
				found[k][v] = ids
			}
		}
		return nil
	}
	var unknown []*baixa.Movement
	for _, m := range ms {
		if m.ChargeID == "" { // set for an operator's manual movement, or resolved ahead
			unknown = append(unknown, m)
		}
	}
	if err := lookup(unknown, exactLookups); err != nil {
		return err
	}
	var fuzzy []*baixa.Movement
	for _, m := range unknown {
		if m.ChargeID, m.Reason = match(m, found, false); m.ChargeID == "" && m.References.NossoNumero != "" {
			fuzzy = append(fuzzy, m)
		}
	}
	if err := lookup(fuzzy, checkDigitLookups); err != nil {
		return err
	}
	for _, m := range fuzzy {
		m.ChargeID, m.Reason = match(m, found, true)
	}
	return nil
}

// exactLookups lists m's references as stored: the nosso número as a number.
func exactLookups(m *baixa.Movement) []baixa.Ref {
	var out []baixa.Ref
	for _, r := range m.References.List() {
		if r.Kind == baixa.RefNossoNumero {
			if qs := nossoNumeroLookups(r.Value); len(qs) > 0 {
				out = append(out, qs[0])
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// checkDigitLookups lists the nosso número's check-digit variants: not
// the number less its last digit when that digit is no check digit.
func checkDigitLookups(m *baixa.Movement) []baixa.Ref {
	qs := nossoNumeroLookups(m.References.NossoNumero)
	if len(qs) < 2 {
		return nil
	}
	if m.NossoNumeroWhole {
		return qs[1:2]
	}
	return qs[1:]
}

// nossoNumeroLookups: the number as is; the stored numbers whose last digit
// is a check digit the report lacks; and the number without its last digit,
// when the report carries a check digit the charge lacks.
func nossoNumeroLookups(v string) []baixa.Ref {
	n := baixa.NormalizeNossoNumero(v)
	if n == "" {
		return nil
	}
	out := []baixa.Ref{{Kind: baixa.RefNossoNumero, Value: n}, {Kind: RefNossoNumeroBase, Value: n}}
	if len(n) > 1 {
		out = append(out, baixa.Ref{Kind: baixa.RefNossoNumero, Value: baixa.NormalizeNossoNumero(n[:len(n)-1])})
	}
	return out
}

// RefNossoNumeroBase indexes a charge's nosso número without its last digit.
const RefNossoNumeroBase = "nosso_numero_base"

// match picks the charge for m from the looked-up references, in priority
// order; an exact nosso número wins over one that differs by a check digit.
func match(m *baixa.Movement, found map[refKey]map[string][]string, checkDigits bool) (id, reason string) {
	one := func(kind, value string) (string, bool) {
		ids := found[refKey{m.AccountID, kind}][value]
		if len(ids) == 1 {
			return ids[0], true
		}
		if len(ids) > 1 {
			reason = fmt.Sprintf("%s %s matches %d charges", kind, value, len(ids))
		}
		return "", false
	}
	for _, r := range m.References.List() {
		if r.Kind != baixa.RefNossoNumero {
			if id, ok := one(r.Kind, r.Value); ok {
				return id, ""
			}
			continue
		}
		qs := nossoNumeroLookups(r.Value)
		if len(qs) == 0 {
			continue
		}
		// exact, then report-has-check-digit, then charge-has-check-digit
		order := []baixa.Ref{qs[0]}
		if checkDigits {
			if len(qs) > 2 && !m.NossoNumeroWhole {
				order = append(order, qs[2])
			}
			order = append(order, qs[1])
		}
		for _, q := range order {
			if id, ok := one(q.Kind, q.Value); ok {
				return id, ""
			}
		}
	}
	if reason == "" {
		reason = "no charge has these references"
	}
	return "", reason
}
