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
)

// NewJSONRequest builds a request that asks for JSON and, when v is not
// nil, sends v as its JSON body.
func NewJSONRequest(ctx context.Context, method, url string, v any) (*http.Request, error) {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Answer is a provider's answer, read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send sends req and reads its answer whole, up to limit bytes. A request
// that got no answer, and an answer that could not be read or is larger
// than limit, are *HTTPError naming what was asked ("GET /boletos").
func Send(hc *http.Client, req *http.Request, what string, limit int64) (*Answer, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, Unreachable(req.Method, what, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &HTTPError{Message: fmt.Sprintf("%s %s: reading the answer: %v", req.Method, what, err)}
	}
	if int64(len(raw)) > limit {
		return nil, &HTTPError{Message: fmt.Sprintf("%s %s: the answer is larger than %d bytes (raise max_response_bytes)", req.Method, what, limit)}
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
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

// Unreachable is the HTTPError of a request that got no answer (refused,
// timed out), without the URL the transport repeats.
func Unreachable(method, path string, err error) *HTTPError {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return &HTTPError{Message: fmt.Sprintf("%s %s: %v", method, path, err)}
}
