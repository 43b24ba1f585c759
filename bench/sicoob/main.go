// Command sicoob measures the Sicoob flow end to end at Sicoob's file size:
// N open boletos, one movement file of N LIQUI records served by the
// sandbox (in a child process, over mutual TLS), fetched by the connector
// (request, poll, download, store), then decoded and settled. It reports
// each phase's time, the decoding rate alone, the settling rate, and peak
// memory. Figures go to docs/BENCHMARKS.md.
//
//	go run ./bench/sicoob -n 500000                     # SQLite in a temp dir
//	go run ./bench/sicoob -n 500000 -db postgres://...  # PostgreSQL
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"baixa"
	"baixa/fetch"
	"baixa/internal/measure"
	"baixa/provider/sicoob"
	"baixa/settle"
)

func main() {
	n := flag.Int("n", 500000, "boletos and LIQUI records")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary directory)")
	analyze := flag.Bool("analyze", true, "on PostgreSQL, ANALYZE after registering the charges, as autovacuum would")
	child := flag.String("sandbox-child", "", "internal: run the sandbox, writing its certificates to this directory")
	flag.Parse()
	if *child != "" {
		runSandbox(*child)
		return
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "baixa-bench-sicoob-")
	must(err)
	defer os.RemoveAll(dir)
	if *dbURL == "" {
		*dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	base, stop := startSandbox(dir)
	defer stop()

	db, err := measure.OpenDB(ctx, *dbURL) // jobs enqueued, none worked
	must(err)
	defer db.Close()
	fmt.Printf("database: %s, %d boletos and LIQUI records, GOMAXPROCS=%d\n", db.Dialect, *n, runtime.GOMAXPROCS(0))

	a := &baixa.Account{Name: "Bench", Document: "11222333000181"}
	must(db.Accounts.CreateAccount(ctx, a))
	today := baixa.Today(time.Now())
	start := time.Now()
	for i := 0; i < *n; i += 5000 {
		var cs []*baixa.Charge
		for j := i; j < min(*n, i+5000); j++ {
			cs = append(cs, &baixa.Charge{AccountID: a.ID, Kind: baixa.KindBoleto, Amount: baixa.Amount(10000 + j%90000),
				DueDate: today.AddDays(10), References: baixa.References{NossoNumero: fmt.Sprint(1000000 + j)}})
		}
		must(db.Charges.CreateCharges(ctx, cs))
	}
	fmt.Printf("registered %d boletos in %.1fs\n", *n, time.Since(start).Seconds())
	if *analyze {
		// What autovacuum does after a bulk load on a server that runs it
		// (this machine's does not).
		must(db.Analyze(ctx))
	}

	// The sandbox learns of N payments, 100,000 per request.
	start = time.Now()
	tlsClient := sandboxClient(dir)
	for i := 0; i < *n; i += 100000 {
		var b bytes.Buffer
		b.WriteByte('[')
		for j := i; j < min(*n, i+100000); j++ {
			if j > i {
				b.WriteByte(',')
			}
			amt := baixa.Amount(10000 + j%90000).String()
			fmt.Fprintf(&b, `{"type":5,"date":%q,"numero_titulo":%d,"amount":%q,"paid":%q,"fee":"1.70","paid_on":%q}`, today, 1000000+j, amt, amt, today)
		}
		b.WriteByte(']')
		resp, err := tlsClient.Post(base+"/sandbox/movements", "application/json", &b)
		must(err)
		resp.Body.Close()
		if resp.StatusCode != 204 {
			log.Fatalf("sandbox movements: %d", resp.StatusCode)
		}
	}
	fmt.Printf("sandbox told of %d payments in %.1fs\n", *n, time.Since(start).Seconds())

	// The connection, and one run of its LIQUI fetch.
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	must(err)
	secrets := map[string]string{}
	raw, err := os.ReadFile(filepath.Join(dir, "secrets.json"))
	must(err)
	must(json.Unmarshal(raw, &secrets))
	settings, _ := json.Marshal(map[string]any{"environment": "custom", "base_url": base + "/cobranca-bancaria/v3",
		"token_url": base + "/auth/realms/cooperado/protocol/openid-connect/token", "ca_certificate_pem": string(ca),
		"client_id": "bench", "numero_cliente": "707090", "movement_types": []int{5}, "start_date": today.String(),
		"poll_every": "100ms", "max_file_bytes": 4 << 30})
	conn := &sicoob.Connector{TempDir: dir}
	c := &baixa.Connection{AccountID: a.ID, Provider: sicoob.Provider, Settings: settings, Secrets: secrets, EverySeconds: 3600, Enabled: true}
	must(conn.Prepare(c, time.Now()))
	must(db.Connections.CreateConnection(ctx, c))
	runner := &fetch.Runner{Store: db.Fetching, Connectors: map[string]baixa.Connector{sicoob.Provider: conn},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("before fetching: RSS %s (set-up: charges registered, the sandbox fed)\n", measure.ProcStatus("VmRSS"))
	resetHWM()
	var doc *baixa.Document
	fetchPeak := measure.PeakHeap(func() {
		start = time.Now()
		must(runner.Tick(ctx))
		fs, err := db.Fetches.FetchesSince(ctx, c.ID, baixa.Date{})
		must(err)
		if len(fs) != 1 {
			log.Fatalf("%d fetches planned, want 1", len(fs))
		}
		for {
			err := runner.Step(ctx, fs[0].ID)
			var later *baixa.RetryLater
			if errors.As(err, &later) {
				time.Sleep(later.After)
				continue
			}
			must(err)
			break
		}
		st, err := db.Connections.ConnectionStats(ctx, c.ID)
		must(err)
		if len(st.Recent) != 1 || st.Recent[0].Status != baixa.FetchDone {
			log.Fatalf("fetch did not finish: %+v", st)
		}
		docs, err := db.Fetches.FetchDocuments(ctx, c.ID)
		must(err)
		doc = docs[0]
	})
	fetched := time.Since(start)
	fmt.Printf("fetch (token, request, poll, download, store): %.1fs for a %.1f MiB answer; peak Go heap %.1f MiB\n",
		fetched.Seconds(), float64(doc.Size)/(1<<20), float64(fetchPeak)/(1<<20))

	// Decoding alone: the stored answer to movements, nothing settled.
	runtime.GC()
	count := 0
	decodePeak := measure.PeakHeap(func() {
		start = time.Now()
		r, err := db.Documents.OpenDocument(ctx, doc.ID)
		must(err)
		must(sicoob.Decoder{TempDir: dir}.Decode(ctx, doc, r, func(*baixa.Movement) error { count++; return nil }))
	})
	dec := time.Since(start)
	fmt.Printf("decode only: %d records in %.2fs = %.0f records/s; peak Go heap %.1f MiB\n", count, dec.Seconds(),
		float64(count)/dec.Seconds(), float64(decodePeak)/(1<<20))

	// Settling, as the queue's job does it.
	proc := &settle.Processor{Store: db.Settling, Decoders: map[string]baixa.Decoder{sicoob.Provider: sicoob.Decoder{TempDir: dir}},
		Settler: &settle.Settler{}, Parallel: db.Writers(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runtime.GC()
	settlePeak := measure.PeakHeap(func() {
		start = time.Now()
		must(proc.Process(ctx, doc.ID))
	})
	took := time.Since(start)
	final, err := db.Documents.FindDocumentByID(ctx, doc.ID)
	must(err)
	if final.Applied != int64(*n) {
		log.Fatalf("applied %d of %d: %+v", final.Applied, *n, final)
	}
	fmt.Printf("decode and settle: %d payments in %.1fs = %.0f movements/s; peak Go heap %.1f MiB\n", *n, took.Seconds(),
		float64(*n)/took.Seconds(), float64(settlePeak)/(1<<20))
	fmt.Printf("end to end (fetch + settle): %.1fs; process peak RSS since fetching began (VmHWM) %s\n", (fetched + took).Seconds(), measure.ProcStatus("VmHWM"))
}

// startSandbox runs this program as the sandbox in a child process and
// returns its base URL.
func startSandbox(dir string) (string, func()) {
	cmd := exec.Command(os.Args[0], "-sandbox-child", dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(err)
	must(cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	must(err)
	return strings.TrimSpace(line), func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

func runSandbox(dir string) {
	pki, err := sicoob.NewPKI([]string{"127.0.0.1"}, 24*time.Hour)
	must(err)
	must(os.WriteFile(filepath.Join(dir, "ca.pem"), pki.CAPEM, 0o600))
	must(os.WriteFile(filepath.Join(dir, "client.pem"), pki.ClientCertPEM, 0o600))
	must(os.WriteFile(filepath.Join(dir, "client-key.pem"), pki.ClientKeyPEM, 0o600))
	secrets, _ := json.Marshal(pki.ClientSecrets())
	must(os.WriteFile(filepath.Join(dir, "secrets.json"), secrets, 0o600))
	sb := sicoob.NewSandbox("bench", 707090)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	fmt.Printf("https://%s\n", ln.Addr())
	srv := &http.Server{Handler: sb, TLSConfig: pki.ServerTLS()}
	log.Fatal(srv.ServeTLS(ln, "", ""))
}

func sandboxClient(dir string) *http.Client {
	cert, err := tlsPair(dir)
	must(err)
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	must(err)
	return sicoob.NewHTTPClient(cert, poolOf(ca))
}

// resetHWM resets the process's peak RSS (Linux: clear_refs 5).
func resetHWM() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
