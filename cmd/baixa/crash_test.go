package main

// The crash, fault and hostile-input campaign, made part of the project
// (issue 18): baixa runs as a child process (this test binary, re-executed
// as the command) on SQLite and PostgreSQL; concurrent callbacks, imports
// and manual payments are sent to it, as providers and operators send them
// (each again until it is answered 2xx); it is killed with SIGKILL at random
// points and restarted; the webhook receiver fails (500, hang, reset) and
// recovers; on PostgreSQL the database goes away once. Then the invariants
// are checked: every accepted input settled exactly once, no charge paid
// twice, every event delivered with one stable webhook-id, and no secret in
// the child's debug log.
//
// The short form runs in go test; the long form by hand, e.g.
//
//	BAIXA_CHAOS_INPUTS=3000 BAIXA_CHAOS_KILLS=20 go test -run TestCrashSuite -v ./cmd/baixa
//
// BAIXA_CHAOS_SEED replays a run's choices (its seed is printed). On
// PostgreSQL the outage is a proxy cutting every connection; with
// BAIXA_CHAOS_PG_RESTART set to a command (pg_ctlcluster ... restart), the
// server itself is restarted instead: only by hand, since other tests share
// that server.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/internal/faultproxy"
)

// envChild makes the test binary run as the baixa command.
const envChild = "BAIXA_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	// The end-to-end tests spend their time waiting on baixa's workers and
	// on sandboxes, not computing: they run eight at a time unless
	// -parallel says otherwise (the default is GOMAXPROCS), or the race
	// detector is on (it makes them compute: eight at once on two cores
	// starve each other's requests).
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet && !raceEnabled {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestCrashSuite(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the crash suite runs baixa as a child process; skipped with -short")
	}
	dbtest.Each(t, func(t *testing.T, url string) {
		seed := uint64(envInt("BAIXA_CHAOS_SEED", int(time.Now().UnixNano()%1e9)))
		ch := &chaos{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 7)),
			inputs: envInt("BAIXA_CHAOS_INPUTS", 240), kills: envInt("BAIXA_CHAOS_KILLS", 5),
			dir: t.TempDir(), url: url}
		t.Logf("chaos seed %d (BAIXA_CHAOS_SEED=%d replays its choices)", seed, seed)
		ch.run()
	})
}

// chaos is one run of the campaign.
type chaos struct {
	t      *testing.T
	seed   uint64
	rng    *rand.Rand
	inputs int
	kills  int
	dir    string
	url    string // the database as the child sees it

	proxy  *faultproxy.Proxy // PostgreSQL only: the outage
	addr   string
	apiKey string
	secret string
	token  string // BMP's bearer token
	whsec  string // the endpoint's signing secret
	child  *exec.Cmd
	exited chan struct{}
	log    *os.File
	erp    *chaosERP
}

