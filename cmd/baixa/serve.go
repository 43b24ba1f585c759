package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"riverqueue.com/riverui"

	"baixa"
	"baixa/cnab"
	"baixa/console"
	"baixa/fetch"
	"baixa/inbound"
	"baixa/ingest"
	"baixa/provider"
	"baixa/provider/bmp"
	"baixa/provider/generic"
	"baixa/provider/plugboleto"
	"baixa/provider/recuperador"
	"baixa/provider/saurus"
	"baixa/provider/sicoob"
	"baixa/queue"
	"baixa/settle"
	"baixa/store"
	"baixa/web"
	"baixa/webhook"
)

// dbFlags are shared by every command that opens the database.
type dbFlags struct {
	DatabaseURL string `name:"database-url" env:"BAIXA_DATABASE_URL" default:"sqlite:baixa.db" help:"sqlite:PATH (embedded, the default) or postgres://USER:PASS@HOST:PORT/DB."`
}

type logFlags struct {
	LogFormat string `env:"BAIXA_LOG_FORMAT" enum:"text,json" default:"text" help:"Log format (text or json)."`
	LogLevel  string `env:"BAIXA_LOG_LEVEL" enum:"debug,info,warn,error" default:"info" help:"Minimum log level."`
}

type serveCmd struct {
	dbFlags
	logFlags
	Listen            string        `env:"BAIXA_LISTEN" default:"127.0.0.1:8080" help:"Address to serve HTTP on."`
	APIKey            string        `name:"api-key" env:"BAIXA_API_KEY" help:"Bearer token for the /v1 API (at least 16 characters). With SQLite and none given, one is generated and kept beside the database file."`
	SecretKey         string        `name:"secret-key" env:"BAIXA_SECRET_KEY" help:"Key that encrypts secrets at rest (webhook signing secrets, provider credentials): 32 bytes as 64 hex characters."`
	SecretKeyPrevious []string      `name:"secret-key-previous" env:"BAIXA_SECRET_KEY_PREVIOUS" help:"Keys BAIXA_SECRET_KEY replaces (comma-separated, 64 hex characters each): what they sealed still opens, and is sealed again with the new key at start."`
	Workers           int           `env:"BAIXA_WORKERS" default:"4" help:"Background jobs run at once."`
	ShutdownTimeout   time.Duration `env:"BAIXA_SHUTDOWN_TIMEOUT" default:"30s" help:"How long to wait for requests and jobs on shutdown before cancelling them (they are retried later)."`
	MaxImportBytes    int64         `env:"BAIXA_MAX_IMPORT_BYTES" default:"268435456" help:"Largest accepted import upload."`
	RateLimit         float64       `name:"rate-limit" env:"BAIXA_RATE_LIMIT" default:"500" help:"Requests per second each API key may make (bursts of twice that); 0 for no limit."`
	CallbackRateLimit float64       `name:"callback-rate-limit" env:"BAIXA_CALLBACK_RATE_LIMIT" default:"0" help:"Callbacks per second each provider connection may send (bursts of twice that); 0, the default, for no limit: a provider catching up after an outage is not refused."`
	Tick              time.Duration `env:"BAIXA_TICK" default:"15s" help:"How often the scheduler looks for connections due to be read (each connection has its own every_seconds)."`
	SQLiteCacheMiB    int           `name:"sqlite-cache-mib" env:"BAIXA_SQLITE_CACHE_MIB" default:"8" help:"SQLite's page cache per connection, in MiB (the writer and each of 8 readers have one): memory for speed on large databases."`
	webhookFlags
}

