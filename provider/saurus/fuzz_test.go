package saurus

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"baixa"
)

// FuzzReceive: no payload panics the receiver, and every payload it
// accepts decodes, as stored, into movements settling can take (a key, a
// reference, a known kind, no negative amount): accepted input is never
// lost at settling. go test -run XXX -fuzz FuzzReceive -fuzzminimizetime
// 3s ./provider/saurus.
func FuzzReceive(f *testing.F) {
	for _, s := range []string{
		`{"faturas": [{"numeroFatura": "10", "valorFatura": 100, "pagamentoParcial": true, "pessoa": {"nome": "A", "cpfCnpj": "52998224725"}},
			{"numeroFatura": "11", "valorFatura": "5.5"}], "resultadoTransacao": {"IdTransacao": "T1", "NSU": "1", "CodAut": "2",
			"ValorPagamento": "22.0", "ModPagamento": 3, "DTransacao": "2026-11-20 10:00:00", "Status": 1, "MsgRetorno": "APROVADA"}}`,
		`{"faturas": [{"numeroFatura": "10", "valorFatura": 1}], "resultadoTransacao": {"CodControle": "C", "ValorPagamento": 150, "Status": 1}}`,
		`{"faturas": [{"numeroFatura": "10", "valorFatura": 1}], "resultadoTransacao": {"NSU": "1", "CodAut": "2", "ValorPagamento": "1.0", "Status": 2, "MsgRetorno": "NEGADA"}}`,
		`{"faturas": []}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	conn := &baixa.Connection{ID: "con_test", AccountID: "acc_test", Provider: Provider}
	f.Fuzz(func(t *testing.T, body []byte) {
		nd, err := Receiver{}.Receive(context.Background(), nil, body, conn)
		if err != nil {
			return
		}
		stored := new(bytes.Buffer)
		if _, err := stored.ReadFrom(nd.Body); err != nil {
			t.Fatal(err)
		}
		n := 0
		err = Decoder{}.Decode(context.Background(), &baixa.Document{ID: "doc_test", AccountID: "acc_test", Provider: Provider}, stored,
			func(m *baixa.Movement) error {
				n++
				if m.Key == "" || len(m.References.List()) == 0 || !slices.Contains(baixa.MovementKinds, m.Kind) || m.PaidAmount < 0 {
					t.Fatalf("a movement settling refuses: %+v", m)
				}
				return nil
			})
		if err != nil || n == 0 {
			t.Fatalf("accepted %q, then decoded into %d movements: %v", body, n, err)
		}
	})
}
