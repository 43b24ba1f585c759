package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// A session is sealed into its cookie (AES-GCM under a key only the
// server holds): the API key the operator signed in with, when it ends,
// and a nonce its CSRF token is derived from. Nothing is stored on the
// server, so every instance behind a load balancer reads it, and revoking
// the API key ends the session at once (the API refuses the key). The
// browser cannot read the cookie (HttpOnly) nor open it.
type session struct {
	Key     string `json:"k"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
	// Name is the API key's prefix, shown as who is signed in.
	Name string `json:"p"`
}

const (
	sessionCookie = "baixa_session"
	langCookie    = "baixa_lang"
	flashCookie   = "baixa_flash"
)

// sealer seals and opens sessions, and derives their CSRF tokens.
type sealer struct {
	aead cipher.AEAD
	mac  []byte
}

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
	}
	derive := func(purpose string) []byte {
		h := hmac.New(sha256.New, secret)
		h.Write([]byte("baixa console " + purpose))
		return h.Sum(nil)
	}
	block, err := aes.NewCipher(derive("session"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, mac: derive("csrf")}, nil
}

func (s *sealer) seal(v *session) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(sessionCookie))), nil
}

var errNoSession = errors.New("no session")

func (s *sealer) open(cookie string, now time.Time) (*session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errNoSession
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(sessionCookie))
	if err != nil {
		return nil, errNoSession
	}
	var v session
	if err := json.Unmarshal(plain, &v); err != nil || v.Key == "" || now.Unix() >= v.Expires {
		return nil, errNoSession
	}
	return &v, nil
}

// csrf is the token every form of the session carries.
func (s *sealer) csrf(v *session) string {
	h := hmac.New(sha256.New, s.mac)
	h.Write([]byte(v.Nonce))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func (s *sealer) checkCSRF(v *session, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.csrf(v)))
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureRequest: cookies are Secure unless the console is reached over
// plain HTTP on loopback (the demo, a developer's machine), where a browser
// would not send them back.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/console", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin refuses a cross-site POST before its token is even read: the
// browser says where it came from (Sec-Fetch-Site, Origin).
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		_, host, _ := strings.Cut(o, "://")
		return host == r.Host
	}
	return true
}
