package settle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/provider/generic"
	"baixa/settle"
	"baixa/store"
)

type fixture struct {
	db      *store.DB
	account *baixa.Account
	charges map[string]*baixa.Charge // by nosso número as registered
	settler *settle.Settler
}

func setup(t *testing.T, url string, nossos ...string) *fixture {
	t.Helper()
	db := dbtest.Open(t, url)
	ctx := context.Background()
	a := &baixa.Account{Name: "ACME", Document: "11222333000181"}
	if err := db.Accounts.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, account: a, charges: map[string]*baixa.Charge{}, settler: &settle.Settler{}}
	var cs []*baixa.Charge
	for _, nn := range nossos {
		c := &baixa.Charge{AccountID: a.ID, Kind: baixa.KindBoleto, Amount: 10000, References: baixa.References{NossoNumero: nn}}
		f.charges[nn] = c
		cs = append(cs, c)
	}
	if len(cs) > 0 {
		if err := db.Charges.CreateCharges(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) settle(t *testing.T, ms ...*baixa.Movement) baixa.Counts {
	t.Helper()
	var counts baixa.Counts
	err := f.db.Movements.WriteTx(context.Background(), func(tx baixa.SettleTx) error {
		var err error
		counts, err = f.settler.Settle(context.Background(), tx, ms)
		return err
	})
	if err != nil {
		t.Fatalf("settle: %v", err)
	}
	return counts
}

func (f *fixture) paid(key, nosso string, cents baixa.Amount) *baixa.Movement {
	return &baixa.Movement{Provider: "test", Key: key, AccountID: f.account.ID, Kind: baixa.MovePaid,
		References: baixa.References{NossoNumero: nosso}, PaidAmount: cents, PaidOn: baixa.Date{Year: 2026, Month: 11, Day: 20}}
}

func (f *fixture) charge(t *testing.T, nosso string) *baixa.Charge {
	t.Helper()
	c, err := f.db.Charges.FindChargeByID(context.Background(), f.charges[nosso].ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSettleMatchingAndDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "0000000083", "12345", "555", "5556", "900")
		counts := f.settle(t,
			f.paid("a", "83", 10000),         // leading zeros differ
			f.paid("b", "0000123457", 10000), // report carries a check digit (7) the charge lacks
			f.paid("c", "90", 10000),         // charge 900 carries a check digit the report lacks
			f.paid("d", "999999", 10000),     // no such charge
			f.paid("a", "83", 10000),         // repeated within the document
		)
		if counts != (baixa.Counts{Applied: 3, Duplicate: 1, Unmatched: 1}) {
			t.Fatalf("counts = %+v", counts)
		}
		for _, nn := range []string{"0000000083", "12345", "900"} {
			if c := f.charge(t, nn); c.Status != baixa.StatusPaid || c.PaidAmount != 10000 || c.Sequence != 1 {
				t.Errorf("charge %s: %s %s seq %d", nn, c.Status, c.PaidAmount, c.Sequence)
			}
		}
		// "555" is ambiguous with a check digit ("5556" less its digit is "555"), but an exact match wins.
		if c := f.charge(t, "555"); c.Status != baixa.StatusOpen {
			t.Errorf("charge 555 touched: %s", c.Status)
		}
		again := f.settle(t, f.paid("a", "83", 10000), f.paid("d", "999999", 10000))
		if again != (baixa.Counts{Duplicate: 2}) {
			t.Errorf("second import: %+v", again)
		}
		es, err := f.db.Events.FindEvents(context.Background(), baixa.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		types := map[baixa.EventType]int{}
		for _, e := range es {
			types[e.Type]++
		}
		if types[baixa.EventChargePaid] != 3 || types[baixa.EventMovementUnmatched] != 1 || len(es) != 4 {
			t.Errorf("events: %v", types)
		}
	})
}

