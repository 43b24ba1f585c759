package inbound

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"baixa"
)

var update = flag.Bool("update", false, "rewrite the .http fixtures")

// now is the instant the fixtures were made for.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

var secrets = map[string]string{
	baixa.SecretToken: "5d41402abc4b2a76b9719d911017c592", baixa.SecretUsername: "bmp", baixa.SecretPassword: "s3nh@",
	baixa.SecretJWTKey: "a-shared-jwt-secret-of-some-length", baixa.SecretHMACKey: "hmac-key-0123456789",
}

const query = "/hooks/bmp/con_1?proposta=123&situacao=9"

func hs256(exp time.Time, alg jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	claims["exp"] = exp.Unix()
	s, err := jwt.NewWithClaims(alg, claims).SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

func signature(ts int64, body, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(m, "%d.%s", ts, body)
	return hex.EncodeToString(m.Sum(nil))
}

// fixtures are raw requests, written to testdata/*.http by -update.
func fixtures() map[string]string {
	get := func(headers ...string) string {
		return "GET " + query + " HTTP/1.1\r\nHost: baixa.example\r\n" + strings.Join(headers, "") + "\r\n"
	}
	body := `{"descricaoOcorrencia":"Conta inválida"}`
	post := func(headers ...string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: baixa.example\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s",
			query, len(body), strings.Join(headers, ""), body)
	}
	key := []byte(secrets[baixa.SecretJWTKey])
	ts := now.Unix()
	return map[string]string{
		"bearer-right.http":      get("Authorization: Bearer 5d41402abc4b2a76b9719d911017c592\r\n"),
		"bearer-wrong.http":      get("Authorization: Bearer 5d41402abc4b2a76b9719d911017c593\r\n"),
		"bearer-missing.http":    get(),
		"api-key-right.http":     get("API-Key: 5d41402abc4b2a76b9719d911017c592\r\n"),
		"api-key-wrong.http":     get("API-Key: nope\r\n"),
		"x-api-key-right.http":   get("X-API-Key: 5d41402abc4b2a76b9719d911017c592\r\n"),
		"x-api-key-missing.http": get("API-Key: 5d41402abc4b2a76b9719d911017c592\r\n"),
		"basic-right.http":       get("Authorization: Basic Ym1wOnMzbmhA\r\n"),
		"basic-wrong.http":       get("Authorization: Basic Ym1wOnMzbmhC\r\n"),
		"hmac-right.http":        get("Authorization: HMAC 5d41402abc4b2a76b9719d911017c592\r\n"),
		"hmac-wrong.http":        get("Authorization: HMAC 5d41402abc4b19d911017c592\r\n"),
		"jwt-right.http":         get("Authorization: Bearer " + hs256(now.Add(5*time.Minute), jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "bmp", "aud": "baixa"}) + "\r\n"),
		"jwt-expired.http":       get("Authorization: Bearer " + hs256(now.Add(-5*time.Minute), jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "bmp", "aud": "baixa"}) + "\r\n"),
		"jwt-wrong-issuer.http":  get("Authorization: Bearer " + hs256(now.Add(5*time.Minute), jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "other", "aud": "baixa"}) + "\r\n"),
		"jwt-none.http":          get("Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjE3OTU1NjkyMDAsImlzcyI6ImJtcCJ9.\r\n"),
		"jwt-replayed.http":      get("Authorization: Bearer " + hs256(now.Add(5*time.Minute), jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "bmp", "aud": "baixa", "jti": "j-1"}) + "\r\n"),
		"hmac-body-right.http":   post(fmt.Sprintf("X-Timestamp: %d\r\nX-Signature: sha256=%s\r\n", ts, signature(ts, body, secrets[baixa.SecretHMACKey]))),
		"hmac-body-wrong.http":   post(fmt.Sprintf("X-Timestamp: %d\r\nX-Signature: %s\r\n", ts, signature(ts, body+" ", secrets[baixa.SecretHMACKey]))),
		"hmac-body-expired.http": post(fmt.Sprintf("X-Timestamp: %d\r\nX-Signature: %s\r\n", ts-3600,
			signature(ts-3600, body, secrets[baixa.SecretHMACKey]))),
		"hmac-body-missing.http": post(),
	}
}

