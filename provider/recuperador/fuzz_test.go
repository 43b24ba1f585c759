package recuperador

import (
	"bytes"
	"context"
	"os"
	"testing"

	"baixa"
)

// FuzzDecode: no event, however broken, panics the decoder.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"event-current.json", "event-2022.json", "event-agreement-only.json", "lido.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range []string{ContentEvent, ContentRead} {
			_ = Decoder{}.Decode(context.Background(), &baixa.Document{ContentType: ct}, bytes.NewReader(b), func(m *baixa.Movement) error {
				if m.Key == "" || m.PaidAmount < 0 || m.CreditedAmount < 0 || m.FeeAmount < 0 {
					t.Fatalf("bad movement: %+v", m)
				}
				return nil
			})
		}
	})
}
