package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"baixa/internal/dbtest"
)

func run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, context.Background(), "version")
	if code != 0 || !strings.HasPrefix(out, "baixa ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--database-url", "mysql://x"}, "want sqlite:PATH or postgres://"},
		{[]string{"serve", "--database-url", "sqlite:" + dir + "/missing/x.db"}, "does not exist"},
		{[]string{"serve", "--database-url", "postgres://nobody:hunter2@127.0.0.1:1/x?connect_timeout=2", "--api-key", "0123456789abcdef", "--listen", "127.0.0.1:0"}, "connect to postgres://nobody:xxxxx@"},
		{[]string{"serve", "--listen", busy.Addr().String(), "--database-url", "sqlite:" + dir + "/a.db"}, "address already in use"},
		{[]string{"serve", "--listen", "nonsense"}, "want HOST:PORT"},
		{[]string{"serve", "--api-key", "short"}, "at least 16 characters"},
		{[]string{"serve", "--secret-key", "abc"}, "64 hex characters"},
		{[]string{"serve", "--secret-key-previous", strings.Repeat("ab", 32)}, "needs the new --secret-key"},
		{[]string{"serve", "--secret-key", strings.Repeat("ab", 32), "--secret-key-previous", "abc"}, "each key must be 64 hex"},
		{[]string{"serve", "--rate-limit=-1"}, "must be 0 (no limit) or more"},
		{[]string{"serve", "--workers", "0"}, "must be 1 to 256"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, "set BAIXA_API_KEY"},
		{[]string{"serve", "--log-format", "xml"}, "log-format"},
		{[]string{"serve", "--webhook-linger", "2s"}, "must be 0 to 1s"},
		{[]string{"serve", "--tick", "1ms"}, "must be 100ms to 1h"},
		{[]string{"import", "no-such-file.ret", "--account", "acc_x"}, "no-such-file.ret"},
		{[]string{"sandbox", "sicoob", "--listen", "nonsense"}, "want HOST:PORT"},
	} {
		code, _, stderr := run(t, context.Background(), tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: the password leaked: %s", tc.args, stderr)
		}
	}
}

// TestServeLifecycle runs the real command with only environment
// configuration, then stops it as SIGTERM would.
func TestServeLifecycle(t *testing.T) {
	// Not parallel: it sets the environment or the working directory.
	dbtest.Each(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		t.Setenv("BAIXA_DATABASE_URL", url)
		t.Setenv("BAIXA_LISTEN", addr)
		if strings.HasPrefix(url, "postgres") {
			t.Setenv("BAIXA_API_KEY", "0123456789abcdef")
		}
		cfg := filepath.Join(dir, "baixa.json")
		os.WriteFile(cfg, []byte(`{"workers": 3, "log_format": "json"}`), 0o600)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan int)
		var errOut bytes.Buffer
		go func() { done <- Main(ctx, []string{"--config", cfg, "serve"}, &bytes.Buffer{}, &errOut) }()
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready: %v; log: %s", err, errOut.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit %d: %s", code, errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
		if !strings.Contains(errOut.String(), `"msg":"shutting down"`) {
			t.Errorf("the config file's JSON log format was not used: %s", errOut.String())
		}
	})
}
