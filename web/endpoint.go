package web

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type endpointFields struct {
	URL            *string           `json:"url,omitempty" maxLength:"2048" doc:"https URL (http only where the server allows it)"`
	Description    *string           `json:"description,omitempty" maxLength:"1000"`
	EventTypes     []baixa.EventType `json:"event_types,omitempty" maxItems:"50" doc:"Deliver only these types; empty or absent for all"`
	AccountID      *string           `json:"account_id,omitempty" maxLength:"64" doc:"Deliver only this account's events"`
	Headers        map[string]string `json:"headers,omitempty" doc:"Sent with every request (not webhook-*, Content-Type, Host, ...)"`
	TimeoutSeconds *int              `json:"timeout_seconds,omitempty" minimum:"1" maximum:"60" doc:"Per request (default 15)"`
	RateLimit      *int              `json:"rate_limit,omitempty" minimum:"0" maximum:"100000" doc:"Requests per second at most; 0 for no limit"`
	MaxConcurrency *int              `json:"max_concurrency,omitempty" minimum:"1" maximum:"64" doc:"Requests in flight at once (default 8)"`
	Ordered        *bool             `json:"ordered,omitempty" doc:"Hold a charge's later events while an earlier one is retried (default true)"`
}

// apply sets on e the fields present.
func (f *endpointFields) apply(e *baixa.Endpoint) {
	if f.URL != nil {
		e.URL = *f.URL
	}
	if f.Description != nil {
		e.Description = *f.Description
	}
	if f.EventTypes != nil {
		e.EventTypes = f.EventTypes
	}
	if f.AccountID != nil {
		e.AccountID = *f.AccountID
	}
	if f.Headers != nil {
		e.Headers = f.Headers
	}
	if f.TimeoutSeconds != nil {
		e.TimeoutSeconds = *f.TimeoutSeconds
	}
	if f.RateLimit != nil {
		e.RateLimit = *f.RateLimit
	}
	if f.MaxConcurrency != nil {
		e.MaxConcurrency = *f.MaxConcurrency
	}
	if f.Ordered != nil {
		e.Ordered = *f.Ordered
	}
}

type endpointInput struct {
	Body endpointFields
}

type endpointUpdateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body endpointFields
}

type endpointOutput struct {
	Body *baixa.Endpoint
}

// endpointWithSecret is an endpoint as created or rotated: the only times
// its secret is shown.
type endpointWithSecret struct {
	*baixa.Endpoint
	Secret string `json:"secret" doc:"The signing secret (whsec_...): shown only now; keep it"`
}

type endpointSecretOutput struct {
	Body endpointWithSecret
}

type disableInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

type rotateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		OverlapSeconds *int64 `json:"overlap_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"How long the previous secret keeps signing (default 24 h)"`
	}
}

type replayInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Since time.Time `json:"since" doc:"Replay events recorded at or after this instant"`
		Scope string    `json:"scope,omitempty" enum:"failed,all" default:"failed" doc:"failed: arm dead deliveries again; all: every event the endpoint wants"`
		Force bool      `json:"force,omitempty" doc:"With scope all, send again what was already delivered"`
	}
}

type replayOutput struct {
	Body struct {
		Queued int64 `json:"queued" doc:"Deliveries armed or created"`
	}
}

type attemptOutput struct {
	Body *baixa.Attempt
}

