package baixa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// Roles an API key may have, each allowing what the one before allows.
const (
	RoleRead     = "read"     // reads everything; writes nothing
	RoleOperator = "operator" // also settles by hand, imports, runs connections, retries and replays deliveries
	RoleAdmin    = "admin"    // also manages accounts, connections, endpoints, API keys, and reads the audit log
)

// Roles lists the roles from the least to the most allowed.
var Roles = []string{RoleRead, RoleOperator, RoleAdmin}

// RoleAllows reports whether role includes need.
func RoleAllows(role, need string) bool {
	rank := func(r string) int {
		for i, x := range Roles {
			if x == r {
				return i
			}
		}
		return -1
	}
	return rank(role) >= 0 && rank(role) >= rank(need)
}

// APIKey is a credential for the /v1 API. Only a hash of its secret is
// stored; the secret is shown once, when the key is made.
type APIKey struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Prefix string `json:"prefix"`
	// AccountID, when set, confines the key to one account: its charges
	// (with their payments), its events, movements and imports.
	AccountID string `json:"account_id,omitempty"`
	// Secret is set only on the answer that creates or rotates the key.
	Secret     string    `json:"key,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// ExpiresAt ends a rotated-out key's overlap; RevokedAt a revoked one.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Active reports whether k may be used at now.
func (k *APIKey) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// ConfiguredKeyID is the id of the key baixa is started with
// (BAIXA_API_KEY, or the one generated on first start): the first admin key.
const ConfiguredKeyID = "key_configured"

// keyPrefix starts every key baixa makes, so that a leaked one is
// recognised (by secret scanners too).
const keyPrefix = "bx_"

// NewAPIKeySecret returns a new random key: 32 bytes, base32.
func NewAPIKeySecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return keyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashAPIKey is what is stored of a key: its SHA-256. A key is random and
// long, so a plain hash is enough (no password stretching needed).
func HashAPIKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// KeyPrefix is the part of a key that may be shown.
func KeyPrefix(secret string) string {
	if len(secret) <= 10 {
		return secret[:min(len(secret), 3)]
	}
	return secret[:10]
}

// APIKeyService stores API keys.
type APIKeyService interface {
	// CreateAPIKey stores k with the hash of secret.
	CreateAPIKey(ctx context.Context, k *APIKey, secret string) error
	// FindAPIKeyBySecret returns the active key whose secret this is
	// (ENotFound for none, a revoked or an expired one), and notes its use.
	FindAPIKeyBySecret(ctx context.Context, secret string) (*APIKey, error)
	FindAPIKeyByID(ctx context.Context, id string) (*APIKey, error)
	FindAPIKeys(ctx context.Context, p Page) ([]*APIKey, string, error)
	// RotateAPIKey makes a key with id's name and role and the new secret,
	// and ends id's use after overlap (at once when 0). It returns the new key.
	RotateAPIKey(ctx context.Context, id, secret string, overlap time.Duration) (*APIKey, error)
	// RevokeAPIKey ends id's use at once.
	RevokeAPIKey(ctx context.Context, id string) error
	// EnsureAPIKey stores the configured key (BAIXA_API_KEY, or the one
	// generated on first start) as the admin key id, replacing the secret
	// it had: the key baixa is started with is always an admin key.
	EnsureAPIKey(ctx context.Context, id, name, secret string) error
}

// AuditEntry is one write made through the API: who, what, when, and the
// resource before and after (secrets removed).
type AuditEntry struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	KeyName   string    `json:"key_name"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Operation string    `json:"operation"`
	Status    int       `json:"status"`
	Before    string    `json:"before,omitempty"`
	After     string    `json:"after,omitempty"`
}

// AuditService keeps the audit log.
type AuditService interface {
	AddAudit(ctx context.Context, e *AuditEntry) error
	// FindAudit lists entries, newest first.
	FindAudit(ctx context.Context, keyID string, p Page) ([]*AuditEntry, string, error)
}
