package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"baixa"
)

// DecodeSettings reads a connection's settings strictly: an unknown field
// is an error naming it.
func DecodeSettings(raw []byte, v any) error {
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return baixa.FieldError("settings", "%v", err)
	}
	return nil
}

// ParseSettings decodes a connection's settings strictly into a new T and
// normalizes them.
func ParseSettings[T any](raw []byte, normalize func(*T) error) (*T, error) {
	s := new(T)
	if err := DecodeSettings(raw, s); err != nil {
		return nil, err
	}
	if err := normalize(s); err != nil {
		return nil, err
	}
	return s, nil
}

// PrepareSettings is a connector's Prepare: c's settings decoded strictly
// into a T, normalized against c's secrets, and written back normalized.
func PrepareSettings[T any](c *baixa.Connection, normalize func(s *T, secrets map[string]string) error) error {
	s, err := ParseSettings(c.Settings, func(s *T) error { return normalize(s, c.Secrets) })
	if err != nil {
		return err
	}
	c.Settings, err = json.Marshal(s)
	return err
}

// Polling is how a polled provider's fetch waits: PollEvery first, doubled
// with each poll up to PollMax, and given up after GiveUpAfter (the
// provider never ready, or failing all along). Durations are written as
// Go durations ("5s", "2m").
type Polling struct {
	PollEvery   string `json:"poll_every,omitempty"`
	PollMax     string `json:"poll_max,omitempty"`
	GiveUpAfter string `json:"give_up_after,omitempty"`
	// Timeout bounds one request to the provider (default 60 s).
	Timeout string `json:"timeout,omitempty"`

	Every, Max, GiveUp, RequestTimeout time.Duration `json:"-"`
}

// Normalize parses p, fills in the defaults and keeps PollEvery at least
// floor (a provider's asked-for minimum between polls).
func (p *Polling) Normalize(every, most, giveUp, floor time.Duration) error {
	parse := func(name string, s *string, def time.Duration) (time.Duration, error) {
		if *s == "" {
			*s = def.String()
			return def, nil
		}
		d, err := time.ParseDuration(*s)
		if err != nil || d <= 0 {
			return 0, baixa.FieldError("settings."+name, "want a positive duration like \"5s\" or \"2m\"")
		}
		return d, nil
	}
	var err error
	if p.Every, err = parse("poll_every", &p.PollEvery, every); err != nil {
		return err
	}
	if p.Every < floor {
		return baixa.FieldError("settings.poll_every", "at least %s", floor)
	}
	if p.Max, err = parse("poll_max", &p.PollMax, max(most, p.Every)); err != nil {
		return err
	}
	if p.Max < p.Every {
		return baixa.FieldError("settings.poll_max", "at least poll_every (%s)", p.PollEvery)
	}
	if p.GiveUp, err = parse("give_up_after", &p.GiveUpAfter, giveUp); err != nil {
		return err
	}
	if p.RequestTimeout, err = parse("timeout", &p.Timeout, time.Minute); err != nil {
		return err
	}
	return nil
}

// Backoff is the wait before poll number polls+1: PollEvery doubled with
// each poll, up to PollMax.
func (p *Polling) Backoff(polls int) time.Duration {
	d := p.Every
	for i := 1; i < polls && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Retry records a fault met while following fetch f (the provider down,
// busy or answering what cannot be read) and says what to do: it counts
// the poll; once GiveUp has passed since the fetch began it ends the fetch
// through fail; otherwise it keeps the fault as the fetch's note and asks
// to be called again after the backoff, or after the provider's
// Retry-After when that is longer.
func (p *Polling) Retry(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, now time.Time, err error, fail func(why string) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	f.Polls++
	if now.Sub(f.CreatedAt) > p.GiveUp {
		return fail(fmt.Sprintf("gave up after %s: %v", p.GiveUp, err))
	}
	f.Note = err.Error()
	if serr := st.SaveFetch(ctx, f); serr != nil {
		return serr
	}
	wait := p.Backoff(f.Polls)
	if he, ok := errors.AsType[*HTTPError](err); ok && he.RetryAfter > wait {
		wait = he.RetryAfter
	}
	return &baixa.RetryLater{After: wait, Reason: err.Error(), Fault: true}
}

// HTTPError is an answer a provider gave with an error status, or an
// answer that could not be read.
type HTTPError struct {
	Status     int    // 0 when the answer could not be read
	Message    string // the provider's own message, when it gave one
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	if e.Status == 0 {
		return e.Message
	}
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Permanent reports whether asking again will get the same answer (a
// refused request, as opposed to a provider down, busy or rate limiting).
func (e *HTTPError) Permanent() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusNotAcceptable, http.StatusGone:
		return true
	}
	return false
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); 0 when
// absent or unreadable. It is capped at an hour.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, time.Hour)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), time.Hour)
	}
	return 0
}

