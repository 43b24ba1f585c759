package console

import (
	"testing"
	"time"

	"baixa"
)

func TestFormats(t *testing.T) {
	for a, want := range map[baixa.Amount]string{0: "R$ 0,00", 5: "R$ 0,05", 123456: "R$ 1.234,56", 100000000: "R$ 1.000.000,00", -4250: "R$ -42,50"} {
		if got := money(a); got != want {
			t.Errorf("money(%d) = %q, want %q", a, got, want)
		}
	}
	if got := day(baixa.Date{Year: 2026, Month: 12, Day: 3}); got != "03/12/2026" {
		t.Errorf("day: %q", got)
	}
	// 02:30 UTC is still the day before in São Paulo.
	if got := when(time.Date(2026, 12, 4, 2, 30, 0, 0, time.UTC)); got != "03/12/2026 23:30:00" {
		t.Errorf("when: %q", got)
	}
	for in, want := range map[string]string{"1.234,56": "1234.56", "R$ 42,00": "42.00", "1234.56": "1234.56", " 7 ": "7", "1,2,3": "1.2,3"} {
		if got := decimal(in); got != want {
			t.Errorf("decimal(%q) = %q, want %q", in, got, want)
		}
	}
	if translate("pt-BR", "paid") != "paga" || translate("en", "paid") != "paid" || translate("pt-BR", "no such words") != "no such words" {
		t.Error("translate")
	}
}

func TestSession(t *testing.T) {
	s, err := newSealer([]byte("a key"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v := &session{Key: "secret-api-key", Expires: now.Add(time.Hour).Unix(), Nonce: "n1", Name: "secret-api…"}
	sealed, err := s.seal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(sealed, now)
	if err != nil || *got != *v {
		t.Fatalf("open: %v %v", got, err)
	}
	if _, err := s.open(sealed, now.Add(time.Hour)); err == nil {
		t.Error("an expired session opened")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	if _, err := s.open(string(tampered), now); err == nil {
		t.Error("a tampered session opened")
	}
	other, _ := newSealer([]byte("another key"))
	if _, err := other.open(sealed, now); err == nil {
		t.Error("a session sealed under another key opened")
	}
	if !s.checkCSRF(v, s.csrf(v)) || s.checkCSRF(v, "") || s.checkCSRF(&session{Nonce: "n2"}, s.csrf(v)) {
		t.Error("csrf")
	}
}
