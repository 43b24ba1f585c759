// Command settle measures end-to-end settling: a stored document carrying N
// payments against N open charges is decoded, matched, applied and turned
// into events, on SQLite or PostgreSQL. It also measures charge registration
// through the bulk API. Figures go to docs/BENCHMARKS.md.
//
//	go run ./bench/settle -n 100000                     # SQLite in a temp dir
//	go run ./bench/settle -n 100000 -db postgres://...  # PostgreSQL
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"baixa"
	"baixa/internal/measure"
	"baixa/provider/generic"
	"baixa/settle"
	"baixa/store"
	"baixa/web"
)

func main() {
	n := flag.Int("n", 100000, "payments (and charges)")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary directory)")
	batch := flag.Int("batch", 1000, "movements per transaction")
	bulk := flag.Int("bulk", 1000, "charges per bulk API request")
	parallel := flag.Int("parallel", 0, "batches of the document settled at once (default: 2 on PostgreSQL, 1 on SQLite, as baixa serve)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	cacheMiB := flag.Int("sqlite-cache-mib", 0, "SQLite's page cache per connection, MiB (0: the store's default)")
	endpoints := flag.Int("endpoints", 0, "webhook endpoints subscribed to every event (their deliveries are written while settling; none is sent)")
	analyze := flag.Bool("analyze", true, "on PostgreSQL, ANALYZE each time the charges registered double, as autovacuum would (this server runs without it)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	if *dbURL == "" {
		dir, err := os.MkdirTemp("", "baixa-bench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		*dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	db, err := measure.OpenDBWith(ctx, store.Config{URL: *dbURL, CacheMiB: *cacheMiB}) // jobs enqueued, none worked
	must(err)
	defer db.Close()
	if *parallel == 0 {
		*parallel = db.Writers()
	}
	fmt.Printf("database: %s (%s), %d charges and payments, %d per transaction, %d in flight, GOMAXPROCS=%d\n", db.Dialect, db.URL, *n, *batch, *parallel, runtime.GOMAXPROCS(0))

	a := &baixa.Account{Name: "Bench", Document: "11222333000181"}
	must(db.Accounts.CreateAccount(ctx, a))
	for i := 0; i < *endpoints; i++ {
		must(db.Endpoints.CreateEndpoint(ctx, &baixa.Endpoint{URL: fmt.Sprintf("https://erp%d.example.com/hooks", i), Ordered: true, Secret: baixa.NewWebhookSecret()}))
	}

	// 1. Registration through the bulk API (HTTP on loopback, JSON both ways).
	srv := httptest.NewServer((&web.Server{Accounts: db.Accounts, Charges: db.Charges, Documents: db.Documents, Events: db.Events, APIKey: "bench-key-0123456789",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	start := time.Now()
	analyzed := 1000
	for i := 0; i < *n; i += *bulk {
		if *analyze && i >= 2*analyzed {
			must(db.Analyze(ctx))
			analyzed = i
		}
		var b strings.Builder
		b.WriteString(`{"charges": [`)
		for j := i; j < min(*n, i+*bulk); j++ {
			if j > i {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"account_id": %q, "kind": "boleto", "amount": "%d.%02d", "due_date": "2026-12-10", "payer": {"name": "Pagador %d", "document": "52998224725"}, "references": {"nosso_numero": "%d", "seu_numero": "S%d"}}`,
				a.ID, 100+j%900, j%100, j, 1000000+j, j)
		}
		b.WriteString("]}")
		req, _ := http.NewRequest("POST", srv.URL+"/v1/charges/bulk", strings.NewReader(b.String()))
		req.Header.Set("Authorization", "Bearer bench-key-0123456789")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		must(err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			log.Fatalf("bulk: %d %s", resp.StatusCode, body)
		}
	}
	reg := time.Since(start)
	if *analyze {
		must(db.Analyze(ctx))
	}
	fmt.Printf("registration: %d charges in %.2fs = %.0f charges/s (bulk requests of %d)\n", *n, reg.Seconds(), float64(*n)/reg.Seconds(), *bulk)

	// 2. A document of N payments, stored as the import API would, from
	// a file: the bench does not hold it, so that the RSS measured is
	// baixa's.
	fmt.Printf("registration: process peak RSS (VmHWM) %s\n", measure.ProcStatus("VmHWM"))
	docFile, err := os.CreateTemp("", "baixa-bench-doc-")
	must(err)
	defer os.Remove(docFile.Name())
	w := bufio.NewWriter(docFile)
	fmt.Fprint(w, "[") // a bufio.Writer keeps its error for Flush
	for j := 0; j < *n; j++ {
		if j > 0 {
			fmt.Fprint(w, ",\n")
		}
		fmt.Fprintf(w, `{"id": "pay-%d", "kind": "paid", "references": {"nosso_numero": "%010d"}, "paid_amount": "%d.%02d", "fee_amount": "1.70", "paid_on": "2026-11-20", "credited_on": "2026-11-21", "provider_code": "06"}`,
			j, 1000000+j, 100+j%900, j%100)
	}
	fmt.Fprint(w, "]")
	must(w.Flush())
	_, err = docFile.Seek(0, io.SeekStart)
	must(err)
	info, err := docFile.Stat()
	must(err)
	size := info.Size()
	stored, _, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: generic.Provider, AccountID: a.ID, ContentType: "application/json", Body: docFile})
	must(err)
	must(docFile.Close())
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := measure.ProcStatus("VmRSS")
	reset := measure.ResetPeakRSS()

	// 3. Settle it: decode (two passes: check, then settle), match, apply, events.
	proc := &settle.Processor{Store: db.Settling, Decoders: map[string]baixa.Decoder{generic.Provider: generic.Decoder{}},
		Settler: &settle.Settler{}, BatchSize: *batch, Parallel: *parallel, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := measure.PeakHeap(func() {
		start = time.Now()
		must(proc.Process(ctx, stored.ID))
	})
	took := time.Since(start)
	final, err := db.Documents.FindDocumentByID(ctx, stored.ID)
	must(err)
	if final.Applied != int64(*n) {
		log.Fatalf("applied %d of %d: %+v", final.Applied, *n, final)
	}
	fmt.Printf("settling: %d payments (%.1f MiB document) in %.2fs = %.0f movements/s; peak Go heap during settling %.1f MiB\n",
		*n, float64(size)/(1<<20), took.Seconds(), float64(*n)/took.Seconds(), float64(peak)/(1<<20))
	if reset {
		fmt.Printf("settling: process RSS %s before, peak RSS (VmHWM) during settling %s\n", rssBefore, measure.ProcStatus("VmHWM"))
	}
	// Reference: the same run's raw rate of single-row inserts (64
	// goroutines, one transaction each).
	raw, err := measure.RawInserts(ctx, db.W, 64, 5000)
	must(err)
	fmt.Printf("reference: single-row inserts (one transaction each, 64 goroutines) = %.0f/s; settling / reference = %.2f\n",
		raw, float64(*n)/took.Seconds()/raw)
	es, err := db.Events.FindEvents(ctx, baixa.EventFilter{Limit: 1})
	must(err)
	if len(es) != 1 || es[0].Type != baixa.EventChargePaid {
		log.Fatalf("no charge.paid event: %v", es)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
