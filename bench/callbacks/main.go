// Command callbacks measures provider callbacks durably accepted: BMP
// callbacks (each a distinct proposal and situation) POSTed by C concurrent
// clients to a baixa on loopback, every 200 answered only after its
// document committed; then latency at a steady rate; and, as the
// reference, the database's raw rate of single-row inserts, each its own
// transaction, measured in the same run.
//
//	go run ./bench/callbacks -n 20000 -c 64 -rate 500 -seconds 10            # SQLite
//	go run ./bench/callbacks -db 'postgres://...'                             # PostgreSQL
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"baixa"
	"baixa/inbound"
	"baixa/ingest"
	"baixa/internal/measure"
	"baixa/provider"
	"baixa/provider/bmp"
	"baixa/web"
)

func main() {
	n := flag.Int("n", 20000, "callbacks in the burst")
	conc := flag.Int("c", 64, "concurrent clients")
	rate := flag.Int("rate", 500, "callbacks per second in the steady phase")
	seconds := flag.Int("seconds", 10, "length of the steady phase")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary directory)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the burst to this file")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "baixa-bench-callbacks-")
	must(err)
	defer os.RemoveAll(dir)
	if *dbURL == "" {
		*dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	db, err := measure.OpenDB(ctx, *dbURL) // jobs enqueued, none worked
	must(err)
	defer db.Close()

	a := &baixa.Account{Name: "Bench", Document: "11222333000181"}
	must(db.Accounts.CreateAccount(ctx, a))
	c := &baixa.Connection{AccountID: a.ID, Provider: bmp.Provider, Settings: []byte(`{"auth": {"method": "bearer"}}`),
		Secrets: map[string]string{baixa.SecretToken: "bench-token-0123456789"}, EverySeconds: 3600, Enabled: true}
	must(bmp.Connector.Prepare(c, time.Now()))
	must(db.Connections.CreateConnection(ctx, c))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	verifier := &inbound.Verifier{}
	srv := &http.Server{Handler: (&web.Server{Accounts: db.Accounts, Charges: db.Charges, Documents: db.Documents, Events: db.Events, Connections: &provider.Connections{ConnectionService: db.Connections, Connectors: map[string]baixa.Connector{bmp.Provider: bmp.Connector}},
		Callbacks: &ingest.Callbacks{Connections: db.Connections, Documents: db.Documents, Receivers: map[string]baixa.Receiver{bmp.Provider: bmp.Receiver{}},
			Check: verifier.Check}, APIKey: "bench-key-0123456789", Logger: quiet}).Handler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/hooks/bmp/" + c.ID
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}}
	var seq atomic.Int64
	send := func() time.Duration {
		i := seq.Add(1)
		start := time.Now()
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s?proposta=P-%d&situacao=9", base, i), strings.NewReader(`{"origem":"bench"}`))
		req.Header.Set("Authorization", "Bearer bench-token-0123456789")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		must(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			log.Fatalf("callback: %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	fmt.Printf("database: %s, %d callbacks by %d clients, then %d/s for %d s\n", db.Dialect, *n, *conc, *rate, *seconds)

	// Burst.
	if *profile != "" {
		f, err := os.Create(*profile)
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(*n))
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				send()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	pprof.StopCPUProfile()
	fmt.Printf("burst: %d callbacks durably accepted in %.2fs = %.0f/s\n", *n, took.Seconds(), float64(*n)/took.Seconds())

	// Steady rate.
	var mu sync.Mutex
	var lat []time.Duration
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	stop := time.After(time.Duration(*seconds) * time.Second)
loop:
	for {
		select {
		case <-stop:
			break loop
		case <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := send()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
	}
	tick.Stop()
	wg.Wait()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	fmt.Printf("steady: %d callbacks at %d/s: latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", len(lat), *rate, p(.5), p(.9), p(.99), p(1))

	// Reference: single-row inserts, one transaction each, from as many goroutines.
	const rows = 5000
	raw, err := measure.RawInserts(ctx, db.W, *conc, rows)
	must(err)
	fmt.Printf("reference: %d single-row inserts (one transaction each, %d goroutines) = %.0f/s; callbacks burst / reference = %.2f\n",
		rows, *conc, raw, float64(*n)/took.Seconds()/raw)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
