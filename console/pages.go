package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"baixa"
)

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /console/logout", s.authed(s.logout))
	mux.HandleFunc("GET /console/{$}", s.authed(s.overview))
	mux.HandleFunc("GET /console/charges", s.authed(s.charges))
	mux.HandleFunc("GET /console/charges/{id}", s.authed(s.charge))
	mux.HandleFunc("POST /console/charges/{id}/{action}", s.authed(s.chargeAction))
	mux.HandleFunc("GET /console/documents/{id}", s.authed(s.document))
	mux.HandleFunc("GET /console/attention", s.authed(s.attention))
	mux.HandleFunc("POST /console/attention/{id}/{action}", s.authed(s.attentionAction))
	mux.HandleFunc("GET /console/webhooks", s.authed(s.endpoints))
	mux.HandleFunc("GET /console/webhooks/{id}", s.authed(s.endpoint))
	mux.HandleFunc("POST /console/webhooks/{id}/{action}", s.authed(s.endpointAction))
	mux.HandleFunc("POST /console/deliveries/{id}/retry", s.authed(s.retryDelivery))
	mux.HandleFunc("GET /console/connections", s.authed(s.connections))
	mux.HandleFunc("POST /console/connections/{id}/run", s.authed(s.runConnection))
	mux.HandleFunc("GET /console/imports", s.authed(s.imports))
	// River UI can cancel, retry and delete jobs, which no role of the API
	// limits: it is for admin keys only (those that may read the audit log).
	jobs := s.authed(func(w http.ResponseWriter, r *http.Request, p *page) {
		if s.Jobs == nil {
			http.NotFound(w, r)
			return
		}
		if status, _, _ := s.raw(r.Context(), p.sess.Key, http.MethodGet, "/v1/audit?limit=1", http.NoBody); status != http.StatusOK {
			http.Error(w, "the job queue is for admin API keys", http.StatusForbidden)
			return
		}
		s.Jobs.ServeHTTP(w, r)
	})
	mux.Handle("/console/jobs", jobs)
	mux.Handle("/console/jobs/", jobs)
}

type listOf[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

type counts struct {
	Counts map[baixa.AttentionKind]int `json:"counts"`
	Total  int                         `json:"total"`
}

type summary struct {
	Date       baixa.Date           `json:"date"`
	Count      int64                `json:"count"`
	Amount     baixa.Amount         `json:"amount"`
	ByProvider []baixa.PaymentTotal `json:"by_provider"`
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	var v struct {
		Payments    summary
		Attention   counts
		Kinds       []baixa.AttentionKind
		Failing     []*baixa.Delivery
		Dead        []*baixa.Delivery
		Broken      []*baixa.Connection
		Disabled    []*baixa.Endpoint
		MoreFailing bool
	}
	v.Kinds = baixa.AttentionKinds
	var failing, dead listOf[*baixa.Delivery]
	var conns listOf[*baixa.Connection]
	var eps listOf[*baixa.Endpoint]
	for _, c := range []struct {
		path string
		out  any
	}{
		{"/v1/payments/summary", &v.Payments},
		{"/v1/attention/counts", &v.Attention},
		{"/v1/deliveries?status=failing&limit=10", &failing},
		{"/v1/deliveries?status=dead&limit=10", &dead},
		{"/v1/connections?limit=500", &conns},
		{"/v1/endpoints?limit=500", &eps},
	} {
		if err := s.call(ctx, p, http.MethodGet, c.path, nil, c.out); err != nil {
			if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Status == http.StatusForbidden {
				continue // a key confined to an account reads less
			}
			s.fail(w, r, p, err)
			return
		}
	}
	v.Failing, v.Dead = failing.Data, dead.Data
	v.MoreFailing = failing.NextCursor != "" || dead.NextCursor != ""
	for _, c := range conns.Data {
		if c.LastError != "" {
			v.Broken = append(v.Broken, c)
		}
	}
	for _, e := range eps.Data {
		if e.Disabled {
			v.Disabled = append(v.Disabled, e)
		}
	}
	p.Title, p.Nav, p.Data = p.T("Overview"), "overview", v
	s.render(w, "overview", p, http.StatusOK)
}

// nextPage is the console's link to the page after cursor, with the same
// filters; "" on the last page.
func nextPage(path string, q url.Values, cursor string) string {
	if cursor == "" {
		return ""
	}
	q.Set("after", cursor)
	q.Del("limit")
	return path + "?" + q.Encode()
}

// passQuery copies the named query values that are set.
func passQuery(r *http.Request, names ...string) url.Values {
	q := url.Values{}
	for _, n := range names {
		if v := strings.TrimSpace(r.URL.Query().Get(n)); v != "" {
			q.Set(n, v)
		}
	}
	return q
}

func (s *Server) charges(w http.ResponseWriter, r *http.Request, p *page) {
	q := passQuery(r, "status", "kind", "account_id", "reference", "reference_kind", "due_from", "due_to", "after")
	q.Set("limit", "50")
	var v struct {
		listOf[*baixa.Charge]
		Statuses []baixa.ChargeStatus
		Kinds    []baixa.ChargeKind
		Next     string
	}
	v.Statuses, v.Kinds = baixa.ChargeStatuses, baixa.ChargeKinds
	if err := s.list(r.Context(), p, "/v1/charges?"+q.Encode(), &v.listOf); err != nil {
		s.fail(w, r, p, err)
		return
	}
	v.Next = nextPage("/console/charges", q, v.NextCursor)
	p.Title, p.Nav, p.Data = p.T("Charges"), "charges", v
	s.render(w, "charges", p, http.StatusOK)
}

// list reads a list from the API into out. Filters the API refuses (422)
// are the page's error, with an empty list, not a failed page.
func (s *Server) list(ctx context.Context, p *page, path string, out any) error {
	err := s.call(ctx, p, http.MethodGet, path, nil, out)
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		p.Error = ae.Detail
		return nil
	}
	return err
}

