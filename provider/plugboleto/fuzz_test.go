package plugboleto

import (
	"testing"

	"baixa"
	"baixa/internal/golden"
)

// FuzzDecode: no answer of PlugBoleto's, however broken, panics the
// decoder or the webhook reader, and no movement lacks a key or has a
// negative amount.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"_status": "sucesso", "_dados": [{"IdIntegracao": "x", "situacao": "LIQUIDADO", "PagamentoValorPago": "9.999.999.999.999.999,99"}]}`))
	golden.FuzzDecode(f, Decoder{}, []string{ContentResult, ContentResult + "; banco=001", ContentBoletos},
		[]string{"retorno-processado.json", "retorno-quirks.json", "boletos.json", "webhook-wrapped.json"},
		func(m *baixa.Movement) bool { return m.Key == "" || m.PaidAmount < 0 },
		func(b []byte) {
			_, _ = ParseWebhook(b)
			_, _ = parseResult(b)
		})
}
