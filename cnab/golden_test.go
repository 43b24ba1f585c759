package cnab

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/golden"
)

var update = flag.Bool("update", false, "rewrite generated inputs and golden outputs")

var (
	nov20 = baixa.Date{Year: 2026, Month: 11, Day: 20}
	nov21 = baixa.Date{Year: 2026, Month: 11, Day: 21}
	dec10 = baixa.Date{Year: 2026, Month: 12, Day: 10}
)

// sampleDetails are one of each interesting occurrence.
func sampleDetails(f Format) []Detail {
	base := func(occ, nn string) Detail {
		return Detail{Occurrence: occ, NossoNumero: nn, Parcela: "01", Modalidade: "01", SeuNumero: "000000000000" + nn[len(nn)-3:],
			DueDate: dec10, FaceValue: 42781, ReceivingBank: "756", ReceivingBranch: "03039", PayerDocument: "52998224725",
			PayerName: "JOSÉ DA CONCEIÇÃO", FeeAmount: 170}
	}
	paid := func(occ, nn string) Detail {
		d := base(occ, nn)
		d.PaidAmount, d.InterestAmount, d.CreditedAmount, d.OccurredOn, d.CreditedOn = 43081, 300, 42911, nov20, nov21
		return d
	}
	if f == CNAB400 {
		d14 := base("14", "000000010014")
		d14.DueDate = baixa.Date{Year: 2027, Month: 1, Day: 15}
		return []Detail{paid("06", "000000010061"), paid("05", "000000010052"), paid("15", "000000010153"), base("02", "000000010024"),
			base("09", "000000010095"), base("10", "000000010106"), d14, base("23", "000000010237"), base("77", "000000010778")}
	}
	d14 := base("14", "0000010014")
	d14.DueDate = baixa.Date{Year: 2027, Month: 1, Day: 15}
	return []Detail{paid("06", "0000010061"), paid("17", "0000010172"), paid("45", "0000010453"), paid("50", "0000010504"),
		base("02", "0000010025"), base("03", "0000010036"), base("09", "0000010097"), d14, base("28", "0000010288"), base("99", "0000010999")}
}

func write(t *testing.T, f Format, ds []Detail) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := Write(&buf, f, FileInfo{Bank: "756", CompanyDocument: "11222333000181", CompanyName: "ACME COBRANÇAS", Generated: nov21, Sequence: 7},
		len(ds), func(i int, d *Detail) { *d = ds[i] })
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lines applies fn to each line (without its CRLF) and joins with sep.
func lines(b []byte, sep string, fn func(i int, l string) string) []byte {
	ls := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	for i := range ls {
		ls[i] = fn(i, ls[i])
	}
	return []byte(strings.Join(ls, sep))
}

func toUTF8(latin1 string) string {
	var sb strings.Builder
	for i := 0; i < len(latin1); i++ {
		sb.WriteRune(rune(latin1[i]))
	}
	return sb.String()
}

