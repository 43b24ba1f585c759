package plugboleto

import (
	"bytes"
	"context"
	"os"
	"testing"

	"baixa"
)

// FuzzDecode: no answer of PlugBoleto's, however broken, panics the
// decoder or the webhook reader.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"retorno-processado.json", "retorno-quirks.json", "boletos.json", "webhook-wrapped.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"_status": "sucesso", "_dados": [{"IdIntegracao": "x", "situacao": "LIQUIDADO", "PagamentoValorPago": "9.999.999.999.999.999,99"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range []string{ContentResult, ContentBoletos} {
			_ = Decoder{}.Decode(context.Background(), &baixa.Document{ContentType: ct}, bytes.NewReader(b), func(m *baixa.Movement) error {
				if m.Key == "" || m.PaidAmount < 0 {
					t.Fatalf("movement without a key or with a negative amount: %+v", m)
				}
				return nil
			})
		}
		_, _ = ParseWebhook(b)
		_, _ = parseResult(b)
	})
}
