package cnab

import (
	"time"
	"unicode/utf8"

	"baixa"
)

// cp1252 maps the bytes 0x80-0x9F of Windows-1252, which Latin-1 leaves
// to control characters, to the characters banks mean by them.
var cp1252 = [32]rune{'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ'}

// raw is the field's bytes in the current line; none for a field the
// layout does not have.
func (r *Reader) raw(f field) []byte {
	if f.to == 0 {
		return nil
	}
	return r.buf[f.from-1 : f.to]
}

// blank is what surrounds a text field: blanks, ASCII white space and the
// no-break space (0xA0 in Latin-1).
func blank(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 }

// trimBlank drops what is blank at both ends of b.
func trimBlank(b []byte) []byte {
	i, j := trimmed(b)
	return b[i:j]
}

// trimmed is where b is once what is blank at both ends is dropped, eight
// blanks at a time while it can: fields are mostly padding.
func trimmed(b []byte) (i, j int) {
	j = len(b)
	for j >= 8 && word(b[j-8:]) == blanks8 {
		j -= 8
	}
	for j > 0 && blank(b[j-1]) {
		j--
	}
	for j-i >= 8 && word(b[i:]) == blanks8 {
		i += 8
	}
	for i < j && blank(b[i]) {
		i++
	}
	return i, j
}

// appendText appends Latin-1/CP1252 bytes as UTF-8.
func appendText(dst, b []byte) []byte {
	if ascii(b) {
		return append(dst, b...)
	}
	for _, c := range b {
		switch {
		case c < 0x80:
			dst = append(dst, c)
		case c < 0xA0:
			dst = utf8.AppendRune(dst, cp1252[c-0x80])
		default:
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}

// text returns a text field decoded from Latin-1/CP1252, trimmed.
func (r *Reader) text(f field) string { return string(appendText(nil, trimBlank(r.raw(f)))) }

// textField is a detail's longer text field: where it is, where it goes
// and how it is read.
type textField struct {
	f    field
	dst  *string
	kind textKind
}

type textKind uint8

const (
	plainText  textKind = iota
	numberText          // a CPF/CNPJ: leading zeros dropped
	nameText            // a name: zeros only (Banco do Brasil's "no name") are none
)

// zeros drops the leading zeros of b[i:j] for a number, and all of them
// for a name of zeros only.
func (k textKind) zeros(b []byte, i, j int) (int, int) {
	if k == plainText {
		return i, j
	}
	z := i
	for z < j && b[z] == '0' {
		z++
	}
	if k == numberText || z == j {
		return z, j
	}
	return i, j
}

// number parses a zero-padded decimal field (base 10, never octal);
// blanks are zero.
func (r *Reader) number(f field) (int64, error) {
	b := r.raw(f)
	if v, ok := decimal(b); ok {
		return int64(v), nil
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			if allBlank(b) {
				return 0, nil
			}
			return 0, r.errAt(f, "want digits, got %q", printable(b, 40))
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func allBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

// amount parses a field with two implied decimals into centavos; blanks
// are zero. The first error of several fields is kept in *err.
func (r *Reader) amount(f field, err *error) baixa.Amount {
	if f.to == 0 {
		return 0
	}
	n, e := r.number(f)
	if e != nil && *err == nil {
		*err = e
	}
	return baixa.Amount(n)
}

// date8 parses DDMMAAAA; zeros or blanks are no date. The first error of
// several fields is kept in *err.
func (r *Reader) date8(f field, err *error) baixa.Date {
	b := r.raw(f)
	if len(b) == 8 {
		x := word(b)
		if x == zeros8 || x == blanks8 {
			return baixa.Date{}
		}
		if digits8(x) {
			// Pairs of digits: day, month, century, year.
			p := x - zeros8
			p = (p*10 + p>>8) & 0x00FF00FF00FF00FF
			d := baixa.Date{Year: int(p>>32&0xFF)*100 + int(p>>48&0xFF), Month: time.Month(p >> 16 & 0xFF), Day: int(p & 0xFF)}
			if valid(d) {
				return d
			}
		}
	}
	d, e := r.slowDate8(f, b)
	if e != nil && *err == nil {
		*err = e
	}
	return d
}

func (r *Reader) slowDate8(f field, b []byte) (baixa.Date, error) {
	if allZeroOrBlank(b) {
		return baixa.Date{}, nil
	}
	if !digits(b) {
		return baixa.Date{}, r.errAt(f, "want a date DDMMAAAA, got %q", printable(b, 8))
	}
	d := baixa.Date{Year: atoi(b[4:8]), Month: time.Month(atoi(b[2:4])), Day: atoi(b[0:2])}
	if !valid(d) {
		return baixa.Date{}, r.errAt(f, "no such date %q", b)
	}
	return d, nil
}

// date6 parses DDMMAA (years 00-69 are 20xx, 70-99 19xx); zeros or blanks
// are no date. The first error of several fields is kept in *err.
func (r *Reader) date6(f field, err *error) baixa.Date {
	d, e := r.slowDate6(f, r.raw(f))
	if e != nil && *err == nil {
		*err = e
	}
	return d
}

func (r *Reader) slowDate6(f field, b []byte) (baixa.Date, error) {
	if allZeroOrBlank(b) {
		return baixa.Date{}, nil
	}
	if !digits(b) {
		return baixa.Date{}, r.errAt(f, "want a date DDMMAA, got %q", printable(b, 6))
	}
	y := atoi(b[4:6])
	if y < 70 {
		y += 2000
	} else {
		y += 1900
	}
	d := baixa.Date{Year: y, Month: time.Month(atoi(b[2:4])), Day: atoi(b[0:2])}
	if !valid(d) {
		return baixa.Date{}, r.errAt(f, "no such date %q", b)
	}
	return d, nil
}

func allZeroOrBlank(b []byte) bool {
	for _, c := range b {
		if c != '0' && c != ' ' {
			return false
		}
	}
	return true
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

var monthDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func valid(d baixa.Date) bool {
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > monthDays[d.Month] || d.Year < 1900 || d.Year > 2199 {
		return false
	}
	if d.Month == 2 && d.Day == 29 {
		y := d.Year
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	}
	return true
}
