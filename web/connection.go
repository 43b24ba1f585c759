package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

// certWarning is how far ahead an expiring certificate is warned about.
const certWarning = 30 * 24 * time.Hour

type connectionFields struct {
	Name *string `json:"name,omitempty" maxLength:"200"`
	// Settings are the provider's own (see docs/providers/). On update, the
	// keys given replace those stored; a key set to null goes back to its default.
	Settings json.RawMessage   `json:"settings,omitempty" doc:"The provider's settings (docs/providers/); on update, the keys given replace those stored, null restores a default"`
	Secrets  map[string]string `json:"secrets,omitempty" doc:"Certificates, keys, passwords: stored encrypted, never returned. On update, the names given replace those stored; an empty value removes one"`
	// EverySeconds is how often the connection is read.
	EverySeconds *int64 `json:"every_seconds,omitempty" minimum:"1" maximum:"604800" doc:"How often to read the provider (default 1800)"`
	Enabled      *bool  `json:"enabled,omitempty" doc:"Read on schedule (default true)"`
}

type connectionCreateInput struct {
	Body struct {
		AccountID    string            `json:"account_id" maxLength:"64" required:"true"`
		Provider     string            `json:"provider" maxLength:"32" required:"true" doc:"sicoob, ..."`
		Name         *string           `json:"name,omitempty" maxLength:"200"`
		Settings     json.RawMessage   `json:"settings,omitempty" doc:"The provider's settings (docs/providers/)"`
		Secrets      map[string]string `json:"secrets,omitempty" doc:"Certificates, keys, passwords: stored encrypted, never returned"`
		EverySeconds *int64            `json:"every_seconds,omitempty" minimum:"1" maximum:"604800" doc:"How often to read the provider (default 1800)"`
		Enabled      *bool             `json:"enabled,omitempty" doc:"Read on schedule (default true)"`
	}
}

func (in *connectionCreateInput) fields() *connectionFields {
	b := &in.Body
	return &connectionFields{Name: b.Name, Settings: b.Settings, Secrets: b.Secrets, EverySeconds: b.EverySeconds, Enabled: b.Enabled}
}

type connectionUpdateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body connectionFields
}

// connectionView is a connection as the API shows it: never its secrets.
type connectionView struct {
	*baixa.Connection
	Warnings []string               `json:"warnings,omitempty"`
	Stats    *baixa.ConnectionStats `json:"stats,omitempty"`
}

type connectionOutput struct {
	Body connectionView
}

type checkOutput struct {
	Body struct {
		OK                   bool      `json:"ok"`
		CertificateExpiresAt time.Time `json:"certificate_expires_at,omitzero"`
		Warnings             []string  `json:"warnings,omitempty"`
	}
}

func warnings(c *baixa.Connection, now time.Time) []string {
	var out []string
	if exp := c.CertificateExpiresAt; !exp.IsZero() {
		switch {
		case now.After(exp):
			out = append(out, fmt.Sprintf("the client certificate expired on %s", exp.Format(time.DateOnly)))
		case exp.Sub(now) < certWarning:
			out = append(out, fmt.Sprintf("the client certificate expires on %s, in %d days", exp.Format(time.DateOnly), int(exp.Sub(now).Hours()/24)))
		}
	}
	return out
}