type webhookFlags struct {
	WebhookAllowHTTP      bool          `name:"webhook-allow-http" env:"BAIXA_WEBHOOK_ALLOW_HTTP" help:"Allow plain http:// webhook endpoints (loopback tests and demos only)."`
	WebhookAllowAddresses string        `name:"webhook-allow-addresses" env:"BAIXA_WEBHOOK_ALLOW_ADDRESSES" help:"Comma-separated CIDR ranges that webhooks may reach although they are internal (e.g. 127.0.0.0/8 for a local ERP)."`
	WebhookRetrySchedule  string        `name:"webhook-retry-schedule" env:"BAIXA_WEBHOOK_RETRY_SCHEDULE" default:"5s,5m,30m,2h,5h,10h,10h" help:"Waits before each retry of a failed delivery (each spread by ±20%); after the last, the delivery is dead."`
	WebhookDisableAfter   time.Duration `name:"webhook-disable-after" env:"BAIXA_WEBHOOK_DISABLE_AFTER" default:"120h" help:"Disable an endpoint whose every attempt failed for this long."`
	WebhookSecretOverlap  time.Duration `name:"webhook-secret-overlap" env:"BAIXA_WEBHOOK_SECRET_OVERLAP" default:"24h" help:"How long a rotated-out signing secret keeps signing, by default."`
	WebhookLinger         time.Duration `name:"webhook-linger" env:"BAIXA_WEBHOOK_LINGER" default:"15ms" help:"How long delivery to an endpoint with a steady stream of events waits to send them together (0: never; a quiet endpoint is served at once)."`
}

// webhookConfig is the webhook part of serveConfig.
type webhookConfig struct {
	Guard         webhook.Guard
	Schedule      []time.Duration
	DisableAfter  time.Duration
	SecretOverlap time.Duration
	// Linger: see webhook.Deliverer (negative: none).
	Linger time.Duration
	// Sweep, LeaseMargin and ProbeEvery override the deliverer's (tests).
	Sweep, LeaseMargin, ProbeEvery time.Duration
}

func (f *webhookFlags) config() (webhookConfig, error) {
	allow, err := webhook.ParseAllow(f.WebhookAllowAddresses)
	if err != nil {
		return webhookConfig{}, fmt.Errorf("--webhook-allow-addresses (BAIXA_WEBHOOK_ALLOW_ADDRESSES): %w", err)
	}
	sched, err := webhook.ParseSchedule(f.WebhookRetrySchedule)
	if err != nil {
		return webhookConfig{}, fmt.Errorf("--webhook-retry-schedule (BAIXA_WEBHOOK_RETRY_SCHEDULE): %w", err)
	}
	if f.WebhookDisableAfter <= 0 {
		return webhookConfig{}, errors.New("--webhook-disable-after (BAIXA_WEBHOOK_DISABLE_AFTER) must be positive")
	}
	if f.WebhookLinger < 0 || f.WebhookLinger > time.Second {
		return webhookConfig{}, errors.New("--webhook-linger (BAIXA_WEBHOOK_LINGER) must be 0 to 1s")
	}
	linger := f.WebhookLinger
	if linger == 0 {
		linger = -1 // never
	}
	if f.WebhookSecretOverlap < 0 {
		return webhookConfig{}, errors.New("--webhook-secret-overlap (BAIXA_WEBHOOK_SECRET_OVERLAP) must not be negative")
	}
	return webhookConfig{Guard: webhook.Guard{AllowHTTP: f.WebhookAllowHTTP, Allow: allow}, Schedule: sched,
		DisableAfter: f.WebhookDisableAfter, SecretOverlap: f.WebhookSecretOverlap, Linger: linger}, nil
}

// serveConfig is what an App needs; plain data, owned by cmd.
type serveConfig struct {
	DatabaseURL     string
	APIKey          string
	Workers         int
	ShutdownTimeout time.Duration
	MaxImportBytes  int64
	Logger          *slog.Logger
	// KeyRate and CallbackRate bound each API key's and each callback
	// connection's requests.
	KeyRate, CallbackRate web.Rate
	// PollInterval overrides how often idle workers look for jobs (tests).
	PollInterval time.Duration
	// Heartbeat and StaleAfter override how often an instance says it is
	// alive and how soon the jobs of a silent one run again (tests).
	Heartbeat, StaleAfter time.Duration
	// Tick is how often due connections are looked for (default 15 s).
	Tick     time.Duration
	Webhooks webhookConfig
	// SQLiteCacheMiB is SQLite's page cache per connection (0: the store's
	// default).
	SQLiteCacheMiB int
	// SecretKey (32 bytes), when set, encrypts secrets at rest; what the
	// PreviousSecretKeys sealed still opens, and is sealed again at start.
	SecretKey          []byte
	PreviousSecretKeys [][]byte
}

