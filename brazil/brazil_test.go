package brazil

import (
	"strings"
	"testing"
	"time"

	"baixa"
)

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]baixa.Amount{
		"427,81": 42781, "1.234,56": 123456, "0,00": 0, "": 0, "427.81": 42781, "22.0": 2200, "85.0000": 8500, "1.234.567,8": 123456780, "7": 700,
	} {
		if got, err := ParseAmount(in); err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"4,2,7": "want a decimal", "1,005": "not exact", "-1,00": "want a decimal", "R$ 1,00": "want a decimal", "1e3": "want a decimal", "1.2.3": "want a decimal",
	} {
		if _, err := ParseAmount(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAmount(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"20/09/2017": "2017-09-20T00:00:00-03:00", "20/09/2017 14:30:00": "2017-09-20T14:30:00-03:00",
		"2026-11-21T14:32:10": "2026-11-21T14:32:10-03:00", "2026-11-21 14:32:10": "2026-11-21T14:32:10-03:00",
		"2026-11-21T14:32:10.123": "2026-11-21T14:32:10.123-03:00", "2026-11-21T17:32:10Z": "2026-11-21T17:32:10Z",
		"null": "0001-01-01T00:00:00Z", "": "0001-01-01T00:00:00Z",
	} {
		got, err := ParseTime(in)
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", in, got.Format(time.RFC3339Nano), err, want)
		}
	}
	if _, err := ParseTime("31/02/2026"); err == nil {
		t.Error("31/02/2026 parsed")
	}
	// A UTC instant late in the evening is the next day in São Paulo's
	// terms only when it is: 02:00Z is still the day before there.
	if d, _ := ParseDate("2026-11-22T02:00:00Z"); d.String() != "2026-11-21" {
		t.Errorf("ParseDate = %v, want 2026-11-21", d)
	}
}
