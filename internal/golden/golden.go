// Package golden compares test output with files under testdata/, and
// rewrites them when asked (go test -update).
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Inputs returns the files of dir that are inputs: every one but the
// golden outputs (*.golden.json), READMEs and directories.
func Inputs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() || strings.HasSuffix(f, ".golden.json") || strings.HasSuffix(f, ".md") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Check compares v, as indented JSON, with input's .golden.json; with
// update it writes the file first.
func Check(t *testing.T, input string, v any, update bool) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := input + ".golden.json"
	if update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), got) {
		t.Errorf("%s differs from %s:\n%s", input, path, got)
	}
}
