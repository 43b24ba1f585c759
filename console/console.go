// Package console is the operators' web console, served at /console.
//
// It is a client of baixa's public API, in process: every page reads the
// API and every action is an API call made with the API key the operator
// signed in with, so that the API's roles, validation, idempotency and
// audit log apply to the console as to any client. Pages are rendered on
// the server (html/template) and actions are plain HTML forms answered by a
// redirect: no script is needed, nothing is fetched from elsewhere, and
// everything (templates, stylesheet) is embedded in the binary.
package console

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"baixa"
)

//go:embed templates/*.html static/*
var assets embed.FS

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 8 * time.Hour

// Server serves the console.
type Server struct {
	// API is baixa's HTTP handler (/v1): the console calls it in process.
	API http.Handler
	// SessionKey seals sessions (any length; derived keys are used). Empty:
	// a random key, so sessions end when the process does.
	SessionKey []byte
	// Jobs, when set, is River UI, served under /console/jobs/ behind the
	// same sign-in.
	Jobs    http.Handler
	Logger  *slog.Logger
	Version string
	Now     func() time.Time

	once    sync.Once
	initErr error
	seal    *sealer
	pages   map[string]*template.Template
	mu      sync.Mutex
	tries   map[string]*rate.Limiter // sign-in attempts per client address
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) init() error {
	s.once.Do(func() {
		s.seal, s.initErr = newSealer(s.SessionKey)
		if s.initErr != nil {
			return
		}
		s.pages, s.initErr = parsePages()
		s.tries = map[string]*rate.Limiter{}
	})
	return s.initErr
}

// funcs are the templates' helpers; translation is the page's (.T).
var funcs = template.FuncMap{
	"money": money, "day": day, "when": when,
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
	"list": func(s ...string) []string { return s },
}

func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, err
		}
		out[base] = t
	}
	return out, nil
}

// Handler serves /console and everything under it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/login", s.loginPage)
	mux.HandleFunc("POST /console/login", s.login)
	mux.HandleFunc("GET /console/lang/{lang}", s.setLang)
	s.routes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.init(); err != nil {
			http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/console/jobs") {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		}
		if r.URL.Path == "/console" {
			http.Redirect(w, r, "/console/", http.StatusSeeOther)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// authed wraps a page or action: it needs a session, and an action (any
// method but GET and HEAD) a same-origin request with the session's CSRF
// token.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, p *page)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		c, err := r.Cookie(sessionCookie)
		if err == nil {
			p.sess, err = s.seal.open(c.Value, s.now())
		}
		if err != nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				http.Error(w, translate(p.Lang, "Your session ended: sign in again."), http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		p.CSRF, p.Who = s.seal.csrf(p.sess), p.sess.Name
		if r.Method == http.MethodGet {
			takeFlash(w, r, p)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) || !s.seal.checkCSRF(p.sess, r.PostFormValue("csrf")) {
				http.Error(w, translate(p.Lang, "The form expired or did not come from this page: try again."), http.StatusForbidden)
				return
			}
		}
		h(w, r, p)
	}
}

// page is what every template gets.
type page struct {
	Lang, Title, Nav, CSRF, Who, Flash, Error, Secret, Path, Version string
	Data                                                             any
	sess                                                             *session
	r                                                                *http.Request
}

func (s *Server) newPage(r *http.Request) *page {
	lang := "pt-BR"
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		lang = "en"
	}
	return &page{Lang: lang, Path: r.URL.RequestURI(), Version: s.Version, r: r}
}

// T translates s into the page's language.
func (p *page) T(s string) string { return translate(p.Lang, s) }

// IdemKey is a fresh idempotency key for a form: submitting it twice
// makes one change.
func (p *page) IdemKey() string { return "console-" + randomToken() }

// Query returns the request's query value.
func (p *page) Query(name string) string { return p.r.URL.Query().Get(name) }