// TestSettleWholeNossoNumero: a number the decoder marks as having no
// check digit (Banco do Brasil's 17 digits) is never cut to find a charge;
// a charge that carries one more digit is still found.
func TestSettleWholeNossoNumero(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "1622420000000003", "162242000000000457")
		whole := func(m *baixa.Movement) *baixa.Movement { m.NossoNumeroWhole = true; return m }
		counts := f.settle(t,
			whole(f.paid("a", "16224200000000031", 10000)), // not 1622420000000003 with a check digit 1
			whole(f.paid("b", "16224200000000045", 10000)), // the charge registered with a check digit (7)
		)
		if counts != (baixa.Counts{Applied: 1, Unmatched: 1}) {
			t.Fatalf("counts = %+v", counts)
		}
		if c := f.charge(t, "1622420000000003"); c.Status != baixa.StatusOpen {
			t.Errorf("charge 1622420000000003: %s", c.Status)
		}
		if c := f.charge(t, "162242000000000457"); c.Status != baixa.StatusPaid {
			t.Errorf("charge 162242000000000457: %s", c.Status)
		}
		// The same number unmarked is taken to carry a check digit.
		if counts := f.settle(t, f.paid("c", "16224200000000031", 10000)); counts != (baixa.Counts{Applied: 1}) {
			t.Errorf("unmarked: %+v", counts)
		}
	})
}

func TestSettleConflictsAndSequence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "1", "2")
		wo := &baixa.Movement{Provider: "test", Key: "w", AccountID: f.account.ID, Kind: baixa.MoveWrittenOff, References: baixa.References{NossoNumero: "2"}}
		f.settle(t, f.paid("p1", "1", 10000), wo)
		counts := f.settle(t, onDay(f.paid("p2", "1", 10000), 21), f.paid("p3", "2", 10000))
		if counts != (baixa.Counts{Conflict: 2}) {
			t.Fatalf("counts = %+v", counts)
		}
		c1, c2 := f.charge(t, "1"), f.charge(t, "2")
		if c1.Status != baixa.StatusPaid || c1.PaidAmount != 10000 || c1.Conflict == "" || c1.Sequence != 2 {
			t.Errorf("paid twice: %+v", c1)
		}
		if c2.Status != baixa.StatusPaid || c2.Conflict == "" || c2.Sequence != 3 {
			t.Errorf("paid after write-off: %+v", c2)
		}
		es, _ := f.db.Events.FindEvents(context.Background(), baixa.EventFilter{ChargeID: c2.ID})
		var got []string
		for i, e := range es {
			got = append(got, string(e.Type))
			if e.Sequence != int64(i+1) || e.Charge == nil || e.Movement == nil {
				t.Errorf("event %d: sequence %d", i, e.Sequence)
			}
		}
		if strings.Join(got, ",") != "charge.written_off,charge.paid,charge.conflict" {
			t.Errorf("events of charge 2: %v", got)
		}
	})
}

func onDay(m *baixa.Movement, d int) *baixa.Movement {
	m.PaidOn.Day = d
	return m
}

// TestFeedUnderConcurrency: writers commit events concurrently, holding
// their transactions open for a while, while a reader polls the feed with its
// cursor. The reader must see every event exactly once, in cursor order.
func TestFeedUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url)
		ctx := context.Background()
		const writers, txs, perTx = 6, 25, 3
		done := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range txs {
					err := f.db.Movements.WriteTx(ctx, func(tx baixa.SettleTx) error {
						var es []*baixa.Event
						for j := range perTx {
							es = append(es, &baixa.Event{ID: fmt.Sprintf("evt_%d_%d_%d", w, i, j), Type: baixa.EventMovementUnmatched,
								AccountID: f.account.ID, CreatedAt: time.Now()})
						}
						if err := tx.InsertEvents(ctx, es); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond) // commit late
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		seen := map[string]bool{}
		cursor, last := "", int64(0)
		read := func() {
			es, err := f.db.Events.FindEvents(ctx, baixa.EventFilter{After: cursor, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if seen[e.ID] {
					t.Fatalf("event %s delivered twice", e.ID)
				}
				seen[e.ID] = true
				var pos int64
				fmt.Sscanf(e.Cursor, "%d", &pos)
				if pos <= last {
					t.Fatalf("cursor went back: %d after %d", pos, last)
				}
				last = pos
				cursor = e.Cursor
			}
		}
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			read()
		}
		for range writers * txs * perTx {
			read()
		}
		if len(seen) != writers*txs*perTx {
			t.Fatalf("reader saw %d of %d events", len(seen), writers*txs*perTx)
		}
	})
}

