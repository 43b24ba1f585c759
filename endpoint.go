package baixa

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Endpoint is an ERP subscriber: where events are delivered, signed, and
// which of them.
type Endpoint struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// EventTypes filters what is delivered; empty means every type.
	EventTypes []EventType `json:"event_types"`
	// AccountID, when set, limits deliveries to that account's events.
	AccountID string            `json:"account_id,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// TimeoutSeconds bounds one request, from dialling to the last byte read.
	TimeoutSeconds int `json:"timeout_seconds"`
	// RateLimit caps requests per second (0: no cap).
	RateLimit int `json:"rate_limit"`
	// MaxConcurrency caps requests in flight at once.
	MaxConcurrency int `json:"max_concurrency"`
	// Ordered holds a charge's later events while an earlier one is still
	// being retried.
	Ordered        bool      `json:"ordered"`
	Disabled       bool      `json:"disabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	DisabledAt     time.Time `json:"disabled_at,omitzero"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Secret signs deliveries; it is shown once, when created or rotated.
	Secret string `json:"-"`
	// PreviousSecret also signs until PreviousSecretExpires (rotation).
	PreviousSecret        string    `json:"-"`
	PreviousSecretExpires time.Time `json:"previous_secret_expires_at,omitzero"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
}

// Wants reports whether e subscribes to ev.
func (e *Endpoint) Wants(ev *Event) bool {
	if e.AccountID != "" && ev.AccountID != e.AccountID {
		return false
	}
	return len(e.EventTypes) == 0 || slices.Contains(e.EventTypes, ev.Type)
}

// Secrets returns the secrets to sign with at now: the current one, and the
// previous one while its overlap lasts.
func (e *Endpoint) Secrets(now time.Time) []string {
	if e.PreviousSecret != "" && now.Before(e.PreviousSecretExpires) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses. A pending delivery that has failed is "failing" until
// it succeeds or runs out of attempts.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryDead      DeliveryStatus = "dead" // every attempt failed
)

// Delivery is one event to one endpoint, with its attempts.
type Delivery struct {
	ID         string         `json:"id"`
	EndpointID string         `json:"endpoint_id"`
	EventID    string         `json:"event_id"`
	EventType  EventType      `json:"event_type"`
	ChargeID   string         `json:"charge_id,omitempty"`
	Sequence   int64          `json:"sequence"`
	Status     DeliveryStatus `json:"status"`
	Attempts   int            `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt  time.Time `json:"next_attempt_at,omitzero"`
	LastStatusCode int       `json:"last_status_code,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// EventCreatedAt is when the event was recorded (for latency).
	EventCreatedAt time.Time  `json:"-"`
	SucceededAt    time.Time  `json:"succeeded_at,omitzero"`
	AttemptLog     []*Attempt `json:"attempt_log,omitempty"`
	// EventPos is the event's position in the feed.
	EventPos int64 `json:"-"`
	// RetryBase is the attempt count when the delivery was last re-armed by
	// a retry or replay; the schedule counts from it.
	RetryBase int `json:"-"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	N           int       `json:"n"`
	At          time.Time `json:"at"`
	StatusCode  int       `json:"status_code,omitempty"`
	DurationMS  int64     `json:"duration_ms"`
	Error       string    `json:"error,omitempty"`
	Response    string    `json:"response,omitempty"`
	NextAttempt time.Time `json:"-"`
}

// DeliveryOutcome is what one attempt did to its delivery.
type DeliveryOutcome struct {
	// Delivery with Status, Attempts, NextAttemptAt, LastStatusCode,
	// LastError and SucceededAt set from the attempt.
	Delivery *Delivery
	Attempt  *Attempt
}

// EndpointHealth is what a batch of attempts says of their endpoint.
type EndpointHealth struct {
	// Succeeded ends a run of failures; otherwise FailedAt starts one, if
	// none is running.
	Succeeded bool
	FailedAt  time.Time
	// DisableAfter disables the endpoint once its failures have run this
	// long (0: never).
	DisableAfter time.Duration
	// Disable disables it now, with this reason (it answered 410 Gone).
	Disable string
}

// DeliveryFilter selects deliveries, newest first.
type DeliveryFilter struct {
	EndpointID string
	EventID    string
	ChargeID   string
	Status     DeliveryStatus
	// Failing selects pending deliveries with at least one failed attempt.
	Failing bool
	After   string
	Limit   int
}

// ReplayRequest re-sends an endpoint's deliveries.
type ReplayRequest struct {
	// Since limits the replay to events recorded at or after it.
	Since time.Time
	// All replays every event since Since that the endpoint wants (creating
	// deliveries it never had); otherwise only dead deliveries are re-armed.
	All bool
	// Force sends again events already delivered successfully.
	Force bool
}