func TestFixtures(t *testing.T) {
	if *update {
		for name, raw := range fixtures() {
			if err := os.WriteFile(filepath.Join("testdata", name), []byte(raw), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	jwtAuth := baixa.InboundAuth{Method: baixa.AuthJWT, JWTAlgorithm: "HS256", JWTIssuer: "bmp", JWTAudience: "baixa"}
	hmacBody := baixa.InboundAuth{Method: baixa.AuthHMACBody}
	if err := hmacBody.Normalize(secrets); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		auth baixa.InboundAuth
		want string // "" for accepted
	}{
		{"bearer-right.http", baixa.InboundAuth{Method: baixa.AuthBearer}, ""},
		{"bearer-wrong.http", baixa.InboundAuth{Method: baixa.AuthBearer}, "wrong bearer token"},
		{"bearer-missing.http", baixa.InboundAuth{Method: baixa.AuthBearer}, "missing Authorization: Bearer"},
		{"api-key-right.http", baixa.InboundAuth{Method: baixa.AuthAPIKey}, ""},
		{"api-key-wrong.http", baixa.InboundAuth{Method: baixa.AuthAPIKey}, "wrong API-Key"},
		{"x-api-key-right.http", baixa.InboundAuth{Method: baixa.AuthXAPIKey}, ""},
		{"x-api-key-missing.http", baixa.InboundAuth{Method: baixa.AuthXAPIKey}, "missing X-API-Key"},
		{"x-api-key-right.http", baixa.InboundAuth{Method: baixa.AuthHeader, Header: "X-Api-Key"}, ""},
		{"x-api-key-right.http", baixa.InboundAuth{Method: baixa.AuthHeader, Header: "X-Plug-Token"}, "missing X-Plug-Token"},
		{"basic-right.http", baixa.InboundAuth{Method: baixa.AuthBasic}, ""},
		{"basic-wrong.http", baixa.InboundAuth{Method: baixa.AuthBasic}, "wrong user name or password"},
		{"hmac-right.http", baixa.InboundAuth{Method: baixa.AuthHMAC}, ""},
		{"hmac-wrong.http", baixa.InboundAuth{Method: baixa.AuthHMAC}, "wrong HMAC key"},
		{"bearer-right.http", baixa.InboundAuth{Method: baixa.AuthHMAC}, "missing Authorization: HMAC"},
		{"jwt-right.http", jwtAuth, ""},
		{"jwt-expired.http", jwtAuth, "expired"},
		{"jwt-wrong-issuer.http", jwtAuth, "issuer"},
		{"jwt-none.http", jwtAuth, "not the configured one"},
		{"jwt-replayed.http", jwtAuth, ""},
		{"jwt-replayed.http", jwtAuth, "used before"},
		{"hmac-body-right.http", hmacBody, ""},
		{"hmac-body-right.http", hmacBody, "replay"},
		{"hmac-body-wrong.http", hmacBody, "wrong signature"},
		{"hmac-body-expired.http", hmacBody, "outside the 5m0s window"},
		{"hmac-body-missing.http", hmacBody, "missing X-Signature"},
		{"bearer-right.http", baixa.InboundAuth{Method: baixa.AuthBearer, AllowIPs: []string{"10.0.0.0/8"}}, "source address not allowed"},
		{"bearer-right.http", baixa.InboundAuth{Method: baixa.AuthBearer, AllowIPs: []string{"192.0.2.0/24"}}, ""},
	}
	v := &Verifier{Now: func() time.Time { return now }}
	for _, tc := range cases {
		raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		req.RemoteAddr = "192.0.2.7:4567"
		body, _ := io.ReadAll(req.Body)
		err = v.Check(req, body, tc.auth, secrets)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s with %s: refused: %v", tc.file, tc.auth.Method, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s with %s: %v, want %q", tc.file, tc.auth.Method, err, tc.want)
		case err != nil && !baixa.IsCode(err, baixa.EUnauthorized):
			t.Errorf("%s: error code %s", tc.file, baixa.ErrorCode(err))
		}
		for _, s := range secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error shows a secret: %v", tc.file, err)
			}
		}
	}
}

// RS256: the key is made for the test, so the request is built here.
func TestJWTRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	sec := map[string]string{baixa.SecretJWTKey: pub}
	a := baixa.InboundAuth{Method: baixa.AuthJWT, JWTAlgorithm: "RS256"}
	if err := a.Normalize(sec); err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Now: func() time.Time { return now }}
	for name, tc := range map[string]struct {
		token string
		ok    bool
	}{
		"signed": {hs256(now.Add(time.Minute), jwt.SigningMethodRS256, key, jwt.MapClaims{}), true},
		// The classic confusion: HS256 keyed with the public key's PEM.
		"HS256 with the public key": {hs256(now.Add(time.Minute), jwt.SigningMethodHS256, []byte(pub), jwt.MapClaims{}), false},
		"no expiry":                 {func() string { s, _ := jwt.New(jwt.SigningMethodRS256).SignedString(key); return s }(), false},
	} {
		req, _ := http.NewRequest("GET", "http://baixa.example"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		if err := v.Check(req, nil, a, sec); (err == nil) != tc.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		a       baixa.InboundAuth
		secrets map[string]string
		want    string
	}{
		{baixa.InboundAuth{Method: "digest"}, nil, "want one of"},
		{baixa.InboundAuth{Method: baixa.AuthBearer}, nil, "secrets.token"},
		{baixa.InboundAuth{Method: baixa.AuthBearer}, map[string]string{"token": strings.Repeat("x", 289)}, "longer than 288"},
		{baixa.InboundAuth{Method: baixa.AuthJWT, JWTAlgorithm: "none"}, map[string]string{"jwt_key": "k"}, "HS256 or RS256"},
		{baixa.InboundAuth{Method: baixa.AuthJWT, JWTAlgorithm: "RS256"}, map[string]string{"jwt_key": "k"}, "public key"},
		{baixa.InboundAuth{Method: baixa.AuthBasic, AllowIPs: []string{"nope"}}, map[string]string{"username": "u", "password": "p"}, "allow_ips"},
	} {
		if err := tc.a.Normalize(tc.secrets); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.a, err, tc.want)
		}
	}
	ok := baixa.InboundAuth{Method: baixa.AuthBearer}
	if err := ok.Normalize(map[string]string{"token": strings.Repeat("x", 288)}); err != nil {
		t.Errorf("a 288-character key: %v", err)
	}
}