func TestProcessorGenericDocument(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "10", "11", "12")
		ctx := context.Background()
		p := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler, BatchSize: 2}
		body := fmt.Sprintf(`[
			{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00", "paid_on": "2026-11-20", "fee_amount": "1.70"},
			{"id": "m2", "kind": "paid", "references": {"nosso_numero": "11"}, "paid_amount": "40.00", "paid_on": "2026-11-20"},
			{"id": "m3", "kind": "written_off", "references": {"nosso_numero": "12"}, "account_id": %q},
			{"id": "m4", "kind": "paid", "references": {"seu_numero": "X"}, "paid_amount": "1.00"},
			{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00", "paid_on": "2026-11-20"}
		]`, f.account.ID)
		doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID)
		if doc.Status != baixa.DocSettled || doc.Total != 5 || doc.Progress != 5 || doc.Applied != 3 || doc.Unmatched != 1 || doc.Duplicate != 1 {
			t.Fatalf("document: %+v", doc)
		}
		if c := f.charge(t, "10"); c.Status != baixa.StatusPaid || c.FeeAmount != 170 {
			t.Errorf("charge 10: %+v", c)
		}
		if c := f.charge(t, "11"); c.Status != baixa.StatusPartiallyPaid || c.PaidAmount != 4000 {
			t.Errorf("charge 11: %+v", c)
		}
		if c := f.charge(t, "12"); c.Status != baixa.StatusWrittenOff {
			t.Errorf("charge 12: %+v", c)
		}
		// Processing again changes nothing.
		if err := p.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		es, _ := f.db.Events.FindEvents(ctx, baixa.EventFilter{})
		if len(es) != 4 {
			t.Errorf("%d events, want 4", len(es))
		}
	})
}

func TestProcessorBadDocumentAppliesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "10")
		ctx := context.Background()
		p := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler, BatchSize: 1}
		for name, body := range map[string]string{
			"bad amount late": `[{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00"},
				{"id": "m2", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "1.234"}]`,
			"truncated": `[{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00"},`,
			"not json":  `hello`,
			// PostgreSQL's text takes no NUL: a movement carrying one fails
			// its document, naming the field, rather than its settling
			// failing again and again.
			"NUL in text": `[{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00", "note": "a\u0000b"}]`,
		} {
			doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Process(ctx, doc.ID); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID)
			if doc.Status != baixa.DocFailed || doc.Error == "" || doc.Progress != 0 {
				t.Errorf("%s: %+v", name, doc)
			}
			t.Logf("%s: %s", name, doc.Error)
		}
		if c := f.charge(t, "10"); c.Status != baixa.StatusOpen {
			t.Errorf("a failed document changed a charge: %s", c.Status)
		}
	})
}

// TestProcessorResumes: a document whose first batches were committed before
// a crash is finished from where it stopped, and nothing is applied twice.
func TestProcessorResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "1", "2", "3", "4", "5")
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("[")
		for i := 1; i <= 5; i++ {
			if i > 1 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id": "m%d", "kind": "paid", "references": {"nosso_numero": "%d"}, "paid_amount": "100.00"}`, i, i)
		}
		b.WriteString("]")
		doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader(b.String())})
		if err != nil {
			t.Fatal(err)
		}
		// Crash after the second batch: the context ends during the third.
		crashCtx, crash := context.WithCancel(ctx)
		batches := 0
		p := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler, BatchSize: 2,
			Settled: func(string, baixa.Counts) {
				if batches++; batches == 1 {
					crash()
				}
			}}
		if err := p.Process(crashCtx, doc.ID); err == nil {
			t.Fatal("no error from a cancelled run")
		}
		mid, _ := f.db.Documents.FindDocumentByID(ctx, doc.ID)
		if mid.Status != baixa.DocPending || mid.Progress != 2 {
			t.Fatalf("after the crash: %+v", mid)
		}
		p.Settled = nil
		if err := p.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		end, _ := f.db.Documents.FindDocumentByID(ctx, doc.ID)
		if end.Status != baixa.DocSettled || end.Applied != 5 || end.Duplicate != 0 {
			t.Fatalf("after resuming: %+v", end)
		}
	})
}