// mergeSettings applies a partial settings object to the stored one.
func mergeSettings(stored, patch json.RawMessage) (json.RawMessage, error) {
	var base, p map[string]json.RawMessage
	if err := json.Unmarshal(stored, &base); err != nil || base == nil {
		base = map[string]json.RawMessage{}
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, baixa.FieldError("settings", "want a JSON object")
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return json.Marshal(base)
}

// ConnectionService is what the connection routes need: the store's
// service with each provider's rules (provider.Connections).
type ConnectionService interface {
	baixa.ConnectionService
	// CheckConnection tests a connection against its provider.
	CheckConnection(ctx context.Context, c *baixa.Connection) error
}

func (s *Server) registerConnections(api huma.API) {
	tags := []string{"Connections"}
	huma.Register(api, huma.Operation{
		OperationID: "create-connection", Method: http.MethodPost, Path: "/v1/connections", Tags: tags,
		Summary: "Connect a provider account", DefaultStatus: http.StatusCreated,
		Description: "Validates the settings and credentials (a certificate must parse and be current), stores the secrets encrypted, and reads the provider at once and then on schedule.",
	}, func(ctx context.Context, in *connectionCreateInput) (*connectionOutput, error) {
		c := &baixa.Connection{AccountID: in.Body.AccountID, Provider: in.Body.Provider, EverySeconds: 1800, Enabled: true,
			Settings: json.RawMessage(`{}`), Secrets: map[string]string{}}
		if err := applyConnection(c, in.fields()); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		if err := s.Connections.CreateConnection(ctx, c); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		return &connectionOutput{Body: connectionView{Connection: c, Warnings: warnings(c, time.Now())}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-connection", Method: http.MethodGet, Path: "/v1/connections/{id}", Tags: tags,
		Summary:     "Get a connection and what it is doing",
		Description: "With the last and next run, the fetches under way (window, Sicoob's codigoSolicitacao, state), the last fetches, documents fetched, movements by result, and the last error in words.",
	}, func(ctx context.Context, in *idPath) (*connectionOutput, error) {
		c, err := s.Connections.FindConnectionByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		st, err := s.Connections.ConnectionStats(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &connectionOutput{Body: connectionView{Connection: c, Warnings: warnings(c, time.Now()), Stats: st}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-connections", Method: http.MethodGet, Path: "/v1/connections", Tags: tags, Summary: "List connections",
	}, func(ctx context.Context, in *PageQuery) (*list[connectionView], error) {
		cs, next, err := s.Connections.FindConnections(ctx, in.After, in.Limit)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[connectionView]{}
		out.Body.Data, out.Body.NextCursor = []connectionView{}, next
		for _, c := range cs {
			out.Body.Data = append(out.Body.Data, connectionView{Connection: c, Warnings: warnings(c, time.Now())})
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "update-connection", Method: http.MethodPatch, Path: "/v1/connections/{id}", Tags: tags,
		Summary: "Update a connection", Description: "Changes what is given, validates the result as on creation, and keeps the rest.",
	}, func(ctx context.Context, in *connectionUpdateInput) (*connectionOutput, error) {
		c, err := s.Connections.FindConnectionByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		if err := applyConnection(c, &in.Body); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		if err := s.Connections.UpdateConnection(ctx, c); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		return &connectionOutput{Body: connectionView{Connection: c, Warnings: warnings(c, time.Now())}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "delete-connection", Method: http.MethodDelete, Path: "/v1/connections/{id}", Tags: tags,
		Summary: "Delete a connection", Description: "Its fetches under way stop; the documents it fetched stay.", DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Connections.DeleteConnection(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return nil, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "check-connection", Method: http.MethodPost, Path: "/v1/connections/{id}/check", Tags: tags,
		Summary: "Test a connection against its provider", Description: "Asks the provider with the connection's credentials, storing nothing: Sicoob, a token over mutual TLS; " +
			"PlugBoleto, a boleto that cannot exist; Recuperador, the first creditor's last day. Callback providers (BMP, Saurus) " +
			"have nothing to ask. A refusal is a 503 naming the provider's answer.",
	}, func(ctx context.Context, in *idPath) (*checkOutput, error) {
		c, err := s.Connections.FindConnectionByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Connections.CheckConnection(cctx, c); err != nil {
			return nil, s.problem(ctx, err, "")
		}
		out := &checkOutput{}
		out.Body.OK, out.Body.CertificateExpiresAt, out.Body.Warnings = true, c.CertificateExpiresAt, warnings(c, time.Now())
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "run-connection", Method: http.MethodPost, Path: "/v1/connections/{id}/run", Tags: tags,
		Summary: "Read a connection now", Description: "Makes it due at once; the next tick of the scheduler starts the run.", DefaultStatus: http.StatusAccepted,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Connections.RunConnection(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return nil, nil
	})
}

// applyConnection sets on c the fields given.
func applyConnection(c *baixa.Connection, f *connectionFields) error {
	if f.Name != nil {
		c.Name = *f.Name
	}
	if len(f.Settings) > 0 {
		merged, err := mergeSettings(c.Settings, f.Settings)
		if err != nil {
			return err
		}
		c.Settings = merged
	}
	for k, v := range f.Secrets {
		if len(v) > 1<<20 {
			return baixa.FieldError("secrets."+k, "larger than 1 MiB")
		}
		if v == "" {
			delete(c.Secrets, k)
		} else {
			c.Secrets[k] = v
		}
	}
	if f.EverySeconds != nil {
		c.EverySeconds = *f.EverySeconds
	}
	if f.Enabled != nil {
		c.Enabled = *f.Enabled
	}
	return nil
}
