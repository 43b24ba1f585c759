package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"baixa"
	"baixa/cnab"
	"baixa/internal/dbtest"
)

// upload posts a file to /v1/imports.
func (c *client) upload(query string, body []byte) (int, map[string]any, []byte) {
	c.t.Helper()
	return c.do(http.MethodPost, "/v1/imports?"+query, string(body), "Content-Type", "application/octet-stream")
}

func TestImportCNAB(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{})
		acct := c.account()
		var charges []string
		for _, nn := range []string{"83", "116", "123"} {
			charges = append(charges, c.charge(acct, nn, "2.00"))
		}
		file, err := os.ReadFile("../../cnab/testdata/sicoob-cnab240-brcobranca.ret")
		if err != nil {
			t.Fatal(err)
		}
		status, doc, raw := c.upload("account_id="+acct, file)
		if status != 202 {
			t.Fatalf("import = %d %s", status, raw)
		}
		if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" || d["applied"] != 3.0 {
			t.Fatalf("document = %v", d)
		}
		for _, id := range charges {
			ch := c.must(200, "GET", "/v1/charges/"+id, "")
			if ch["status"] != "paid" || ch["paid_amount"] != "2.00" || ch["fee_amount"] != "1.70" || ch["paid_on"] != "2015-08-10" {
				t.Fatalf("charge = %v", ch)
			}
		}
		// The same file again changes nothing.
		if status, again, _ := c.upload("account_id="+acct, file); status != 200 || again["id"] != doc["id"] {
			t.Fatalf("second import = %d %v", status, again)
		}

		// A bad line refuses the file, naming the line and columns; nothing is stored.
		bad, err := os.ReadFile("../../cnab/testdata/bad-number.ret")
		if err != nil {
			t.Fatal(err)
		}
		status, _, raw = c.upload("account_id="+acct, bad)
		if status != 422 || !strings.Contains(string(raw), "line 4, columns 78-92 (valor pago)") {
			t.Fatalf("bad file = %d %s", status, raw)
		}
		// With skip_bad_lines the good lines settle and the bad one is reported.
		status, doc, raw = c.upload("account_id="+acct+"&skip_bad_lines=true", bad)
		if status != 202 {
			t.Fatalf("import skipping bad lines = %d %s", status, raw)
		}
		d := c.waitDocument(doc["id"].(string))
		if d["status"] != "settled" || d["total"] != 9.0 || !strings.Contains(d["report"].(string), "1 bad lines left out; line 4") ||
			d["applied"].(float64)+d["duplicate"].(float64)+d["unmatched"].(float64)+d["conflict"].(float64) != 9 || d["progress"] != 9.0 {
			t.Fatalf("document = %v, want its 9 good movements settled", d)
		}
		for q, want := range map[string]string{
			"": "name the account", "account_id=acc_nope": "not found", "provider=xml&account_id=" + acct: "no import of that kind",
			"account_id=" + acct + "&skip_bad_lines=maybe": "skip_bad_lines",
		} {
			if status, _, raw := c.upload(q, file); status/100 != 4 || !strings.Contains(string(raw), want) {
				t.Errorf("import?%s = %d %s, want %q", q, status, raw, want)
			}
		}
		if status, _, raw := c.upload("account_id="+acct, []byte("PK\x03\x04 not a return file")); status != 422 || !strings.Contains(string(raw), "not a CNAB return file") {
			t.Errorf("a ZIP = %d %s", status, raw)
		}
	})
}