// generated are the inputs made from the writer, then altered.
func generated(t *testing.T) map[string][]byte {
	f240, f400 := write(t, CNAB240, sampleDetails(CNAB240)), write(t, CNAB400, sampleDetails(CNAB400))
	replace := func(line int, from, to int, s string) func(int, string) string {
		return func(i int, l string) string {
			if i == line {
				return l[:from-1] + s + l[to:]
			}
			return l
		}
	}
	return map[string][]byte{
		// Tolerances.
		"gen-240-crlf.ret":                     f240,
		"gen-240-cr-cr-lf.ret":                 lines(f240, "\r\r\n", func(_ int, l string) string { return l }),
		"gen-240-lf-utf8-no-final-newline.ret": lines(f240, "\n", func(_ int, l string) string { return toUTF8(l) }),
		"gen-240-latin1-trimmed-blank-end.ret": append(lines(f240, "\r\n", func(_ int, l string) string { return strings.TrimRight(l, " ") }), "\r\n\r\n   \r\n"...),
		"gen-240-241-columns.ret":              append(lines(f240, "\r\n", func(_ int, l string) string { return l + " " }), "\r\n"...),
		"gen-400.ret":                          f400,
		"gen-240-blank-lines-inside.ret":       lines(f240, "\r\n", func(i int, l string) string { return map[bool]string{true: l + "\r\n  ", false: l}[i == 3 || i == 5] }),
		// Saved by a text editor (a UTF-8 byte order mark) and ended by a DOS tool (Ctrl-Z).
		"gen-240-utf8-bom-ctrl-z.ret":     append(append([]byte("\xEF\xBB\xBF"), lines(f240, "\r\n", func(_ int, l string) string { return toUTF8(l) })...), "\r\n\x1a"...),
		"gen-400-ctrl-z-on-last-line.ret": append(bytes.Clone(bytes.TrimSuffix(f400, []byte("\r\n"))), 0x1a),
		// Errors.
		"bad-record-type.ret": lines(f240, "\r\n", replace(4, 8, 8, "4")),
		"bad-segment.ret":     lines(f240, "\r\n", replace(2, 14, 14, "P")),
		"bad-number.ret":      lines(f240, "\r\n", replace(3, 78, 92, "00000000004A081")),
		"bad-date.ret":        lines(f240, "\r\n", replace(3, 138, 145, "31022026")),
		"bad-batch-count.ret": lines(f240, "\r\n", replace(22, 18, 23, "000099")),
		"bad-file-count.ret":  lines(f240, "\r\n", replace(23, 24, 29, "000025")),
		"bad-truncated.ret":   bytes.Join(bytes.Split(f240, []byte("\r\n"))[:9], []byte("\r\n")),
		"bad-t-without-u.ret": lines(f240, "\r\n", replace(3, 14, 14, "T")),

		"bad-long-line.ret":       lines(f240, "\r\n", replace(5, 240, 240, "XX")),
		"bad-unknown-bank.ret":    lines(f240, "\r\n", func(_ int, l string) string { return "422" + l[3:] }),
		"bad-two-banks.ret":       lines(f240, "\r\n", replace(4, 1, 3, "001")),
		"bad-remessa.ret":         []byte("01REMESSA01COBRANCA" + strings.Repeat(" ", 381) + "\r\n"),
		"bad-not-cnab.txt":        []byte("Olá, isto não é um arquivo CNAB.\n"),
		"bad-400-sequence.ret":    lines(f400, "\r\n", replace(3, 395, 400, "000009")),
		"bad-400-date.ret":        lines(f400, "\r\n", replace(2, 111, 116, "320126")),
		"skip-bad-number-240.ret": lines(f240, "\r\n", replace(3, 78, 92, "00000000004A081")),
		"skip-bad-date-400.ret":   lines(f400, "\r\n", replace(2, 111, 116, "320126")),
		"skip-bad-count.ret":      lines(f240, "\r\n", replace(22, 18, 23, "000099")),
	}
}

func TestGolden(t *testing.T) {
	if *update {
		for name, b := range generated(t) {
			if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files := golden.Inputs(t, "testdata")
	n := len(files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc := &baixa.Document{ID: "doc_test", AccountID: "acc_test", SkipBadLines: strings.HasPrefix(filepath.Base(f), "skip-")}
			var ms []*baixa.Movement
			derr := Decoder{}.Decode(context.Background(), doc, bytes.NewReader(in), func(m *baixa.Movement) error {
				ms = append(ms, m)
				return nil
			})
			out := struct {
				Movements []*baixa.Movement `json:"movements"`
				Error     string            `json:"error,omitempty"`
			}{Movements: ms}
			if derr != nil {
				out.Error = derr.Error()
			}
			golden.Check(t, f, out, *update)
		})
	}
	if n < 20 {
		t.Fatalf("only %d inputs", n)
	}
}

