package baixa_test

import (
	"encoding/json"
	"testing"
	"time"

	"baixa"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want baixa.Amount
		bad  bool
	}{
		{"427.81", 42781, false}, {"0", 0, false}, {"10", 1000, false}, {"0.5", 50, false},
		{"00012.30", 1230, false}, {"999999999999999.99", 99999999999999999, false},
		{"1.234", 0, true}, {"-1.00", 0, true}, {"1,00", 0, true}, {"", 0, true}, {".5", 0, true},
		{"5.", 0, true}, {"1e3", 0, true}, {" 1.00", 0, true}, {"1000000000000000", 0, true}, {"0x10", 0, true},
	} {
		got, err := baixa.ParseAmount(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	for _, tc := range []struct {
		a    baixa.Amount
		want string
	}{{42781, `"427.81"`}, {5, `"0.05"`}, {0, `"0.00"`}, {-150, `"-1.50"`}} {
		b, _ := json.Marshal(tc.a)
		if string(b) != tc.want {
			t.Errorf("Marshal(%d) = %s, want %s", tc.a, b, tc.want)
		}
	}
	var a baixa.Amount
	if err := json.Unmarshal([]byte(`427.81`), &a); err == nil {
		t.Error("a JSON number was accepted as an amount")
	}
	if err := json.Unmarshal([]byte(`"427.81"`), &a); err != nil || a != 42781 {
		t.Errorf("Unmarshal = %d, %v", a, err)
	}
}

func TestDate(t *testing.T) {
	d, err := baixa.ParseDate("2026-02-28")
	if err != nil || d.String() != "2026-02-28" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2026-02-29", "28/02/2026", "2026-2-28", ""} {
		if _, err := baixa.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	b, _ := json.Marshal(struct {
		D baixa.Date `json:"d,omitzero"`
		E baixa.Date `json:"e"`
	}{E: baixa.Date{Year: 2026, Month: 3, Day: 5}})
	if string(b) != `{"e":"2026-03-05"}` {
		t.Errorf("dates marshal to %s", b)
	}
	var back baixa.Date
	if err := json.Unmarshal([]byte(`null`), &back); err != nil || !back.IsZero() {
		t.Errorf("null date: %v %v", back, err)
	}
	if !(baixa.Date{2026, 1, 31}).Before(baixa.Date{2026, 2, 1}) {
		t.Error("Before is wrong")
	}
}

func TestTaxID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"529.982.247-25", true}, {"52998224725", true}, {"52998224724", false}, {"111.111.111-11", false},
		{"11.222.333/0001-81", true}, {"11222333000180", false},
		{"12.ABC.345/01DE-35", true}, // the Receita's example of the alphanumeric CNPJ
		{"12ABC34501DE34", false}, {"12abc34501de35", true}, {"1234", false}, {"5299822472X", false},
	} {
		err := baixa.ValidateTaxID(baixa.NormalizeTaxID(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTaxID(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestNormalizeNossoNumero(t *testing.T) {
	for in, want := range map[string]string{
		"0000000083": "83", "83": "83", "0000083-1": "831", "000": "0", "": "", "abc": "", "12.345-6": "123456",
	} {
		if got := baixa.NormalizeNossoNumero(in); got != want {
			t.Errorf("NormalizeNossoNumero(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := range 10000 {
		id := baixa.NewID("chg", time.UnixMilli(int64(1_800_000_000_000+i/100)))
		if len(id) != 30 || id[:4] != "chg_" || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		if i%100 == 0 && id <= prev {
			t.Fatalf("ids do not sort by time: %s after %s", id, prev)
		}
		seen[id], prev = true, id
	}
}

func TestParseExactAmount(t *testing.T) {
	for in, want := range map[string]string{"85.0000": "85.00", "150.0": "150.00", "22": "22.00", ".5": "0.50", "12.3400": "12.34", "150.": "150.00"} {
		if a, err := baixa.ParseExactAmount(in); err != nil || a.String() != want {
			t.Errorf("ParseExactAmount(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, in := range []string{"10.005", "-1", "1e3", "abc", ""} {
		if a, err := baixa.ParseExactAmount(in); err == nil {
			t.Errorf("ParseExactAmount(%q) = %v, want an error", in, a)
		}
	}
}