// TestImportOtherBanks imports real return files of Banco do Brasil (two), Itaú,
// Sicredi, Ailos, Santander (two) and Caixa (two) (CNAB 240) and Itaú, Bradesco, Banrisul, Banco do
// Nordeste and Banco do Brasil (CNAB 400), each against the charge a company would have registered:
// with or without the bank's check digit on its nosso número. Banco do
// Brasil's and Caixa's numbers of 17 digits have none: a decoy charge
// registered one digit short must not be taken for a reported number
// less a check digit.
func TestImportOtherBanks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{})
		acct := c.account()
		for _, tc := range []struct {
			file, nosso, amount string
			want                map[string]any
			applied             float64 // the file's movements about the charge
			decoy               string  // a reported number (two, for Banco do Brasil) less its last digit
		}{
			{"bb-cnab240-brcobranca-excerpt.ret", "14499570000020807", "321.17",
				map[string]any{"status": "paid", "paid_amount": "321.17", "fee_amount": "1.03", "paid_on": "2011-12-29"}, 1, "1449957000002082"},
			{"bb-cnab240-laravel-boleto.ret", "32948600000000236", "30.00",
				map[string]any{"status": "paid", "paid_amount": "30.00", "fee_amount": "5.00", "paid_on": "2011-03-21"}, 1, "3294860000000023"},
			{"itau-cnab240-brcobranca-batch-header-restored.ret", "12345678", "123.45",
				map[string]any{"status": "paid", "paid_amount": "123.45", "fee_amount": "5.00", "paid_on": "2026-07-29"}, 1, ""},
			// Itaú's CNAB 400 credits what was paid less the tariff: 209.97 + 3.33 = 213.30, paid with a discount of 176.45.
			{"itau-cnab400-cnabphp.ret", "00231327", "389.75",
				map[string]any{"status": "paid", "paid_amount": "213.30", "discount_amount": "176.45", "fee_amount": "3.33", "credited_amount": "209.97",
					"paid_on": "2013-06-20"}, 1, ""},
			// 42.88 credited, 2.10 of tariff: 44.98 paid, 0.98 of it interest.
			{"itau-cnab400-brcobranca-excerpt.ret", "276151236", "44.00",
				map[string]any{"status": "paid", "paid_amount": "44.98", "interest_amount": "0.98", "fee_amount": "2.10", "credited_amount": "42.88",
					"paid_on": "2013-05-20"}, 1, ""},
			{"bradesco-cnab400-brcobranca.ret", "50980000002", "200.00", map[string]any{"status": "written_off"}, 1, ""},
			{"bb-cnab400-cbr643-brcobranca-excerpt.ret", "16224200000000036", "561.00",
				map[string]any{"status": "paid", "paid_amount": "561.00", "fee_amount": "5.00", "credited_amount": "556.00", "paid_on": "2009-01-20"}, 1,
				"1622420000000003"},
			{"bnb-cnab400-laravel-boleto.ret", "0990798", "2345.25",
				map[string]any{"status": "paid", "paid_amount": "2345.25", "paid_on": "2017-03-07"}, 1, ""},
			{"sicredi-cnab240-brcobranca.ret", "17200059", "9.95", map[string]any{"status": "open"}, 2, ""},
			{"ailos-cnab240-brcobranca.ret", "116", "2.00",
				map[string]any{"status": "paid", "paid_amount": "2.00", "fee_amount": "1.70", "paid_on": "2015-08-10"}, 1, ""},
			{"banrisul-cnab400-brcobranca.ret", "22832563-50", "1450.00",
				map[string]any{"status": "paid", "paid_amount": "1450.00", "fee_amount": "1.60", "paid_on": "2015-05-15"}, 1, ""},
			{"santander-cnab240-laravel-boleto.ret", "104", "10.00",
				map[string]any{"status": "paid", "paid_amount": "11.00", "fee_amount": "3.24", "paid_on": "2014-06-04"}, 1, ""},
			// The same payment by Pix, with a segment Y and a batch trailer that counts all its records.
			{"santander-cnab240-pix-laravel-boleto.ret", "104", "10.00",
				map[string]any{"status": "paid", "paid_amount": "11.00", "fee_amount": "3.24", "paid_on": "2014-06-04"}, 1, ""},
			{"caixa-cnab240-laravel-boleto-excerpt.ret", "24000000011137889", "80.00",
				map[string]any{"status": "paid", "paid_amount": "70.00", "discount_amount": "10.00", "paid_on": "2014-01-06"}, 1,
				"2400000000003057"},
			{"caixa-cnab240-opencnabphp-excerpt.ret", "24000000000083748", "49.00",
				map[string]any{"status": "paid", "paid_amount": "53.90", "interest_amount": "4.90", "fee_amount": "1.61", "paid_on": "2016-12-20"}, 1,
				"2400000000008374"},
			// Caixa's CNAB 400: the payment and, after it in the file, the title's entry, which changes nothing (its tariff
			// exceeds the face value); a record of tariffs with no title is left unmatched.
			{"caixa-cnab400-node-boleto.ret", "14000000073110483", "1.13",
				map[string]any{"status": "paid", "paid_amount": "1.13", "fee_amount": "1.15", "paid_on": "2021-02-01", "credited_on": "2021-02-02"}, 1,
				"1400000007311048"},
			{"caixa-cnab400-node-boleto-2020-edited.ret", "14000000000011834", "461.16",
				map[string]any{"status": "paid", "paid_amount": "461.16", "fee_amount": "3.00", "paid_on": "2020-11-25"}, 1, "1400000000001183"},
		} {
			acct := c.account() // each its own: two files pay the same number
			id := c.charge(acct, tc.nosso, tc.amount)
			decoy := ""
			if tc.decoy != "" {
				decoy = c.charge(acct, tc.decoy, "1.00")
			}
			file, err := os.ReadFile("../../cnab/testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			status, doc, raw := c.upload("account_id="+acct, file)
			if status != 202 {
				t.Fatalf("%s: import = %d %s", tc.file, status, raw)
			}
			if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" || d["applied"] != tc.applied {
				t.Fatalf("%s: document = %v, want %v movements applied", tc.file, d, tc.applied)
			}
			ch := c.must(200, "GET", "/v1/charges/"+id, "")
			for k, v := range tc.want {
				if ch[k] != v {
					t.Errorf("%s: charge %s = %v, want %v (%v)", tc.file, k, ch[k], v, ch)
				}
			}
			if decoy != "" {
				if ch := c.must(200, "GET", "/v1/charges/"+decoy, ""); ch["status"] != "open" {
					t.Errorf("%s: the decoy %s was settled: %v", tc.file, tc.decoy, ch)
				}
			}
		}
		// Itaú's sample as published lacks its batch header: refused, naming the line.
		file, err := os.ReadFile("../../cnab/testdata/itau-cnab240-brcobranca.ret")
		if err != nil {
			t.Fatal(err)
		}
		if status, _, raw := c.upload("account_id="+acct, file); status != 422 || !strings.Contains(string(raw), "line 2, columns 8-8 (tipo de registro): a detail outside a batch") {
			t.Errorf("Itaú sample without its batch header = %d %s", status, raw)
		}
		// Caixa's answer to a remessa it refused: no titles, and the import says why.
		file, err = os.ReadFile("../../cnab/testdata/caixa-cnab240-rejected-opencnabphp.ret")
		if err != nil {
			t.Fatal(err)
		}
		if status, _, raw := c.upload("account_id="+acct, file); status != 422 ||
			!strings.Contains(string(raw), `no titles, only the bank's messages (segment W), as in its answer to a remessa it refused: \"02000001 10.0VL CEDENTE NAO CADASTRADO\"`) {
			t.Errorf("Caixa's refusal of a remessa = %d %s", status, raw)
		}
	})
}

