// Package webhook delivers events to ERP endpoints the Standard Webhooks
// way: signed (webhook-id, webhook-timestamp, webhook-signature), retried on
// a schedule, in order per charge, through a dialer that refuses private
// and internal addresses.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// secretKey decodes a "whsec_" secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New("webhook: a secret starts with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret is not base64: %w", err)
	}
	return key, nil
}

// Sign returns the "v1,<base64>" signature of body sent as message id at
// timestamp ts (Unix seconds): HMAC-SHA256 keyed with the decoded secret
// over "id.ts.body".
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts, body)), nil
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// SignatureHeader returns the webhook-signature header: one signature per
// secret, separated by spaces (more than one while a secret is rotated).
func SignatureHeader(secrets []string, id string, ts int64, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Verification errors.
var (
	ErrNoSignature  = errors.New("webhook: no valid signature")
	ErrTimestamp    = errors.New("webhook: timestamp outside the tolerance")
	ErrMissingField = errors.New("webhook: webhook-id, webhook-timestamp and webhook-signature are required")
)

// Verify checks a received webhook as a receiver would: the timestamp within
// tolerance of now (against replays), and one of the space-separated
// signatures in sigHeader matching body under secret.
func Verify(secret, id, timestamp, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || sigHeader == "" {
		return ErrMissingField
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigHeader) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoSignature
}