// sealKeys are the secret key (nil when none is set) and the keys it
// replaces.
type sealKeys struct {
	current  []byte
	previous [][]byte
}

// validate checks the settings and returns those that needed parsing: the
// webhook configuration and the secret keys.
func (c *serveCmd) validate() (webhookConfig, sealKeys, error) {
	if c.RateLimit < 0 || c.CallbackRateLimit < 0 {
		return webhookConfig{}, sealKeys{}, errors.New("--rate-limit and --callback-rate-limit must be 0 (no limit) or more")
	}
	if c.Workers < 1 || c.Workers > 256 {
		return webhookConfig{}, sealKeys{}, fmt.Errorf("--workers (BAIXA_WORKERS) must be 1 to 256, got %d", c.Workers)
	}
	if c.ShutdownTimeout <= 0 {
		return webhookConfig{}, sealKeys{}, errors.New("--shutdown-timeout (BAIXA_SHUTDOWN_TIMEOUT) must be positive")
	}
	if c.Tick < 100*time.Millisecond || c.Tick > time.Hour {
		return webhookConfig{}, sealKeys{}, errors.New("--tick (BAIXA_TICK) must be 100ms to 1h")
	}
	if c.MaxImportBytes < 1024 {
		return webhookConfig{}, sealKeys{}, errors.New("--max-import-bytes (BAIXA_MAX_IMPORT_BYTES) must be at least 1024")
	}
	if c.SQLiteCacheMiB < 1 || c.SQLiteCacheMiB > 4096 {
		return webhookConfig{}, sealKeys{}, errors.New("--sqlite-cache-mib (BAIXA_SQLITE_CACHE_MIB) must be 1 to 4096")
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		return webhookConfig{}, sealKeys{}, errors.New("--api-key (BAIXA_API_KEY) must have at least 16 characters")
	}
	var keys sealKeys
	if c.SecretKey != "" {
		var err error
		if keys.current, err = hex.DecodeString(c.SecretKey); err != nil || len(keys.current) != 32 {
			return webhookConfig{}, sealKeys{}, errors.New("--secret-key (BAIXA_SECRET_KEY) must be 32 bytes written as 64 hex characters (openssl rand -hex 32)")
		}
	}
	if len(c.SecretKeyPrevious) > 0 && keys.current == nil {
		return webhookConfig{}, sealKeys{}, errors.New("--secret-key-previous (BAIXA_SECRET_KEY_PREVIOUS) needs the new --secret-key (BAIXA_SECRET_KEY)")
	}
	for _, k := range c.SecretKeyPrevious {
		b, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || len(b) != 32 {
			return webhookConfig{}, sealKeys{}, errors.New("--secret-key-previous (BAIXA_SECRET_KEY_PREVIOUS): each key must be 64 hex characters")
		}
		keys.previous = append(keys.previous, b)
	}
	if err := store.CheckURL(c.DatabaseURL); err != nil {
		return webhookConfig{}, sealKeys{}, err
	}
	wh, err := c.config()
	if err != nil {
		return webhookConfig{}, sealKeys{}, err
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return webhookConfig{}, sealKeys{}, fmt.Errorf("--listen (BAIXA_LISTEN) %q: want HOST:PORT", c.Listen)
	}
	return wh, keys, nil
}

