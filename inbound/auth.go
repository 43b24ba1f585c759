// Package inbound checks that a provider's callback comes from the provider:
// the authentication methods of baixa.InboundAuth, compared in constant
// time, with an optional source allow-list and a replay window for signed
// requests.
package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"baixa"
)

// Verifier checks callbacks. It remembers signed requests for their
// window, so that the same signed request sent again is refused.
type Verifier struct {
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // signature or JWT id -> until when it counts as seen
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// refuse is the error of a failed check: EUnauthorized, with a reason that
// never quotes a secret.
func refuse(format string, args ...any) error {
	return baixa.Errorf(baixa.EUnauthorized, format, args...)
}

// equal compares in constant time (for equal lengths; the length of a
// configured secret is not a secret worth hiding).
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Check verifies r (whose body is body) against a and the connection's
// secrets.
func (v *Verifier) Check(r *http.Request, body []byte, a baixa.InboundAuth, secrets map[string]string) error {
	if len(a.AllowIPs) > 0 && !allowed(r.RemoteAddr, a.AllowIPs) {
		return refuse("source address not allowed")
	}
	authz := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(authz, " ")
	switch a.Method {
	case baixa.AuthBearer:
		if !strings.EqualFold(scheme, "Bearer") || cred == "" {
			return refuse("missing Authorization: Bearer")
		}
		if !equal(cred, secrets[baixa.SecretToken]) {
			return refuse("wrong bearer token")
		}
	case baixa.AuthAPIKey, baixa.AuthXAPIKey, baixa.AuthHeader:
		name := map[string]string{baixa.AuthAPIKey: "API-Key", baixa.AuthXAPIKey: "X-API-Key", baixa.AuthHeader: a.Header}[a.Method]
		got := r.Header.Get(name)
		if got == "" {
			return refuse("missing %s header", name)
		}
		if !equal(got, secrets[baixa.SecretToken]) {
			return refuse("wrong %s", name)
		}
	case baixa.AuthBasic:
		user, pass, ok := r.BasicAuth()
		if !ok {
			return refuse("missing Authorization: Basic")
		}
		// Both compared, always, so that timing does not tell which was wrong.
		u, p := equal(user, secrets[baixa.SecretUsername]), equal(pass, secrets[baixa.SecretPassword])
		if !u || !p {
			return refuse("wrong user name or password")
		}
	case baixa.AuthHMAC:
		if !strings.EqualFold(scheme, "HMAC") || cred == "" {
			return refuse("missing Authorization: HMAC")
		}
		if !equal(strings.TrimSpace(cred), secrets[baixa.SecretToken]) {
			return refuse("wrong HMAC key")
		}
	case baixa.AuthJWT:
		if !strings.EqualFold(scheme, "Bearer") || cred == "" {
			return refuse("missing Authorization: Bearer <JWT>")
		}
		return v.checkJWT(cred, a, secrets[baixa.SecretJWTKey])
	case baixa.AuthHMACBody:
		return v.checkSignature(r, body, a, secrets[baixa.SecretHMACKey])
	default:
		return refuse("the connection has no authentication configured")
	}
	return nil
}

func allowed(remote string, cidrs []string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(addr) {
			return true
		}
		if a, err := netip.ParseAddr(c); err == nil && a.Unmap() == addr {
			return true
		}
	}
	return false
}

func (v *Verifier) checkJWT(token string, a baixa.InboundAuth, key string) error {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{a.JWTAlgorithm}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now), jwt.WithLeeway(30 * time.Second)}
	if a.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(a.JWTIssuer))
	}
	if a.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(a.JWTAudience))
	}
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if a.JWTAlgorithm == "RS256" {
			return jwt.ParseRSAPublicKeyFromPEM([]byte(key))
		}
		return []byte(key), nil
	}, opts...)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse("the JWT expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse("the JWT's signature or algorithm is not the configured one")
	case err != nil:
		return refuse("the JWT is not accepted: %v", err)
	}
	if claims.ID != "" && claims.ExpiresAt != nil && !v.first("jti:"+claims.ID, claims.ExpiresAt.Add(30*time.Second)) {
		return refuse("the JWT was used before (jti %q)", claims.ID)
	}
	return nil
}

// checkSignature verifies HMAC-SHA256 of "<timestamp>.<body>", given in
// hex or base64 (optionally after "sha256="), within the window.
func (v *Verifier) checkSignature(r *http.Request, body []byte, a baixa.InboundAuth, key string) error {
	ts, sig := r.Header.Get(a.TimestampHeader), r.Header.Get(a.SignatureHeader)
	if ts == "" || sig == "" {
		return refuse("missing %s or %s header", a.SignatureHeader, a.TimestampHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return refuse("%s is not Unix seconds", a.TimestampHeader)
	}
	now, window := v.now(), time.Duration(a.WindowSeconds)*time.Second
	at := time.Unix(secs, 0)
	if at.Before(now.Add(-window)) || at.After(now.Add(window)) {
		return refuse("the signature's timestamp is outside the %s window", window)
	}
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "%s.", ts)
	mac.Write(body)
	want := mac.Sum(nil)
	sig = strings.TrimPrefix(strings.TrimSpace(sig), "sha256=")
	got, err := hex.DecodeString(sig)
	if err != nil {
		if got, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return refuse("%s is neither hex nor base64", a.SignatureHeader)
		}
	}
	if !hmac.Equal(got, want) {
		return refuse("wrong signature")
	}
	if !v.first("sig:"+sig, at.Add(window)) {
		return refuse("this signed request was received before (a replay)")
	}
	return nil
}

// first records key until until and reports whether it was new.
func (v *Verifier) first(key string, until time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	if len(v.seen) > 100000 {
		for k, t := range v.seen {
			if now.After(t) {
				delete(v.seen, k)
			}
		}
	}
	if t, ok := v.seen[key]; ok && now.Before(t) {
		return false
	}
	v.seen[key] = until
	return true
}
