package baixa

import "testing"

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
