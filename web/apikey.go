package web

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type apiKeyCreateInput struct {
	Body struct {
		Name      string `json:"name" minLength:"1" maxLength:"200"`
		Role      string `json:"role" enum:"read,operator,admin" doc:"read: reads only; operator: also settles by hand, imports, runs connections, retries deliveries; admin: everything"`
		AccountID string `json:"account_id,omitempty" maxLength:"64" doc:"Confine the key to this account's charges, events, movements and imports"`
	}
}

type apiKeyRotateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		OverlapSeconds int `json:"overlap_seconds,omitempty" minimum:"0" maximum:"604800" doc:"How long the old key keeps working (default 0: it stops at once)"`
	}
}

type apiKeyOutput struct {
	Body *baixa.APIKey
}

type auditQuery struct {
	PageQuery
	KeyID string `query:"key_id" maxLength:"64" doc:"Only this key's writes"`
}

func (s *Server) registerAPIKeys(api huma.API) {
	tags := []string{"API keys"}
	huma.Register(api, huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: "/v1/api-keys", Tags: tags, Summary: "Make an API key",
		Description: "The answer is the only one that shows the key; baixa keeps only its hash. Admin only.", DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *apiKeyCreateInput) (*apiKeyOutput, error) {
		secret := baixa.NewAPIKeySecret()
		k := &baixa.APIKey{Name: in.Body.Name, Role: in.Body.Role, AccountID: in.Body.AccountID}
		if err := s.Keys.CreateAPIKey(ctx, k, secret); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		k.Secret = secret
		return &apiKeyOutput{Body: k}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-api-keys", Method: http.MethodGet, Path: "/v1/api-keys", Tags: tags, Summary: "List API keys",
		Description: "Each key by its prefix; the keys themselves are never shown again.",
	}, func(ctx context.Context, in *PageQuery) (*list[*baixa.APIKey], error) {
		ks, next, err := s.Keys.FindAPIKeys(ctx, baixa.Page{After: in.After, Limit: in.Limit})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.APIKey]{}
		out.Body.Data, out.Body.NextCursor = ks, next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-api-key", Method: http.MethodGet, Path: "/v1/api-keys/{id}", Tags: tags, Summary: "Get an API key",
	}, func(ctx context.Context, in *idPath) (*apiKeyOutput, error) {
		k, err := s.Keys.FindAPIKeyByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &apiKeyOutput{Body: k}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "rotate-api-key", Method: http.MethodPost, Path: "/v1/api-keys/{id}/rotate", Tags: tags, Summary: "Rotate an API key",
		Description:   "Makes a key with the same name and role, shown only in this answer; the old one keeps working for overlap_seconds.",
		DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *apiKeyRotateInput) (*apiKeyOutput, error) {
		var overlap time.Duration
		if in.Body != nil {
			overlap = time.Duration(in.Body.OverlapSeconds) * time.Second
		}
		secret := baixa.NewAPIKeySecret()
		k, err := s.Keys.RotateAPIKey(ctx, in.ID, secret, overlap)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		s.keys.Forget()
		k.Secret = secret
		return &apiKeyOutput{Body: k}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/v1/api-keys/{id}", Tags: tags, Summary: "Revoke an API key",
		Description: "It stops working at once on this instance, and within seconds on others.", DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Keys.RevokeAPIKey(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		s.keys.Forget()
		return nil, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-audit", Method: http.MethodGet, Path: "/v1/audit", Tags: tags, Summary: "Read the audit log",
		Description: "Every write made through the API, newest first: the key that made it, when, the operation, its status, and the " +
			"resource before and after (secrets removed). Admin only.",
	}, func(ctx context.Context, in *auditQuery) (*list[*baixa.AuditEntry], error) {
		es, next, err := s.Audit.FindAudit(ctx, in.KeyID, baixa.Page{After: in.After, Limit: in.Limit})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.AuditEntry]{}
		out.Body.Data, out.Body.NextCursor = es, next
		return out, nil
	})
}
