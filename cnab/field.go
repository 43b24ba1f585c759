package cnab

import (
	"bytes"
	"strings"
	"time"

	"baixa"
)

// cp1252 maps the bytes 0x80-0x9F of Windows-1252, which Latin-1 leaves
// to control characters, to the characters banks mean by them.
var cp1252 = [32]rune{'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ'}

func (r *Reader) raw(f field) []byte { return r.buf[f.from-1 : f.to] }

// trimmed returns an ASCII field without surrounding blanks.
func (r *Reader) trimmed(f field) string {
	if f.to == 0 {
		return ""
	}
	b := r.raw(f)
	i, j := 0, len(b)
	for i < j && b[i] == ' ' {
		i++
	}
	for j > i && b[j-1] == ' ' {
		j--
	}
	for _, c := range b[i:j] {
		if c >= 0x80 {
			return r.text(f)
		}
	}
	if j-i <= 5 {
		return r.intern(b[i:j])
	}
	return string(b[i:j])
}

// intern returns short values (codes, parcelas, branches) without a new
// string each time: a file repeats them on every line.
func (r *Reader) intern(b []byte) string {
	if s, ok := r.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.interned) < 4096 {
		if r.interned == nil {
			r.interned = map[string]string{}
		}
		r.interned[s] = s
	}
	return s
}

// text returns a text field decoded from Latin-1/CP1252, trimmed.
func (r *Reader) text(f field) string {
	if f.to == 0 {
		return ""
	}
	ascii := true
	for _, c := range r.raw(f) {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.TrimSpace(string(bytes.TrimRight(r.raw(f), " ")))
	}
	var sb strings.Builder
	for _, c := range r.raw(f) {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xA0:
			sb.WriteRune(cp1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return strings.TrimSpace(sb.String())
}

// number parses a zero-padded decimal field (base 10, never octal).
func (r *Reader) number(f field) (int64, error) {
	var n int64
	b := r.raw(f)
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
// are zero.
func (r *Reader) amount(f field) (baixa.Amount, error) {
	if f.to == 0 {
		return 0, nil
	}
	n, err := r.number(f)
	return baixa.Amount(n), err
}

// date8 parses DDMMAAAA; zeros or blanks are no date.
func (r *Reader) date8(f field) (baixa.Date, error) {
	b := r.raw(f)
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
// are no date.
func (r *Reader) date6(f field) (baixa.Date, error) {
	b := r.raw(f)
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
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > monthDays[d.Month] || d.Year < 1900 {
		return false
	}
	if d.Month == 2 && d.Day == 29 {
		y := d.Year
		return y%4 == 0 && (y%100 != 0 || y%400 == 0)
	}
	return true
}
