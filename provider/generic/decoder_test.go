package generic

import (
	"context"
	"strings"
	"testing"

	"baixa"
)

func decodeAll(t testing.TB, body string) ([]*baixa.Movement, error) {
	var out []*baixa.Movement
	err := Decoder{}.Decode(context.Background(), &baixa.Document{AccountID: "acc_1"}, strings.NewReader(body), func(m *baixa.Movement) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

func TestDecode(t *testing.T) {
	ms, err := decodeAll(t, "\n[ {\"id\": \"p1\", \"kind\": \"paid\", \"references\": {\"nosso_numero\": \"83\", \"seu_numero\": \"S\"},"+
		" \"paid_amount\": \"427.81\", \"fee_amount\": \"1.7\", \"paid_on\": \"2026-11-20\", \"occurred_at\": \"2026-11-20T10:00:00-03:00\"},"+
		" {\"id\": \"d1\", \"kind\": \"due_date_changed\", \"references\": {\"invoice_number\": \"F-1\"}, \"due_date\": \"2026-12-31\", \"account_id\": \"acc_1\"} ]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].PaidAmount != 42781 || ms[0].FeeAmount != 170 || ms[0].PaidOn.String() != "2026-11-20" ||
		ms[0].Key != "p1" || ms[0].OccurredAt.UTC().Hour() != 13 || ms[1].DueDate.String() != "2026-12-31" {
		t.Fatalf("decoded %+v %+v", ms[0], ms[1])
	}
}

func TestDecodeErrors(t *testing.T) {
	for body, want := range map[string]string{
		``:            "JSON ends early",
		`{}`:          "want a JSON array",
		`[1]`:         "movement 1: ",
		`[{"id": "x"`: "movement 1: JSON ends early",
		`[] []`:       "unexpected data after the array",
		`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": 1.5}]`:         "movement 1: amount must be a decimal string",
		`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "1.999"}]`:     "at most two decimal places",
		`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "-1.00"}]`:     "non-negative",
		`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}}]`:                             "paid_amount is required",
		`[{"id": "x", "kind": "teleported", "references": {"nosso_numero": "1"}}]`:                       `kind "teleported"`,
		`[{"id": "x", "kind": "overdue", "references": {}}]`:                                             "at least one reference",
		`[{"id": "x", "kind": "overdue", "references": {"nosso": "1"}}]`:                                 `unknown field "nosso"`,
		`[{"kind": "overdue", "references": {"nosso_numero": "1"}}]`:                                     "id is required",
		`[{"id": "x", "kind": "overdue", "references": {"nosso_numero": "1"}, "paid_on": "20/11/2026"}]`: "want YYYY-MM-DD",
		`[{"id": "x", "kind": "due_date_changed", "references": {"nosso_numero": "1"}}]`:                 "due_date is required",
		`[{"id": "x", "kind": "overdue", "references": {"nosso_numero": "1"}, "account_id": "acc_2"}]`:   "differs from the import's account",
		`[{"id": "ok", "kind": "overdue", "references": {"nosso_numero": "1"}}, {"id": 7}]`:              "movement 2: ",
	} {
		_, err := decodeAll(t, body)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", body, err, want)
		}
	}
}

// FuzzDecode: no input makes the decoder panic, and what it accepts is
// well-formed enough to settle.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`[{"id": "p1", "kind": "paid", "references": {"nosso_numero": "83"}, "paid_amount": "427.81", "paid_on": "2026-11-20"}]`,
		`[{"id": "x", "kind": "overdue", "references": {"seu_numero": "1"}}, {"id": "y"}]`,
		`[`, `{}`, `[]`, `[null]`, `[{"paid_amount": "1e3"}]`, "[\xff]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ms, err := decodeAll(t, body)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Key == "" || len(m.References.List()) == 0 || m.PaidAmount < 0 {
				t.Fatalf("accepted a movement that cannot settle: %+v", m)
			}
		}
	})
}
