package baixa

import (
	"testing"
	"time"
)

func TestAttentionOf(t *testing.T) {
	for _, tc := range []struct {
		m    Movement
		want AttentionKind
	}{
		{Movement{Result: ResultUnmatched, Kind: MovePaid}, AttentionUnmatched},
		{Movement{Result: ResultConflict, Kind: MovePaid, Reason: "paid again (150.00 on 2026-12-02) after being paid"}, AttentionPaidTwice},
		{Movement{Result: ResultConflict, Kind: MovePaid, Reason: "paid after being written_off"}, AttentionPaidAfterWriteOff},
		{Movement{Result: ResultConflict, Kind: MoveWrittenOff, Reason: "written_off after being paid"}, AttentionConflict},
		{Movement{Result: ResultApplied, Kind: MoveRejected}, AttentionDeclined},
		{Movement{Result: ResultApplied, Kind: MovePaid, Reason: ReasonPaidWithoutAmount}, AttentionFlagged},
		{Movement{Result: ResultApplied, Kind: MovePaid}, ""},
		{Movement{Result: ResultDuplicate, Kind: MoveDeclined}, ""},
	} {
		if got := AttentionOf(&tc.m); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestIDAt(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	lo := IDAt("mov", at)
	for range 1000 {
		if id := NewID("mov", at); id < lo {
			t.Fatalf("%s sorts before %s", id, lo)
		}
		if id := NewID("mov", at.Add(-time.Millisecond)); id >= lo {
			t.Fatalf("%s, a millisecond before, sorts at or after %s", id, lo)
		}
	}
}