// TestProcessorParallelKeepsOrder: with several batches in flight, each
// charge still takes its movements in document order, and movements repeated
// across batches are applied once.
func TestProcessorParallelKeepsOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "1", "2")
		ctx := context.Background()
		var ms []string
		add := func(format string, args ...any) { ms = append(ms, fmt.Sprintf(format, args...)) }
		for i := range 8 { // charge 1: eight partial payments, charge 2 and unknown ones between them
			add(`{"id": "a%d", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "10.00", "paid_on": "2026-11-%02d"}`, i, i+1)
			add(`{"id": "u%d", "kind": "paid", "references": {"nosso_numero": "99%d"}, "paid_amount": "1.00"}`, i, i)
			add(`{"id": "a%d", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "10.00", "paid_on": "2026-11-%02d"}`, i, i+1) // repeated
			add(`{"id": "b%d", "kind": "status_changed", "references": {"nosso_numero": "2"}, "provider_status": "S%d"}`, i, i)
		}
		add(`{"id": "a-wo", "kind": "written_off", "references": {"nosso_numero": "1"}}`)
		add(`{"id": "a-late", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "20.00", "paid_on": "2026-11-20"}`)
		doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader("[" + strings.Join(ms, ",") + "]")})
		if err != nil {
			t.Fatal(err)
		}
		p := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler, BatchSize: 3, Parallel: 3}
		if err := p.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID)
		if doc.Status != baixa.DocSettled || doc.Progress != int64(len(ms)) || doc.Applied != 17 || doc.Duplicate != 8 || doc.Unmatched != 8 || doc.Conflict != 1 {
			t.Fatalf("document: %+v", doc)
		}
		a := f.charge(t, "1")
		if a.Status != baixa.StatusPaid || a.PaidAmount != 10000 || a.Sequence != 11 {
			t.Errorf("charge 1: %s %s seq %d", a.Status, a.PaidAmount, a.Sequence)
		}
		es, _ := f.db.Events.FindEvents(ctx, baixa.EventFilter{ChargeID: a.ID, Limit: 100})
		var got []string
		for i, e := range es {
			got = append(got, string(e.Type))
			if e.Sequence != int64(i+1) {
				t.Errorf("event %d has sequence %d", i, e.Sequence)
			}
			if i < 8 && (e.Charge.PaidAmount != baixa.Amount(1000*(i+1)) || e.Movement.PaidOn.Day != i+1) {
				t.Errorf("payment %d applied out of order: paid %s on day %d", i, e.Charge.PaidAmount, e.Movement.PaidOn.Day)
			}
		}
		want := strings.Repeat("charge.partially_paid,", 8) + "charge.written_off,charge.paid,charge.conflict"
		if strings.Join(got, ",") != want {
			t.Errorf("events of charge 1:\n got %s\nwant %s", strings.Join(got, ","), want)
		}
		if b := f.charge(t, "2"); b.ProviderStatus != "S7" || b.Sequence != 8 {
			t.Errorf("charge 2: %q seq %d", b.ProviderStatus, b.Sequence)
		}
	})
}

// racingStore is the real store with one concurrent settlement slipped in
// between the processor's peek at a batch's charges and its transaction.
type racingStore struct {
	store.Settling
	once sync.Once
	race func()
}

func (r *racingStore) PeekCharges(ctx context.Context, ids []string) (map[string]*baixa.Charge, error) {
	got, err := r.Settling.PeekCharges(ctx, ids)
	r.once.Do(r.race)
	return got, err
}

