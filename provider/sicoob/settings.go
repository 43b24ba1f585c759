package sicoob

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"baixa"
	"baixa/provider"
)

// Environments and their addresses.
const (
	EnvProduction = "production"
	EnvSandbox    = "sandbox"
	EnvCustom     = "custom"

	productionBase  = "https://api.sicoob.com.br/cobranca-bancaria/"
	sandboxBase     = "https://sandbox.sicoob.com.br/sicoob/sandbox/cobranca-bancaria/"
	productionToken = "https://auth.sicoob.com.br/auth/realms/cooperado/protocol/openid-connect/token"
	// SandboxToken is the fixed token of Sicoob's own sandbox, which asks
	// for none.
	SandboxToken = "1301865f-c6bc-38f3-9f49-666dbcfc59c3"
)

// Settings are a Sicoob connection's non-secret settings.
type Settings struct {
	// Environment is production, sandbox (Sicoob's) or custom (BaseURL and
	// TokenURL, e.g. baixa's own sandbox).
	Environment string `json:"environment"`
	BaseURL     string `json:"base_url,omitempty"`
	TokenURL    string `json:"token_url,omitempty"`
	// CACertPEM, for custom URLs, is a CA to trust besides the system's.
	CACertPEM  string `json:"ca_certificate_pem,omitempty"`
	APIVersion string `json:"api_version"`
	ClientID   string `json:"client_id"`
	// NumeroCliente is the beneficiary's contract number with its check
	// digit (numeroCliente in v3, numeroContrato in v2).
	NumeroCliente string `json:"numero_cliente"`
	// MovementTypes are the tipoMovimento codes to fetch (1 to 7).
	MovementTypes []int `json:"movement_types"`
	// StartDate is the first day to read.
	StartDate baixa.Date `json:"start_date"`
	Scope     string     `json:"scope"`
	// PollEvery is the first wait before asking whether a request is
	// ready; it doubles up to PollMax. GiveUpAfter ends a fetch that never
	// gets ready (or keeps failing); the next run asks again.
	PollEvery    string `json:"poll_every"`
	PollMax      string `json:"poll_max"`
	GiveUpAfter  string `json:"give_up_after"`
	MaxFileBytes int64  `json:"max_file_bytes"`

	polling provider.Polling // the durations above, parsed
	numero  int64
}

// parseSettings reads settings written by Prepare.
func parseSettings(raw json.RawMessage) (*Settings, error) {
	var s Settings
	if err := provider.DecodeSettings(raw, &s); err != nil {
		return nil, err
	}
	if err := s.normalize(); err != nil {
		return nil, err
	}
	return &s, nil
}

func field(name, format string, args ...any) error {
	return baixa.FieldError("settings."+name, format, args...)
}

// normalize checks s and fills in defaults.
func (s *Settings) normalize() error {
	s.Environment = cmp.Or(s.Environment, EnvProduction)
	s.APIVersion = cmp.Or(s.APIVersion, "v3")
	if s.APIVersion != "v3" && s.APIVersion != "v2" {
		return field("api_version", "want v3 or v2")
	}
	switch s.Environment {
	case EnvProduction:
		s.BaseURL, s.TokenURL = productionBase+s.APIVersion, productionToken
	case EnvSandbox:
		s.BaseURL, s.TokenURL = sandboxBase+s.APIVersion, ""
	case EnvCustom:
		for name, v := range map[string]string{"base_url": s.BaseURL, "token_url": s.TokenURL} {
			u, err := url.Parse(v)
			if v == "" || err != nil || u.Scheme != "https" || u.Host == "" {
				return field(name, "with environment custom, want an https URL")
			}
		}
	default:
		return field("environment", "want production, sandbox or custom")
	}
	if s.CACertPEM != "" && !strings.Contains(s.CACertPEM, "BEGIN CERTIFICATE") {
		return field("ca_certificate_pem", "want a PEM certificate")
	}
	if s.ClientID = strings.TrimSpace(s.ClientID); s.ClientID == "" || len(s.ClientID) > 200 {
		return field("client_id", "required (the client_id of the application at Sicoob's developer portal)")
	}
	digits := strings.NewReplacer("-", "", ".", "", " ", "").Replace(s.NumeroCliente)
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || len(digits) > 12 {
		return field("numero_cliente", "want the contract number in digits, with its check digit (e.g. 707090)")
	}
	s.NumeroCliente, s.numero = strconv.FormatInt(n, 10), n
	if len(s.MovementTypes) == 0 {
		s.MovementTypes = []int{5, 6}
	}
	maxType := 7
	if s.APIVersion == "v2" {
		maxType = 6
	}
	for _, t := range s.MovementTypes {
		if t < 1 || t > maxType {
			return field("movement_types", "type %d: want 1 to %d (5 Liquidação, 6 Baixa, ...)", t, maxType)
		}
	}
	slices.Sort(s.MovementTypes)
	s.MovementTypes = slices.Compact(s.MovementTypes)
	if s.Scope == "" {
		s.Scope = "boletos_consulta"
		if s.APIVersion == "v2" {
			s.Scope = "cobranca_boletos_solicitacao_movimentacao_incluir cobranca_boletos_solicitacao_movimentacao_consultar cobranca_boletos_solicitacao_movimentacao_download"
		}
	}
	for _, d := range []struct {
		name string
		v    *string
		def  string
		out  *time.Duration
	}{{"poll_every", &s.PollEvery, "10s", &s.polling.Every}, {"poll_max", &s.PollMax, "5m", &s.polling.Max}, {"give_up_after", &s.GiveUpAfter, "2h", &s.polling.GiveUp}} {
		*d.v = cmp.Or(*d.v, d.def)
		v, err := time.ParseDuration(*d.v)
		if err != nil || v < 50*time.Millisecond || v > 7*24*time.Hour {
			return field(d.name, "want a duration such as %q (50ms to 168h)", d.def)
		}
		*d.out = v
	}
	if s.polling.Max < s.polling.Every || s.polling.GiveUp < s.polling.Every {
		return field("poll_max", "poll_max and give_up_after must not be shorter than poll_every")
	}
	s.MaxFileBytes = cmp.Or(s.MaxFileBytes, 1<<30)
	if s.MaxFileBytes < 1024 {
		return field("max_file_bytes", "want at least 1024")
	}
	return nil
}

// prepare normalizes s for a connection created or updated at now.
func (s *Settings) prepare(now time.Time) error {
	if err := s.normalize(); err != nil {
		return err
	}
	today := baixa.Today(now)
	if s.StartDate.IsZero() {
		s.StartDate = today.AddDays(-1)
	}
	if today.Before(s.StartDate) {
		return field("start_date", "is in the future")
	}
	if s.StartDate.Before(today.AddDays(-5 * 366)) {
		return field("start_date", "is more than five years back")
	}
	return nil
}

func (s *Settings) marshal() json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func (s *Settings) String() string {
	return fmt.Sprintf("sicoob %s %s cliente %s", s.Environment, s.APIVersion, s.NumeroCliente)
}
