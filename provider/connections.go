package provider

import (
	"context"
	"maps"
	"slices"
	"time"

	"baixa"
)

// Connections is the connection service with each provider's rules: a
// connection is prepared by its provider's connector (settings and
// credentials validated and normalized) before it is stored, and checked
// against its provider. Reads go to the store as they are.
type Connections struct {
	baixa.ConnectionService // the store
	Connectors              map[string]baixa.Connector
	Now                     func() time.Time
}

func (s *Connections) connector(provider string) (baixa.Connector, error) {
	k, ok := s.Connectors[provider]
	if !ok {
		return nil, baixa.FieldError("provider", "unknown provider %q (want one of %v)", provider, slices.Sorted(maps.Keys(s.Connectors)))
	}
	return k, nil
}

func (s *Connections) prepare(c *baixa.Connection) error {
	k, err := s.connector(c.Provider)
	if err != nil {
		return err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	return k.Prepare(c, now)
}

// CreateConnection prepares c, then stores it.
func (s *Connections) CreateConnection(ctx context.Context, c *baixa.Connection) error {
	if err := s.prepare(c); err != nil {
		return err
	}
	return s.ConnectionService.CreateConnection(ctx, c)
}

// UpdateConnection prepares c (its changes merged in), then stores it.
func (s *Connections) UpdateConnection(ctx context.Context, c *baixa.Connection) error {
	if err := s.prepare(c); err != nil {
		return err
	}
	return s.ConnectionService.UpdateConnection(ctx, c)
}

// CheckConnection tests c against its provider.
func (s *Connections) CheckConnection(ctx context.Context, c *baixa.Connection) error {
	k, err := s.connector(c.Provider)
	if err != nil {
		return err
	}
	return k.Check(ctx, c)
}
