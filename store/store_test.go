package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/store"
)

func newAccount(t *testing.T, db *store.DB) *baixa.Account {
	t.Helper()
	a := &baixa.Account{Name: "ACME Cobranças", Document: "11.222.333/0001-81"}
	if err := db.Accounts.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a
}

func boleto(accountID, nosso string, cents baixa.Amount) *baixa.Charge {
	return &baixa.Charge{AccountID: accountID, Kind: baixa.KindBoleto, Amount: cents,
		DueDate: baixa.Date{Year: 2026, Month: 12, Day: 10}, References: baixa.References{NossoNumero: nosso}}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"mysql://x", "sqlite:/no/such/dir/x.db", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"} {
		if _, err := store.Open(ctx, store.Config{URL: url}); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
	_, err := store.Open(ctx, store.Config{URL: "postgres://u:s3cret@127.0.0.1:1/x?connect_timeout=2"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password or is nil: %v", err)
	}
}

func TestAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		ctx := context.Background()
		a := newAccount(t, db)
		if a.Document != "11222333000181" {
			t.Errorf("document not normalized: %q", a.Document)
		}
		got, err := db.Accounts.FindAccountByID(ctx, a.ID)
		if err != nil || got.Name != a.Name || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("FindAccountByID = %+v, %v", got, err)
		}
		if _, err := db.Accounts.FindAccountByID(ctx, "acc_nope"); !baixa.IsCode(err, baixa.ENotFound) {
			t.Errorf("unknown account: %v", err)
		}
		err = db.Accounts.CreateAccount(ctx, &baixa.Account{Name: "X", Document: "123"})
		var e *baixa.Error
		if !errors.As(err, &e) || e.Field != "document" {
			t.Errorf("bad document: %v", err)
		}
		for range 4 {
			newAccount(t, db)
		}
		page1, next, err := db.Accounts.FindAccounts(ctx, baixa.Page{Limit: 3})
		if err != nil || len(page1) != 3 || next == "" {
			t.Fatalf("page 1: %d, %q, %v", len(page1), next, err)
		}
		page2, next2, err := db.Accounts.FindAccounts(ctx, baixa.Page{After: next, Limit: 3})
		if err != nil || len(page2) != 2 || next2 != "" || page2[0].ID <= page1[2].ID {
			t.Fatalf("page 2: %d, %q, %v", len(page2), next2, err)
		}
	})
}

func TestCreateChargesAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		ctx := context.Background()
		a := newAccount(t, db)
		if err := db.Charges.CreateCharges(ctx, []*baixa.Charge{boleto(a.ID, "0000000083", 200)}); err != nil {
			t.Fatal(err)
		}
		bad := []*baixa.Charge{
			boleto(a.ID, "100", 1000),                     // fine
			{AccountID: a.ID, Kind: "slip", Amount: 1000}, // bad kind
			boleto(a.ID, "100", 1000),                     // same nosso número as item 0
			boleto(a.ID, "83", 1000),                      // taken (stored as 0000000083)
			{AccountID: a.ID, Kind: baixa.KindInvoice, Amount: 1000, Payer: baixa.Payer{Document: "529.982.247-24"}},
			boleto("acc_unknown", "7", 1000),
		}
		err := db.Charges.CreateCharges(ctx, bad)
		var e *baixa.Error
		if !errors.As(err, &e) {
			t.Fatalf("CreateCharges = %v", err)
		}
		fields := map[string]bool{}
		for _, d := range e.Details {
			fields[d.Field] = true
		}
		// The in-request checks fail first; the stored-state checks need a clean request.
		for _, f := range []string{"[1].kind", "[2].references.nosso_numero", "[4].payer.document"} {
			if !fields[f] {
				t.Errorf("no error for %s in %v", f, e.Details)
			}
		}
		err = db.Charges.CreateCharges(ctx, []*baixa.Charge{boleto(a.ID, "100", 1000), boleto(a.ID, "83", 1000), boleto("acc_unknown", "7", 1000)})
		if !errors.As(err, &e) || len(e.Details) != 2 || e.Details[0].Field != "[1].references.nosso_numero" || e.Details[1].Field != "[2].account_id" {
			t.Fatalf("stored-state errors: %v %+v", err, e)
		}
		all, _, _ := db.Charges.FindCharges(ctx, baixa.ChargeFilter{})
		if len(all) != 1 {
			t.Errorf("a failed bulk stored %d charges", len(all)-1)
		}
	})
}

