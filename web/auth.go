package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"baixa"
)

// keyTTL is how long a key is trusted as read: a revocation on another
// instance takes effect within it (on this one, at once).
const keyTTL = 2 * time.Second

// apiKey finds the active key of secret.
func (s *Server) apiKey(ctx context.Context, secret string) (*baixa.APIKey, error) {
	if s.Keys == nil {
		// No key store (a server built for one key): that key is admin.
		if s.APIKey == "" || !equalSecret(secret, s.APIKey) {
			return nil, baixa.Errorf(baixa.ENotFound, "no such API key")
		}
		return &baixa.APIKey{ID: baixa.ConfiguredKeyID, Name: "BAIXA_API_KEY", Role: baixa.RoleAdmin}, nil
	}
	hash := baixa.HashAPIKey(secret)
	if k, ok := s.keys.Get(hash, keyTTL, time.Now()); ok {
		if k == nil {
			return nil, baixa.Errorf(baixa.ENotFound, "no such API key")
		}
		return k, nil
	}
	k, err := s.Keys.FindAPIKeyBySecret(ctx, secret)
	if err != nil && !baixa.IsCode(err, baixa.ENotFound) {
		return nil, err
	}
	s.keys.Put(hash, k, time.Now()) // an unknown key too, so that guessing costs no query each
	return k, err
}

// roleFor is the least role that may make this request.
func roleFor(method, path string) string {
	if strings.HasPrefix(path, "/v1/api-keys") || strings.HasPrefix(path, "/v1/audit") {
		return baixa.RoleAdmin
	}
	if method == http.MethodGet || method == http.MethodHead {
		return baixa.RoleRead
	}
	switch {
	case strings.HasPrefix(path, "/v1/accounts"):
		return baixa.RoleAdmin
	case strings.HasPrefix(path, "/v1/endpoints") && !strings.HasSuffix(path, "/test") && !strings.HasSuffix(path, "/replay"):
		return baixa.RoleAdmin
	case strings.HasPrefix(path, "/v1/connections") && !strings.HasSuffix(path, "/run") && !strings.HasSuffix(path, "/check"):
		return baixa.RoleAdmin
	}
	return baixa.RoleOperator
}