// timelineEntry is one event of a charge, with its movement's document.
type timelineEntry struct {
	*baixa.Event
	Raw string
}

func (s *Server) charge(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	id := r.PathValue("id")
	var v struct {
		Charge   *baixa.Charge
		Timeline []timelineEntry
		Today    baixa.Date
	}
	v.Today = baixa.Today(s.now())
	if err := s.call(ctx, p, http.MethodGet, "/v1/charges/"+url.PathEscape(id), nil, &v.Charge); err != nil {
		s.fail(w, r, p, err)
		return
	}
	after := ""
	for range 20 { // up to 10,000 events; a charge has a handful
		var page listOf[*baixa.Event]
		path := "/v1/events?limit=500&charge_id=" + url.QueryEscape(id) + "&after=" + url.QueryEscape(after)
		if err := s.call(ctx, p, http.MethodGet, path, nil, &page); err != nil {
			s.fail(w, r, p, err)
			return
		}
		for _, e := range page.Data {
			t := timelineEntry{Event: e}
			if e.Movement != nil && len(e.Movement.Raw) > 0 {
				var b bytes.Buffer
				if err := jsonIndent(&b, e.Movement.Raw); err == nil {
					t.Raw = b.String()
				}
			}
			v.Timeline = append(v.Timeline, t)
		}
		if page.NextCursor == "" || len(page.Data) == 0 {
			break
		}
		after = page.NextCursor
	}
	p.Title, p.Nav, p.Data = fmt.Sprintf("%s %s", p.T("Charges"), id), "charges", v
	s.render(w, "charge", p, http.StatusOK)
}

func (s *Server) chargeAction(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("id")
	path := "/v1/charges/" + url.PathEscape(id)
	body := map[string]any{"note": r.PostFormValue("note")}
	switch r.PathValue("action") {
	case "write-off":
		path += "/write-off"
	case "cancel":
		path += "/cancel"
	case "payments":
		path += "/payments"
		body["amount"], body["paid_on"] = decimal(r.PostFormValue("amount")), r.PostFormValue("paid_on")
	default:
		http.NotFound(w, r)
		return
	}
	err := s.call(r.Context(), p, http.MethodPost, path, body, nil, "Idempotency-Key", r.PostFormValue("idem"))
	s.done(w, r, p, "/console/charges/"+url.PathEscape(id), err, p.T("Done."))
}

// decimal reads an amount as a person types it (1.234,56 or 1234.56) into
// the API's form (1234.56); what it cannot read goes as typed, for the API
// to refuse.
func decimal(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "R$"))
	if strings.Contains(s, ",") {
		s = strings.ReplaceAll(s, ".", "")
		s = strings.Replace(s, ",", ".", 1)
	}
	return s
}

