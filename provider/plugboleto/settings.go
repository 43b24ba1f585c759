// Package plugboleto reads Tecnospeed PlugBoleto: a bank return file
// imported for a PlugBoleto connection is uploaded to PlugBoleto (POST
// /retornos), its protocol is polled until PlugBoleto has reconciled it,
// the reconciled boletos are read back (GET /boletos) and every answer is
// stored as a Document whose movements settle the charges. PlugBoleto's own
// webhooks (/hooks/plugboleto/{connection}) only trigger a read-back.
package plugboleto

import (
	"os"
	"path/filepath"
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
	EnvCustom       = provider.EnvCustom

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
	// /api/v1, e.g. baixa's sandbox); WebhookAuth accepts PlugBoleto's
	// webhooks (method "header" for the custom header set in its panel).
	provider.Address
	// CNPJCedente is the beneficiary's CNPJ, sent on every call.
	CNPJCedente string `json:"cnpj_cedente"`
	// CNPJSH is the software house's CNPJ, with the secret token_sh; without
	// it the secret token_cedente authenticates as the beneficiary.
	CNPJSH string `json:"cnpj_sh,omitempty"`
	// BatchSize is how many boletos one read-back asks for (at most 200).
	BatchSize int `json:"batch_size,omitempty"`
	// WatchDir, when set, is a folder on baixa's host read on the
	// connection's schedule: each return file put there is imported (and
	// moved to imported/, or to rejected/ with the reason beside it).
	WatchDir string `json:"watch_dir,omitempty"`
}

var rules = provider.AddressRules{
	Environments: map[string]string{EnvProduction: productionBase, EnvHomologation: homologationBase},
	Order:        []string{EnvProduction, EnvHomologation}, BaseURLHint: "up to /api/v1", MaxBytes: 64 << 20,
	Every: MinPollEvery, Max: 2 * time.Minute, GiveUp: 2 * time.Hour, Floor: MinPollEvery, CustomFloor: 10 * time.Millisecond,
}

func parseSettings(raw []byte) (*Settings, error) {
	return provider.ParseSettings(raw, func(s *Settings) error { return s.normalize(nil) })
}

// normalize checks s and fills in defaults; with secrets, it checks them too.
func (s *Settings) normalize(secrets map[string]string) error {
	if err := s.Normalize(rules); err != nil {
		return err
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
	if s.WatchDir != "" {
		if !filepath.IsAbs(s.WatchDir) {
			return baixa.FieldError("settings.watch_dir", "want an absolute path")
		}
		if st, err := os.Stat(s.WatchDir); err != nil || !st.IsDir() {
			return baixa.FieldError("settings.watch_dir", "is not a folder baixa can read")
		}
	}
	if s.BatchSize == 0 {
		s.BatchSize = 200
	}
	if s.BatchSize < 1 || s.BatchSize > 200 {
		return baixa.FieldError("settings.batch_size", "want 1 to 200")
	}
	if secrets == nil {
		return nil
	}
	if err := s.CheckSecrets(secrets, SecretTokenSH, SecretTokenCedente); err != nil {
		return err
	}
	switch {
	case s.CNPJSH != "" && secrets[SecretTokenSH] == "":
		return baixa.FieldError("secrets."+SecretTokenSH, "required with settings.cnpj_sh")
	case s.CNPJSH == "" && secrets[SecretTokenCedente] == "":
		return baixa.FieldError("secrets."+SecretTokenCedente, "required without settings.cnpj_sh (or give cnpj_sh and token_sh)")
	}
	return nil
}
