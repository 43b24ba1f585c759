// Package plugboleto reads Tecnospeed PlugBoleto: a bank return file
// imported for a PlugBoleto connection is uploaded to PlugBoleto (POST
// /retornos), its protocol is polled until PlugBoleto has reconciled it,
// the reconciled boletos are read back (GET /boletos) and every answer is
// stored as a Document whose movements settle the charges. PlugBoleto's own
// webhooks (/hooks/plugboleto/{connection}) only trigger a read-back.
package plugboleto

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"baixa"
	"baixa/provider"
)

// Provider is the provider name of PlugBoleto connections and documents.
const Provider = "plugboleto"

// Environments and their addresses.
const (
	EnvProduction   = "production"
	EnvHomologation = "homologation"
	EnvCustom       = "custom"

	productionBase   = "https://plugboleto.com.br/api/v1"
	homologationBase = "https://homologacao.plugboleto.com.br/api/v1"
)

// Secret names.
const (
	SecretTokenSH      = "token_sh"      // the software house's token (with settings.cnpj_sh)
	SecretTokenCedente = "token_cedente" // the beneficiary's own token
)

// MinPollEvery is PlugBoleto's asked-for pause between two queries of a
// protocol; only a custom (sandbox) address may poll faster.
const MinPollEvery = 5 * time.Second

// Settings are a PlugBoleto connection's non-secret settings.
type Settings struct {
	// Environment is production, homologation or custom (BaseURL, up to
	// /api/v1, e.g. baixa's sandbox).
	Environment string `json:"environment"`
	BaseURL     string `json:"base_url,omitempty"`
	// CNPJCedente is the beneficiary's CNPJ, sent on every call.
	CNPJCedente string `json:"cnpj_cedente"`
	// CNPJSH is the software house's CNPJ, with the secret token_sh; without
	// it the secret token_cedente authenticates as the beneficiary.
	CNPJSH string `json:"cnpj_sh,omitempty"`
	// BatchSize is how many boletos one read-back asks for (at most 200).
	BatchSize int `json:"batch_size,omitempty"`
	// MaxResponseBytes bounds one answer of PlugBoleto's.
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	provider.Polling
	// WebhookAuth, when set, accepts PlugBoleto's webhooks on
	// /hooks/plugboleto/{connection} (method "header" for the custom header
	// set in PlugBoleto's panel); without it they are refused.
	WebhookAuth *baixa.InboundAuth `json:"webhook_auth,omitempty"`
}

func parseSettings(raw []byte) (*Settings, error) {
	var s Settings
	if err := provider.DecodeSettings(raw, &s); err != nil {
		return nil, err
	}
	if err := s.normalize(nil); err != nil {
		return nil, err
	}
	return &s, nil
}

// normalize checks s and fills in defaults; with secrets, it checks them too.
func (s *Settings) normalize(secrets map[string]string) error {
	switch s.Environment {
	case "", EnvProduction:
		s.Environment, s.BaseURL = EnvProduction, productionBase
	case EnvHomologation:
		s.BaseURL = homologationBase
	case EnvCustom:
		u, err := url.Parse(s.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return baixa.FieldError("settings.base_url", "want an http(s) address up to /api/v1")
		}
		s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	default:
		return baixa.FieldError("settings.environment", "want production, homologation or custom")
	}
	s.CNPJCedente = baixa.NormalizeTaxID(s.CNPJCedente)
	if err := baixa.ValidateTaxID(s.CNPJCedente); err != nil {
		return baixa.FieldError("settings.cnpj_cedente", "%v", err)
	}
	if s.CNPJSH != "" {
		s.CNPJSH = baixa.NormalizeTaxID(s.CNPJSH)
		if err := baixa.ValidateTaxID(s.CNPJSH); err != nil {
			return baixa.FieldError("settings.cnpj_sh", "%v", err)
		}
	}
	if s.BatchSize == 0 {
		s.BatchSize = 200
	}
	if s.BatchSize < 1 || s.BatchSize > 200 {
		return baixa.FieldError("settings.batch_size", "want 1 to 200")
	}
	if s.MaxResponseBytes == 0 {
		s.MaxResponseBytes = 64 << 20
	}
	if s.MaxResponseBytes < 1<<10 {
		return baixa.FieldError("settings.max_response_bytes", "want at least 1024")
	}
	floor := MinPollEvery
	if s.Environment == EnvCustom {
		floor = 10 * time.Millisecond
	}
	if err := s.Normalize(MinPollEvery, 2*time.Minute, 2*time.Hour, floor); err != nil {
		return err
	}
	if secrets == nil {
		return nil
	}
	for k := range secrets {
		switch k {
		case SecretTokenSH, SecretTokenCedente, baixa.SecretToken, baixa.SecretUsername, baixa.SecretPassword, baixa.SecretJWTKey, baixa.SecretHMACKey:
		default:
			return baixa.FieldError("secrets."+k, "unknown secret (want %s or %s, and the webhook's)", SecretTokenSH, SecretTokenCedente)
		}
	}
	switch {
	case s.CNPJSH != "" && secrets[SecretTokenSH] == "":
		return baixa.FieldError("secrets."+SecretTokenSH, "required with settings.cnpj_sh")
	case s.CNPJSH == "" && secrets[SecretTokenCedente] == "":
		return baixa.FieldError("secrets."+SecretTokenCedente, "required without settings.cnpj_sh (or give cnpj_sh and token_sh)")
	}
	if s.WebhookAuth != nil {
		if err := s.WebhookAuth.Normalize(secrets); err != nil {
			return err
		}
	}
	return nil
}

func (s *Settings) marshal() json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
