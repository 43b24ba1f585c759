package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"baixa"
)

// sealedPrefix marks a value encrypted with the secret key (AES-256-GCM,
// random nonce): "sealed:v1:" + base64(nonce || ciphertext).
const sealedPrefix = "sealed:v1:"

// SetSecretKey makes the store encrypt secrets it writes (webhook signing
// secrets, provider credentials) with key, 32 bytes. Values written before,
// in clear, stay readable.
func (db *DB) SetSecretKey(key []byte) error {
	if len(key) != 32 {
		return errors.New("store: the secret key has 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	db.aead = aead
	return nil
}

// seal encrypts v when a secret key is set; "" stays "".
func (db *DB) seal(v string) string {
	if db.aead == nil || v == "" {
		return v
	}
	nonce := make([]byte, db.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	return sealedPrefix + base64.StdEncoding.EncodeToString(db.aead.Seal(nonce, nonce, []byte(v), nil))
}

// unseal reverses seal; a value in clear is returned as it is.
func (db *DB) unseal(v string) (string, error) {
	b64, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return v, nil
	}
	if db.aead == nil {
		return "", baixa.Errorf(baixa.EUnavailable, "a stored secret is encrypted: start baixa with its BAIXA_SECRET_KEY")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < db.aead.NonceSize() {
		return "", fmt.Errorf("store: a sealed secret is damaged")
	}
	n := db.aead.NonceSize()
	out, err := db.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", baixa.Errorf(baixa.EUnavailable, "a stored secret does not open with this BAIXA_SECRET_KEY (was it changed?)")
	}
	return string(out), nil
}