func (s *Server) document(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	id := r.PathValue("id")
	var v struct {
		Doc       *baixa.Document
		Content   string
		Binary    bool
		Truncated bool
	}
	if err := s.call(ctx, p, http.MethodGet, "/v1/documents/"+url.PathEscape(id), nil, &v.Doc); err != nil {
		s.fail(w, r, p, err)
		return
	}
	status, raw, err := s.raw(ctx, p.sess.Key, http.MethodGet, "/v1/documents/"+url.PathEscape(id)+"/content", http.NoBody)
	if err != nil || status != http.StatusOK {
		s.fail(w, r, p, fmt.Errorf("the document's content: %d", status))
		return
	}
	const most = 64 << 10
	if len(raw) > most {
		raw, v.Truncated = raw[:most], true
	}
	if utf8.Valid(raw) || v.Truncated && utf8.Valid(raw[:max(0, len(raw)-3)]) {
		v.Content = strings.ToValidUTF8(string(raw), "")
		if strings.HasPrefix(strings.TrimSpace(v.Content), "{") || strings.HasPrefix(strings.TrimSpace(v.Content), "[") {
			var b bytes.Buffer
			if jsonIndent(&b, raw) == nil {
				v.Content = b.String()
			}
		}
	} else {
		v.Binary = true
		v.Content = fmt.Sprintf("% x", raw[:min(len(raw), 4096)])
	}
	p.Title, p.Nav, p.Data = p.T("Document")+" "+id, "imports", v
	s.render(w, "document", p, http.StatusOK)
}

func (s *Server) attention(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	q := passQuery(r, "state", "kind", "account_id", "connection_id", "provider", "from", "to", "after")
	q.Set("limit", "50")
	cq := passQuery(r, "state", "account_id", "connection_id", "provider", "from", "to")
	var v struct {
		listOf[*baixa.AttentionItem]
		Counts counts
		Kinds  []baixa.AttentionKind
		State  string
		Kind   string
		Next   string
	}
	v.Kinds, v.State, v.Kind = baixa.AttentionKinds, cmp.Or(q.Get("state"), "open"), q.Get("kind")
	if err := s.list(ctx, p, "/v1/attention?"+q.Encode(), &v.listOf); err != nil {
		s.fail(w, r, p, err)
		return
	}
	if err := s.call(ctx, p, http.MethodGet, "/v1/attention/counts?"+cq.Encode(), nil, &v.Counts); err != nil && p.Error == "" {
		s.fail(w, r, p, err)
		return
	}
	v.Next = nextPage("/console/attention", q, v.NextCursor)
	p.Title, p.Nav, p.Data = p.T("Attention"), "attention", v
	s.render(w, "attention", p, http.StatusOK)
}

func (s *Server) attentionAction(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("id")
	action := r.PathValue("action")
	switch action {
	case "link", "dismiss", "refund", "keep-as-credit", "reopen":
	default:
		http.NotFound(w, r)
		return
	}
	body := map[string]any{}
	if v := strings.TrimSpace(r.PostFormValue("charge_id")); v != "" {
		body["charge_id"] = v
	}
	if v := strings.TrimSpace(r.PostFormValue("note")); v != "" {
		body["note"] = v
	}
	if v := strings.TrimSpace(r.PostFormValue("amount")); v != "" {
		body["amount"] = decimal(v)
	}
	err := s.call(r.Context(), p, http.MethodPost, "/v1/movements/"+url.PathEscape(id)+"/"+action, body, nil,
		"Idempotency-Key", r.PostFormValue("idem"))
	s.done(w, r, p, back(r, "/console/attention"), err, p.T("Done."))
}

func (s *Server) endpoints(w http.ResponseWriter, r *http.Request, p *page) {
	var v listOf[*baixa.Endpoint]
	if err := s.call(r.Context(), p, http.MethodGet, "/v1/endpoints?limit=500", nil, &v); err != nil {
		s.fail(w, r, p, err)
		return
	}
	p.Title, p.Nav, p.Data = p.T("Webhooks"), "webhooks", v
	s.render(w, "endpoints", p, http.StatusOK)
}

func (s *Server) endpoint(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	id := r.PathValue("id")
	q := passQuery(r, "status", "after")
	q.Set("endpoint_id", id)
	q.Set("limit", "50")
	var v struct {
		Endpoint   *baixa.Endpoint
		Deliveries []*baixa.Delivery
		Status     string
		Statuses   []string
		Next       string
	}
	v.Status, v.Statuses = q.Get("status"), []string{"pending", "failing", "succeeded", "dead"}
	if err := s.call(ctx, p, http.MethodGet, "/v1/endpoints/"+url.PathEscape(id), nil, &v.Endpoint); err != nil {
		s.fail(w, r, p, err)
		return
	}
	var list listOf[*baixa.Delivery]
	if err := s.call(ctx, p, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, &list); err != nil {
		s.fail(w, r, p, err)
		return
	}
	// The attempts of each delivery that did not succeed at the first (the
	// list gives the last only; a first try that succeeded is its row).
	for _, d := range list.Data {
		var full baixa.Delivery
		if (d.Attempts > 1 || d.Status != baixa.DeliverySucceeded && d.Attempts > 0) &&
			s.call(ctx, p, http.MethodGet, "/v1/deliveries/"+url.PathEscape(d.ID), nil, &full) == nil {
			d.AttemptLog = full.AttemptLog
		}
	}
	v.Deliveries = list.Data
	q.Del("endpoint_id")
	v.Next = nextPage("/console/webhooks/"+url.PathEscape(id), q, list.NextCursor)
	p.Title, p.Nav, p.Data = p.T("Webhooks")+" "+id, "webhooks", v
	s.render(w, "endpoint", p, http.StatusOK)
}