// Excerpt returns the start of a provider's answer, for an error message.
func Excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// ParseBRAmount reads an amount as Brazilian providers write it: "427,81",
// "1.234,56", "0,00", or with a decimal point ("427.81"), exact to the
// centavo (extra decimal zeros allowed). "" is zero.
func ParseBRAmount(s string) (baixa.Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v := s
	if strings.Contains(v, ",") {
		v = strings.ReplaceAll(v, ".", "")
		v = strings.Replace(v, ",", ".", 1)
	}
	if strings.Trim(v, "0123456789") != "" && strings.Count(v, ".") != 1 || strings.Trim(v, "0123456789.") != "" {
		return 0, fmt.Errorf("amount %q: want a decimal like \"1.234,56\" or \"427.81\"", s)
	}
	a, err := baixa.ParseExactAmount(v)
	if err != nil {
		return 0, fmt.Errorf("amount %q is not exact to the centavo", s)
	}
	return a, nil
}

// civilLayouts are the forms of dates and times Brazilian providers write.
var civilLayouts = []string{
	"02/01/2006", "02/01/2006 15:04:05", "02/01/2006 15:04",
	"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999", time.RFC3339Nano,
}

// ParseBRTime reads a provider's date or time (dd/MM/yyyy[ HH:mm[:ss]],
// yyyy-MM-dd[ HH:mm:ss], ISO 8601 with or without a zone), in
// America/Sao_Paulo unless it names its zone. "" and null give the zero time.
func ParseBRTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	for _, l := range civilLayouts {
		if t, err := time.ParseInLocation(l, s, baixa.SaoPaulo); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want dd/MM/yyyy or yyyy-MM-dd, with an optional time", s)
}

// ParseBRDate reads a provider's date (see ParseBRTime) as a civil date.
func ParseBRDate(s string) (baixa.Date, error) {
	t, err := ParseBRTime(s)
	if err != nil || t.IsZero() {
		return baixa.Date{}, err
	}
	return baixa.Today(t), nil
}

// Text is a value a provider writes as a string, a number, a boolean or
// null, kept as its text ("" for null).
type Text string

func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(strings.TrimSpace(s))
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("want a string or a number, not %s", Excerpt(b))
	default:
		*t = Text(b)
	}
	return nil
}

// Texts is a string or a list of strings (PlugBoleto's CodigoMovimento is both).
type Texts []string

func (t *Texts) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []Text
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*t = nil
		for _, v := range list {
			if v != "" {
				*t = append(*t, string(v))
			}
		}
		return nil
	}
	var one Text
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*t = nil
	if one != "" {
		*t = Texts{string(one)}
	}
	return nil
}

// Truth reads a yes: true, "true", "S", "sim", 1.
func (t Text) Truth() bool {
	switch strings.ToLower(string(t)) {
	case "true", "s", "sim", "1":
		return true
	}
	return false
}

// DecodeJSON decodes one JSON value from a provider's callback, saying
// where it is broken (EInvalid).
func DecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return baixa.Errorf(baixa.EInvalid, "invalid JSON at byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return baixa.Errorf(baixa.EInvalid, "invalid JSON: it ends early, at byte %d", len(b))
		}
		return baixa.Errorf(baixa.EInvalid, "invalid JSON: %v", err)
	}
	if dec.More() {
		return baixa.Errorf(baixa.EInvalid, "invalid JSON: more than one value")
	}
	return nil
}

// Unreachable is the HTTPError of a request that got no answer (refused,
// timed out), without the URL the transport repeats.
func Unreachable(method, path string, err error) *HTTPError {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return &HTTPError{Message: fmt.Sprintf("%s %s: %v", method, path, err)}
}
