package provider

import (
	"bytes"
	"encoding/json"

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