// authenticate requires an active API key on /v1, of a role that allows
// the request, within its rate; it records every write in the audit log.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			unauthorized(w)
			return
		}
		k, err := s.apiKey(r.Context(), secret)
		if baixa.IsCode(err, baixa.ENotFound) {
			unauthorized(w)
			return
		}
		if err != nil {
			s.writeError(w, r, err, "")
			return
		}
		if need := roleFor(r.Method, r.URL.Path); !baixa.RoleAllows(k.Role, need) {
			writeProblem(w, http.StatusForbidden, fmt.Sprintf("this API key's role (%s) does not allow %s %s: it needs %s", k.Role, r.Method, r.URL.Path, need), nil)
			return
		}
		if k.AccountID != "" {
			var ok bool
			if r, ok = s.withinAccount(w, r, k); !ok {
				return
			}
		}
		if !s.limits.allow("key:"+k.ID, s.KeyRate) {
			tooMany(w, "API key "+k.Prefix+"…")
			return
		}
		r = r.WithContext(withKey(r.Context(), k))
		if r.Method == http.MethodGet || r.Method == http.MethodHead || s.Audit == nil {
			next.ServeHTTP(w, r)
			return
		}
		s.audited(w, r, k, next)
	})
}

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="baixa"`)
	writeProblem(w, http.StatusUnauthorized, "missing or wrong API key: send Authorization: Bearer <API key>", nil)
}

func tooMany(w http.ResponseWriter, who string) {
	w.Header().Set("Retry-After", "1")
	writeProblem(w, http.StatusTooManyRequests, "too many requests for "+who+": retry after a second", nil)
}

// Rate bounds requests of one API key or one callback connection: PerSecond
// on average, Burst at once; zero PerSecond, no bound.
type Rate struct {
	PerSecond float64
	Burst     int
}

type limits struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func (l *limits) allow(who string, r Rate) bool {
	if r.PerSecond <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) > 100000 {
		l.m = map[string]*rate.Limiter{}
	}
	lim := l.m[who]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(r.PerSecond), max(1, r.Burst))
		l.m[who] = lim
	}
	return lim.Allow()
}

// auditMax is how much of a resource an audit entry keeps.
const auditMax = 64 << 10

// audited serves a write and records it: the resource its path names as
// it was before (read through the API itself) and the answer after, with
// secrets removed.
func (s *Server) audited(w http.ResponseWriter, r *http.Request, k *baixa.APIKey, next http.Handler) {
	before := s.resourceBefore(r, next)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	e := &baixa.AuditEntry{KeyID: k.ID, KeyName: k.Name, Method: r.Method, Path: r.URL.Path, Operation: operationOf(r),
		Status: rec.status, Before: before, After: redacted(rec.body.Bytes())}
	if err := s.Audit.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
		cmp.Or(s.Logger, slog.Default()).Error("audit entry not stored", "key", k.ID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// resourceOf splits a path under /v1 into its parts and says whether it
// names a resource by id (/v1/NOUN/ID...): the third part is an id unless
// it is one of the words that name an action on the collection.
func resourceOf(path string) (parts []string, byID bool) {
	parts = strings.Split(strings.Trim(path, "/"), "/")
	return parts, len(parts) > 2 && parts[2] != "bulk" && parts[2] != "generic"
}

// operationOf names a write by its method and its route: the path with
// the id it names as {id} ("POST /v1/charges/{id}/payments").
func operationOf(r *http.Request) string {
	parts, byID := resourceOf(r.URL.Path)
	if byID {
		parts[2] = "{id}"
	}
	return r.Method + " /" + strings.Join(parts, "/")
}

// resourceBefore reads, through the API, the resource a write's path names
// (/v1/NOUN/ID...), or returns "".
func (s *Server) resourceBefore(r *http.Request, api http.Handler) string {
	parts, byID := resourceOf(r.URL.Path)
	if !byID {
		return ""
	}
	get, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/"+strings.Join(parts[:3], "/"), nil)
	if err != nil {
		return ""
	}
	rec := &recorder{ResponseWriter: discard{}, status: http.StatusOK}
	api.ServeHTTP(rec, get)
	if rec.status != http.StatusOK {
		return ""
	}
	return redacted(rec.body.Bytes())
}

// secretFields are never kept in the audit log.
var secretFields = map[string]bool{"secret": true, "secrets": true, "previous_secret": true, "key": true, "token": true,
	"password": true, "certificate": true, "private_key": true}

// redacted is b (JSON) without its secret fields, bounded; "" when b is
// not a JSON object.
func redacted(b []byte) string {
	var v any
	if len(b) == 0 || json.Unmarshal(b, &v) != nil {
		return ""
	}
	out, err := json.Marshal(strip(v))
	if err != nil {
		return ""
	}
	if len(out) > auditMax {
		return `{"truncated": ` + strconv.Itoa(len(out)) + `}`
	}
	return string(out)
}

func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretFields[k] {
				x[k] = "(removed)"
				continue
			}
			x[k] = strip(e)
		}
	case []any:
		for i, e := range x {
			x[i] = strip(e)
		}
	}
	return v
}

// recorder keeps a response's status and (up to auditMax) body while
// writing it through.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	if r.body.Len() < auditMax+1 {
		r.body.Write(b[:min(len(b), auditMax+1-r.body.Len())])
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// withinAccount lets a key confined to an account reach that account's
// charges (and their payments, write-offs and cancellations), events,
// movements and imports, and nothing else. Lists are narrowed to the
// account; a request naming another account, or a charge of another
// account, is refused (404 for a charge: a confined key does not learn
// what other accounts hold). It returns the request to serve, with its
// body put back when it read it.
func (s *Server) withinAccount(w http.ResponseWriter, r *http.Request, k *baixa.APIKey) (*http.Request, bool) {
	refuse := func(why string) (*http.Request, bool) {
		writeProblem(w, http.StatusForbidden, "this API key is confined to account "+k.AccountID+": "+why, nil)
		return r, false
	}
	q := r.URL.Query()
	if a := q.Get("account_id"); a != "" && a != k.AccountID {
		return refuse("it may not name another account")
	}
	narrow := func() *http.Request {
		q.Set("account_id", k.AccountID)
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		return r2
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && (r.URL.Path == "/v1/charges" || r.URL.Path == "/v1/events" || r.URL.Path == "/v1/movements" ||
		r.URL.Path == "/v1/attention" || r.URL.Path == "/v1/attention/counts" || r.URL.Path == "/v1/documents" || r.URL.Path == "/v1/payments/summary"):
		return narrow(), true
	case r.URL.Path == "/v1/imports/generic" || r.URL.Path == "/v1/imports":
		if q.Get("connection_id") != "" {
			return refuse("imports name its account, not a connection")
		}
		return narrow(), true
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "accounts":
		if parts[2] != k.AccountID {
			return refuse("it reads its own account only")
		}
		return r, true
	case r.Method == http.MethodPost && (r.URL.Path == "/v1/charges" || r.URL.Path == "/v1/charges/bulk"):
		body, ok := bufferBody(w, r)
		if !ok {
			return r, false
		}
		var one struct {
			AccountID string `json:"account_id"`
			Charges   []struct {
				AccountID string `json:"account_id"`
			} `json:"charges"`
		}
		_ = json.Unmarshal(body, &one) // malformed: the route says so
		ids := []string{one.AccountID}
		if r.URL.Path == "/v1/charges/bulk" {
			ids = ids[:0]
			for _, c := range one.Charges {
				ids = append(ids, c.AccountID)
			}
		}
		for _, id := range ids {
			if id != k.AccountID {
				return refuse("its charges belong to it")
			}
		}
		return r, true
	case len(parts) >= 3 && parts[1] == "movements" && s.Attention != nil:
		it, err := s.Attention.FindAttentionItem(r.Context(), parts[2])
		if err != nil && !baixa.IsCode(err, baixa.ENotFound) {
			s.writeError(w, r, err, "")
			return r, false
		}
		if err != nil || it.Movement.AccountID != k.AccountID {
			writeProblem(w, http.StatusNotFound, "movement "+parts[2]+" not found", nil)
			return r, false
		}
		return r, true
	case len(parts) >= 3 && parts[1] == "charges":
		c, err := s.Charges.FindChargeByID(r.Context(), parts[2])
		if err != nil && !baixa.IsCode(err, baixa.ENotFound) {
			s.writeError(w, r, err, "")
			return r, false
		}
		if err != nil || c.AccountID != k.AccountID {
			writeProblem(w, http.StatusNotFound, "charge "+parts[2]+" not found", nil)
			return r, false
		}
		return r, true
	}
	return refuse(r.Method + " " + r.URL.Path + " is not an account's")
}

type keyContext struct{}

// withKey records the request's API key for the handlers.
func withKey(ctx context.Context, k *baixa.APIKey) context.Context {
	return context.WithValue(ctx, keyContext{}, k)
}

// keyOf is the request's API key, nil when it carries none.
func keyOf(ctx context.Context) *baixa.APIKey {
	k, _ := ctx.Value(keyContext{}).(*baixa.APIKey)
	return k
}
