// Command webhooks measures webhook delivery: the rate at which a burst of
// events reaches a receiver on loopback, and the latency from an event's
// commit to its receipt at a steady rate.
//
//	go run ./bench/webhooks -n 20000 -rate 200 -seconds 20 [-db postgres://...]
//
// The receiver runs in a child process (this program with -receiver), so
// that the CPU time measured is baixa's: it checks every signature and
// answers 204.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"baixa"
	"baixa/internal/measure"
	"baixa/provider/generic"
	"baixa/queue"
	"baixa/settle"
	"baixa/store"
	"baixa/webhook"
)

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary directory)")
	n := flag.Int("n", 20000, "events in the burst")
	rate := flag.Int("rate", 200, "events per second in the steady phase")
	seconds := flag.Int("seconds", 20, "length of the steady phase")
	conc := flag.Int("concurrency", 64, "the endpoint's max_concurrency")
	receiver := flag.String("receiver", "", "run as the receiver, verifying with this secret (internal)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the steady phase to this file")
	linger := flag.Duration("linger", 0, "the deliverer's Linger (0: its default; negative: none)")
	flag.Parse()
	if *receiver != "" {
		runReceiver(*receiver)
		return
	}
	ctx := context.Background()
	if *dbURL == "" {
		dir, err := os.MkdirTemp("", "baixa-bench-")
		must(err)
		defer os.RemoveAll(dir)
		*dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	kicks := webhook.NewKicks()
	db, err := store.Open(ctx, store.Config{URL: *dbURL, Jobs: measure.Jobs, OnDeliveries: kicks.Add})
	must(err)
	defer db.Close()
	must(db.Migrate(ctx))
	must(queue.Migrate(ctx, db.W, db.Dialect))
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	a := &baixa.Account{Name: "Bench", Document: "11222333000181"}
	must(db.Accounts.CreateAccount(ctx, a))
	steady := *rate * *seconds
	total := *n + 3*steady
	cs := make([]*baixa.Charge, total)
	for i := range cs {
		cs[i] = &baixa.Charge{AccountID: a.ID, Kind: baixa.KindBoleto, Amount: 10000,
			References: baixa.References{NossoNumero: strconv.Itoa(1000000 + i)}}
	}
	for i := 0; i < total; i += 1000 {
		must(db.Charges.CreateCharges(ctx, cs[i:min(total, i+1000)]))
	}

	// The receiver, in its own process.
	secret := baixa.NewWebhookSecret()
	rx := startReceiver(secret)
	defer rx.stop()

	// 0. Baseline: the steady phase's settling with no endpoint, to tell
	// delivery's CPU from settling's; measured once before and once after
	// (with the endpoint deleted), and averaged, since the database grows.
	svc := &settle.Service{Store: db.Settling, Settler: &settle.Settler{}}
	payAtRate := func(from int) {
		interval := time.Second / time.Duration(*rate)
		next := time.Now()
		for i := 0; i < steady; i++ {
			time.Sleep(time.Until(next))
			next = next.Add(interval)
			_, _, err := svc.SettleManual(ctx, &baixa.Movement{ChargeID: cs[from+i].ID, Kind: baixa.MovePaid, PaidAmount: 10000,
				PaidOn: baixa.Date{Year: 2026, Month: 11, Day: 23}}, []byte(`{}`), "")
			must(err)
		}
	}
	cpuBase0, busyBase0 := cpuTime(), machineBusy()
	payAtRate(*n + steady)
	cpuBase, busyBase := cpuTime()-cpuBase0, machineBusy()-busyBase0

	ep := &baixa.Endpoint{URL: rx.url + "/hook", Ordered: true, MaxConcurrency: *conc, Secret: secret}
	must(db.Endpoints.CreateEndpoint(ctx, ep))
	guard := &webhook.Guard{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	d := &webhook.Deliverer{Store: db.Delivering, Kicks: kicks, Client: webhook.NewClient(guard), Logger: quiet, Linger: *linger}
	q, err := queue.New(queue.Config{DB: db.W, Dialect: db.Dialect, Listener: db.Listener,
		Deliver: d.Drain, Settle: func(context.Context, string) error { return nil }, Logger: quiet})
	must(err)
	fmt.Printf("database: %s, endpoint max_concurrency %d, GOMAXPROCS=%d\n", db.Dialect, *conc, runtime.GOMAXPROCS(0))

	// 1. Burst: N events committed (one settled document) while nothing
	// delivers; then delivery starts, and runs until the receiver has all.
	var doc bytes.Buffer
	doc.WriteString("[")
	for j := 0; j < *n; j++ {
		if j > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"id": "b%d", "kind": "paid", "references": {"nosso_numero": "%d"}, "paid_amount": "100.00", "paid_on": "2026-11-20"}`, j, 1000000+j)
	}
	doc.WriteString("]")
	stored, _, err := db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: generic.Provider, AccountID: a.ID, Body: &doc})
	must(err)
	proc := &settle.Processor{Store: db.Settling, Decoders: map[string]baixa.Decoder{generic.Provider: generic.Decoder{}}, Settler: &settle.Settler{}, Logger: quiet}
	must(proc.Process(ctx, stored.ID))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cpu0, sys0 := cpuTime(), machineBusy()
	rx0 := rx.stats()
	start := time.Now()
	must(q.Start(runCtx))
	go func() { _ = d.Run(runCtx) }()
	rx.waitCount(*n)
	took := time.Since(start)
	cpu, sys := cpuTime()-cpu0, machineBusy()-sys0
	rx1 := rx.stats()
	rxCPU := rx1.CPU - rx0.CPU
	fmt.Printf("burst: %d deliveries in %.2fs = %.0f/s; baixa CPU %.3f core-ms/event; baixa + database %.3f core-ms/event (machine busy %.1fs, receiver %.1fs); bad signatures %d\n",
		*n, took.Seconds(), float64(*n)/took.Seconds(), ms(cpu)/float64(*n), ms(sys-rxCPU)/float64(*n), sys.Seconds(), rxCPU.Seconds(), rx1.Bad)

	// 2. Steady: one event per transaction at the given rate (manual
	// payments), latency measured by the receiver from the event's
	// created_at (taken just before its commit) to its arrival.
	rx.resetLatency()
	var peak uint64
	var mu sync.Mutex
	memDone := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-memDone:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				mu.Lock()
				peak = max(peak, m.HeapAlloc)
				mu.Unlock()
			}
		}
	}()
	if *profile != "" {
		f, err := os.Create(*profile)
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	cpu0, sys0 = cpuTime(), machineBusy()
	rx0 = rx.stats()
	payAtRate(*n)
	rx.waitCount(*n + steady)
	cpu, sys = cpuTime()-cpu0, machineBusy()-sys0
	rxCPU = rx.stats().CPU - rx0.CPU
	close(memDone)
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	must(db.Endpoints.DeleteEndpoint(ctx, ep.ID))
	cpuBase1, busyBase1 := cpuTime(), machineBusy()
	payAtRate(*n + 2*steady)
	cpuBase, busyBase = (cpuBase+cpuTime()-cpuBase1)/2, (busyBase+machineBusy()-busyBase1)/2
	lat := rx.latencies()
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("steady: %d events at %d/s: latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; peak Go heap %.1f MiB\n",
		steady, *rate, pct(0.5), pct(0.9), pct(0.99), lat[len(lat)-1], float64(peak)/(1<<20))
	fmt.Printf("steady CPU per event: baixa %.3f core-ms with delivery, %.3f without (settling alone, before and after) = %.3f for delivery; baixa + database %.3f - %.3f = %.3f for delivery\n",
		ms(cpu)/float64(steady), ms(cpuBase)/float64(steady), ms(cpu-cpuBase)/float64(steady),
		ms(sys-rxCPU)/float64(steady), ms(busyBase)/float64(steady), ms(sys-rxCPU-busyBase)/float64(steady))
	stop()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuTime is this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy is the machine's non-idle CPU time (all processes, all cores).
func machineBusy() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)[1:]
	var busy int64
	for i, v := range fields {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ = 100
}

// receiver is the child process.
type receiver struct {
	cmd *exec.Cmd
	url string
}

type rxStats struct {
	Count int           `json:"count"`
	Bad   int           `json:"bad"`
	CPU   time.Duration `json:"cpu"`
}

func startReceiver(secret string) *receiver {
	cmd := exec.Command(os.Args[0], "-receiver", secret)
	out, err := cmd.StdoutPipe()
	must(err)
	cmd.Stderr = os.Stderr
	must(cmd.Start())
	addr, err := bufio.NewReader(out).ReadString('\n')
	must(err)
	return &receiver{cmd: cmd, url: "http://" + strings.TrimSpace(addr)}
}

func (r *receiver) stop() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() }

func (r *receiver) get(path string, v any) {
	resp, err := http.Get(r.url + path)
	must(err)
	defer resp.Body.Close()
	if v != nil {
		must(json.NewDecoder(resp.Body).Decode(v))
	}
}

func (r *receiver) stats() rxStats {
	var s rxStats
	r.get("/stats", &s)
	return s
}

func (r *receiver) waitCount(n int) {
	for r.stats().Count < n {
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *receiver) resetLatency() { r.get("/reset", nil) }

func (r *receiver) latencies() []float64 {
	var l []float64
	r.get("/latencies", &l)
	return l
}

// runReceiver serves the ERP side: verify, count, measure, answer 204.
func runReceiver(secret string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	fmt.Println(ln.Addr().String())
	var mu sync.Mutex
	seen := map[string]bool{}
	var bad int
	var lat []float64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		err := webhook.Verify(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, now, 5*time.Minute)
		var ev struct {
			CreatedAt time.Time `json:"created_at"`
		}
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		if err != nil {
			bad++
		}
		seen[r.Header.Get("webhook-id")] = true
		lat = append(lat, float64(now.Sub(ev.CreatedAt))/float64(time.Millisecond))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewEncoder(w).Encode(rxStats{Count: len(seen), Bad: bad, CPU: cpuTime()})
	})
	mux.HandleFunc("GET /reset", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lat = nil
		mu.Unlock()
	})
	mux.HandleFunc("GET /latencies", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewEncoder(w).Encode(lat)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
}
