package web

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

// fieldDoc is what OpenAPI says of a field of the vocabulary beyond its
// JSON name and type: its description, and the values it may take.
type fieldDoc struct {
	doc  string
	enum []string
}

// fieldDocs describe the root package's types, by JSON field name: the
// vocabulary carries no web tags, so the API's descriptions live here.
var fieldDocs = map[reflect.Type]map[string]fieldDoc{
	reflect.TypeFor[baixa.Account](): {
		"document": {doc: "The beneficiary's CPF or CNPJ, digits only (alphanumeric CNPJ accepted)"},
	},
	reflect.TypeFor[baixa.APIKey](): {
		"role":       {enum: []string{"read", "operator", "admin"}},
		"prefix":     {doc: "The key's first characters, to tell keys apart; the rest is never shown again"},
		"account_id": {doc: "Confines the key to this account's charges, events, movements and imports"},
		"key":        {doc: "The key itself: shown only here, never again"},
	},
	reflect.TypeFor[baixa.AuditEntry](): {
		"before": {doc: "The resource as it was (JSON), when the write named one"},
		"after":  {doc: "The answer (JSON): the resource as it became"},
	},
	reflect.TypeFor[baixa.Payer](): {
		"document": {doc: "CPF or CNPJ; punctuation is removed"},
	},
	reflect.TypeFor[baixa.References](): {
		"nosso_numero":          {doc: "The bank's number; matched as a number, with or without its check digit"},
		"integration_id":        {doc: "PlugBoleto idIntegracao"},
		"invoice_number":        {doc: "Saurus numeroFatura"},
		"proposal_id":           {doc: "BMP proposta"},
		"installment_id":        {doc: "Recuperador id_contasareceber"},
		"agreement_installment": {doc: "Recuperador id_acordo/parcela_inteiro, e.g. 4521/3"},
	},
	reflect.TypeFor[baixa.Charge](): {
		"kind":            {enum: []string{"boleto", "invoice", "installment", "proposal"}},
		"status":          {enum: []string{"open", "overdue", "partially_paid", "paid", "written_off", "cancelled", "declined"}},
		"provider_status": {doc: "The provider's own last status word or code"},
		"amount":          {doc: "Face amount"},
		"conflict":        {doc: "The last conflict noted on this charge, for a person to look at"},
		"payment_link":    {doc: "Where the payer can pay it, as a provider last gave it (Recuperador's invoice link)"},
		"reported_at":     {doc: "When the latest provider report applied to it happened"},
		"sequence":        {doc: "Sequence number of the charge's last event"},
	},
	reflect.TypeFor[baixa.Fetch](): {
		"status": {enum: []string{"new", "requested", "listed", "done", "failed"}},
	},
	reflect.TypeFor[baixa.Document](): {
		"status":   {enum: []string{"pending", "settled", "failed"}},
		"report":   {doc: "Lines left out, and why (with skip_bad_lines)"},
		"progress": {doc: "Movements settled so far"},
		"total":    {doc: "Movements in the document, once decoded"},
	},
	reflect.TypeFor[baixa.Endpoint](): {
		"headers": {doc: "Sent with every request"},
	},
	// The endpoint as made, with its secret: baixa.Endpoint's fields inline.
	reflect.TypeFor[endpointWithSecret](): {
		"headers": {doc: "Sent with every request"},
	},
	reflect.TypeFor[baixa.Attempt](): {
		"response": {doc: "The first KB of the response body"},
	},
	reflect.TypeFor[baixa.Event](): {
		"charge":   {doc: "The charge as it was right after this event"},
		"movement": {doc: "The movement that caused this event"},
		"endpoint": {doc: "The endpoint an endpoint.disabled event is about"},
	},
	reflect.TypeFor[baixa.Movement](): {
		"amount":   {doc: "Face amount as reported"},
		"due_date": {doc: "The new due date, for due_date_changed"},
	},
}

// describeVocabulary registers the vocabulary's schemas with their fields'
// descriptions and allowed values, before any operation refers to them
// (so that a request's enum is checked as the schema says).
func describeVocabulary(registry huma.Registry) {
	for t, fields := range fieldDocs {
		ref := registry.Schema(t, true, "")
		s := registry.SchemaFromRef(ref.Ref)
		for name, d := range fields {
			p := s.Properties[name]
			if p == nil {
				panic("web: " + t.String() + " has no field " + name)
			}
			if d.doc != "" {
				p.Description = d.doc
			}
			if d.enum != nil {
				p.Enum = make([]any, len(d.enum))
				for i, v := range d.enum {
					p.Enum[i] = v
				}
			}
		}
		s.PrecomputeMessages()
	}
}
