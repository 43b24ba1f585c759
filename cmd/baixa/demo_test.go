package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoOnce plays the whole demo: every provider's flow, the ERP's
// verified webhooks, and the summary; --once exits 0 only if every expected
// outcome was observed.
func TestDemoOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, context.Background(), "demo", "--once", "--listen", "127.0.0.1:0", "--dir", dir)
	if code != 0 || !strings.Contains(out, "every expected outcome was observed") {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"S3  Sicoob       conflict: paid again", "movement.unmatched: plugboleto", "invoice link kept", "B1  BMP          open -> paid",
		"V2  Saurus       open -> partially_paid", "signature verified", "charges by status", "movements by result",
		"from the provider's report to the ERP's receipt", "ok   BMP's re-sent callback answered as a duplicate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "baixa.db")); err != nil {
		t.Errorf("the database is not in the given directory: %v", err)
	}
	if code, _, errOut := run(t, context.Background(), "demo", "--once", "--listen", "0.0.0.0:0"); code == 0 || !strings.Contains(errOut, "loopback only") {
		t.Errorf("demo on every interface: %d %s", code, errOut)
	}
	// A directory that holds a database already is refused.
	if code, _, errOut := run(t, context.Background(), "demo", "--once", "--listen", "127.0.0.1:0", "--dir", dir); code == 0 || !strings.Contains(errOut, "empty directory") {
		t.Errorf("demo in a used directory: %d %s", code, errOut)
	}
}