// EndpointService manages endpoints and their deliveries.
type EndpointService interface {
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	FindEndpointByID(ctx context.Context, id string) (*Endpoint, error)
	FindEndpoints(ctx context.Context, after string, limit int) ([]*Endpoint, string, error)
	// UpdateEndpoint writes e's settings (not its secrets nor its state).
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	// SetEndpointDisabled disables (with reason) or enables an endpoint.
	SetEndpointDisabled(ctx context.Context, id string, disabled bool, reason string) (*Endpoint, error)
	// RotateSecret installs secret and keeps the current one valid for overlap.
	RotateSecret(ctx context.Context, id, secret string, overlap time.Duration) (*Endpoint, error)
	// DeleteEndpoint removes an endpoint with its deliveries.
	DeleteEndpoint(ctx context.Context, id string) error

	FindDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	FindDeliveryByID(ctx context.Context, id string) (*Delivery, error)
	// RetryDelivery makes a delivery due now, whatever its status.
	RetryDelivery(ctx context.Context, id string) (*Delivery, error)
	// Replay re-arms or creates deliveries; it returns how many are due.
	Replay(ctx context.Context, endpointID string, r ReplayRequest) (int64, error)
}

// DeliverJob delivers an endpoint's due deliveries.
type DeliverJob struct{ EndpointID string }

func (DeliverJob) job() {}

// Endpoint limits.
const (
	DefaultEndpointTimeout     = 15 // seconds
	MaxEndpointTimeout         = 60
	DefaultEndpointConcurrency = 8
	MaxEndpointConcurrency     = 64
	MaxEndpointHeaders         = 20
)

// reservedHeaders are set by the delivery itself.
var reservedHeaders = []string{"webhook-id", "webhook-timestamp", "webhook-signature", "content-type",
	"content-length", "host", "transfer-encoding", "connection", "user-agent"}

// Validate checks e's settings and fills defaults. URL checks that need
// configuration (plain http, addresses) are the caller's.
func (e *Endpoint) Validate() error {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		return FieldError("url", "required")
	case err != nil:
		return FieldError("url", "not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http":
		return FieldError("url", "must be https (or http where the configuration allows it)")
	case u.Host == "" || u.Hostname() == "":
		return FieldError("url", "has no host")
	case u.User != nil:
		return FieldError("url", "must not carry credentials; use headers")
	case u.Fragment != "":
		return FieldError("url", "must not have a fragment")
	case len(e.URL) > 2048:
		return FieldError("url", "longer than 2048 characters")
	case len(e.Description) > 1000:
		return FieldError("description", "longer than 1000 characters")
	}
	for i, t := range e.EventTypes {
		if !slices.Contains(EventTypes, t) {
			return FieldError(fmt.Sprintf("event_types[%d]", i), "unknown event type %q", t)
		}
	}
	slices.Sort(e.EventTypes)
	e.EventTypes = slices.Compact(e.EventTypes)
	if e.TimeoutSeconds == 0 {
		e.TimeoutSeconds = DefaultEndpointTimeout
	}
	if e.TimeoutSeconds < 1 || e.TimeoutSeconds > MaxEndpointTimeout {
		return FieldError("timeout_seconds", "must be 1 to %d", MaxEndpointTimeout)
	}
	if e.RateLimit < 0 || e.RateLimit > 100000 {
		return FieldError("rate_limit", "must be 0 (no limit) to 100000 requests per second")
	}
	if e.MaxConcurrency == 0 {
		e.MaxConcurrency = DefaultEndpointConcurrency
	}
	if e.MaxConcurrency < 1 || e.MaxConcurrency > MaxEndpointConcurrency {
		return FieldError("max_concurrency", "must be 1 to %d", MaxEndpointConcurrency)
	}
	if len(e.Headers) > MaxEndpointHeaders {
		return FieldError("headers", "more than %d", MaxEndpointHeaders)
	}
	for k, v := range e.Headers {
		if !validHeaderName(k) {
			return FieldError("headers", "%q is not a valid header name", k)
		}
		if slices.Contains(reservedHeaders, strings.ToLower(k)) {
			return FieldError("headers", "%q is set by baixa", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
			return FieldError("headers", "value of %q has line breaks or is too long", k)
		}
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for _, c := range k {
		token := strings.ContainsRune("-_.!#$%&'*+^`|~", c) ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !token {
			return false
		}
	}
	return true
}

// NewWebhookSecret returns a signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
