package baixa

import (
	"fmt"
	"strconv"
	"time"
)

// SaoPaulo is the time zone of Brazilian business dates. Providers' local
// timestamps are read in it.
var SaoPaulo = mustLoadSaoPaulo()

func mustLoadSaoPaulo() *time.Location {
	loc, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		// No tz database on the host: Brazil has had no DST since 2019.
		return time.FixedZone("America/Sao_Paulo", -3*60*60)
	}
	return loc
}

// Date is a civil date of the business world (due, paid, credited): a day,
// not an instant. The zero Date means "none".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "2006-01-02" and rejects impossible dates.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today returns the civil date of now in America/Sao_Paulo.
func Today(now time.Time) Date { return DateOf(now.In(SaoPaulo)) }

// Start is the first instant of d in America/Sao_Paulo.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, SaoPaulo) }

// IsZero reports whether d is "no date".
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as "2006-01-02", and the zero Date as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	b, _ := d.MarshalText()
	return string(b)
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// MarshalText writes d as "2006-01-02" ("" when zero: tag such fields
// omitzero).
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, nil
	}
	b := make([]byte, 0, 10)
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	return appendPadded(b, d.Day, 2), nil
}

func appendPadded(b []byte, v, width int) []byte {
	var tmp [8]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("date must be a string like \"2026-11-23\", not %s", b)
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}
