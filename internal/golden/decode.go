package golden

import (
	"bytes"
	"context"
	"os"
	"slices"
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

// FuzzDecode seeds f with the files named (in testdata) and fuzzes dec
// with each content type: no input may panic it, and no movement it emits
// may be bad. also, if not nil, gets each input too (for the decoder's
// other readers). Run it with -fuzzminimizetime 3s or so: with Go's
// default, minimizing each new input a whole file found takes up to a
// minute, and a short run does little else.
func FuzzDecode(f *testing.F, dec baixa.Decoder, contentTypes, seeds []string, bad func(*baixa.Movement) bool, also func([]byte)) {
	for _, name := range seeds {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range contentTypes {
			_ = dec.Decode(context.Background(), &baixa.Document{ContentType: ct}, bytes.NewReader(b), func(m *baixa.Movement) error {
				if bad(m) {
					t.Fatalf("%s: a bad movement: %+v", ct, m)
				}
				return nil
			})
		}
		if also != nil {
			also(b)
		}
	})
}

// DecodeAccepted decodes a document a receiver accepted, as it would be
// stored, and fails t unless it makes at least one movement and every one
// is fit to settle: a key, a reference, a known kind, no negative amount
// paid, text a database keeps. It returns how many there were.
func DecodeAccepted(t *testing.T, dec baixa.Decoder, nd *baixa.NewDocument) int {
	t.Helper()
	var stored bytes.Buffer
	if _, err := stored.ReadFrom(nd.Body); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := dec.Decode(context.Background(), &baixa.Document{ID: "doc_test", AccountID: "acc_test", Provider: nd.Provider,
		ConnectionID: nd.ConnectionID, ContentType: nd.ContentType}, bytes.NewReader(stored.Bytes()),
		func(m *baixa.Movement) error {
			n++
			if m.Key == "" || len(m.References.List()) == 0 || !slices.Contains(baixa.MovementKinds, m.Kind) || m.PaidAmount < 0 ||
				m.CheckText() != nil {
				t.Fatalf("a movement settling refuses: %+v", m)
			}
			return nil
		})
	if err != nil || n == 0 {
		t.Fatalf("accepted %q, then decoded into %d movements: %v", stored.Bytes(), n, err)
	}
	return n
}
