package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/dbtest"
)

func TestSecretsSealedAtRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		key := bytes.Repeat([]byte{7}, 32)
		if err := db.SetSecretKey(key); err != nil {
			t.Fatal(err)
		}
		secret := baixa.NewWebhookSecret()
		e := &baixa.Endpoint{URL: "https://erp.example.com/hooks", Secret: secret, Ordered: true}
		if err := db.CreateEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.R.QueryRowContext(ctx, `SELECT secret FROM endpoints`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, secret[6:]) || !strings.HasPrefix(stored, "sealed:v1:") {
			t.Fatalf("stored in clear: %q", stored)
		}
		got, err := db.FindEndpointByID(ctx, e.ID)
		if err != nil || got.Secret != secret {
			t.Fatalf("read back %q, %v", got.Secret, err)
		}
		rotated := baixa.NewWebhookSecret()
		got, err = db.RotateSecret(ctx, e.ID, rotated, 3600e9)
		if err != nil || got.Secret != rotated || got.PreviousSecret != secret {
			t.Fatalf("rotated: %q %q %v", got.Secret, got.PreviousSecret, err)
		}

		// Another key, or none, cannot read it, and says why.
		if err := db.SetSecretKey(bytes.Repeat([]byte{8}, 32)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindEndpointByID(ctx, e.ID); !baixa.IsCode(err, baixa.EUnavailable) || !strings.Contains(err.Error(), "BAIXA_SECRET_KEY") {
			t.Errorf("wrong key: %v", err)
		}
		if err := db.SetSecretKey([]byte("short")); err == nil {
			t.Error("a short key was taken")
		}
	})
}
