package store_test

import (
	"bytes"
	"context"
	"encoding/json"
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
		if err := db.Endpoints.CreateEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.R.QueryRowContext(ctx, `SELECT secret FROM endpoints`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, secret[6:]) || !strings.HasPrefix(stored, "sealed:v1:") {
			t.Fatalf("stored in clear: %q", stored)
		}
		got, err := db.Endpoints.FindEndpointByID(ctx, e.ID)
		if err != nil || got.Secret != secret {
			t.Fatalf("read back %q, %v", got.Secret, err)
		}
		rotated := baixa.NewWebhookSecret()
		got, err = db.Endpoints.RotateSecret(ctx, e.ID, rotated, 3600e9)
		if err != nil || got.Secret != rotated || got.PreviousSecret != secret {
			t.Fatalf("rotated: %q %q %v", got.Secret, got.PreviousSecret, err)
		}

		// Another key, or none, cannot read it, and says why.
		if err := db.SetSecretKey(bytes.Repeat([]byte{8}, 32)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Endpoints.FindEndpointByID(ctx, e.ID); !baixa.IsCode(err, baixa.EUnavailable) || !strings.Contains(err.Error(), "BAIXA_SECRET_KEY") {
			t.Errorf("wrong key: %v", err)
		}
		if err := db.SetSecretKey([]byte("short")); err == nil {
			t.Error("a short key was taken")
		}
	})
}

// The secret key is replaced without downtime: with the new key and the
// old one as previous, everything reads; ResealSecrets moves what the old
// key sealed to the new one, after which the old key is not needed.
func TestSecretKeyRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		oldKey, newKey := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32)
		if err := db.SetSecretKey(oldKey); err != nil {
			t.Fatal(err)
		}
		secret := baixa.NewWebhookSecret()
		e := &baixa.Endpoint{URL: "https://erp.example.com/hooks", Secret: secret, Ordered: true}
		if err := db.Endpoints.CreateEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		a := newAccount(t, db)
		c := &baixa.Connection{AccountID: a.ID, Provider: "bmp", Settings: json.RawMessage(`{}`), Secrets: map[string]string{"token": "tok-0123456789"}}
		if err := db.Connections.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		read := func(what string) {
			t.Helper()
			if got, err := db.Endpoints.FindEndpointByID(ctx, e.ID); err != nil || got.Secret != secret {
				t.Errorf("%s: endpoint %v, %v", what, got, err)
			}
			if got, err := db.Connections.FindConnectionByID(ctx, c.ID); err != nil || got.Secrets["token"] != "tok-0123456789" {
				t.Errorf("%s: connection secrets %v, %v", what, got, err)
			}
		}
		if err := db.SetSecretKey(newKey, oldKey); err != nil {
			t.Fatal(err)
		}
		read("new key, old one previous")
		n, err := db.ResealSecrets(ctx)
		if err != nil || n != 2 {
			t.Fatalf("ResealSecrets = %d, %v; want 2 values", n, err)
		}
		if n, err := db.ResealSecrets(ctx); err != nil || n != 0 {
			t.Errorf("ResealSecrets again = %d, %v; want nothing left", n, err)
		}
		if err := db.SetSecretKey(newKey); err != nil {
			t.Fatal(err)
		}
		read("new key alone")
		if err := db.SetSecretKey(oldKey); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Endpoints.FindEndpointByID(ctx, e.ID); !baixa.IsCode(err, baixa.EUnavailable) {
			t.Errorf("the old key still opens what was resealed: %v", err)
		}
	})
}
