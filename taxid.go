package baixa

import (
	"fmt"
	"strings"
)

// NormalizeTaxID strips the punctuation of a formatted CPF or CNPJ
// ("123.456.789-09", "12.ABC.345/01DE-35") and upper-cases letters, so that
// stored documents compare equal however they were typed.
func NormalizeTaxID(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '.' || r == '-' || r == '/' || r == ' ':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ValidateTaxID checks a normalized CPF (11 digits) or CNPJ (14 characters:
// 12 digits or upper-case letters, the alphanumeric CNPJ of 2026, then 2
// check digits) and its check digits.
func ValidateTaxID(s string) error {
	switch len(s) {
	case 11:
		for i := 0; i < 11; i++ {
			if s[i] < '0' || s[i] > '9' {
				return fmt.Errorf("CPF must have 11 digits")
			}
		}
		if allSame(s) || checkDigit(s[:9], 10) != s[9] || checkDigit(s[:10], 11) != s[10] {
			return fmt.Errorf("CPF %s has wrong check digits", s)
		}
		return nil
	case 14:
		for i := 0; i < 12; i++ {
			c := s[i]
			if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
				return fmt.Errorf("CNPJ may only have digits and upper-case letters")
			}
		}
		if s[12] < '0' || s[12] > '9' || s[13] < '0' || s[13] > '9' {
			return fmt.Errorf("CNPJ check digits must be digits")
		}
		if allSame(s) || cnpjDigit(s[:12]) != s[12] || cnpjDigit(s[:13]) != s[13] {
			return fmt.Errorf("CNPJ %s has wrong check digits", s)
		}
		return nil
	}
	return fmt.Errorf("want a CPF (11 digits) or a CNPJ (14 characters), got %d characters", len(s))
}

func allSame(s string) bool { return strings.Count(s, s[:1]) == len(s) }

// checkDigit is the CPF modulo-11 digit with weights start, start-1, ..., 2.
func checkDigit(s string, start int) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += int(s[i]-'0') * (start - i)
	}
	return mod11(sum)
}

// cnpjDigit uses weights 2..9 from the right; a character counts as its
// ASCII code minus 48, which makes letters work as the Receita defined.
func cnpjDigit(s string) byte {
	sum, w := 0, 2
	for i := len(s) - 1; i >= 0; i-- {
		sum += int(s[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	return mod11(sum)
}

func mod11(sum int) byte {
	r := sum % 11
	if r < 2 {
		return '0'
	}
	return byte('0' + 11 - r)
}