func (s *Server) endpointAction(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	id := r.PathValue("id")
	path := "/v1/endpoints/" + url.PathEscape(id)
	pageURL := "/console/webhooks/" + url.PathEscape(id)
	switch action := r.PathValue("action"); action {
	case "enable", "disable", "test":
		err := s.call(ctx, p, http.MethodPost, path+"/"+action, map[string]any{}, nil)
		s.done(w, r, p, pageURL, err, p.T("Done."))
	case "replay":
		var out struct {
			Queued int `json:"queued"`
		}
		since := s.now().Add(-24 * time.Hour)
		if d, err := baixa.ParseDate(r.PostFormValue("since")); err == nil {
			since = d.Start()
		}
		err := s.call(ctx, p, http.MethodPost, path+"/replay", map[string]any{"since": since.UTC().Format(time.RFC3339), "scope": "failed"}, &out)
		s.done(w, r, p, pageURL, err, fmt.Sprintf("%s: %d", p.T("Replayed"), out.Queued))
	case "rotate-secret":
		// The new secret is shown once, on the page this answer leads to,
		// and kept nowhere but the endpoint.
		var out struct {
			Secret string `json:"secret"`
		}
		if err := s.call(ctx, p, http.MethodPost, path+"/rotate-secret", map[string]any{}, &out); err != nil {
			s.done(w, r, p, pageURL, err, "")
			return
		}
		p.Secret = out.Secret
		s.endpoint(w, r, p)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("id")
	err := s.call(r.Context(), p, http.MethodPost, "/v1/deliveries/"+url.PathEscape(id)+"/retry", map[string]any{}, nil)
	s.done(w, r, p, back(r, "/console/webhooks"), err, p.T("Queued again."))
}

// connectionRow is a connection with what it did.
type connectionRow struct {
	*baixa.Connection
	Stats *baixa.ConnectionStats
}

func (s *Server) connections(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	var list listOf[*baixa.Connection]
	if err := s.call(ctx, p, http.MethodGet, "/v1/connections?limit=500", nil, &list); err != nil {
		s.fail(w, r, p, err)
		return
	}
	rows := make([]connectionRow, 0, len(list.Data))
	for _, c := range list.Data {
		var one struct {
			Stats *baixa.ConnectionStats `json:"stats"`
		}
		_ = s.call(ctx, p, http.MethodGet, "/v1/connections/"+url.PathEscape(c.ID), nil, &one)
		rows = append(rows, connectionRow{Connection: c, Stats: one.Stats})
	}
	p.Title, p.Nav, p.Data = p.T("Connections"), "connections", rows
	s.render(w, "connections", p, http.StatusOK)
}

func (s *Server) runConnection(w http.ResponseWriter, r *http.Request, p *page) {
	id := r.PathValue("id")
	err := s.call(r.Context(), p, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/run", map[string]any{}, nil)
	s.done(w, r, p, "/console/connections", err, p.T("Run queued."))
}

func (s *Server) imports(w http.ResponseWriter, r *http.Request, p *page) {
	q := passQuery(r, "account_id", "connection_id", "provider", "status", "after")
	q.Set("limit", "50")
	var v struct {
		listOf[*baixa.Document]
		Next string
	}
	if err := s.call(r.Context(), p, http.MethodGet, "/v1/documents?"+q.Encode(), nil, &v.listOf); err != nil {
		s.fail(w, r, p, err)
		return
	}
	v.Next = nextPage("/console/imports", q, v.NextCursor)
	p.Title, p.Nav, p.Data = p.T("Imports"), "imports", v
	s.render(w, "imports", p, http.StatusOK)
}

func jsonIndent(b *bytes.Buffer, raw []byte) error { return json.Indent(b, raw, "", "  ") }
