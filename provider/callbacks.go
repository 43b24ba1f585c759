package provider

import (
	"context"
	"encoding/json"
	"time"

	"baixa"
)

// Callbacks is the Connector of a provider that calls baixa (BMP, Saurus):
// its connections are validated, and there is nothing to fetch or check.
type Callbacks struct {
	// Settings returns a fresh value to decode a connection's settings
	// into, and where in it the authentication is.
	Settings func() (settings any, auth *baixa.InboundAuth)
	// Validate, when set, checks the decoded settings further.
	Validate func(settings any) error
}

var _ baixa.Connector = Callbacks{}

// decode reads c's settings strictly.
func (k Callbacks) decode(c *baixa.Connection) (any, *baixa.InboundAuth, error) {
	s, auth := k.Settings()
	if err := DecodeSettings(c.Settings, s); err != nil {
		return nil, nil, err
	}
	return s, auth, nil
}

// Prepare checks the settings, the authentication and its secrets.
func (k Callbacks) Prepare(c *baixa.Connection, _ time.Time) error {
	s, auth, err := k.decode(c)
	if err != nil {
		return err
	}
	if k.Validate != nil {
		if err := k.Validate(s); err != nil {
			return err
		}
	}
	if err := auth.Normalize(c.Secrets); err != nil {
		return err
	}
	c.Settings, err = json.Marshal(s)
	return err
}

// Auth returns how c's callbacks authenticate.
func (k Callbacks) Auth(c *baixa.Connection) (baixa.InboundAuth, error) {
	_, auth, err := k.decode(c)
	if err != nil {
		return baixa.InboundAuth{}, err
	}
	return *auth, nil
}

// Check has nothing to call: the provider calls baixa.
func (Callbacks) Check(context.Context, *baixa.Connection) error { return nil }

// Plan plans nothing.
func (Callbacks) Plan(c *baixa.Connection, _ []*baixa.Fetch, _ time.Time) ([]*baixa.Fetch, string) {
	return nil, c.Cursor
}

// Step has no fetch to follow.
func (Callbacks) Step(context.Context, *baixa.Connection, *baixa.Fetch, baixa.FetchStore) error {
	return nil
}
