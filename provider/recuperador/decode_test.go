package recuperador

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden decodes every event and mark-read answer in testdata/ and
// compares with the .golden.json files (go test -update rewrites them).
func TestGolden(t *testing.T) {
	files := golden.Inputs(t, "testdata")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			doc := &baixa.Document{ID: "doc_test", AccountID: "acc_test", ConnectionID: "con_test", ContentType: ContentEvent}
			if strings.HasPrefix(name, "lido") {
				doc.ContentType = ContentRead
			}
			golden.CheckDecode(t, Decoder{}, doc, f, *update)
		})
	}
	if len(files) < 9 {
		t.Fatalf("only %d golden inputs", len(files))
	}
}