func (c *chaos) run() {
	t := c.t
	if strings.HasPrefix(c.url, "postgres") {
		u, _ := neturl.Parse(c.url)
		p, err := faultproxy.New(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		c.proxy = p
		u.Host = p.Addr()
		q := u.Query()
		q.Set("connect_timeout", "3")
		u.RawQuery = q.Encode()
		c.url = u.String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	ln.Close()
	c.apiKey, c.secret, c.token = testKey, strings.Repeat("ab12", 16), "chaos-bmp-token-0123456789"
	if c.log, err = os.Create(filepath.Join(c.dir, "baixa.log")); err != nil {
		t.Fatal(err)
	}
	c.erp = newChaosERP(t)
	c.start()
	t.Cleanup(func() { c.stop(syscall.SIGKILL) })

	cl := &client{t: t, base: "http://" + c.addr}
	acct := cl.must(201, "POST", "/v1/accounts", `{"name": "Chaos", "document": "11222333000181"}`)["id"].(string)
	ep := cl.must(201, "POST", "/v1/endpoints", fmt.Sprintf(`{"url": %q, "timeout_seconds": 2}`, c.erp.url))
	c.whsec = ep["secret"].(string)
	conn := cl.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", "name": "BMP",
		"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": %q}}`, acct, c.token))["id"].(string)

	// One charge per input, so that each input's effect can be told apart.
	type input struct {
		kind   string // callback, payment, import
		charge string
		amount string
		ref    string
	}
	ins := make([]input, c.inputs)
	var charges []map[string]any
	for i := range ins {
		kind := []string{"callback", "payment", "import"}[i%3]
		amount := fmt.Sprintf("%d.%02d", 10+i, i%100)
		ref := fmt.Sprintf("%d", 70000+i)
		if kind == "callback" {
			ref = fmt.Sprintf("P-%d", i)
			charges = append(charges, map[string]any{"account_id": acct, "kind": "proposal", "amount": amount, "references": map[string]string{"proposal_id": ref}})
		} else {
			charges = append(charges, map[string]any{"account_id": acct, "kind": "boleto", "amount": amount, "due_date": "2026-12-10",
				"references": map[string]string{"nosso_numero": ref}})
		}
		ins[i] = input{kind: kind, amount: amount, ref: ref}
	}
	body, _ := json.Marshal(map[string]any{"charges": charges})
	created := cl.must(201, "POST", "/v1/charges/bulk", string(body))["data"].([]any)
	for i, ch := range created {
		ins[i].charge = ch.(map[string]any)["id"].(string)
	}
	c.rng.Shuffle(len(ins), func(i, j int) { ins[i], ins[j] = ins[j], ins[i] })

	// The senders: each input again until it is answered 2xx.
	var sent, answered, accepted atomic.Int64
	work := make(chan input)
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Minute)
	httpc := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range work {
				for time.Now().Before(deadline) {
					var req *http.Request
					switch in.kind {
					case "callback":
						req, _ = http.NewRequest("GET", cl.base+"/hooks/bmp/"+conn+"?proposta="+in.ref+"&situacao=9", nil)
						req.Header.Set("Authorization", "Bearer "+c.token)
					case "payment":
						req, _ = http.NewRequest("POST", cl.base+"/v1/charges/"+in.charge+"/payments",
							strings.NewReader(fmt.Sprintf(`{"amount": %q, "paid_on": "2026-11-23"}`, in.amount)))
						req.Header.Set("Idempotency-Key", "pay-"+in.charge)
					case "import":
						req, _ = http.NewRequest("POST", cl.base+"/v1/imports/generic?account_id="+acct, strings.NewReader(fmt.Sprintf(
							`[{"id": "imp-%s", "kind": "paid", "references": {"nosso_numero": %q}, "paid_amount": %q, "paid_on": "2026-11-23"}]`,
							in.ref, in.ref, in.amount)))
					}
					if in.kind != "callback" {
						req.Header.Set("Authorization", "Bearer "+c.apiKey)
						req.Header.Set("Content-Type", "application/json")
					}
					sent.Add(1)
					resp, err := httpc.Do(req)
					if err == nil {
						answered.Add(1)
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode/100 == 2 {
							accepted.Add(1)
							break
						}
						if resp.StatusCode/100 == 4 && resp.StatusCode != 429 {
							t.Errorf("%s %s = %d: a valid input refused", in.kind, in.ref, resp.StatusCode)
							break
						}
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	// The inputs are spread over the time the kills take, so that kills
	// land amid them.
	pace := time.Duration(c.kills) * 900 * time.Millisecond / time.Duration(len(ins))
	go func() {
		for _, in := range ins {
			work <- in
			time.Sleep(pace)
		}
		close(work)
	}()

	// The faults, while the inputs flow: kills at random points, the
	// receiver failing, and (PostgreSQL) the database going away once.
	outage := -1
	if c.proxy != nil {
		outage = c.rng.IntN(c.kills)
	}
	go c.erp.cycle(c.rng.Uint64())
	var lastStart time.Time
	for k := range c.kills {
		time.Sleep(time.Duration(200+c.rng.IntN(1200)) * time.Millisecond)
		if k == outage {
			if restart := os.Getenv("BAIXA_CHAOS_PG_RESTART"); restart != "" {
				// By hand only: the server is shared with every other test.
				if out, err := exec.Command("sh", "-c", restart).CombinedOutput(); err != nil {
					t.Fatalf("restart PostgreSQL: %v: %s", err, out)
				}
			} else {
				c.proxy.Cut()
				time.Sleep(time.Duration(1000+c.rng.IntN(2000)) * time.Millisecond)
				if err := c.proxy.Restore(); err != nil {
					t.Fatal(err)
				}
			}
		}
		c.stop(syscall.SIGKILL)
		c.start()
		lastStart = time.Now()
	}
	wg.Wait()
	c.erp.calm()

	// Drain: every charge settled and every event delivered.
	var missing, doubled, undelivered []string
	var events []map[string]any
	drained := false
	for time.Since(lastStart) < 3*time.Minute {
		missing, doubled = nil, nil
		paid := map[string]int{}
		events = chaosFeed(cl)
		for _, e := range events {
			if e["type"] == "charge.paid" {
				paid[e["charge_id"].(string)]++
			}
		}
		for _, in := range ins {
			switch n := paid[in.charge]; {
			case n == 0:
				missing = append(missing, in.charge)
			case n > 1:
				doubled = append(doubled, in.charge)
			}
		}
		undelivered = c.erp.undelivered(events)
		if len(missing) == 0 && len(undelivered) == 0 {
			drained = true
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	drain := time.Since(lastStart)
	for _, in := range ins {
		got := cl.must(200, "GET", "/v1/charges/"+in.charge, "")
		if got["status"] != "paid" || (in.kind != "callback" && got["paid_amount"] != in.amount) {
			t.Errorf("%s charge %s = %v %v, want paid %s exactly", in.kind, in.charge, got["status"], got["paid_amount"], in.amount)
		}
	}
	dups, unstable := c.erp.duplicates()
	t.Logf("chaos %s: seed=%d inputs=%d sent=%d answered=%d accepted=%d kills=%d outage=%v settled=%d doubled=%d missing=%d events=%d undelivered=%d redelivered=%d unstable_ids=%d drain=%s",
		strings.SplitN(c.url, ":", 2)[0], c.seed, len(ins), sent.Load(), answered.Load(), accepted.Load(), c.kills, outage >= 0,
		len(ins)-len(missing), len(doubled), len(missing), len(events), len(undelivered), dups, unstable, drain.Round(100*time.Millisecond))
	if !drained {
		t.Errorf("not drained 3 minutes after the last restart: %d charges unsettled (%.5v), %d events undelivered (%.5v)",
			len(missing), missing, len(undelivered), undelivered)
	}
	if int(accepted.Load()) != len(ins) {
		t.Errorf("%d of %d inputs accepted", accepted.Load(), len(ins))
	}
	if len(doubled) > 0 {
		t.Errorf("charges paid twice: %v", doubled)
	}
	if unstable > 0 {
		t.Errorf("%d events were delivered under more than one webhook-id", unstable)
	}
	c.stop(syscall.SIGTERM)
	c.checkLog()
}

// start runs the child and waits until it is ready.
func (c *chaos) start() {
	t := c.t
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--database-url", c.url, "--listen", c.addr, "--api-key", c.apiKey,
		"--secret-key", c.secret, "--webhook-allow-http", "--webhook-allow-addresses", "127.0.0.0/8",
		"--webhook-retry-schedule", "500ms,1s,2s,4s,8s", "--log-level", "debug", "--log-format", "json", "--shutdown-timeout", "5s", "--rate-limit", "0")
	cmd.Env = append(os.Environ(), envChild+"=1")
	dieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.child, c.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(c.exited)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + c.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-c.exited:
			t.Fatalf("baixa exited at start; log in %s", c.log.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("baixa not ready after 60 s")
}

// stop ends the child with sig and waits for it.
func (c *chaos) stop(sig syscall.Signal) {
	if c.child == nil {
		return
	}
	_ = c.child.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.child.Process.Kill()
		<-c.exited
	}
	c.child = nil
}

// checkLog fails if a configured secret appears in what the child logged
// at debug level.
func (c *chaos) checkLog() {
	raw, err := os.ReadFile(c.log.Name())
	if err != nil {
		c.t.Fatal(err)
	}
	if len(raw) == 0 {
		c.t.Error("the child logged nothing: the secret check would prove nothing")
	}
	whsec := strings.TrimPrefix(c.whsec, "whsec_")
	for name, s := range map[string]string{"API key": c.apiKey, "secret key": c.secret, "BMP token": c.token, "webhook secret": whsec} {
		if bytes.Contains(raw, []byte(s)) {
			c.t.Errorf("the %s appears in the debug log", name)
		}
	}
}

// chaosFeed reads the whole event feed.
func chaosFeed(cl *client) []map[string]any {
	var out []map[string]any
	after := ""
	for {
		page := cl.must(200, "GET", "/v1/events?limit=500&after="+after, "")
		data := page["data"].([]any)
		for _, d := range data {
			out = append(out, d.(map[string]any))
		}
		next, _ := page["next_cursor"].(string)
		if len(data) == 0 || next == "" || next == after {
			return out
		}
		after = next
	}
}

// chaosERP is a webhook receiver that fails in turns.
type chaosERP struct {
	srv  *http.Server
	url  string
	mode atomic.Int32 // 0 answers, 1 500, 2 hangs, 3 resets
	stop chan struct{}
	done chan struct{}

	mu  sync.Mutex
	ok  map[string]int             // event id -> 2xx answers
	ids map[string]map[string]bool // event id -> webhook-ids seen
}

func newChaosERP(t *testing.T) *chaosERP {
	e := &chaosERP{ok: map[string]int{}, ids: map[string]map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.srv = &http.Server{Handler: http.HandlerFunc(e.serve)}
	go e.srv.Serve(ln)
	e.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		e.calm()
		e.srv.Close()
	})
	return e
}

func (e *chaosERP) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ev)
	e.mu.Lock()
	if e.ids[ev.ID] == nil {
		e.ids[ev.ID] = map[string]bool{}
	}
	e.ids[ev.ID][r.Header.Get("webhook-id")] = true
	e.mu.Unlock()
	switch e.mode.Load() {
	case 1:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case 2:
		select {
		case <-time.After(3 * time.Second): // past the endpoint's 2 s timeout
		case <-r.Context().Done():
		}
		return
	case 3:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	e.mu.Lock()
	e.ok[ev.ID]++
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// cycle changes the receiver's mode every moment until calm.
func (e *chaosERP) cycle(seed uint64) {
	defer close(e.done)
	rng := rand.New(rand.NewPCG(seed, 11))
	for {
		select {
		case <-e.stop:
			e.mode.Store(0)
			return
		case <-time.After(time.Duration(300+rng.IntN(900)) * time.Millisecond):
			e.mode.Store(int32(rng.IntN(4)))
		}
	}
}

// calm makes the receiver answer from now on.
func (e *chaosERP) calm() {
	select {
	case <-e.stop:
	default:
		close(e.stop)
		<-e.done
	}
	e.mode.Store(0)
}

// undelivered are the events of the feed the receiver has not answered 2xx.
func (e *chaosERP) undelivered(events []map[string]any) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range events {
		id := ev["id"].(string)
		if e.ok[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// duplicates counts events answered 2xx more than once (at-least-once
// delivery: a crash after the send and before its record), and events seen
// under more than one webhook-id (never allowed).
func (e *chaosERP) duplicates() (dups, unstable int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.ok {
		if n > 1 {
			dups += n - 1
		}
	}
	for _, ids := range e.ids {
		if len(ids) > 1 {
			unstable++
		}
	}
	return dups, unstable
}
