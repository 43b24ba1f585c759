package plugboleto

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden decodes every answer in testdata/ (PlugBoleto's documented
// PROCESSADO example among them) and reads every webhook, comparing with
// the .golden.json files (go test -update rewrites them).
func TestGolden(t *testing.T) {
	files := golden.Inputs(t, "testdata")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			doc := &baixa.Document{ID: "doc_test", AccountID: "acc_test", ConnectionID: "con_test", ContentType: ContentResult}
			switch {
			case strings.HasPrefix(name, "boletos"):
				doc.ContentType = ContentBoletos
			case strings.HasPrefix(name, "webhook"):
				in, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				w, err := ParseWebhook(in)
				out := map[string]any{"webhook": w}
				if err != nil {
					out = map[string]any{"error": err.Error()}
				}
				golden.Check(t, f, out, *update)
				return
			}
			golden.CheckDecode(t, Decoder{}, doc, f, *update)
		})
	}
	if len(files) < 8 {
		t.Fatalf("only %d golden inputs", len(files))
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	for body, want := range map[string]string{
		`{"tipoWH": "notifica_liquidou", "titulo": {`:             "invalid JSON: it ends early, at byte 43",
		`{"tipoWH": "notifica_liquidou", "titulo": {]}`:           "invalid JSON at byte 44",
		`{"titulo": {"idintegracao": "A"}}`:                       "tipoWH",
		`{"tipoWH": "notifica_liquidou", "titulo": {}}`:           "idintegracao",
		`{"tipoWH": "notifica_liquidou", "idintegracao": "A"} {}`: "more than one value",
		`{"body": {"tipoWH": 5}}`:                                 "",
	} {
		_, err := ParseWebhook([]byte(body))
		if want == "" {
			if err == nil {
				t.Errorf("%s: accepted", body)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

func TestParseBRAmountAndBatches(t *testing.T) {
	ts := []Titulo{{IDIntegracao: "a"}, {IDIntegracao: "b", CedenteCPFCNPJ: "2"}, {IDIntegracao: "c"}, {IDIntegracao: "d"}, {IDIntegracao: "e", CedenteCPFCNPJ: "2"}}
	got := batches(ts, 2)
	want := [][]string{{"a", "c"}, {"b", "e"}, {"d"}}
	if len(got) != len(want) {
		t.Fatalf("batches = %v", got)
	}
	for i := range want {
		for j, id := range want[i] {
			if got[i][j].IDIntegracao != id {
				t.Fatalf("batches = %v, want %v", got, want)
			}
		}
	}
}

// TestUnreconciledBank: an unreconciled nosso número of 17 digits is
// whole (no check digit to drop) when the answer's content type says the
// file was Banco do Brasil's, and only then.
func TestUnreconciledBank(t *testing.T) {
	answer := `{"_status": "sucesso", "_dados": {"situacao": "PROCESSADO", "titulos": [], "titulosNaoConciliados": [
		{"CodigoMovimento": "06", "TituloNossoNumero": "32948600000000196", "PagamentoValorPago": "40,00", "PagamentoData": "21/03/2011", "PagamentoRealizado": true},
		{"CodigoMovimento": "06", "TituloNossoNumero": "0000000002", "PagamentoValorPago": "10,00", "PagamentoData": "21/03/2011", "PagamentoRealizado": true}]}}`
	for _, tc := range []struct {
		contentType string
		whole       []bool
	}{
		{ContentResult + "; banco=001", []bool{true, false}},
		{ContentResult + "; banco=756", []bool{false, false}},
		{ContentResult, []bool{false, false}},
	} {
		var got []bool
		err := Decoder{}.Decode(context.Background(), &baixa.Document{AccountID: "acc_test", ConnectionID: "con_test", ContentType: tc.contentType},
			strings.NewReader(answer), func(m *baixa.Movement) error { got = append(got, m.NossoNumeroWhole); return nil })
		if err != nil || !slices.Equal(got, tc.whole) {
			t.Errorf("%s: whole %v, %v; want %v", tc.contentType, got, err, tc.whole)
		}
	}
}
