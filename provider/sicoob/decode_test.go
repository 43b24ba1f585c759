package sicoob

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// decodeAll decodes b and returns the movements, or the error.
func decodeAll(t *testing.T, d Decoder, b []byte) ([]*baixa.Movement, error) {
	t.Helper()
	var ms []*baixa.Movement
	err := d.Decode(context.Background(), &baixa.Document{ID: "doc_test", AccountID: "acc_test"}, bytes.NewReader(b),
		func(m *baixa.Movement) error { ms = append(ms, m); return nil })
	return ms, err
}

// TestGolden decodes every input in testdata/ and compares the result with
// its .golden.json (go test -update rewrites them).
func TestGolden(t *testing.T) {
	files := golden.Inputs(t, "testdata")
	n := len(files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			golden.CheckDecode(t, Decoder{}, &baixa.Document{ID: "doc_test", AccountID: "acc_test"}, f, *update)
		})
	}
	if n < 10 {
		t.Fatalf("only %d golden inputs found", n)
	}
}

// zipOf builds a ZIP with the given entries.
func zipOf(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// envelope wraps a ZIP as a download response, base64 broken into lines
// and with escaped slashes, as some encoders write it.
func envelope(z []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString(z)
	var lines []string
	for len(b64) > 76 {
		lines = append(lines, b64[:76])
		b64 = b64[76:]
	}
	lines = append(lines, b64)
	s := strings.ReplaceAll(strings.Join(lines, `\r\n`), "/", `\/`)
	return []byte(`{"resultado": {"arquivo": "` + s + `", "nomeArquivo": "LIQUI_3066_707090_x_1_0.zip"}}`)
}

const oneLiqui = `[{"siglaMovimento":"LIQUI","numeroCliente":707090,"numeroTitulo":1,"dataLiquidacao":"2026-11-20T00:00:00-03:00","valorLiquido":10.5}]`

func TestContainers(t *testing.T) {
	z := zipOf(t, map[string]string{"LIQUI_a.json": oneLiqui, "dir/": ""})
	for name, in := range map[string][]byte{
		"bare ZIP": z, "response": envelope(z), "response with BOM": append([]byte("\ufeff  "), envelope(z)...),
		"bare array": []byte(oneLiqui), "JSON lines": []byte(strings.Trim(oneLiqui, "[]") + "\n" + strings.Trim(oneLiqui, "[]") + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := decodeAll(t, Decoder{}, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 || ms[0].PaidAmount != 1050 || ms[0].PaidOn.String() != "2026-11-20" {
				t.Fatalf("movements = %+v", ms)
			}
		})
	}
}

func TestHostileInput(t *testing.T) {
	big := strings.Repeat(" ", 4<<20) + oneLiqui // compresses thousands of times
	many := map[string]string{}
	for i := range 5 {
		many[fmt.Sprintf("e%d.json", i)] = oneLiqui
	}
	lying := zipOf(t, map[string]string{"a.json": oneLiqui})
	// Shrink the declared size in the central directory and the local header.
	lying = bytes.ReplaceAll(lying, le32(uint32(len(oneLiqui))), le32(10))
	for _, tc := range []struct {
		name string
		in   []byte
		dec  Decoder
		want string
	}{
		{"empty", nil, Decoder{}, "empty document"},
		{"not Sicoob", []byte("hello"), Decoder{}, "not a Sicoob movement file"},
		{"ZIP bomb", zipOf(t, map[string]string{"bomb.json": big}), Decoder{}, "a ZIP bomb"},
		{"too many entries", zipOf(t, many), Decoder{MaxEntries: 3}, "5 entries, more than the 3 allowed"},
		{"entry too large", zipOf(t, map[string]string{"a.json": oneLiqui}), Decoder{MaxEntryBytes: 50}, "more than the 50 allowed"},
		{"lying sizes", lying, Decoder{}, "a.json"},
		{"corrupt ZIP", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{7}, 100)...), Decoder{}, "not a readable ZIP"},
		{"truncated base64", envelope(z(t))[:60], Decoder{}, `ends inside "arquivo"`},
		{"no arquivo", []byte(`{"resultado": {"nomeArquivo": "x.zip"}}`), Decoder{}, `no "arquivo"`},
		{"not JSON entry", zipOf(t, map[string]string{"a.txt": "hello world"}), Decoder{}, "is not JSON"},
		{"trailing garbage", []byte(oneLiqui + "xx"), Decoder{}, "after the array"},
		{"no reference", []byte(`[{"siglaMovimento":"LIQUI","dataLiquidacao":"2026-11-20","valorLiquido":1}]`), Decoder{}, "no numeroTitulo and no seuNumero"},
		{"paid without amount", []byte(`[{"siglaMovimento":"LIQUI","numeroTitulo":1,"dataLiquidacao":"2026-11-20"}]`), Decoder{}, "without valorLiquido"},
		{"negative", []byte(`[{"siglaMovimento":"LIQUI","numeroTitulo":1,"dataLiquidacao":"2026-11-20","valorLiquido":-1}]`), Decoder{}, "negative amount"},
		{"number as float id", []byte(`[{"siglaMovimento":"LIQUI","numeroTitulo":1.5,"dataLiquidacao":"2026-11-20","valorLiquido":1}]`), Decoder{}, "want an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := decodeAll(t, tc.dec, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (%d movements), want %q", err, len(ms), tc.want)
			}
		})
	}
}

func z(t *testing.T) []byte { return zipOf(t, map[string]string{"a.json": oneLiqui}) }

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func TestAmountsAndDates(t *testing.T) {
	for in, want := range map[string]string{`85.0000`: "85.00", `150.0`: "150.00", `"1.234,56"`: "1234.56", `"427,81"`: "427.81",
		`"10.5"`: "10.50", `0`: "0.00", `12.3400`: "12.34"} {
		var m money
		if err := m.UnmarshalJSON([]byte(in)); err != nil || m.v.String() != want {
			t.Errorf("money %s = %v, %v; want %s", in, m.v, err, want)
		}
	}
	for _, in := range []string{`10.005`, `1e3`, `"abc"`, `-2`} {
		var m money
		if err := m.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("money %s accepted as %v", in, m.v)
		}
	}
	for in, want := range map[string]string{
		`"2019-05-7T00:00:00-03:00"`: "2019-05-07", `"2026-11-20"`: "2026-11-20", `"20/11/2026"`: "2026-11-20",
		`"2026-11-20T01:00:00Z"`: "2026-11-19", `"2026-1-2T10:00:00"`: "2026-01-02", `"2026-11-20T00:00:00.123-03:00"`: "2026-11-20",
	} {
		var d sicoobDate
		if err := d.UnmarshalJSON([]byte(in)); err != nil || d.d.String() != want {
			t.Errorf("date %s = %v, %v; want %s", in, d.d, err, want)
		}
	}
	var n flexInt
	if err := n.UnmarshalJSON([]byte(`"1.500.000"`)); err != nil || n.v != 1500000 {
		t.Errorf("flexInt 1.500.000 = %d, %v", n.v, err)
	}
}

// A movement ZIP may hold the bank's CNAB return file, 240 or 400.
func TestCNABEntries(t *testing.T) {
	for _, name := range []string{"gen-240-crlf.ret", "gen-400.ret"} {
		file, err := os.ReadFile(filepath.Join("..", "..", "cnab", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := decodeAll(t, Decoder{}, zipOf(t, map[string]string{"LIQUI_1.ret": string(file)}))
		if err != nil || len(ms) < 9 || ms[0].Provider != "cnab" {
			t.Errorf("%s in a ZIP: %d movements, %v", name, len(ms), err)
		}
	}
}