// TestImportEmptyReturn: a return file of no title (a day without
// movements) is stored and settles nothing; an import of nothing else,
// or of only bad lines, is still refused.
func TestImportEmptyReturn(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{})
		acct := c.account()
		var empty bytes.Buffer
		if err := cnab.Write(&empty, cnab.CNAB240, cnab.FileInfo{Bank: "756", CompanyName: "ACME", Generated: baixa.Date{Year: 2026, Month: 11, Day: 23}},
			0, nil); err != nil {
			t.Fatal(err)
		}
		status, doc, raw := c.upload("account_id="+acct, empty.Bytes())
		if status != 202 {
			t.Fatalf("an empty return = %d %s", status, raw)
		}
		if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" || d["total"] != 0.0 {
			t.Errorf("an empty return's document = %v, want settled with no movement", d)
		}
		if status, again, _ := c.upload("account_id="+acct, empty.Bytes()); status != 200 || again["id"] != doc["id"] {
			t.Errorf("the same empty return again = %d %v", status, again)
		}
		var one bytes.Buffer
		day := baixa.Date{Year: 2026, Month: 11, Day: 20}
		if err := cnab.Write(&one, cnab.CNAB240, cnab.FileInfo{Bank: "756", CompanyName: "ACME", Generated: day}, 1, func(_ int, d *cnab.Detail) {
			*d = cnab.Detail{Occurrence: "06", NossoNumero: "1", DueDate: day, FaceValue: 100, PaidAmount: 100, OccurredOn: day}
		}); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(one.Bytes(), []byte("\r\n"))
		copy(lines[2][73:], "31022026") // segment T's due date: no such day
		only := bytes.Join(lines, []byte("\r\n"))
		if status, _, raw := c.upload("account_id="+acct+"&skip_bad_lines=true", only); status != 422 || !strings.Contains(string(raw), "no movements") {
			t.Errorf("a file of only bad lines = %d %s", status, raw)
		}
		if status, _, raw := c.do(http.MethodPost, "/v1/imports/generic?account_id="+acct, `[]`, "Content-Type", "application/json"); status != 422 ||
			!strings.Contains(string(raw), "no movements") {
			t.Errorf("a generic import of nothing = %d %s", status, raw)
		}
	})
}

