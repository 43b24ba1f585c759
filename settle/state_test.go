package settle

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"baixa"
)

func TestApply(t *testing.T) {
	day := func(d int) baixa.Date { return baixa.Date{Year: 2026, Month: 11, Day: d} }
	charge := func(status baixa.ChargeStatus, paid baixa.Amount) baixa.Charge {
		c := baixa.Charge{ID: "chg_1", Amount: 10000, Status: status, PaidAmount: paid, DueDate: day(20)}
		if paid > 0 {
			c.PaidOn = day(10)
		}
		return c
	}
	paid := func(amount baixa.Amount, on int) *baixa.Movement {
		return &baixa.Movement{Kind: baixa.MovePaid, PaidAmount: amount, PaidOn: day(on), FeeAmount: 170}
	}
	kind := func(k baixa.MovementKind) *baixa.Movement { return &baixa.Movement{Kind: k} }
	at := func(minute int) time.Time { return time.Date(2026, 11, 24, 10, minute, 0, 0, baixa.SaoPaulo) }
	E := func(ts ...baixa.EventType) []baixa.EventType { return ts }
	for _, tc := range []struct {
		name       string
		charge     baixa.Charge
		m          *baixa.Movement
		result     baixa.MovementResult
		status     baixa.ChargeStatus
		paidAmount baixa.Amount
		events     []baixa.EventType
	}{
		{"open paid in full", charge(baixa.StatusOpen, 0), paid(10000, 12), baixa.ResultApplied, baixa.StatusPaid, 10000, E(baixa.EventChargePaid)},
		{"overdue paid with interest", charge(baixa.StatusOverdue, 0), &baixa.Movement{Kind: baixa.MovePaid, PaidAmount: 10250, InterestAmount: 250}, baixa.ResultApplied, baixa.StatusPaid, 10250, E(baixa.EventChargePaid)},
		{"paid with a discount covers the face", charge(baixa.StatusOpen, 0), &baixa.Movement{Kind: baixa.MovePaid, PaidAmount: 9500, DiscountAmount: 500}, baixa.ResultApplied, baixa.StatusPaid, 9500, E(baixa.EventChargePaid)},
		{"open paid in part", charge(baixa.StatusOpen, 0), paid(4000, 12), baixa.ResultApplied, baixa.StatusPartiallyPaid, 4000, E(baixa.EventChargePartiallyPaid)},
		{"partial payments accumulate to paid", charge(baixa.StatusPartiallyPaid, 4000), paid(6000, 13), baixa.ResultApplied, baixa.StatusPaid, 10000, E(baixa.EventChargePaid)},
		{"partial payments that stay short", charge(baixa.StatusPartiallyPaid, 4000), paid(1000, 13), baixa.ResultApplied, baixa.StatusPartiallyPaid, 5000, E(baixa.EventChargePartiallyPaid)},
		{"paid without an amount is paid", charge(baixa.StatusOpen, 0), &baixa.Movement{Kind: baixa.MovePaid}, baixa.ResultApplied, baixa.StatusPaid, 0, E(baixa.EventChargePaid)},
		{"paid again is a conflict", charge(baixa.StatusPaid, 10000), paid(10000, 15), baixa.ResultConflict, baixa.StatusPaid, 10000, E(baixa.EventChargeConflict)},
		{"the same payment from another source is a duplicate", charge(baixa.StatusPaid, 10000), paid(10000, 10), baixa.ResultDuplicate, baixa.StatusPaid, 10000, nil},
		{"paid after write-off (CNAB 17)", charge(baixa.StatusWrittenOff, 0), paid(10000, 12), baixa.ResultConflict, baixa.StatusPaid, 10000, E(baixa.EventChargePaid, baixa.EventChargeConflict)},
		{"paid after cancel", charge(baixa.StatusCancelled, 0), paid(10000, 12), baixa.ResultConflict, baixa.StatusPaid, 10000, E(baixa.EventChargePaid, baixa.EventChargeConflict)},
		{"declined then paid", charge(baixa.StatusDeclined, 0), paid(10000, 12), baixa.ResultApplied, baixa.StatusPaid, 10000, E(baixa.EventChargePaid)},
		{"written off", charge(baixa.StatusOpen, 0), kind(baixa.MoveWrittenOff), baixa.ResultApplied, baixa.StatusWrittenOff, 0, E(baixa.EventChargeWrittenOff)},
		{"partially paid then written off", charge(baixa.StatusPartiallyPaid, 4000), kind(baixa.MoveWrittenOff), baixa.ResultApplied, baixa.StatusWrittenOff, 4000, E(baixa.EventChargeWrittenOff)},
		{"written off twice", charge(baixa.StatusWrittenOff, 0), kind(baixa.MoveWrittenOff), baixa.ResultDuplicate, baixa.StatusWrittenOff, 0, nil},
		{"write-off of a paid charge", charge(baixa.StatusPaid, 10000), kind(baixa.MoveWrittenOff), baixa.ResultConflict, baixa.StatusPaid, 10000, E(baixa.EventChargeConflict)},
		{"cancelled", charge(baixa.StatusOverdue, 0), kind(baixa.MoveCancelled), baixa.ResultApplied, baixa.StatusCancelled, 0, E(baixa.EventChargeCancelled)},
		{"cancel a paid charge", charge(baixa.StatusPaid, 10000), kind(baixa.MoveCancelled), baixa.ResultConflict, baixa.StatusPaid, 10000, E(baixa.EventChargeConflict)},
		{"written off, then cancelled", charge(baixa.StatusWrittenOff, 0), kind(baixa.MoveCancelled), baixa.ResultApplied, baixa.StatusCancelled, 0, E(baixa.EventChargeCancelled)},
		{"overdue", charge(baixa.StatusOpen, 0), kind(baixa.MoveOverdue), baixa.ResultApplied, baixa.StatusOverdue, 0, E(baixa.EventChargeOverdue)},
		{"overdue after paid is stale", charge(baixa.StatusPaid, 10000), kind(baixa.MoveOverdue), baixa.ResultDuplicate, baixa.StatusPaid, 10000, nil},
		{"declined", charge(baixa.StatusOpen, 0), &baixa.Movement{Kind: baixa.MoveDeclined, ProviderStatus: "51"}, baixa.ResultApplied, baixa.StatusDeclined, 0, E(baixa.EventChargeDeclined)},
		{"declined after paid", charge(baixa.StatusPaid, 10000), kind(baixa.MoveDeclined), baixa.ResultDuplicate, baixa.StatusPaid, 10000, nil},
		{"registration rejected", charge(baixa.StatusOpen, 0), kind(baixa.MoveRejected), baixa.ResultApplied, baixa.StatusDeclined, 0, E(baixa.EventChargeRejected)},
		{"registered", charge(baixa.StatusOpen, 0), kind(baixa.MoveRegistered), baixa.ResultApplied, baixa.StatusOpen, 0, E(baixa.EventChargeRegistered)},
		{"due date changed on an overdue charge reopens it", charge(baixa.StatusOverdue, 0), &baixa.Movement{Kind: baixa.MoveDueDateChanged, DueDate: day(30)}, baixa.ResultApplied, baixa.StatusOpen, 0, E(baixa.EventChargeDueDateChanged)},
		{"due date unchanged", charge(baixa.StatusOpen, 0), &baixa.Movement{Kind: baixa.MoveDueDateChanged, DueDate: day(20)}, baixa.ResultDuplicate, baixa.StatusOpen, 0, nil},
		{"status changed", charge(baixa.StatusOpen, 0), &baixa.Movement{Kind: baixa.MoveStatusChanged, ProviderStatus: "10"}, baixa.ResultApplied, baixa.StatusOpen, 0, E(baixa.EventChargeStatusChanged)},
		{"status unchanged", baixa.Charge{Status: baixa.StatusOpen, ProviderStatus: "10"}, &baixa.Movement{Kind: baixa.MoveStatusChanged, ProviderStatus: "10"}, baixa.ResultDuplicate, baixa.StatusOpen, 0, nil},
		// BMP's "8" settled after its later "9": stale, the paid status stays.
		{"a status reported before the latest report", baixa.Charge{Status: baixa.StatusPaid, ProviderStatus: "paga", ReportedAt: at(9)},
			&baixa.Movement{Kind: baixa.MoveStatusChanged, ProviderStatus: "liberada", OccurredAt: at(8)}, baixa.ResultDuplicate, baixa.StatusPaid, 0, nil},
		{"a status reported after the latest report", baixa.Charge{Status: baixa.StatusPaid, ProviderStatus: "paga", ReportedAt: at(9)},
			&baixa.Movement{Kind: baixa.MoveStatusChanged, ProviderStatus: "cedida", OccurredAt: at(10)}, baixa.ResultApplied, baixa.StatusPaid, 0, E(baixa.EventChargeStatusChanged)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.charge
			o := Apply(tc.charge, tc.m)
			if o.Result != tc.result || o.Charge.Status != tc.status || o.Charge.PaidAmount != tc.paidAmount || !slices.Equal(o.Events, tc.events) {
				t.Errorf("Apply = result %s status %s paid %s events %v (%s); want %s %s %s %v",
					o.Result, o.Charge.Status, o.Charge.PaidAmount, o.Events, o.Reason, tc.result, tc.status, tc.paidAmount, tc.events)
			}
			if o.Result == baixa.ResultDuplicate && !reflect.DeepEqual(o.Charge, before) {
				t.Errorf("a duplicate changed the charge: %+v", o.Charge)
			}
			if o.Result == baixa.ResultApplied && tc.m.OccurredAt.After(before.ReportedAt) && !o.Charge.ReportedAt.Equal(tc.m.OccurredAt) {
				t.Errorf("reported_at = %v, want the movement's %v", o.Charge.ReportedAt, tc.m.OccurredAt)
			}
			if o.Result == baixa.ResultConflict && o.Charge.Conflict == "" {
				t.Error("a conflict is not noted on the charge")
			}
			if tc.m.Kind == baixa.MovePaid && o.Result == baixa.ResultApplied && tc.m.FeeAmount > 0 && o.Charge.FeeAmount != before.FeeAmount+tc.m.FeeAmount {
				t.Errorf("fee not accumulated: %s", o.Charge.FeeAmount)
			}
		})
	}
}
