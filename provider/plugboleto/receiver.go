package plugboleto

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"baixa"
)

// Auth returns how the connection's webhooks authenticate; without
// webhook_auth they are refused.
func (k *Connector) Auth(c *baixa.Connection) (baixa.InboundAuth, error) {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return baixa.InboundAuth{}, err
	}
	return s.Auth()
}

// Receive checks one of PlugBoleto's webhooks and returns it as a document
// that starts a read-back of its boleto: the webhook is a trigger, and a
// forged or stale one settles nothing by itself. A re-send (same type,
// boleto and sending time) is the same document.
func (k *Connector) Receive(_ context.Context, r *http.Request, body []byte, c *baixa.Connection) (*baixa.NewDocument, error) {
	if r.Method != http.MethodPost {
		return nil, baixa.Errorf(baixa.EInvalid, "PlugBoleto's webhooks are POSTed")
	}
	w, err := ParseWebhook(body)
	if err != nil {
		return nil, err
	}
	return &baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: ContentWebhook,
		DedupKey: fmt.Sprintf("%s/webhook/%s/%s/%s", c.ID, w.Tipo, w.IDIntegracao, w.SentAt),
		Follow:   &baixa.Fetch{Scope: ScopeReread}, Body: bytes.NewReader(body),
	}, nil
}

// Upload is the document an imported return file becomes for a PlugBoleto
// connection: stored verbatim, keyed by its content, and followed by a
// fetch that uploads it to PlugBoleto.
func Upload(c *baixa.Connection, sha256 string) baixa.NewDocument {
	return baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: ContentFile,
		DedupKey: c.ID + "/arquivo/" + sha256, Follow: &baixa.Fetch{Scope: ScopeUpload},
	}
}