// TestProcessorStalePeek: charges peeked ahead of the transaction may
// change before it; the batch must then be decided again on fresh state,
// both for a charge it changes and for one it would have left alone.
func TestProcessorStalePeek(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "20", "21")
		ctx := context.Background()
		f.settle(t, &baixa.Movement{Provider: "test", Key: "w21", AccountID: f.account.ID, Kind: baixa.MoveWrittenOff,
			References: baixa.References{NossoNumero: "21"}})
		process := func(body string, race func()) *baixa.Document {
			t.Helper()
			p := &settle.Processor{Store: &racingStore{Settling: f.db.Settling, race: race}, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler}
			doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Process(ctx, doc.ID); err != nil {
				t.Fatal(err)
			}
			doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID)
			return doc
		}
		// Meanwhile, elsewhere, 40.00 is paid on charge 20: on the peeked
		// copy, 20 would end at 60.00 instead of 100.00.
		doc := process(`[{"id": "d20", "kind": "paid", "references": {"nosso_numero": "20"}, "paid_amount": "60.00", "paid_on": "2026-11-21"}]`,
			func() { f.settle(t, f.paid("p20", "20", 4000)) })
		if c := f.charge(t, "20"); c.Status != baixa.StatusPaid || c.PaidAmount != 10000 || c.Sequence != 2 || doc.Applied != 1 {
			t.Errorf("charge 20: %s %s seq %d; document %+v", c.Status, c.PaidAmount, c.Sequence, doc)
		}
		// Meanwhile, charge 21, written off, is paid after all: on the
		// peeked copy, a second write-off would be a duplicate, and nothing
		// about 21 would be written; on the fresh one it is a conflict.
		doc = process(`[{"id": "d21", "kind": "written_off", "references": {"nosso_numero": "21"}}]`,
			func() { f.settle(t, f.paid("p21", "21", 10000)) })
		if c := f.charge(t, "21"); c.Status != baixa.StatusPaid || c.Conflict == "" || c.Sequence != 4 || doc.Conflict != 1 {
			t.Errorf("charge 21: %s conflict %q seq %d; document %+v", c.Status, c.Conflict, c.Sequence, doc)
		}
	})
}

// A document that failed for want of a decoder settles once one is there
// and the document is retried; retrying anything but a failed document is
// a conflict.
func TestProcessorRetryFailedDocument(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		f := setup(t, url, "10")
		ctx := context.Background()
		body := `[{"id": "m1", "kind": "paid", "references": {"nosso_numero": "10"}, "paid_amount": "100.00"}]`
		doc, _, err := f.db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", AccountID: f.account.ID, Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		without := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{}, Settler: f.settler}
		if err := without.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		if doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID); doc.Status != baixa.DocFailed || !strings.Contains(doc.Error, "no decoder") {
			t.Fatalf("document without a decoder: %+v", doc)
		}
		retried, err := f.db.Documents.RetryDocument(ctx, doc.ID)
		if err != nil || retried.Status != baixa.DocPending || retried.Error != "" {
			t.Fatalf("retry: %+v, %v", retried, err)
		}
		with := &settle.Processor{Store: f.db.Settling, Decoders: map[string]baixa.Decoder{"generic": generic.Decoder{}}, Settler: f.settler}
		if err := with.Process(ctx, doc.ID); err != nil {
			t.Fatal(err)
		}
		if doc, _ = f.db.Documents.FindDocumentByID(ctx, doc.ID); doc.Status != baixa.DocSettled || doc.Applied != 1 {
			t.Fatalf("document after retry: %+v", doc)
		}
		if c := f.charge(t, "10"); c.Status != baixa.StatusPaid {
			t.Fatalf("charge after retry: %s", c.Status)
		}
		if _, err := f.db.Documents.RetryDocument(ctx, doc.ID); !baixa.IsCode(err, baixa.EConflict) {
			t.Fatalf("retrying a settled document: %v", err)
		}
		if _, err := f.db.Documents.RetryDocument(ctx, "doc_nope"); !baixa.IsCode(err, baixa.ENotFound) {
			t.Fatalf("retrying an unknown document: %v", err)
		}
	})
}