func (s *Server) render(w http.ResponseWriter, name string, p *page, status int) {
	t := s.pages[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		cmp.Or(s.Logger, slog.Default()).Error("console page", "page", name, "err", err)
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// apiError is an answer of the API that was not a success.
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string { return e.Detail }

// call makes an API request with the session's key and decodes its JSON
// answer into out (when not nil).
func (s *Server) call(ctx context.Context, p *page, method, path string, body any, out any, header ...string) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	status, raw, err := s.raw(ctx, p.sess.Key, method, path, rd, header...)
	if err != nil {
		return err
	}
	if status >= 300 {
		var problem struct {
			Detail string
			Errors []struct{ Message, Location string }
		}
		_ = json.Unmarshal(raw, &problem)
		msg := cmp.Or(problem.Detail, http.StatusText(status))
		for _, e := range problem.Errors {
			if !strings.Contains(msg, e.Message) {
				msg += "; " + strings.TrimPrefix(e.Location+": ", ": ") + e.Message
			}
		}
		return &apiError{Status: status, Detail: msg}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// raw makes an API request in process.
func (s *Server) raw(ctx context.Context, key, method, path string, body io.Reader, header ...string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return 0, nil, err
	}
	req.RemoteAddr = "console"
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	rec := httptest.NewRecorder()
	s.API.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), nil
}

// fail shows an error page, or signs out when the API no longer takes the
// session's key.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	var ae *apiError
	status := http.StatusBadGateway
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized {
			setCookie(w, r, sessionCookie, "", -time.Second)
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		status = ae.Status
	}
	p.Title, p.Error = p.T("Error"), err.Error()
	s.render(w, "error", p, status)
}

// done answers an action: back to where the form was, with a message (or
// the error, as a message, when the API refused: nothing changed).
func (s *Server) done(w http.ResponseWriter, r *http.Request, p *page, back string, err error, ok string) {
	var ae *apiError
	if err != nil && !errors.As(err, &ae) {
		s.fail(w, r, p, err)
		return
	}
	if ae != nil && ae.Status == http.StatusUnauthorized {
		s.fail(w, r, p, err)
		return
	}
	kind, msg := "f", ok
	if ae != nil {
		kind, msg = "e", fmt.Sprintf("%d: %s", ae.Status, ae.Detail)
	}
	// The message travels in a cookie read once by the next page, not in
	// its address: a link cannot make the console say what it did not.
	setCookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(kind+msg)), time.Minute)
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// takeFlash moves the message an action left for this page into p, and
// clears it.
func takeFlash(w http.ResponseWriter, r *http.Request, p *page) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return
	}
	setCookie(w, r, flashCookie, "", -time.Second)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) < 2 {
		return
	}
	if b[0] == 'e' {
		p.Error = string(b[1:])
	} else {
		p.Flash = string(b[1:])
	}
}

// back is the local page a form returns to: its "back" field when it names
// a console page, else fallback.
func back(r *http.Request, fallback string) string {
	b := r.PostFormValue("back")
	if strings.HasPrefix(b, "/console/") && !strings.HasPrefix(b, "//") && !strings.Contains(b, "\\") {
		return b
	}
	return fallback
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r)
	p.Title = p.T("Sign in")
	p.Data = map[string]string{"Next": r.URL.Query().Get("next")}
	s.render(w, "login", p, http.StatusOK)
}

// login checks the API key against the API (a read every role may make)
// and seals it into the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r)
	p.Title = p.T("Sign in")
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") {
		next = "/console/"
	}
	p.Data = map[string]string{"Next": next}
	if !sameOrigin(r) {
		http.Error(w, p.T("The form expired or did not come from this page: try again."), http.StatusForbidden)
		return
	}
	if !s.allowTry(r) {
		p.Error = p.T("Too many attempts: wait a minute.")
		s.render(w, "login", p, http.StatusTooManyRequests)
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	status := http.StatusUnauthorized
	if key != "" && len(key) < 512 {
		status, _, _ = s.raw(r.Context(), key, http.MethodGet, "/v1/events?limit=1", http.NoBody)
	}
	if status != http.StatusOK {
		p.Error = p.T("Wrong or revoked API key.")
		s.render(w, "login", p, http.StatusUnauthorized)
		return
	}
	// Shown as who is signed in: the part of a key the API itself shows.
	name := baixa.KeyPrefix(key) + "…"
	v := &session{Key: key, Expires: s.now().Add(SessionTTL).Unix(), Nonce: randomToken(), Name: name}
	sealed, err := s.seal.seal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	setCookie(w, r, sessionCookie, sealed, SessionTTL)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// allowTry bounds sign-in attempts per client address: 10 at once, then
// one every 6 seconds.
func (s *Server) allowTry(r *http.Request) bool {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tries) > 10000 {
		s.tries = map[string]*rate.Limiter{}
	}
	l := s.tries[host]
	if l == nil {
		l = rate.NewLimiter(rate.Every(6*time.Second), 10)
		s.tries[host] = l
	}
	return l.AllowN(s.now(), 1)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ *page) {
	setCookie(w, r, sessionCookie, "", -time.Second)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" {
		lang = "pt-BR"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/console", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") {
		next = "/console/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
