// Package brazil reads values as Brazilian providers write them: amounts
// with a decimal comma ("1.234,56"), dates day first ("31/12/2026"), and
// times in America/Sao_Paulo unless they name their zone.
package brazil

import (
	"fmt"
	"strings"
	"time"

	"baixa"
)

// ParseAmount reads an amount as Brazilian providers write it: "427,81",
// "1.234,56", "0,00", or with a decimal point ("427.81"), exact to the
// centavo (extra decimal zeros allowed). "" is zero.
func ParseAmount(s string) (baixa.Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v := s
	if strings.Contains(v, ",") {
		v = strings.ReplaceAll(v, ".", "")
		v = strings.Replace(v, ",", ".", 1)
	}
	if strings.Trim(v, "0123456789") != "" && strings.Count(v, ".") != 1 || strings.Trim(v, "0123456789.") != "" {
		return 0, fmt.Errorf("amount %q: want a decimal like \"1.234,56\" or \"427.81\"", s)
	}
	a, err := baixa.ParseExactAmount(v)
	if err != nil {
		return 0, fmt.Errorf("amount %q is not exact to the centavo", s)
	}
	return a, nil
}

// civilLayouts are the forms of dates and times Brazilian providers write.
var civilLayouts = []string{
	"02/01/2006", "02/01/2006 15:04:05", "02/01/2006 15:04",
	"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999", time.RFC3339Nano,
}

// ParseTime reads a provider's date or time (dd/MM/yyyy[ HH:mm[:ss]],
// yyyy-MM-dd[ HH:mm:ss], ISO 8601 with or without a zone), in
// America/Sao_Paulo unless it names its zone. "" and null give the zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	for _, l := range civilLayouts {
		if t, err := time.ParseInLocation(l, s, baixa.SaoPaulo); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want dd/MM/yyyy or yyyy-MM-dd, with an optional time", s)
}

// ParseDate reads a provider's date (see ParseTime) as a civil date.
func ParseDate(s string) (baixa.Date, error) {
	t, err := ParseTime(s)
	if err != nil || t.IsZero() {
		return baixa.Date{}, err
	}
	return baixa.Today(t), nil
}
