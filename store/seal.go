package store

import (
	"context"
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
// in clear, stay readable; so do values sealed with any of previous (the
// keys it replaces, while ResealSecrets moves them to key).
func (db *DB) SetSecretKey(key []byte, previous ...[]byte) error {
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	olds := make([]cipher.AEAD, 0, len(previous))
	for _, p := range previous {
		a, err := newAEAD(p)
		if err != nil {
			return fmt.Errorf("a previous secret key: %w", err)
		}
		olds = append(olds, a)
	}
	db.aead, db.previous = aead, olds
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("store: the secret key has 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
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
	out, _, err := db.open(v)
	return out, err
}

// open unseals v and reports whether it must be sealed again: it is in
// clear, or sealed with a previous key, while a key is set.
func (db *DB) open(v string) (string, bool, error) {
	b64, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return v, db.aead != nil && v != "", nil
	}
	if db.aead == nil {
		return "", false, baixa.Errorf(baixa.EUnavailable, "a stored secret is encrypted: start baixa with its BAIXA_SECRET_KEY")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < db.aead.NonceSize() {
		return "", false, fmt.Errorf("store: a sealed secret is damaged")
	}
	n := db.aead.NonceSize()
	for i, a := range append([]cipher.AEAD{db.aead}, db.previous...) {
		if out, err := a.Open(nil, raw[:n], raw[n:], nil); err == nil {
			return string(out), i > 0, nil
		}
	}
	return "", false, baixa.Errorf(baixa.EUnavailable, "a stored secret does not open with this BAIXA_SECRET_KEY (was it changed? give the old one as BAIXA_SECRET_KEY_PREVIOUS)")
}

// ResealSecrets seals again with the current key every stored secret that
// is in clear or sealed with a previous key, and returns how many values
// it changed. Each is replaced only if it did not change meanwhile, so
// instances may run it at once; reading goes on throughout (both keys open).
func (db *DB) ResealSecrets(ctx context.Context) (int, error) {
	if db.aead == nil {
		return 0, nil
	}
	n := 0
	for _, col := range []struct{ table, column string }{
		{"endpoints", "secret"}, {"endpoints", "previous_secret"}, {"connections", "secrets"},
	} {
		stale, err := db.staleSecrets(ctx, col.table, col.column)
		if err != nil {
			return n, err
		}
		for _, v := range stale {
			res, err := db.on(db.W).ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $2 WHERE id = $1 AND %s = $3`, col.table, col.column, col.column),
				v.id, db.seal(v.clear), v.stored)
			if err != nil {
				return n, fmt.Errorf("reseal %s %s: %w", col.table, v.id, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
	}
	return n, nil
}

// sealedValue is a stored secret as stored, and opened.
type sealedValue struct{ id, stored, clear string }

// staleSecrets returns the values of table.column that must be sealed again.
func (db *DB) staleSecrets(ctx context.Context, table, column string) ([]sealedValue, error) {
	rows, err := db.on(db.R).QueryContext(ctx, fmt.Sprintf(`SELECT id, %s FROM %s WHERE %s <> ''`, column, table, column))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var stale []sealedValue
	for rows.Next() {
		var v sealedValue
		if err := rows.Scan(&v.id, &v.stored); err != nil {
			return nil, err
		}
		var again bool
		if v.clear, again, err = db.open(v.stored); err == nil && again {
			stale = append(stale, v)
		}
	}
	return stale, rows.Err()
}
