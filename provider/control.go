package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ControlRoute handles one of a sandbox's own requests: decode reads its
// JSON body into a value; a nil answer is 204, an error 400.
type ControlRoute func(decode func(v any) error) (answer any, err error)

// Control serves a sandbox's own paths, routes keyed by "METHOD /path".
func Control(w http.ResponseWriter, r *http.Request, routes map[string]ControlRoute) {
	route, ok := routes[r.Method+" "+r.URL.Path]
	if !ok {
		http.Error(w, "unknown sandbox path", http.StatusNotFound)
		return
	}
	decode := func(v any) error {
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<20))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	out, err := route(decode)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	case out == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}

// AddAll is the route that takes a JSON list of T: every item is checked
// before any is added, so a bad one adds nothing.
func AddAll[T any](check func(T) error, add func(T)) ControlRoute {
	return func(decode func(any) error) (any, error) {
		var list []T
		if err := decode(&list); err != nil {
			return nil, err
		}
		for _, v := range list {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		for _, v := range list {
			add(v)
		}
		return nil, nil
	}
}

// Duration is a duration written as Go writes it ("2s", "1m30s").
type Duration time.Duration

// UnmarshalJSON reads "2s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration like \"2s\": %w", err)
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
