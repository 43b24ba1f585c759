package recuperador

import (
	"testing"

	"baixa"
	"baixa/internal/golden"
)

// FuzzDecode: no event, however broken, panics the decoder, and no
// movement lacks a key or has a negative amount.
func FuzzDecode(f *testing.F) {
	golden.FuzzDecode(f, Decoder{}, []string{ContentEvent, ContentRead},
		[]string{"event-current.json", "event-2022.json", "event-agreement-only.json", "lido.json"},
		func(m *baixa.Movement) bool {
			return m.Key == "" || m.PaidAmount < 0 || m.CreditedAmount < 0 || m.FeeAmount < 0
		}, nil)
}
