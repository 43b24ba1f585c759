package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type vector struct {
	Source    string `json:"source"`
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
}

func vectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 4 {
		t.Fatalf("%d vectors", len(f.Vectors))
	}
	return f.Vectors
}

func TestSignVectors(t *testing.T) {
	for _, v := range vectors(t) {
		got, err := Sign(v.Secret, v.ID, v.Timestamp, []byte(v.Body))
		if err != nil || got != v.Signature {
			t.Errorf("%s (%s): got %q, %v; want %q", v.ID, v.Source, got, err, v.Signature)
		}
		at := time.Unix(v.Timestamp, 0)
		if err := Verify(v.Secret, v.ID, itoa(v.Timestamp), v.Signature, []byte(v.Body), at.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("%s: verify: %v", v.ID, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVerify(t *testing.T) {
	v := vectors(t)[0]
	at := time.Unix(v.Timestamp, 0)
	ts := itoa(v.Timestamp)
	body := []byte(v.Body)
	other := "whsec_" + strings.Repeat("A", 43) + "="
	cases := []struct {
		name                 string
		secret, id, ts, sigs string
		body                 []byte
		now                  time.Time
		want                 error
	}{
		{"good", v.Secret, v.ID, ts, v.Signature, body, at, nil},
		{"one of several (rotation)", v.Secret, v.ID, ts, "v1,bm90IGl0 " + v.Signature, body, at, nil},
		{"unknown version ignored", v.Secret, v.ID, ts, "v1a," + strings.TrimPrefix(v.Signature, "v1,"), body, at, ErrNoSignature},
		{"body changed", v.Secret, v.ID, ts, v.Signature, append(body, ' '), at, ErrNoSignature},
		{"id changed", v.Secret, v.ID + "x", ts, v.Signature, body, at, ErrNoSignature},
		{"other secret", other, v.ID, ts, v.Signature, body, at, ErrNoSignature},
		{"too old (replay)", v.Secret, v.ID, ts, v.Signature, body, at.Add(6 * time.Minute), ErrTimestamp},
		{"from the future", v.Secret, v.ID, ts, v.Signature, body, at.Add(-6 * time.Minute), ErrTimestamp},
		{"bad timestamp", v.Secret, v.ID, "yesterday", v.Signature, body, at, ErrTimestamp},
		{"missing id", v.Secret, "", ts, v.Signature, body, at, ErrMissingField},
		{"bad base64", v.Secret, v.ID, ts, "v1,!!!", body, at, ErrNoSignature},
	}
	for _, c := range cases {
		if err := Verify(c.secret, c.id, c.ts, c.sigs, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := Sign("sk_123", "id", 1, nil); err == nil {
		t.Error("a secret without whsec_ signed")
	}
	h, err := SignatureHeader([]string{v.Secret, other}, v.ID, v.Timestamp, body)
	if err != nil || len(strings.Fields(h)) != 2 || !strings.HasPrefix(h, v.Signature+" ") {
		t.Errorf("header %q, %v", h, err)
	}
}

func TestRefused(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "0.0.0.0": true, "100.64.0.1": true, "224.0.0.1": true, "255.255.255.255": true,
		"198.18.0.1": true, "192.0.2.1": true,
		"::1": true, "::": true, "fe80::1": true, "fc00::1": true, "fd00:ec2::254": true, "ff02::1": true,
		"::ffff:127.0.0.1": true, "::ffff:169.254.169.254": true, "::127.0.0.1": true,
		"64:ff9b::7f00:1": true, "64:ff9b::a9fe:a9fe": true, "64:ff9b:1::1": true, "2002:7f00:1::1": true, "2002:a9fe:a9fe::1": true,
		"2001::1": true, "2001:db8::1": true,
		"8.8.8.8": false, "200.160.2.3": false, "::ffff:8.8.8.8": false, "2804:14c::1": false,
		"64:ff9b::808:808": false, "2002:808:808::1": false,
	} {
		a := netip.MustParseAddr(addr)
		if got := Refused(a) != ""; got != refused {
			t.Errorf("%s: refused = %v (%q), want %v", addr, got, Refused(a), refused)
		}
	}
}

func TestGuard(t *testing.T) {
	g := &Guard{}
	if err := g.control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrBlocked) {
		t.Errorf("loopback dial: %v", err)
	}
	if err := g.control("tcp", "[::ffff:10.0.0.1]:443", nil); !errors.Is(err, ErrBlocked) {
		t.Errorf("mapped private dial: %v", err)
	}
	if err := g.control("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("public dial: %v", err)
	}
	allow, err := ParseAllow("127.0.0.0/8, 10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	g = &Guard{AllowHTTP: true, Allow: allow}
	for _, ok := range []string{"127.0.0.1:80", "[::ffff:127.0.0.1]:80", "10.1.2.3:443"} {
		if err := g.control("tcp", ok, nil); err != nil {
			t.Errorf("%s allowed: %v", ok, err)
		}
	}
	if err := g.control("tcp", "10.1.2.4:443", nil); err == nil {
		t.Error("10.1.2.4 is not on the list")
	}
	if _, err := ParseAllow("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
	strict := &Guard{}
	for _, u := range []string{"http://example.com/x", "https://127.0.0.1/x", "https://localhost:8080/", "https://[::1]/", "https://169.254.169.254/"} {
		if err := strict.CheckURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if err := strict.CheckURL("https://erp.example.com.br/hooks"); err != nil {
		t.Errorf("public name refused: %v", err)
	}
}

func TestScheduleAndRetryAfter(t *testing.T) {
	s, err := ParseSchedule("5s, 5m,30m")
	if err != nil || len(s) != 3 || s[1] != 5*time.Minute {
		t.Errorf("%v %v", s, err)
	}
	for _, bad := range []string{"", "5s,,5m", "-1s", "soon"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for i := 0; i < 1000; i++ {
		if d := jitter(10*time.Second, 0.2); d < 8*time.Second || d > 12*time.Second {
			t.Fatalf("jitter out of ±20%%: %s", d)
		}
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "120": 2 * time.Minute, "-3": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
	if printable([]byte("ok\x00\xff")) != "ok\ufffd\ufffd" {
		t.Errorf("printable: %q", printable([]byte("ok\x00\xff")))
	}
}