// TestEveryBankRoundTrip writes each bank's sample details with its own
// tables and reads them back: a field that overlaps another, or that the
// reader and writer place differently, shows here.
func TestEveryBankRoundTrip(t *testing.T) {
	// cut is what a text field of f keeps of s: none if the layout has no
	// such field, else at most its width.
	cut := func(s string, f field) string {
		if f.to == 0 {
			return ""
		}
		r := []rune(s)
		return string(r[:min(len(r), f.to-f.from+1)])
	}
	for code, b := range Banks {
		for _, f := range []Format{CNAB240, CNAB400} {
			if !b.reads(f) {
				continue
			}
			t.Run(code+"/"+f.String(), func(t *testing.T) {
				want := sampleDetails(f)
				for i := range want {
					d := &want[i]
					if f == CNAB240 {
						l := b.L240
						d.NossoNumero, d.Parcela, d.Modalidade = cut(d.NossoNumero, l.NossoNumero), cut(d.Parcela, l.Parcela), cut(d.Modalidade, l.Modalidade)
						d.SeuNumero, d.PayerName = cut(d.SeuNumero, l.SeuNumero), cut(d.PayerName, l.PayerName)
						d.ReceivingBranch = cut(d.ReceivingBranch, l.ReceivingBranch)
					} else {
						l := b.L400
						d.NossoNumero, d.Parcela, d.Modalidade = cut(d.NossoNumero, l.NossoNumero), cut(d.Parcela, l.Parcela), cut(d.Modalidade, l.Modalidade)
						d.SeuNumero, d.PayerName, d.PayerDocument = cut(d.SeuNumero, l.SeuNumero), cut(d.PayerName, l.PayerName), cut(d.PayerDocument, l.PayerDocument)
						if l.Credited.to == 0 {
							d.CreditedAmount = 0
						}
						if l.CreditedOn.to == 0 {
							d.CreditedOn = baixa.Date{}
						}
						if l.PaidLessFee {
							d.CreditedAmount = max(d.PaidAmount-d.FeeAmount, 0)
							if d.CreditedAmount == 0 || b.Occurrences400[d.Occurrence].Kind != baixa.MovePaid {
								d.PaidAmount = 0 // nothing credited to add the tariff to, or not a payment
							}
						}
					}
				}
				var buf bytes.Buffer
				err := Write(&buf, f, FileInfo{Bank: code, CompanyName: "ACME", Generated: nov21}, len(want), func(i int, d *Detail) { *d = want[i] })
				if err != nil {
					t.Fatal(err)
				}
				r, err := NewReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					got, err := r.Next()
					if err != nil {
						t.Fatalf("detail %d: %v", i, err)
					}
					g := *got
					if g.Line = 0; g != want[i] {
						t.Errorf("detail %d:\n got %+v\nwant %+v", i, g, want[i])
					}
				}
				if _, err := r.Next(); !errors.Is(err, io.EOF) {
					t.Errorf("after the details: %v, want io.EOF", err)
				}
			})
		}
	}
}

// insert400 inserts a CNAB 400 record of type kind after line n (1-based) of
// file and numbers the records again.
func insert400(file []byte, n int, kind string) []byte {
	lines := bytes.Split(bytes.TrimRight(file, "\r\n"), []byte("\r\n"))
	rec := []byte(kind + strings.Repeat(" ", 399))
	lines = slices.Insert(lines, n, rec)
	for i, l := range lines {
		l = bytes.Clone(l)
		copy(l[394:], fmt.Sprintf("%06d", i+1))
		lines[i] = l
	}
	return append(bytes.Join(lines, []byte("\r\n")), "\r\n"...)
}

