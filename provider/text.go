package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"baixa"
)

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
