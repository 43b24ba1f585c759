package store

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"baixa"
)

// appendEvent encodes an event's stored payload (everything but its
// movement, which is joined in on reading) by hand: encoding/json's
// reflection was the largest cost of a settling transaction on PostgreSQL.
// eventjson_test.go checks that it reads back as encoding/json's does.
func appendEvent(b []byte, e *baixa.Event) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, string(e.Type))
	b = append(b, `,"account_id":`...)
	b = appendString(b, e.AccountID)
	if e.ChargeID != "" {
		b = append(b, `,"charge_id":`...)
		b = appendString(b, e.ChargeID)
	}
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, e.Sequence, 10)
	if e.Charge != nil {
		b = append(b, `,"charge":`...)
		b = appendCharge(b, e.Charge)
	}
	if e.Endpoint != nil { // rare (endpoint.disabled): reflection will do
		if ep, err := json.Marshal(e.Endpoint); err == nil {
			b = append(b, `,"endpoint":`...)
			b = append(b, ep...)
		}
	}
	if e.Resolution != nil { // rare (a person's decision): reflection will do
		if r, err := json.Marshal(e.Resolution); err == nil {
			b = append(b, `,"resolution":`...)
			b = append(b, r...)
		}
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, e.CreatedAt)
	return append(b, '}')
}

func appendCharge(b []byte, c *baixa.Charge) []byte {
	field := func(name string) { b = append(b, ',', '"'); b = append(b, name...); b = append(b, '"', ':') }
	str := func(name, v string) {
		if v != "" {
			field(name)
			b = appendString(b, v)
		}
	}
	amount := func(name string, a baixa.Amount) {
		field(name)
		b = append(b, '"')
		b = append(b, a.String()...)
		b = append(b, '"')
	}
	date := func(name string, d baixa.Date) {
		if !d.IsZero() {
			field(name)
			b = append(b, '"')
			b = append(b, d.String()...)
			b = append(b, '"')
		}
	}
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	str("account_id", c.AccountID)
	str("kind", string(c.Kind))
	str("status", string(c.Status))
	str("provider_status", c.ProviderStatus)
	amount("amount", c.Amount)
	date("due_date", c.DueDate)
	if c.Payer != (baixa.Payer{}) {
		field("payer")
		b = append(b, '{')
		n := len(b)
		if c.Payer.Name != "" {
			b = append(b, `"name":`...)
			b = appendString(b, c.Payer.Name)
		}
		if c.Payer.Document != "" {
			if len(b) > n {
				b = append(b, ',')
			}
			b = append(b, `"document":`...)
			b = appendString(b, c.Payer.Document)
		}
		b = append(b, '}')
	}
	str("description", c.Description)
	if len(c.Metadata) > 0 {
		field("metadata")
		b = append(b, c.Metadata...) // validated JSON, as stored
	}
	field("references")
	b = append(b, '{')
	first := true
	for _, r := range c.References.List() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, r.Kind)
		b = append(b, ':')
		b = appendString(b, r.Value)
	}
	b = append(b, '}')
	amount("paid_amount", c.PaidAmount)
	amount("interest_amount", c.InterestAmount)
	amount("fine_amount", c.FineAmount)
	amount("discount_amount", c.DiscountAmount)
	amount("rebate_amount", c.RebateAmount)
	amount("fee_amount", c.FeeAmount)
	amount("credited_amount", c.CreditedAmount)
	date("paid_on", c.PaidOn)
	date("credited_on", c.CreditedOn)
	str("conflict", c.Conflict)
	str("payment_link", c.PaymentLink)
	field("sequence")
	b = strconv.AppendInt(b, c.Sequence, 10)
	field("created_at")
	b = appendTime(b, c.CreatedAt)
	field("updated_at")
	b = appendTime(b, c.UpdatedAt)
	if !c.ReportedAt.IsZero() {
		field("reported_at")
		b = appendTime(b, c.ReportedAt)
	}
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
