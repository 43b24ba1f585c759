package saurus

import (
	"context"
	"testing"

	"baixa"
	"baixa/internal/golden"
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
		golden.DecodeAccepted(t, Decoder{}, nd)
	})
}