func TestImportCommand(t *testing.T) {
	t.Parallel()
	c := startApp(t, dbtest.SQLiteURL(t), serveConfig{})
	acct := c.account()
	c.charge(acct, "5018", "6.00")
	file := filepath.Join("..", "..", "cnab", "testdata", "gen-400.ret")
	code, out, errOut := run(t, context.Background(), "import", file, "--account", acct, "--url", c.base, "--api-key", testKey)
	if code != 0 || !strings.Contains(out, "settled; 9 movements:") || !strings.Contains(out, "9 unmatched") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, context.Background(), "import", file, "--account", acct, "--url", c.base, "--api-key", testKey)
	if code != 0 || !strings.Contains(out, "was imported before") {
		t.Fatalf("second import: %d %s", code, out)
	}
	bad := filepath.Join("..", "..", "cnab", "testdata", "bad-400-date.ret")
	code, _, errOut = run(t, context.Background(), "import", bad, "--account", acct, "--url", c.base, "--api-key", testKey)
	if code != 1 || !strings.Contains(errOut, "columns 111-116") {
		t.Fatalf("bad import: %d %s", code, errOut)
	}
	code, _, errOut = run(t, context.Background(), "import", file, "--url", c.base, "--api-key", testKey)
	if code == 0 || !strings.Contains(errOut, "--account") {
		t.Fatalf("import without a target: %d %s", code, errOut)
	}
	// Several files: each in turn; a refused one does not stop the next,
	// and fails the command at the end.
	santander := filepath.Join("..", "..", "cnab", "testdata", "santander-cnab240-laravel-boleto.ret")
	sicredi := filepath.Join("..", "..", "cnab", "testdata", "sicredi-cnab240-brcobranca.ret")
	code, out, errOut = run(t, context.Background(), "import", santander, bad, sicredi, "--account", acct, "--url", c.base, "--api-key", testKey)
	// (kong makes the paths absolute.)
	if code != 1 || !strings.Contains(out, "santander-cnab240-laravel-boleto.ret: document ") || !strings.Contains(out, "sicredi-cnab240-brcobranca.ret: document ") ||
		!strings.Contains(out, "3 files: 2 imported, 1 not") || !strings.Contains(errOut, "bad-400-date.ret: POST /v1/imports") ||
		!strings.Contains(errOut, "columns 111-116") || !strings.Contains(errOut, "1 of 3 files not imported: ") {
		t.Fatalf("three files, one bad: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, context.Background(), "import", santander, sicredi, "--account", acct, "--url", c.base, "--api-key", testKey)
	if code != 0 || strings.Count(out, "was imported before") != 2 || !strings.Contains(out, "2 files: 2 imported, 0 not") {
		t.Fatalf("the same two files again: %d\n%s\n%s", code, out, errOut)
	}
}

// TestReadCommand: baixa read shows a file's details and their movements
// without a server, and fails, naming the place, on what an import refuses.
func TestReadCommand(t *testing.T) {
	t.Parallel()
	testdata := func(name string) string { return filepath.Join("..", "..", "cnab", "testdata", name) }
	ctx := context.Background()
	code, out, errOut := run(t, ctx, "read", testdata("sicoob-cnab240-opencnabphp.ret"))
	if code != 0 || !strings.Contains(out, "CNAB 240, bank 756 Sicoob, company BDOUGLAS TECH (33589063000184)") ||
		!strings.Contains(out, "line 5: 06 liquidação -> status_changed") || !strings.Contains(out, "without a paid amount") ||
		!strings.Contains(out, "details: 5 (3 rejected, 2 status_changed), paid in all 0.00; bad: 0") {
		t.Fatalf("read: %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = run(t, ctx, "read", "--json", testdata("caixa-cnab240-laravel-boleto-excerpt.ret"))
	if code != 0 {
		t.Fatalf("read --json: %d %s", code, errOut)
	}
	var paid []string
	for line := range strings.Lines(out) {
		var m baixa.Movement
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a movement: %q: %v", line, err)
		}
		if m.Kind == baixa.MovePaid {
			paid = append(paid, m.References.NossoNumero+" "+m.PaidAmount.String())
		}
	}
	if want := []string{"24000000011136997 80.00", "24000000011137889 70.00", "24000000000031999 420.00", "24000000000030572 70.00"}; !slices.Equal(paid, want) {
		t.Errorf("read --json: paid %v, want %v", paid, want)
	}

	// A good file, one with a bad amount, one that is no return file and
	// one of a bank without a table (whose structure is sound): each is
	// read, what is wrong named, and the command fails.
	code, out, errOut = run(t, ctx, "read", testdata("gen-400.ret"), testdata("bad-number.ret"), testdata("bad-not-cnab.txt"), testdata("bad-unknown-bank.ret"))
	if code != 1 || !strings.Contains(out, "details: 9 (") || !strings.Contains(out, "bad: 1") ||
		!strings.Contains(errOut, "bad-number.ret: line 4, columns 78-92 (valor pago): want digits") ||
		!strings.Contains(errOut, "bad-not-cnab.txt: line 1: not a CNAB return file") ||
		!strings.Contains(errOut, "bad-unknown-bank.ret: line 1, columns 1-3 (banco): bank 422 is not supported") ||
		!strings.Contains(errOut, "its structure checks out (10 titles): a PlugBoleto connection") ||
		!strings.Contains(errOut, "3 of 4 files not read whole") {
		t.Fatalf("read of bad files: %d\n%s\n%s", code, out, errOut)
	}
}
