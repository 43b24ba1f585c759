package cnab

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"

	"baixa"
)

// The word-at-a-time helpers must agree with the plain byte loops they
// replace, on any input: go test -fuzz FuzzWords ./cnab.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"", "0", "7", "00000000", "000000000000000", "000000000042781", "123456789012345678",
		"1234567890123456789", "00000000004A081", "20112026", "29022024", "29022026", "31042026", "00000000", "        ",
		"0000  00", "12345678 ", " 1234567", "99999999", "9999999999999999", "/:", "  PAGADOR DE TESTE      \xa0", "\t x \r",
		"00000000100000000", "000000001000000000"} { // zero words at both ends, a digit between: not zero
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := decimal(b)
		want, err := strconv.ParseUint(string(b), 10, 64)
		wantOK := err == nil && len(b) >= 1 && len(b) <= 18 && bytes.Trim(b, "0123456789") == nil
		if ok != wantOK || (ok && v != want) {
			t.Fatalf("decimal(%q) = %d, %v; want %d, %v", b, v, ok, want, wantOK)
		}

		if got, want := ascii(b), plainASCII(b); got != want {
			t.Fatalf("ascii(%q) = %v", b, got)
		}
		if got, want := trimBlank(b), plainTrim(b); !bytes.Equal(got, want) {
			t.Fatalf("trimBlank(%q) = %q, want %q", b, got, want)
		}

		if len(b) < 8 {
			return
		}
		r := &Reader{buf: b[:8]}
		f := field{"data", 1, 8}
		var err8 error
		got := r.date8(f, &err8)
		want8, werr := r.slowDate8(f, b[:8])
		if got != want8 || (err8 == nil) != (werr == nil) {
			t.Fatalf("date8(%q) = %v, %v; want %v, %v", b[:8], got, err8, want8, werr)
		}
	})
}

func plainASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func plainTrim(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && blank(b[i]) {
		i++
	}
	for j > i && blank(b[j-1]) {
		j--
	}
	return b[i:j]
}

func TestDate8(t *testing.T) {
	for in, want := range map[string]baixa.Date{
		"20112026": {Year: 2026, Month: 11, Day: 20}, "29022024": {Year: 2024, Month: 2, Day: 29}, "01011900": {Year: 1900, Month: 1, Day: 1},
		"31122099": {Year: 2099, Month: 12, Day: 31}, "31122199": {Year: 2199, Month: 12, Day: 31}, "00000000": {}, "        ": {},
	} {
		var err error
		if got := (&Reader{buf: []byte(in)}).date8(field{"data", 1, 8}, &err); got != want || err != nil {
			t.Errorf("date8(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// 01085000: Ailos's irregular header (brcobranca's file) read as a date of the year 5000.
	for _, in := range []string{"29022026", "31042026", "00112026", "20132026", "20111899", "01012200", "01085000", "2011202A", "20 12026"} {
		var err error
		if got := (&Reader{buf: []byte(in)}).date8(field{"data", 1, 8}, &err); err == nil {
			t.Errorf("date8(%q) = %v, want an error", in, got)
		}
	}
}

// TestTextsFastAndSlowAgree reads each ASCII detail line of the test files
// both ways texts can: copied as they are, and decoded from Latin-1.
func TestTextsFastAndSlowAgree(t *testing.T) {
	n := 0
	eachReadable(t, func(name string, in []byte, r *Reader) {
		for _, line := range bytes.Split(in, []byte("\n")) {
			line = bytes.TrimRight(line, "\r")
			if len(line) != int(r.format) || !ascii(line) {
				continue
			}
			read := func(fast bool) (d Detail, err error) {
				r.buf, r.lineASCII, r.d = line, fast, Detail{}
				switch {
				case r.format == CNAB240 && line[7] == '3' && line[13] == 'T' && r.bank.L240 != nil:
					err = r.readT()
				case r.format == CNAB400 && line[0] == '1' && r.bank.L400 != nil:
					err = r.read400()
				default:
					err = io.EOF
				}
				return r.d, err
			}
			fast, ferr := read(true)
			slow, serr := read(false)
			if errors.Is(ferr, io.EOF) {
				continue
			}
			n++
			if fast != slow || (ferr == nil) != (serr == nil) {
				t.Errorf("%s: %q\nfast %+v %v\nslow %+v %v", name, line, fast, ferr, slow, serr)
			}
		}
	})
	if n < 20 {
		t.Fatalf("only %d lines compared", n)
	}
}
