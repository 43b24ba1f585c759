package bmp

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"baixa"
	"baixa/internal/golden"
)

// FuzzReceive: no callback (its query and body) panics the receiver, and
// every callback it accepts decodes, as stored, into one movement settling
// can take (a key, the proposal, a known kind): accepted input is never
// lost at settling. go test -run XXX -fuzz FuzzReceive -fuzzminimizetime
// 3s ./provider/bmp.
func FuzzReceive(f *testing.F) {
	for _, s := range [][2]string{
		{"proposta=123&situacao=5", ""},
		{"proposal=9&status=11&identifier=x", `{"descricaoOcorrencia": "aguardando averbação"}`},
		{"", `{"proposta": "77", "situacao": 8, "identificador": "i-1"}`},
		{"proposta=1", `{"situacao": "abc"}`},
		{"proposta=1&situacao=2", `{"a": 1} {"b": 2}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	conn := &baixa.Connection{ID: "con_test", AccountID: "acc_test", Provider: Provider}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/hooks/bmp/con_test", RawQuery: query}}
		nd, err := Receiver{Now: now}.Receive(context.Background(), req, body, conn)
		if err != nil {
			return
		}
		if n := golden.DecodeAccepted(t, Decoder{}, nd); n != 1 {
			t.Fatalf("accepted %q %q: %d movements, want 1", query, body, n)
		}
	})
}