func (c *serveCmd) Run(ctx context.Context, e *env) error {
	wh, keys, err := c.validate()
	if err != nil {
		return err
	}
	log := e.logger(c.LogFormat, c.LogLevel)
	key, err := c.apiKey(log)
	if err != nil {
		return err
	}
	if keys.current == nil {
		log.Warn("no BAIXA_SECRET_KEY: webhook signing secrets and provider credentials are stored unencrypted")
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	app, err := newApp(ctx, serveConfig{
		DatabaseURL: c.DatabaseURL, APIKey: key, Workers: c.Workers, ShutdownTimeout: c.ShutdownTimeout,
		MaxImportBytes: c.MaxImportBytes, Logger: log, Webhooks: wh, SecretKey: keys.current, PreviousSecretKeys: keys.previous, Tick: c.Tick,
		SQLiteCacheMiB: c.SQLiteCacheMiB,
		KeyRate:        web.Rate{PerSecond: c.RateLimit, Burst: int(2 * c.RateLimit)},
		CallbackRate:   web.Rate{PerSecond: c.CallbackRateLimit, Burst: int(2 * c.CallbackRateLimit)},
	})
	if err != nil {
		ln.Close()
		return err
	}
	if err := app.start(ctx, ln); err != nil {
		return err
	}
	log.Info("baixa serving", "addr", "http://"+ln.Addr().String(), "database", app.db.URL, "docs", "http://"+ln.Addr().String()+"/docs")
	<-ctx.Done()
	log.Info("shutting down")
	return app.shutdown()
}

// apiKey returns the configured key or, with SQLite, the one kept beside
// the database (generated on first start).
func (c *serveCmd) apiKey(log *slog.Logger) (string, error) {
	if c.APIKey != "" {
		return c.APIKey, nil
	}
	path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	if !ok {
		return "", errors.New("set BAIXA_API_KEY (or --api-key): the API needs a key")
	}
	file := strings.TrimPrefix(path, "//") + ".apikey"
	if b, err := os.ReadFile(file); err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= 16 {
			log.Info("using the API key kept in " + file)
			return k, nil
		}
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	k := "bx_" + hex.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("no BAIXA_API_KEY given, and keeping a generated one failed: %w", err)
	}
	abs, _ := filepath.Abs(file)
	log.Warn("no BAIXA_API_KEY given: generated one; read it from " + abs)
	return k, nil
}

// app is baixa wired together.
type app struct {
	cfg       serveConfig
	db        *store.DB
	queue     *queue.Queue
	deliverer *webhook.Deliverer
	// stopDeliverer ends the deliverer's sweep and drains; delivererDone
	// closes when they have.
	stopDeliverer context.CancelFunc
	delivererDone chan struct{}
	http          *http.Server
	served        chan error
	stopped       sync.Once
	// jobs is River UI; stopJobs ends its background work.
	jobs     *lazyJobs
	stopJobs context.CancelFunc
}

