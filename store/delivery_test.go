package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
)

// A claim returns the due deliveries, each with its event's
// body as the feed shows it; an ordered endpoint gets a charge's earliest
// event only; on PostgreSQL what is claimed is leased.
func TestClaimDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		ep := &baixa.Endpoint{URL: "https://erp.example.com/hooks", Secret: baixa.NewWebhookSecret(), Ordered: true}
		if err := db.Endpoints.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		es := []*baixa.Event{
			{ID: baixa.NewID("evt", at), Type: baixa.EventChargePaid, AccountID: "acc_1", ChargeID: "chg_1", Sequence: 1, CreatedAt: at},
			{ID: baixa.NewID("evt", at.Add(time.Millisecond)), Type: baixa.EventChargePaid, AccountID: "acc_1", ChargeID: "chg_1", Sequence: 2, CreatedAt: at},
			{ID: baixa.NewID("evt", at.Add(2*time.Millisecond)), Type: baixa.EventChargePaid, AccountID: "acc_1", ChargeID: "chg_2", Sequence: 1, CreatedAt: at},
		}
		if err := db.Movements.WriteTx(ctx, func(tx baixa.SettleTx) error { return tx.InsertEvents(ctx, es) }); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		ds, bodies, err := db.Deliveries.ClaimDeliveries(ctx, ep, now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.EventID)
			var e baixa.Event
			if err := json.Unmarshal(bodies[d.EventID], &e); err != nil || e.ID != d.EventID || e.Cursor == "" || e.ChargeID != d.ChargeID {
				t.Errorf("body of %s = %s (%v)", d.EventID, bodies[d.EventID], err)
			}
		}
		slices.Sort(got) // made in one millisecond: their order is their ids' random part
		if !slices.Equal(got, []string{es[0].ID, es[2].ID}) || len(bodies) != 2 {
			t.Fatalf("claimed %v with %d bodies; want the first event of each charge, %s and %s", got, len(bodies), es[0].ID, es[2].ID)
		}
		if strings.HasPrefix(url, "postgres") {
			again, _, err := db.Deliveries.ClaimDeliveries(ctx, ep, now, time.Minute, 10)
			if err != nil || len(again) != 0 {
				t.Fatalf("claimed again while leased: %d, %v", len(again), err)
			}
		}
	})
}
