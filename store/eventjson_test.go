package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"baixa"
)

// TestAppendEvent: the hand encoder reads back exactly as encoding/json's
// output does, for plain and awkward values.
func TestAppendEvent(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 11, 12, 123456000, time.UTC)
	full := &baixa.Charge{
		ID: "chg_1", AccountID: "acc_1", Kind: baixa.KindBoleto, Status: baixa.StatusPaid, ProviderStatus: "06",
		Amount: 42781, DueDate: baixa.Date{Year: 2026, Month: 12, Day: 1},
		Payer:       baixa.Payer{Name: "José \"Zé\" da Silva\n\t\\ <b>&", Document: "52998224725"},
		Description: "ação \x01 \xff fim", Metadata: json.RawMessage(`{"erp": [1, 2, {"x": "y"}]}`),
		References: baixa.References{NossoNumero: "0000000083", SeuNumero: "NF-1", Barcode: "3419"},
		PaidAmount: 42781, InterestAmount: 12, FineAmount: 3, DiscountAmount: 1, RebateAmount: 2, FeeAmount: 170, CreditedAmount: 42611,
		PaidOn: baixa.Date{Year: 2026, Month: 11, Day: 20}, CreditedOn: baixa.Date{Year: 2026, Month: 11, Day: 21},
		Conflict: "paid after being written_off", PaymentLink: "https://pay.example/f?id=1&x=\"y\"", Sequence: 7, CreatedAt: at, UpdatedAt: at.Add(time.Second), ReportedAt: at.Add(-time.Minute),
	}
	for name, e := range map[string]*baixa.Event{
		"full":     {ID: "evt_1", Type: baixa.EventChargePaid, AccountID: "acc_1", ChargeID: "chg_1", Sequence: 7, Charge: full, CreatedAt: at},
		"bare":     {ID: "evt_2", Type: baixa.EventMovementUnmatched, AccountID: "acc_1", CreatedAt: at},
		"no payer": {ID: "evt_3", Type: baixa.EventChargeOverdue, AccountID: "a", ChargeID: "c", Sequence: 1, Charge: &baixa.Charge{ID: "c", Payer: baixa.Payer{Document: "1"}}, CreatedAt: at},
		"resolution": {ID: "evt_5", Type: baixa.EventMovementResolved, AccountID: "a", CreatedAt: at,
			Resolution: &baixa.Resolution{MovementID: "mov_1", State: baixa.ResolvedRefunded, Amount: 15000, Note: "devolvido \"pix\"", ByKeyID: "key_1", ByKeyName: "ops", At: at}},
		"zero time": {ID: "evt_4", Type: baixa.EventChargeOverdue, Charge: &baixa.Charge{}},
	} {
		var want, got baixa.Event
		std, _ := json.Marshal(e)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		raw := appendEvent(nil, e)
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: invalid JSON %s: %v", name, raw, err)
		}
		if want.Charge != nil && want.Charge.Metadata != nil {
			// encoding/json compacts raw JSON; compare the values.
			var a, b any
			json.Unmarshal(want.Charge.Metadata, &a)
			json.Unmarshal(got.Charge.Metadata, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: metadata %s, want %s", name, got.Charge.Metadata, want.Charge.Metadata)
			}
			want.Charge.Metadata, got.Charge.Metadata = nil, nil
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s:\n got %+v\nwant %+v\n%s", name, got, want, raw)
		}
	}
}