// openAndMigrate opens the database as cfg says and brings its schema and
// the queue's up to date.
func openAndMigrate(ctx context.Context, cfg store.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := queue.Migrate(ctx, db.W, db.Dialect); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func newApp(ctx context.Context, cfg serveConfig) (*app, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Commits that add deliveries kick this process's deliverer (made
	// below) through kicks; jobs go through the queue's insert-only client.
	kicks := webhook.NewKicks()
	db, err := openAndMigrate(ctx, store.Config{URL: cfg.DatabaseURL, OnDeliveries: kicks.Add, CacheMiB: cfg.SQLiteCacheMiB,
		Jobs: func(db *store.DB) (store.Jobs, error) { return queue.Inserter(db.W, db.Dialect, db.Listener) }})
	if err != nil {
		return nil, err
	}
	if cfg.SecretKey != nil {
		if err := db.SetSecretKey(cfg.SecretKey, cfg.PreviousSecretKeys...); err != nil {
			db.Close()
			return nil, err
		}
		if len(cfg.PreviousSecretKeys) > 0 {
			// Before serving, so that this instance needs the old keys no
			// more; the others keep reading as long as they know both.
			n, err := db.ResealSecrets(ctx)
			if err != nil {
				cfg.Logger.Error("sealing secrets with the new BAIXA_SECRET_KEY failed; it is tried again at the next start", "err", err)
			} else {
				cfg.Logger.Info("secrets sealed with the new BAIXA_SECRET_KEY; once every instance runs with it, BAIXA_SECRET_KEY_PREVIOUS may go", "resealed", n)
			}
		}
	}
	if cfg.APIKey != "" {
		// The key baixa is started with is the first admin key; only its
		// hash is stored. Changing BAIXA_API_KEY replaces it.
		if err := db.APIKeys.EnsureAPIKey(ctx, baixa.ConfiguredKeyID, "BAIXA_API_KEY", cfg.APIKey); err != nil {
			db.Close()
			return nil, fmt.Errorf("store the API key: %w", err)
		}
	}
	metrics := web.NewMetrics(func(ctx context.Context) (map[string]int64, error) { return queue.JobCounts(ctx, db.R) })
	decoders := map[string]baixa.Decoder{generic.Provider: generic.Decoder{}, sicoob.Provider: sicoob.Decoder{}, cnab.Provider: cnab.Decoder{},
		bmp.Provider: bmp.Decoder{}, saurus.Provider: saurus.Decoder{}, plugboleto.Provider: plugboleto.Decoder{},
		recuperador.Provider: recuperador.Decoder{}}
	ua := "baixa/" + version()
	plug, recup := &plugboleto.Connector{UserAgent: ua}, &recuperador.Connector{UserAgent: ua}
	connectors := map[string]baixa.Connector{sicoob.Provider: &sicoob.Connector{UserAgent: ua}, bmp.Provider: bmp.Connector,
		saurus.Provider: saurus.Connector, plugboleto.Provider: plug, recuperador.Provider: recup}
	receivers := map[string]baixa.Receiver{bmp.Provider: bmp.Receiver{}, saurus.Provider: saurus.Receiver{}, plugboleto.Provider: plug,
		recuperador.Provider: recup}
	verifier := &inbound.Verifier{}
	runner := &fetch.Runner{Store: db.Fetching, Connectors: connectors, Logger: cfg.Logger}
	metrics.WatchConnections(func(ctx context.Context) ([]*baixa.Connection, error) {
		var cs []*baixa.Connection
		err := baixa.EachConnection(ctx, db.Connections, func(c *baixa.Connection) error { cs = append(cs, c); return nil })
		return cs, err
	})
	settler := &settle.Settler{}
	metrics.WatchWebhooks(db.Deliveries.WebhookStats)
	guard := cfg.Webhooks.Guard
	deliverer := &webhook.Deliverer{
		Store: db.Delivering, Kicks: kicks, Client: webhook.NewClient(&guard), Schedule: cfg.Webhooks.Schedule, DisableAfter: cfg.Webhooks.DisableAfter,
		Sweep: cfg.Webhooks.Sweep, LeaseMargin: cfg.Webhooks.LeaseMargin, ProbeEvery: cfg.Webhooks.ProbeEvery, Linger: cfg.Webhooks.Linger, UserAgent: "baixa-webhooks/" + version(),
		Observer: metrics, Logger: cfg.Logger,
	}
	proc := &settle.Processor{Store: db.Settling, Decoders: decoders, Settler: settler, Settled: metrics.Settled, Logger: cfg.Logger,
		Parallel: db.Writers()}
	q, err := queue.New(queue.Config{
		DB: db.W, Dialect: db.Dialect, Listener: db.Listener, Settle: proc.Process,
		Deliver: deliverer.Drain, Tick: runner.Tick, TickEvery: cfg.Tick, Fetch: runner.Step, Ack: runner.Ack,
		Workers: cfg.Workers, Logger: cfg.Logger, PollInterval: cfg.PollInterval, Failed: metrics.JobFailed,
		Heartbeat: cfg.Heartbeat, StaleAfter: cfg.StaleAfter,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	srv := &web.Server{
		Accounts: db.Accounts, Charges: db.Charges, Documents: db.Documents, Events: db.Events,
		Movements: &settle.Service{Store: db.Settling, Settler: settler, Settled: metrics.Settled}, MovementFinder: db.Movements, Payments: db.Movements,
		Attention: &settle.Attention{AttentionStore: db.Attention, Settler: settler, Settled: metrics.Settled},
		Keys:      db.APIKeys, Audit: db.APIKeys, KeyRate: cfg.KeyRate, CallbackRate: cfg.CallbackRate,
		Ready: db.Ready, Metrics: metrics, Logger: cfg.Logger,
		MaxImportBytes: cfg.MaxImportBytes, Version: version(),
		Connections: &provider.Connections{ConnectionService: db.Connections, Connectors: connectors},
		Callbacks:   &ingest.Callbacks{Connections: db.Connections, Documents: db.Documents, Receivers: receivers, Check: verifier.Check},
		Imports: &ingest.Imports{Accounts: db.Accounts, Documents: db.Documents, Connections: db.Connections, Decoders: decoders,
			Uploads: map[string]ingest.Upload{plugboleto.Provider: {Check: cnab.Check, Document: plugboleto.Upload}}},
		Endpoints: db.Delivering, CheckEndpointURL: guard.CheckURL, PingEndpoint: deliverer.Ping, SecretOverlap: cfg.Webhooks.SecretOverlap,
	}
	// The console is a client of the API, in process; River UI shows the
	// job queue behind the console's sign-in.
	api := srv.Handler()
	jobs, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(q.Client(), nil), Logger: cfg.Logger, Prefix: "/console/jobs",
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("river UI: %w", err)
	}
	ui := &lazyJobs{h: jobs}
	cons := (&console.Server{API: api, SessionKey: cfg.SecretKey, Jobs: ui, Logger: cfg.Logger, Version: version()}).Handler()
	mux := http.NewServeMux()
	mux.Handle("/console", cons)
	mux.Handle("/console/", cons)
	mux.Handle("/", api)
	return &app{
		cfg: cfg, db: db, queue: q, deliverer: deliverer, served: make(chan error, 1), jobs: ui,
		http: &http.Server{
			Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// start runs the workers and serves HTTP on ln.
func (a *app) start(ctx context.Context, ln net.Listener) error {
	if err := a.queue.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		a.db.Close()
		return fmt.Errorf("start workers: %w", err)
	}
	dctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopDeliverer, a.delivererDone = stop, make(chan struct{})
	go func() {
		defer close(a.delivererDone)
		_ = a.deliverer.Run(dctx)
	}()
	jctx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	a.stopJobs = stopJobs
	a.jobs.ctx = jctx
	go func() { a.served <- a.http.Serve(ln) }()
	return nil
}

// shutdown stops taking requests, lets in-flight requests and jobs finish
// within the timeout (jobs still running then are cancelled and retried
// later), and closes the database.
func (a *app) shutdown() error {
	var errs []error
	a.stopped.Do(func() {
		timeout := a.cfg.ShutdownTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := a.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := a.queue.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop workers: %w", err))
		}
		if a.stopJobs != nil {
			a.stopJobs()
		}
		if a.stopDeliverer != nil {
			// Deliveries in flight are cut short; their leases run out and
			// they are sent again by the next process (same webhook-id).
			a.stopDeliverer()
			<-a.delivererDone
		}
		errs = append(errs, a.db.Close())
	})
	return errors.Join(errs...)
}

type migrateCmd struct {
	dbFlags
}

func (c *migrateCmd) Run(ctx context.Context, e *env) error {
	db, err := openAndMigrate(ctx, store.Config{URL: c.DatabaseURL})
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(e.stdout, "migrated", db.URL)
	return nil
}

// lazyJobs is River UI, started on its first request: its background
// queries (counts refreshed every ten seconds) run only once someone has
// opened the job queue. ctx, its lifetime, is set by app.start before
// anything is served.
type lazyJobs struct {
	h     *riverui.Handler
	ctx   context.Context
	start sync.Once
	err   error
}

func (l *lazyJobs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.start.Do(func() { l.err = l.h.Start(l.ctx) })
	if l.err != nil {
		http.Error(w, "the job queue's UI did not start: "+l.err.Error(), http.StatusServiceUnavailable)
		return
	}
	l.h.ServeHTTP(w, r)
}
