package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/store"
)

func TestConnectionsAndFetches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		if err := db.SetSecretKey(bytes.Repeat([]byte{9}, 32)); err != nil {
			t.Fatal(err)
		}
		a := newAccount(t, db)
		c := &baixa.Connection{AccountID: a.ID, Provider: "sicoob", Settings: json.RawMessage(`{"x":1}`),
			Secrets: map[string]string{"certificate_password": "hunter2", "empty": ""}, EverySeconds: 60, Enabled: true}
		if err := db.Connections.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.R.QueryRowContext(ctx, `SELECT secrets FROM connections`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "hunter2") || !strings.HasPrefix(stored, "sealed:v1:") {
			t.Fatalf("secrets stored in clear: %q", stored)
		}
		got, err := db.Connections.FindConnectionByID(ctx, c.ID)
		if err != nil || got.Secrets["certificate_password"] != "hunter2" || len(got.SecretsSet) != 1 {
			t.Fatalf("read back %+v, %v", got, err)
		}
		if err := db.Connections.CreateConnection(ctx, &baixa.Connection{AccountID: "acc_nope", Provider: "sicoob", Settings: json.RawMessage(`{}`)}); !baixa.IsCode(err, baixa.EInvalid) {
			t.Fatalf("connection for an unknown account: %v", err)
		}

		// A run: planned fetches, one of them clashing with an active one.
		now := time.Now()
		due, err := db.Fetches.DueConnections(ctx, now, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		day := baixa.Date{Year: 2026, Month: 11, Day: 20}
		plan := []*baixa.Fetch{{WindowFrom: day, WindowTo: day.AddDays(1), Scope: "5"}, {WindowFrom: day, WindowTo: day.AddDays(1), Scope: "5"}}
		stale := *due[0]
		ok, err := db.Fetches.StartRun(ctx, due[0], plan, "2026-11-20", now)
		if err != nil || !ok {
			t.Fatalf("start run: %v %v", ok, err)
		}
		// The connection as read before: its next run moved, so no.
		if ok, err := db.Fetches.StartRun(ctx, &stale, plan, "2026-11-20", now); err != nil || ok {
			t.Fatalf("second start with a stale next run: %v %v", ok, err)
		}
		fs, err := db.Fetches.FetchesSince(ctx, c.ID, day)
		if err != nil || len(fs) != 1 {
			t.Fatalf("fetches = %d (want 1: at most one active per window and scope), %v", len(fs), err)
		}
		f := fs[0]

		// Two files with the same bytes: the second is not stored again.
		f.Status, f.RequestCode, f.Files = baixa.FetchListed, "1001", []string{"1", "2"}
		if err := db.Fetches.SaveFetch(ctx, f); err != nil {
			t.Fatal(err)
		}
		doc := func(file string) baixa.NewDocument {
			return baixa.NewDocument{Provider: "sicoob", ConnectionID: c.ID, AccountID: a.ID, DedupKey: c.ID + "/1001/" + file,
				Body: strings.NewReader(`{"resultado":{"arquivo":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)}
		}
		d1, err := db.Fetches.StoreFetchFile(ctx, f, "1", doc("1"))
		if err != nil {
			t.Fatal(err)
		}
		d2, err := db.Fetches.StoreFetchFile(ctx, f, "2", doc("2"))
		if err != nil || d2.ID != d1.ID {
			t.Fatalf("same content stored twice: %v %v, %v", d1.ID, d2, err)
		}
		// The same file again (a retried download): still one document.
		if d3, err := db.Fetches.StoreFetchFile(ctx, f, "1", doc("1")); err != nil || d3.ID != d1.ID {
			t.Fatalf("re-stored: %v, %v", d3, err)
		}
		f, err = db.Fetches.FindFetchByID(ctx, f.ID)
		if err != nil || len(f.Pending()) != 0 {
			t.Fatalf("fetch after storing: %+v, %v", f, err)
		}
		st, err := db.Connections.ConnectionStats(ctx, c.ID)
		if err != nil || st.Documents != 1 || st.DocumentsPending != 1 || len(st.Active) != 1 {
			t.Fatalf("stats %+v, %v", st, err)
		}
		f.Status = baixa.FetchDone
		if err := db.Fetches.SaveFetch(ctx, f); err != nil {
			t.Fatal(err)
		}
		if st, _ := db.Connections.ConnectionStats(ctx, c.ID); len(st.Active) != 0 || len(st.Recent) != 1 || st.Recent[0].DoneAt.IsZero() {
			t.Fatalf("stats after done %+v", st)
		}
		if err := db.Connections.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Fetches.FindFetchByID(ctx, f.ID); !baixa.IsCode(err, baixa.ENotFound) {
			t.Fatalf("fetch survived its connection: %v", err)
		}
	})
}

// Small documents stored at once by many callers share transactions; each
// caller learns whether its document is new, and a key sent twice at once
// is stored once.
func TestGroupCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		type out struct {
			id      string
			created bool
		}
		results := make([]out, 200)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("k-%d", i/2) // every key twice
				doc, created, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "bmp", DedupKey: key,
					Body: strings.NewReader(fmt.Sprintf(`{"n": %d}`, i))})
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = out{doc.ID, created}
			}()
		}
		wg.Wait()
		for i := 0; i < len(results); i += 2 {
			a, b := results[i], results[i+1]
			if a.id != b.id || a.created == b.created {
				t.Fatalf("key %d: %+v and %+v, want one document, created once", i/2, a, b)
			}
		}
		var n int
		if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM documents`).Scan(&n); err != nil || n != 100 {
			t.Fatalf("%d documents, %v; want 100", n, err)
		}
		// Each stored document is settled by exactly one job (a group
		// commit's documents share one).
		args := "args::text"
		if db.Dialect == store.SQLite {
			args = "json(args)" // River keeps SQLite's as JSONB
		}
		rows, err := db.R.QueryContext(ctx, `SELECT `+args+` FROM river_job WHERE kind = 'settle_document'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		queued := map[string]int{}
		for rows.Next() {
			var raw []byte
			var args struct {
				DocumentID string   `json:"document_id"`
				Then       []string `json:"then"`
			}
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &args); err != nil {
				t.Fatalf("job args %s: %v", raw, err)
			}
			for _, id := range append([]string{args.DocumentID}, args.Then...) {
				queued[id]++
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(queued) != 100 {
			t.Fatalf("%d documents queued for settling; want 100", len(queued))
		}
		for i := 0; i < len(results); i += 2 {
			if n := queued[results[i].id]; n != 1 {
				t.Fatalf("document %s queued %d times; want once", results[i].id, n)
			}
		}
	})
}
