package provider

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"baixa"
)

// Address is what the settings of a provider that baixa polls share:
// where its API is, how large an answer may be, how to wait, and how its
// own webhooks (or pushes) authenticate. Its JSON fields sit beside the
// provider's own.
type Address struct {
	// Environment names a known address, or is "custom" with BaseURL.
	Environment string `json:"environment"`
	BaseURL     string `json:"base_url,omitempty"`
	// MaxResponseBytes bounds one answer of the provider's.
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	Polling
	// WebhookAuth, when set, accepts the provider's webhooks on
	// /hooks/{provider}/{connection}; without it they are refused.
	WebhookAuth *baixa.InboundAuth `json:"webhook_auth,omitempty"`
}

// EnvCustom is the environment of an address given in base_url.
const EnvCustom = "custom"

// AddressRules are a provider's environments and defaults.
type AddressRules struct {
	// Environments maps each known environment to its address; the first
	// listed in Order is the default.
	Environments map[string]string
	Order        []string
	BaseURLHint  string // what base_url is, for an error ("up to /api/v1")
	MaxBytes     int64
	// Every, Max and GiveUp are the polling defaults; Floor the shortest
	// poll_every allowed (CustomFloor for a custom address).
	Every, Max, GiveUp, Floor, CustomFloor time.Duration
}

// Normalize checks e and fills in its defaults.
func (e *Address) Normalize(r AddressRules) error {
	if e.Environment == "" {
		e.Environment = r.Order[0]
	}
	floor := r.Floor
	switch base, ok := r.Environments[e.Environment]; {
	case ok:
		e.BaseURL = base
	case e.Environment == EnvCustom:
		u, err := url.Parse(e.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return baixa.FieldError("settings.base_url", "want an http(s) address (%s)", r.BaseURLHint)
		}
		e.BaseURL = strings.TrimRight(e.BaseURL, "/")
		floor = r.CustomFloor
	default:
		return baixa.FieldError("settings.environment", "want %s or %s", strings.Join(r.Order, ", "), EnvCustom)
	}
	if e.MaxResponseBytes == 0 {
		e.MaxResponseBytes = r.MaxBytes
	}
	if e.MaxResponseBytes < 1<<10 {
		return baixa.FieldError("settings.max_response_bytes", "want at least 1024")
	}
	return e.Polling.Normalize(r.Every, r.Max, r.GiveUp, floor)
}

// inboundSecrets are the secrets webhook authentication may use.
var inboundSecrets = []string{baixa.SecretToken, baixa.SecretUsername, baixa.SecretPassword, baixa.SecretJWTKey, baixa.SecretHMACKey}

// CheckSecrets refuses a secret that is neither one of own nor one that
// webhook authentication uses, and checks the webhook authentication.
func (e *Address) CheckSecrets(secrets map[string]string, own ...string) error {
	for k := range secrets {
		if !slices.Contains(own, k) && !slices.Contains(inboundSecrets, k) {
			return baixa.FieldError("secrets."+k, "unknown secret (want %s, and the webhook's)", strings.Join(own, " or "))
		}
	}
	if e.WebhookAuth != nil {
		return e.WebhookAuth.Normalize(secrets)
	}
	return nil
}

// Auth returns how the provider's webhooks authenticate; without
// webhook_auth they are refused.
func (e *Address) Auth() (baixa.InboundAuth, error) {
	if e.WebhookAuth == nil {
		return baixa.InboundAuth{}, baixa.Errorf(baixa.EUnauthorized, "this connection takes no webhooks (set settings.webhook_auth)")
	}
	return *e.WebhookAuth, nil
}