// TestSegmentW: a segment W beside titles is passed over; a file of
// segments W and no title (Caixa's answer to a remessa it refused) fails
// with what they say, in NewReader's and Check's readers alike.
func TestSegmentW(t *testing.T) {
	file := write(t, CNAB240, sampleDetails(CNAB240))
	ls := strings.Split(strings.TrimSuffix(string(file), "\r\n"), "\r\n")
	w := "756" + ls[3][3:13] + "W 02000001 UMA MENSAGEM" + strings.Repeat(" ", 240-37)
	ls = slices.Insert(ls, 4, w) // after the first T and U
	n := len(ls)
	ls[n-2] = ls[n-2][:17] + fmt.Sprintf("%06d", n-2) + ls[n-2][23:] // the batch: all but the file's header and trailer
	ls[n-1] = ls[n-1][:23] + fmt.Sprintf("%06d", n) + ls[n-1][29:]
	withW := []byte(strings.Join(ls, "\r\n") + "\r\n")
	r, err := NewReader(bytes.NewReader(withW))
	if err != nil {
		t.Fatal(err)
	}
	titles := 0
	for {
		if _, err := r.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("a segment W beside titles: %v", err)
		}
		titles++
	}
	if want := len(sampleDetails(CNAB240)); titles != want {
		t.Errorf("%d titles, want %d", titles, want)
	}

	rejected, err := os.ReadFile(filepath.Join("testdata", "caixa-cnab240-rejected-2-opencnabphp.ret"))
	if err != nil {
		t.Fatal(err)
	}
	want := `line 3: no titles, only the bank's messages (segment W), as in its answer to a remessa it refused: "02000001 18.088"; the header says "REMESSA REJEITADA RET PRE CRI-PRODUCAO"`
	if _, err := Check(context.Background(), bytes.NewReader(rejected)); err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
	// As a bank without a table: the same, less the header's note.
	unknown := bytes.ReplaceAll(rejected, []byte("\n104"), []byte("\n422"))
	unknown = append([]byte("422"), unknown[3:]...)
	if _, err := Check(context.Background(), bytes.NewReader(unknown)); err == nil || !strings.HasPrefix(err.Error(), `line 3: no titles, only the bank's messages (segment W)`) ||
		strings.Contains(err.Error(), "header says") {
		t.Errorf("Check of bank 422 = %v", err)
	}

	normal, err := os.ReadFile(filepath.Join("testdata", "caixa-cnab240-laravel-boleto-excerpt.ret"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := NewReader(bytes.NewReader(normal)); err != nil || r.Header().Note != "RETORNO-PRODUCAO" {
		t.Errorf("Caixa's header note = %v, %v", r, err)
	}
}

// TestCheck: a bank with tables is read whole (a bad field fails); a bank
// without is checked for structure only, which still fails a broken file.
func TestCheck(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// asBank makes b a file of the bank of code: in the CNAB 400 header's
	// columns from-; from 1 (CNAB 240) is every record's first three.
	asBank := func(b []byte, code string, from int) []byte {
		out := bytes.Clone(b)
		copy(out[from-1:], code)
		if from == 1 {
			for _, l := range bytes.SplitAfter(out, []byte("\n")) { // slices of out
				if len(l) > 3 && l[0] != '\r' && l[0] != '\n' {
					copy(l, code)
				}
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		in     []byte
		titles int
		err    string
	}{
		{"sicoob", read("sicoob-cnab240-brcobranca.ret"), 3, ""},
		{"sicoob, a bad field", read("bad-number.ret"), 0, "line 4, columns 78-92 (valor pago): want digits"},
		{"safra 240, structure only", read("bad-unknown-bank.ret"), 10, ""},
		{"safra 240, a bad field not read", asBank(read("bad-number.ret"), "422", 1), 10, ""},
		{"safra 240, a batch count off", asBank(read("bad-batch-count.ret"), "422", 1), 0, "the batch trailer counts 99 records"},
		{"safra 240, T without U", asBank(read("bad-t-without-u.ret"), "422", 1), 0, "segment T without the segment U"},
		{"safra 240, truncated", asBank(read("bad-truncated.ret"), "422", 1), 0, "ends without its trailer"},
		{"safra 400, structure only", asBank(read("gen-400.ret"), "422", 77), 9, ""},
		{"santander 400, a sequence off", asBank(read("bad-400-sequence.ret"), "033", 77), 0, "record number 9, want 4"},
		{"itaú 400, a Pix record after a detail", asBank(insert400(read("gen-400.ret"), 2, "3"), "341", 77), 9, ""},
		{"bradesco 400 (read whole), a record of type 3", asBank(insert400(read("gen-400.ret"), 2, "3"), "237", 77), 0, "record type '3', want 1 (detail) or 9"},
		// Itaú's table passes over its type 3 (a Pix QR code), and only that.
		{"itaú 400 (read whole), a Pix record after a detail", insert400(crlf(read("itau-cnab400-cnabphp.ret")), 2, "3"), 4, ""},
		{"itaú 400 (read whole), a record of type 4", insert400(crlf(read("itau-cnab400-cnabphp.ret")), 2, "4"), 0, "record type '4', want 1 (detail) or 9"},
		{"not CNAB", read("bad-not-cnab.txt"), 0, "not a CNAB return file"},
		// Santander's batch trailer counts the details (3 here) or every record of the batch (5), nothing else.
		{"santander 240, all records counted", read("santander-cnab240-pix-laravel-boleto.ret"), 1, ""},
		{"santander 240, the details counted", santanderCount(t, read("santander-cnab240-pix-laravel-boleto.ret"), "000003"), 1, ""},
		{"santander 240, a batch count off", santanderCount(t, read("santander-cnab240-pix-laravel-boleto.ret"), "000004"), 0,
			"line 6, columns 18-23 (quantidade de registros do lote): the batch trailer counts 4 records, the batch has 5 (3 details)"},
	} {
		titles, err := Check(context.Background(), bytes.NewReader(tc.in))
		if tc.err == "" && (err != nil || titles != tc.titles) {
			t.Errorf("%s: Check = %d, %v; want %d titles", tc.name, titles, err, tc.titles)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: Check = %d, %v; want an error with %q", tc.name, titles, err, tc.err)
		}
	}
	// NewReader itself still refuses a bank it has no table for.
	if _, err := NewReader(bytes.NewReader(read("bad-unknown-bank.ret"))); err == nil || !strings.Contains(err.Error(), "bank 422 is not supported") {
		t.Errorf("NewReader of bank 422 = %v", err)
	}
}

// TestHeaderDocument: the company's CPF or CNPJ in a CNAB 240 header
// keeps its leading zeros, as the tipo de inscrição (18) says.
func TestHeaderDocument(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("testdata", "bb-cnab240-laravel-boleto.ret"))
	if err != nil {
		t.Fatal(err)
	}
	caixa, err := os.ReadFile(filepath.Join("testdata", "caixa-cnab240-rejected-opencnabphp.ret")) // tipo de inscrição 0
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{"02659953000176": real, "01978042000164": caixa}
	for _, doc := range []string{"01234567890", "00360305000104", "11222333000181"} {
		var buf bytes.Buffer
		if err := Write(&buf, CNAB240, FileInfo{Bank: "756", CompanyDocument: doc, CompanyName: "X"}, 0, nil); err != nil {
			t.Fatal(err)
		}
		cases[doc] = buf.Bytes()
	}
	for want, file := range cases {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Header().CompanyDocument; got != want {
			t.Errorf("company document = %q, want %q", got, want)
		}
	}
}

// TestItauPaid: Itaú's 254-266 is what was paid less the tariff, and the
// reader adds the tariff back, unless that amount already is what the
// title came to (face less discount plus interest): the tariff was then
// charged apart.
func TestItauPaid(t *testing.T) {
	file, err := os.ReadFile(filepath.Join("testdata", "itau-cnab400-cnabphp.ret"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(file []byte) baixa.Amount {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		return d.PaidAmount
	}
	// 389.75 less a discount of 176.45 came to 213.30; 209.97 credited, 3.33 of tariff.
	if got := read(file); got != 21330 {
		t.Errorf("paid %s, want 213.30", got)
	}
	apart := bytes.Clone(file)
	i := bytes.IndexByte(apart, '\n') + 1 // the first detail
	copy(apart[i+253:], "0000000021330")
	if got := read(apart); got != 21330 {
		t.Errorf("with the tariff charged apart: paid %s, want 213.30", got)
	}
}

// crlf ends b's lines with CR LF.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// santanderCount sets the batch trailer's count (18-23) of the Santander
// Pix sample, its sixth line.
func santanderCount(t *testing.T, b []byte, n string) []byte {
	ls := strings.Split(string(b), "\n")
	if !strings.HasPrefix(ls[5], "03370315") {
		t.Fatalf("line 6 is not the batch trailer: %q", ls[5])
	}
	ls[5] = ls[5][:17] + n + ls[5][23:]
	return []byte(strings.Join(ls, "\n"))
}

func TestDocument(t *testing.T) {
	for _, tc := range []struct {
		kind     byte
		in, want string
	}{
		{'1', "1234567890", "01234567890"},
		{'2', "191", "00000000000191"},
		{'2', "AB12345000195", "0AB12345000195"}, // an alphanumeric CNPJ
		{'1', "AB12345000", "AB12345000"},        // not a CPF
		{'2', "12.345", "12.345"},
		{'0', "12345", "12345"},
		{'1', "123456789012", "123456789012"},
	} {
		if got := document(tc.kind, tc.in); got != tc.want {
			t.Errorf("document(%c, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
		}
	}
}

// TestPayerDocumentZeros: a CPF or CNPJ that begins with zeros keeps them
// (the tipo de inscrição says how many digits it has); a document of
// another kind is read as a number.
func TestPayerDocumentZeros(t *testing.T) {
	for _, code := range []string{"756", "033"} {
		docs := []string{"01234567890", "00000000000191"} // a CPF; Banco do Brasil's CNPJ
		var buf bytes.Buffer
		err := Write(&buf, CNAB240, FileInfo{Bank: code, CompanyName: "ACME", Generated: nov21}, len(docs)+1, func(i int, d *Detail) {
			*d = sampleDetails(CNAB240)[0]
			if i < len(docs) {
				d.PayerDocument = docs[i]
			} else {
				d.PayerDocument = "12345" // neither: no tipo de inscrição is written
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range append(docs, "12345") {
			d, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if d.PayerDocument != want {
				t.Errorf("bank %s: document %q, want %q", code, d.PayerDocument, want)
			}
			if len(want) > 5 {
				if err := baixa.ValidateTaxID(d.PayerDocument); err != nil {
					t.Errorf("bank %s: %v", code, err)
				}
			}
		}
	}
}

// eachReadable calls fn with each test file NewReader takes, and the
// reader past its header; it returns how many there were.
func eachReadable(t *testing.T, fn func(name string, in []byte, r *Reader)) int {
	t.Helper()
	files, _ := filepath.Glob("testdata/*.ret")
	n := 0
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := NewReader(bytes.NewReader(in)); err == nil {
			n++
			fn(name, in, r)
		}
	}
	return n
}

// TestLooks: what NewReader takes for a return file, Looks does too, a
// byte order mark included; anything else it does not.
func TestLooks(t *testing.T) {
	if n := eachReadable(t, func(name string, in []byte, _ *Reader) {
		if !Looks(in[:min(len(in), 512)]) {
			t.Errorf("%s: read, but Looks says no", name)
		}
	}); n < 20 {
		t.Fatalf("only %d files read", n)
	}
	for _, head := range []string{"", "PK\x03\x04", "{\"a\":1}", "01REMESSA01COBRANCA", "\xEF\xBB\xBF{}"} {
		if Looks([]byte(head)) {
			t.Errorf("Looks(%q) = true", head)
		}
	}
}
