package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
