package baixa

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Inbound authentication methods: how a provider's callbacks prove who
// sends them. The secret each one checks is in the connection's secrets.
const (
	AuthBearer   = "bearer"    // Authorization: Bearer <token>
	AuthAPIKey   = "api_key"   // API-Key: <token>
	AuthXAPIKey  = "x_api_key" // X-API-Key: <token>
	AuthBasic    = "basic"     // Authorization: Basic base64(username:password)
	AuthJWT      = "jwt"       // Authorization: Bearer <JWT signed with jwt_key>
	AuthHMAC     = "hmac"      // Authorization: HMAC <token> (a static value, as BMP's table shows it)
	AuthHMACBody = "hmac_body" // a signature header: HMAC-SHA256 of "<timestamp>.<body>" with hmac_key
	AuthHeader   = "header"    // <header>: <token>, a header of the sender's choice (PlugBoleto's custom header)
)

// AuthMethods lists the methods.
var AuthMethods = []string{AuthBearer, AuthAPIKey, AuthXAPIKey, AuthBasic, AuthJWT, AuthHMAC, AuthHMACBody, AuthHeader}

// Secret names used by inbound authentication.
const (
	SecretToken    = "token"
	SecretUsername = "username"
	SecretPassword = "password"
	SecretJWTKey   = "jwt_key"  // the HS256 secret, or the RS256 public key (PEM)
	SecretHMACKey  = "hmac_key" // hmac_body
)

// MaxSecretLength is the longest key a provider may be configured with
// (BMP documents 255 and 288 characters in two places).
const MaxSecretLength = 288

// InboundAuth is how a connection's callbacks authenticate.
type InboundAuth struct {
	Method string `json:"method"`
	// JWT: the algorithm is pinned; issuer and audience are checked when set.
	JWTAlgorithm string `json:"jwt_algorithm,omitempty"`
	JWTIssuer    string `json:"jwt_issuer,omitempty"`
	JWTAudience  string `json:"jwt_audience,omitempty"`
	// hmac_body: where the signature and its timestamp (Unix seconds) are,
	// and how far the timestamp may be from now.
	SignatureHeader string `json:"signature_header,omitempty"`
	TimestampHeader string `json:"timestamp_header,omitempty"`
	WindowSeconds   int    `json:"window_seconds,omitempty"`
	// header: the header's name.
	Header string `json:"header,omitempty"`
	// AllowIPs, when set, are the only sources accepted (CIDR ranges).
	AllowIPs []string `json:"allow_ips,omitempty"`
}

// Normalize fills in defaults and checks a, and that secrets hold what the
// method needs. Errors name the field.
func (a *InboundAuth) Normalize(secrets map[string]string) error {
	if !slices.Contains(AuthMethods, a.Method) {
		return FieldError("settings.auth.method", "want one of %s", strings.Join(AuthMethods, ", "))
	}
	need := map[string][]string{
		AuthBearer: {SecretToken}, AuthAPIKey: {SecretToken}, AuthXAPIKey: {SecretToken}, AuthHMAC: {SecretToken},
		AuthBasic: {SecretUsername, SecretPassword}, AuthJWT: {SecretJWTKey}, AuthHMACBody: {SecretHMACKey}, AuthHeader: {SecretToken},
	}[a.Method]
	for _, k := range need {
		v := secrets[k]
		if v == "" {
			return FieldError("secrets."+k, "required by authentication %s", a.Method)
		}
		if len(v) > MaxSecretLength && k != SecretJWTKey {
			return FieldError("secrets."+k, "longer than %d characters", MaxSecretLength)
		}
	}
	switch a.Method {
	case AuthJWT:
		if a.JWTAlgorithm == "" {
			a.JWTAlgorithm = "HS256"
		}
		if a.JWTAlgorithm != "HS256" && a.JWTAlgorithm != "RS256" {
			return FieldError("settings.auth.jwt_algorithm", "want HS256 or RS256")
		}
		if a.JWTAlgorithm == "RS256" && !strings.Contains(secrets[SecretJWTKey], "PUBLIC KEY") {
			return FieldError("secrets."+SecretJWTKey, "with RS256, want the sender's public key in PEM")
		}
	case AuthHeader:
		a.Header = http.CanonicalHeaderKey(strings.TrimSpace(a.Header))
		if a.Header == "" || strings.ContainsAny(a.Header, " :\t") {
			return FieldError("settings.auth.header", "name the header that carries the token")
		}
	case AuthHMACBody:
		a.SignatureHeader = http.CanonicalHeaderKey(cmp.Or(a.SignatureHeader, "X-Signature"))
		a.TimestampHeader = http.CanonicalHeaderKey(cmp.Or(a.TimestampHeader, "X-Timestamp"))
		if a.WindowSeconds == 0 {
			a.WindowSeconds = 300
		}
		if a.WindowSeconds < 1 || a.WindowSeconds > 86400 {
			return FieldError("settings.auth.window_seconds", "want 1 to 86400")
		}
	}
	for _, cidr := range a.AllowIPs {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			if _, err := netip.ParseAddr(cidr); err != nil {
				return FieldError("settings.auth.allow_ips", "%q is not an address or a CIDR range", cidr)
			}
		}
	}
	return nil
}

// Receiver turns a provider's callback into a Document to store.
type Receiver interface {
	// Auth returns how c's callbacks authenticate.
	Auth(c *Connection) (InboundAuth, error)
	// Receive checks a callback's content (EInvalid names what is wrong)
	// and returns the document to store, with its dedup key: a callback
	// received again has the same key.
	Receive(ctx context.Context, r *http.Request, body []byte, c *Connection) (*NewDocument, error)
}

// Fingerprint returns a digest of the credential that a connection with
// authentication a and these secrets expects a callback to carry as it is
// (a token, a user name and password), so that a callback naming no
// connection finds its connection by what it carries, among any number.
// ok is false for the methods whose proof changes with each request (jwt,
// hmac_body): those are checked one connection at a time. A match is a
// candidate only: the connection's own check decides.
func (a InboundAuth) Fingerprint(secrets map[string]string) (string, bool) {
	switch a.Method {
	case AuthBearer, AuthAPIKey, AuthXAPIKey, AuthHMAC:
		return fingerprint(a.Method, secrets[SecretToken]), true
	case AuthHeader:
		return fingerprint(a.Method, http.CanonicalHeaderKey(a.Header), secrets[SecretToken]), true
	case AuthBasic:
		return fingerprint(a.Method, secrets[SecretUsername], secrets[SecretPassword]), true
	}
	return "", false
}

// RequestFingerprints returns the fingerprints of the credentials that r
// carries, one per method that could have sent them; headers are the
// custom header names (AuthHeader) to look at.
func RequestFingerprints(r *http.Request, headers []string) []string {
	var out []string
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		out = append(out, fingerprint(AuthBearer, cred))
	case strings.EqualFold(scheme, "HMAC") && cred != "":
		out = append(out, fingerprint(AuthHMAC, strings.TrimSpace(cred)))
	}
	if user, pass, ok := r.BasicAuth(); ok {
		out = append(out, fingerprint(AuthBasic, user, pass))
	}
	if v := r.Header.Get("API-Key"); v != "" {
		out = append(out, fingerprint(AuthAPIKey, v))
	}
	if v := r.Header.Get("X-API-Key"); v != "" {
		out = append(out, fingerprint(AuthXAPIKey, v))
	}
	for _, h := range headers {
		if v := r.Header.Get(h); v != "" {
			out = append(out, fingerprint(AuthHeader, http.CanonicalHeaderKey(h), v))
		}
	}
	return out
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