type deliveryListQuery struct {
	EndpointID string `query:"endpoint_id" maxLength:"64"`
	EventID    string `query:"event_id" maxLength:"64"`
	ChargeID   string `query:"charge_id" maxLength:"64"`
	Status     string `query:"status" enum:"pending,failing,succeeded,dead" doc:"failing: pending with failed attempts"`
	After      string `query:"after" maxLength:"64"`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type deliveryOutput struct {
	Body *baixa.Delivery
}

func (s *Server) registerEndpoints(api huma.API) {
	tags := []string{"Webhooks"}
	huma.Register(api, huma.Operation{
		OperationID: "create-endpoint", Method: http.MethodPost, Path: "/v1/endpoints", Tags: tags,
		Summary: "Create a webhook endpoint", DefaultStatus: http.StatusCreated,
		Description: "Events are delivered to the endpoint signed per Standard Webhooks, with the secret returned here once.",
	}, func(ctx context.Context, in *endpointInput) (*endpointSecretOutput, error) {
		e := &baixa.Endpoint{Ordered: true}
		in.Body.apply(e)
		if err := s.checkEndpoint(e); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		e.Secret = baixa.NewWebhookSecret()
		if err := s.Endpoints.CreateEndpoint(ctx, e); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		return &endpointSecretOutput{Body: endpointWithSecret{Endpoint: e, Secret: e.Secret}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-endpoint", Method: http.MethodGet, Path: "/v1/endpoints/{id}", Tags: tags, Summary: "Get an endpoint",
	}, func(ctx context.Context, in *idPath) (*endpointOutput, error) {
		e, err := s.Endpoints.FindEndpointByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &endpointOutput{Body: e}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-endpoints", Method: http.MethodGet, Path: "/v1/endpoints", Tags: tags, Summary: "List endpoints",
	}, func(ctx context.Context, in *PageQuery) (*list[*baixa.Endpoint], error) {
		es, next, err := s.Endpoints.FindEndpoints(ctx, in.After, in.Limit)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Endpoint]{}
		out.Body.Data, out.Body.NextCursor = nonNil(es), next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "update-endpoint", Method: http.MethodPatch, Path: "/v1/endpoints/{id}", Tags: tags,
		Summary: "Update an endpoint", Description: "Changes the fields given; the others stay.",
	}, func(ctx context.Context, in *endpointUpdateInput) (*endpointOutput, error) {
		e, err := s.Endpoints.FindEndpointByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		in.Body.apply(e)
		if err := s.checkEndpoint(e); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		if err := s.Endpoints.UpdateEndpoint(ctx, e); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		return &endpointOutput{Body: e}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "delete-endpoint", Method: http.MethodDelete, Path: "/v1/endpoints/{id}", Tags: tags,
		Summary: "Delete an endpoint", Description: "Its pending deliveries are dropped.", DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Endpoints.DeleteEndpoint(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return nil, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "disable-endpoint", Method: http.MethodPost, Path: "/v1/endpoints/{id}/disable", Tags: tags,
		Summary: "Disable an endpoint", Description: "Nothing is sent to it; its deliveries, new ones included, wait until it is enabled.",
	}, func(ctx context.Context, in *disableInput) (*endpointOutput, error) {
		reason := "disabled by an operator"
		if in.Body != nil && in.Body.Reason != "" {
			reason = in.Body.Reason
		}
		e, err := s.Endpoints.SetEndpointDisabled(ctx, in.ID, true, reason)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &endpointOutput{Body: e}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "enable-endpoint", Method: http.MethodPost, Path: "/v1/endpoints/{id}/enable", Tags: tags,
		Summary: "Enable an endpoint", Description: "What waited is delivered, in order.",
	}, func(ctx context.Context, in *idPath) (*endpointOutput, error) {
		e, err := s.Endpoints.SetEndpointDisabled(ctx, in.ID, false, "")
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &endpointOutput{Body: e}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "rotate-endpoint-secret", Method: http.MethodPost, Path: "/v1/endpoints/{id}/rotate-secret", Tags: tags,
		Summary: "Rotate an endpoint's signing secret",
		Description: "Returns the new secret, once. During the overlap each delivery carries two signatures, " +
			"one per secret, so that the receiver can switch when it likes.",
	}, func(ctx context.Context, in *rotateInput) (*endpointSecretOutput, error) {
		overlap := s.SecretOverlap
		if overlap == 0 {
			overlap = 24 * time.Hour
		}
		if in.Body != nil && in.Body.OverlapSeconds != nil {
			overlap = time.Duration(*in.Body.OverlapSeconds) * time.Second
		}
		secret := baixa.NewWebhookSecret()
		e, err := s.Endpoints.RotateSecret(ctx, in.ID, secret, overlap)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &endpointSecretOutput{Body: endpointWithSecret{Endpoint: e, Secret: secret}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "test-endpoint", Method: http.MethodPost, Path: "/v1/endpoints/{id}/test", Tags: tags,
		Summary: "Send a signed ping", Description: "Sends a `ping` event now and returns the attempt; nothing is recorded.",
	}, func(ctx context.Context, in *idPath) (*attemptOutput, error) {
		e, err := s.Endpoints.FindEndpointByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		if s.PingEndpoint == nil {
			return nil, s.problem(ctx, baixa.Errorf(baixa.EUnavailable, "webhooks are not delivered by this server"), "")
		}
		a, err := s.PingEndpoint(ctx, e)
		if err != nil {
			return nil, s.problem(ctx, err, "")
		}
		return &attemptOutput{Body: a}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "replay-endpoint", Method: http.MethodPost, Path: "/v1/endpoints/{id}/replay", Tags: tags,
		Summary: "Replay deliveries",
		Description: "scope failed arms the endpoint's dead deliveries again; scope all also creates deliveries for events " +
			"the endpoint never had. What already succeeded is not sent again unless force is true.",
	}, func(ctx context.Context, in *replayInput) (*replayOutput, error) {
		n, err := s.Endpoints.Replay(ctx, in.ID, baixa.ReplayRequest{Since: in.Body.Since, All: in.Body.Scope == "all", Force: in.Body.Force})
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		out := &replayOutput{}
		out.Body.Queued = n
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-deliveries", Method: http.MethodGet, Path: "/v1/deliveries", Tags: tags, Summary: "List deliveries",
		Description: "Newest first.",
	}, func(ctx context.Context, in *deliveryListQuery) (*list[*baixa.Delivery], error) {
		f := baixa.DeliveryFilter{EndpointID: in.EndpointID, EventID: in.EventID, ChargeID: in.ChargeID, After: in.After, Limit: in.Limit}
		if in.Status == "failing" {
			f.Failing = true
		} else {
			f.Status = baixa.DeliveryStatus(in.Status)
		}
		ds, next, err := s.Endpoints.FindDeliveries(ctx, f)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Delivery]{}
		out.Body.Data, out.Body.NextCursor = nonNil(ds), next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-delivery", Method: http.MethodGet, Path: "/v1/deliveries/{id}", Tags: tags,
		Summary: "Get a delivery with its attempts",
	}, func(ctx context.Context, in *idPath) (*deliveryOutput, error) {
		d, err := s.Endpoints.FindDeliveryByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &deliveryOutput{Body: d}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "retry-delivery", Method: http.MethodPost, Path: "/v1/deliveries/{id}/retry", Tags: tags,
		Summary: "Retry a delivery now", Description: "A dead or succeeded delivery is sent again, with a fresh retry schedule.",
	}, func(ctx context.Context, in *idPath) (*deliveryOutput, error) {
		d, err := s.Endpoints.RetryDelivery(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &deliveryOutput{Body: d}, nil
	})
}

// checkEndpoint applies the server's rules for endpoint URLs (plain http,
// internal addresses); the store validates the rest as it writes.
func (s *Server) checkEndpoint(e *baixa.Endpoint) error {
	if s.CheckEndpointURL != nil {
		if err := s.CheckEndpointURL(e.URL); err != nil {
			return baixa.FieldError("url", "%v", err)
		}
	}
	return nil
}
