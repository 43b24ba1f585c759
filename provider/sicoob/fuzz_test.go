package sicoob

import (
	"testing"

	"baixa"
	"baixa/internal/golden"
)

// FuzzDecode: no movement file, however broken (base64, ZIP, JSON, the
// CNAB files a ZIP may carry), panics the decoder, and no movement lacks
// a key or has a negative amount paid. Fuzz it with a short minimizing
// time (go test -run XXX -fuzz FuzzDecode -fuzzminimizetime 3s
// ./provider/sicoob): the seeds are whole files.
func FuzzDecode(f *testing.F) {
	golden.FuzzDecode(f, Decoder{TempDir: f.TempDir()}, []string{""},
		[]string{"liqui-v3.json", "baix-bom.json", "nested-and-escapes.json", "other-types.json", "truncated-array.json",
			"download-movimentacoes.zip", "cnab-entry.zip", "download-movimentacoes-corrupted-response.json", "bad-base64-response.json"},
		func(m *baixa.Movement) bool { return m.Key == "" || m.PaidAmount < 0 || m.Provider == "" },
		nil)
}