func TestFindCharges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		ctx := context.Background()
		a := newAccount(t, db)
		var cs []*baixa.Charge
		for i, nn := range []string{"0000000083", "1001", "1002", "1003"} {
			c := boleto(a.ID, nn, 1000)
			c.DueDate.Day = 10 + i
			c.References.SeuNumero = "S" + nn
			cs = append(cs, c)
		}
		cs = append(cs, &baixa.Charge{AccountID: a.ID, Kind: baixa.KindInvoice, Amount: 500, References: baixa.References{InvoiceNumber: "F-1"}, Metadata: []byte(`{"erp":42}`)})
		if err := db.Charges.CreateCharges(ctx, cs); err != nil {
			t.Fatal(err)
		}
		count := func(f baixa.ChargeFilter) int {
			t.Helper()
			got, _, err := db.Charges.FindCharges(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(got)
		}
		checks := []struct {
			name string
			f    baixa.ChargeFilter
			want int
		}{
			{"all", baixa.ChargeFilter{}, 5},
			{"kind", baixa.ChargeFilter{Kind: baixa.KindInvoice}, 1},
			{"status", baixa.ChargeFilter{Status: baixa.StatusOpen, AccountID: a.ID}, 5},
			{"nosso número as a number", baixa.ChargeFilter{Reference: baixa.Ref{Kind: baixa.RefNossoNumero, Value: "83"}}, 1},
			{"any reference", baixa.ChargeFilter{Reference: baixa.Ref{Value: "S1002"}}, 1},
			{"any reference, nosso número", baixa.ChargeFilter{Reference: baixa.Ref{Value: "00083"}}, 1},
			{"due range", baixa.ChargeFilter{DueFrom: baixa.Date{Year: 2026, Month: 12, Day: 11}, DueTo: baixa.Date{Year: 2026, Month: 12, Day: 12}}, 2},
		}
		for _, c := range checks {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: %d charges, want %d", c.name, got, c.want)
			}
		}
		got, err := db.Charges.FindChargeByID(ctx, cs[4].ID)
		if err != nil || string(got.Metadata) != `{"erp":42}` || got.References.InvoiceNumber != "F-1" {
			t.Errorf("FindChargeByID = %+v, %v", got, err)
		}
		var seen []string
		for after := ""; ; {
			page, next, err := db.Charges.FindCharges(ctx, baixa.ChargeFilter{Page: baixa.Page{After: after, Limit: 2}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				seen = append(seen, c.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if len(seen) != 5 {
			t.Errorf("pagination saw %d charges", len(seen))
		}
	})
}

func TestDocuments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		ctx := context.Background()
		body := make([]byte, 2<<20+12345) // three parts
		_, _ = rand.Read(body)
		d, created, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", Body: bytes.NewReader(body)})
		if err != nil || !created || d.Size != int64(len(body)) || d.Status != baixa.DocPending {
			t.Fatalf("CreateDocument = %+v, %v, %v", d, created, err)
		}
		r, err := db.Documents.OpenDocument(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, body) {
			t.Fatalf("read back %d bytes, %v", len(back), err)
		}
		// Same bytes: the same document, nothing new stored.
		again, created, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "generic", Body: bytes.NewReader(body)})
		if err != nil || created || again.ID != d.ID {
			t.Fatalf("duplicate by hash: %+v, %v, %v", again, created, err)
		}
		// Same provider key with other bytes: deduplicated by key.
		k1, c1, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "sicoob", DedupKey: "req-1/file-1", Body: strings.NewReader("a")})
		k2, c2, err2 := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "sicoob", DedupKey: "req-1/file-1", Body: strings.NewReader("b")})
		if err != nil || err2 != nil || !c1 || c2 || k1.ID != k2.ID {
			t.Fatalf("duplicate by key: %v %v %v %v", c1, c2, err, err2)
		}
		var jobs int
		if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'settle_document'`).Scan(&jobs); err != nil || jobs != 2 {
			t.Errorf("settle jobs queued = %d, %v; want 2 (one per stored document)", jobs, err)
		}
	})
}

func TestSQLiteOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.db")
	ctx := context.Background()
	first, err := store.Open(ctx, store.Config{URL: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, store.Config{URL: "sqlite:" + path}); err == nil || !strings.Contains(err.Error(), "in use by another baixa process") {
		t.Fatalf("second open: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := store.Open(ctx, store.Config{URL: "sqlite:" + path})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	again.Close()
}
