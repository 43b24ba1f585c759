package baixa

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Amount is an exact amount of money in centavos (R$ 0,01). It is written
// outside as a decimal string with two places ("427.81") and never as a float.
type Amount int64

// ParseAmount parses a non-negative decimal string with at most two decimal
// places ("427.81", "10", "0.5"). Anything else is an error, never a rounding.
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("amount %q: want a decimal string with at most two decimal places, like \"427.81\"", s)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("amount %q: want a non-negative decimal string, like \"427.81\"", s)
			}
		}
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return Amount(w*100 + f), nil
}

// ParseExactAmount parses a non-negative decimal that may carry more than
// two places when the extra ones are zeros, as providers write amounts
// ("85.0000", "150.0", "22"): exact to the centavo, or an error saying so.
func ParseExactAmount(s string) (Amount, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, fmt.Errorf("amount %s is not exact to the centavo", s)
		}
		frac = frac[:2]
	}
	if frac == "" {
		return ParseAmount(whole)
	}
	return ParseAmount(cmp.Or(whole, "0") + "." + frac)
}

// String formats a as "1234.56" (negative amounts as "-1234.56").
func (a Amount) String() string { return string(a.appendTo(nil)) }

func (a Amount) appendTo(b []byte) []byte {
	v := int64(a)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	c := v % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// MarshalText writes a as "427.81"; JSON quotes it into a string.
// (MarshalText rather than MarshalJSON: encoding/json re-validates the
// output of MarshalJSON, which doubled the cost of encoding an event.)
func (a Amount) MarshalText() ([]byte, error) { return a.appendTo(nil), nil }

// UnmarshalJSON reads a JSON string such as "427.81". JSON numbers are refused
// on purpose: they invite float rounding in the sender.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("amount must be a decimal string like \"427.81\", not %s", b)
	}
	v, err := ParseAmount(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
