package golden

import (
	"bytes"
	"context"
	"os"
	"testing"

	"baixa"
)

// CheckDecode decodes input as doc with dec and compares the movements (or
// the error) with input's .golden.json.
func CheckDecode(t *testing.T, dec baixa.Decoder, doc *baixa.Document, input string, update bool) {
	t.Helper()
	in, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	var ms []*baixa.Movement
	derr := dec.Decode(context.Background(), doc, bytes.NewReader(in), func(m *baixa.Movement) error { ms = append(ms, m); return nil })
	out := struct {
		Movements []*baixa.Movement `json:"movements"`
		Error     string            `json:"error,omitempty"`
	}{Movements: ms}
	if derr != nil {
		out.Error, out.Movements = derr.Error(), nil
	}
	Check(t, input, out, update)
}
