package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"baixa/internal/dbtest"
)

// TestAttention: the attention queue gathers every kind of movement that
// needs a person; each decision is idempotent, announced, logged with the
// item before and after, and audited; bad decisions change nothing.
func TestAttention(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{})
		acct := c.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11222333000181"}`)["id"].(string)
		other := c.must(201, "POST", "/v1/accounts", `{"name": "Other", "document": "11444777000161"}`)["id"].(string)
		charge := func(account, nosso, amount string) string {
			return c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": %q, "references": {"nosso_numero": %q}}`,
				account, amount, nosso))["id"].(string)
		}
		c1, c2 := charge(acct, "83", "100.00"), charge(acct, "84", "150.00")
		charge(acct, "85", "50.00")
		charge(acct, "86", "70.00")
		theirs := charge(other, "83", "100.00")

		imp := `[
			{"id": "b-1", "kind": "paid", "references": {"nosso_numero": "999"}, "paid_amount": "100.00", "paid_on": "2026-11-20"},
			{"id": "b-2", "kind": "paid", "references": {"nosso_numero": "84"}, "paid_amount": "150.00", "paid_on": "2026-11-20"},
			{"id": "b-3", "kind": "paid", "references": {"nosso_numero": "84"}, "paid_amount": "150.00", "paid_on": "2026-11-21"},
			{"id": "b-4", "kind": "written_off", "references": {"nosso_numero": "85"}},
			{"id": "b-5", "kind": "paid", "references": {"nosso_numero": "85"}, "paid_amount": "50.00", "paid_on": "2026-11-21"},
			{"id": "b-6", "kind": "declined", "references": {"nosso_numero": "86"}, "provider_status": "recusado", "note": "conta inválida"},
			{"id": "b-8", "kind": "paid", "references": {"nosso_numero": "998"}, "paid_amount": "12.34", "paid_on": "2026-11-21"}
		]`
		doc := c.waitDocument(c.must(202, "POST", "/v1/imports/generic?account_id="+acct, imp)["id"].(string))
		if doc["status"] != "settled" {
			t.Fatalf("import: %v", doc)
		}

		// What was imported: listed, its bytes as sent; the day's payments.
		docs := c.must(200, "GET", "/v1/documents?account_id="+acct, "")["data"].([]any)
		if len(docs) != 1 || docs[0].(map[string]any)["id"] != doc["id"] {
			t.Errorf("documents: %v", docs)
		}
		if status, _, raw := c.do("GET", "/v1/documents/"+doc["id"].(string)+"/content", ""); status != 200 || string(raw) != imp {
			t.Errorf("content: %d %.100s", status, raw)
		}
		summary := `map[amount:462.34 by_provider:[map[amount:462.34 count:5 provider:generic]] count:5`
		if s := fmt.Sprint(c.must(200, "GET", "/v1/payments/summary", "")); !strings.HasPrefix(s, summary) {
			t.Errorf("payments today: %s", s)
		}
		if s := fmt.Sprint(c.must(200, "GET", "/v1/payments/summary?date=2026-01-01", "")); !strings.HasPrefix(s, "map[amount:0.00 by_provider:[] count:0") {
			t.Errorf("payments on another day: %s", s)
		}

		// The queue, by kind, with counts.
		queue := c.must(200, "GET", "/v1/attention", "")["data"].([]any)
		byKind := map[string]string{} // kind -> movement id (the last of it)
		ids := map[string]string{}    // provider key -> movement id
		for _, it := range queue {
			it := it.(map[string]any)
			m := it["movement"].(map[string]any)
			byKind[it["kind"].(string)] = m["id"].(string)
			ids[m["key"].(string)] = m["id"].(string)
		}
		if len(queue) != 5 || len(byKind) != 4 {
			t.Fatalf("queue: %d items, kinds %v", len(queue), byKind)
		}
		unmatched, dismissable, twice, afterWO := ids["b-1"], ids["b-8"], ids["b-3"], ids["b-5"]
		if byKind["paid_twice"] != twice || byKind["paid_after_write_off"] != afterWO || byKind["declined"] != ids["b-6"] {
			t.Fatalf("kinds: %v; keys %v", byKind, ids)
		}
		counts := c.must(200, "GET", "/v1/attention/counts", "")
		if fmt.Sprint(counts["counts"]) != "map[conflict:0 declined:1 flagged:0 paid_after_write_off:1 paid_twice:1 unmatched:2]" || counts["total"] != 5.0 {
			t.Errorf("counts: %v", counts)
		}
		if n := len(c.must(200, "GET", "/v1/attention?kind=unmatched&account_id="+acct, "")["data"].([]any)); n != 2 {
			t.Errorf("unmatched of the account: %d", n)
		}
		if n := len(c.must(200, "GET", "/v1/attention?account_id="+other, "")["data"].([]any)); n != 0 {
			t.Errorf("the other account's queue: %d", n)
		}
		if n := len(c.must(200, "GET", "/v1/attention?from=2999-01-01", "")["data"].([]any)); n != 0 {
			t.Errorf("from a day to come: %d", n)
		}
		if p := c.must(200, "GET", "/v1/attention?limit=4", ""); len(p["data"].([]any)) != 4 || p["next_cursor"] == nil {
			t.Errorf("a page of 4: %v", p)
		}

		// Bad decisions: a clear 4xx, and nothing changes.
		before := c.snapshotAttention(acct)
		for _, tc := range []struct {
			path, body string
			status     int
			says       string
		}{
			{"/v1/movements/" + unmatched + "/link", `{"charge_id": "` + theirs + `"}`, 422, "another account"},
			{"/v1/movements/" + unmatched + "/link", `{"charge_id": "chg_nope"}`, 422, "no charge chg_nope"},
			{"/v1/movements/" + unmatched + "/link", `{}`, 422, "charge_id"},
			{"/v1/movements/" + unmatched + "/link", `{"charge_id": "` + c2 + `"}`, 409, "already paid"},
			{"/v1/movements/" + twice + "/link", `{"charge_id": "` + c1 + `"}`, 409, "only an unmatched movement"},
			{"/v1/movements/" + dismissable + "/dismiss", `{}`, 422, "reason is required"},
			{"/v1/movements/" + twice + "/refund", `{"amount": "150.01"}`, 422, "more than the 150.00 paid"},
			{"/v1/movements/" + twice + "/refund", `{"amount": "1.234"}`, 422, "body.amount"},
			{"/v1/movements/" + twice + "/refund", `{"amount": 10}`, 422, "body.amount"},
			{"/v1/movements/" + ids["b-6"] + "/refund", `{}`, 409, "not a payment"},
			{"/v1/movements/" + twice + "/reopen", ``, 409, "nothing to reopen"},
			{"/v1/movements/mov_nope/dismiss", `{"note": "x"}`, 404, "not found"},
			{"/v1/movements/" + twice + "/dismiss", `{"note": "x", "colour": "red"}`, 422, "colour"},
		} {
			status, _, raw := c.do("POST", tc.path, tc.body)
			if status != tc.status || !strings.Contains(string(raw), tc.says) {
				t.Errorf("POST %s %s = %d %s; want %d saying %q", tc.path, tc.body, status, raw, tc.status, tc.says)
			}
		}
		if after := c.snapshotAttention(acct); after != before {
			t.Errorf("bad decisions changed something:\n%s\n---\n%s", before, after)
		}

		// Link the unmatched payment to its charge: it settles, exact to the
		// centavo, once; the same request again changes nothing.
		link := `{"charge_id": "` + c1 + `", "note": "pago no balcão, boleto 83"}`
		linked := c.must(200, "POST", "/v1/movements/"+unmatched+"/link", link, "Idempotency-Key", "link-1")
		res := linked["resolution"].(map[string]any)
		if res["state"] != "linked" || res["charge_id"] != c1 || res["by_key_name"] != "BAIXA_API_KEY" || res["link_movement_id"] == "" {
			t.Fatalf("linked: %v", linked)
		}
		if ch := c.must(200, "GET", "/v1/charges/"+c1, ""); ch["status"] != "paid" || ch["paid_amount"] != "100.00" || ch["paid_on"] != "2026-11-20" {
			t.Errorf("the linked charge: %v", ch)
		}
		events := c.eventTypes(acct)
		again := c.must(200, "POST", "/v1/movements/"+unmatched+"/link", link, "Idempotency-Key", "link-1")
		if fmt.Sprint(again["resolution"]) != fmt.Sprint(res) {
			t.Errorf("the same link again: %v, first %v", again, linked)
		}
		if e := c.eventTypes(acct); e != events {
			t.Errorf("the same link again announced something: %s, was %s", e, events)
		}
		if !strings.Contains(events, "charge.paid:"+c1) || !strings.Contains(events, "movement.resolved") {
			t.Errorf("link events: %s", events)
		}
		for _, tc := range []struct{ path, body, key, says string }{
			{"/v1/movements/" + unmatched + "/link", link, "", "already linked"},
			{"/v1/movements/" + unmatched + "/reopen", ``, "", "cannot be reopened"},
			{"/v1/movements/" + dismissable + "/dismiss", `{"note": "x"}`, "link-1", "idempotency key"},
		} {
			status, _, raw := c.do("POST", tc.path, tc.body, "Idempotency-Key", tc.key)
			if status != 409 || !strings.Contains(string(raw), tc.says) {
				t.Errorf("POST %s (key %q) = %d %s; want 409 saying %q", tc.path, tc.key, status, raw, tc.says)
			}
		}
		// The provider's report of it seen again is a duplicate.
		redo := c.waitDocument(c.must(202, "POST", "/v1/imports/generic?account_id="+acct, strings.Replace(imp, "[", "[ ", 1))["id"].(string))
		if redo["duplicate"] != 7.0 {
			t.Errorf("the same reports again: %v", redo)
		}
		if ch := c.must(200, "GET", "/v1/charges/"+c1, ""); ch["paid_amount"] != "100.00" {
			t.Errorf("the linked charge after the report again: %v", ch)
		}

		if s := fmt.Sprint(c.must(200, "GET", "/v1/payments/summary", "")); !strings.HasPrefix(s, summary) {
			t.Errorf("payments today, after the link: %s", s)
		}

		// The same decision sent eight times at once: one decision.
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Go(func() {
				statuses[i], _, _ = c.do("POST", "/v1/movements/"+dismissable+"/dismiss", `{"note": "tarifa de teste do banco"}`, "Idempotency-Key", "d-1")
			})
		}
		wg.Wait()
		if fmt.Sprint(statuses) != "[200 200 200 200 200 200 200 200]" {
			t.Errorf("the same dismissal at once: %v", statuses)
		}
		if h := c.must(200, "GET", "/v1/movements/"+dismissable, "")["history"].([]any); len(h) != 1 {
			t.Errorf("the same dismissal at once made %d decisions", len(h))
		}

		// Dismiss, reopen, dismiss again; refund; keep as credit.
		c.must(200, "POST", "/v1/movements/"+dismissable+"/dismiss", `{"note": "tarifa de teste do banco"}`, "Idempotency-Key", "d-1")
		c.must(200, "POST", "/v1/movements/"+dismissable+"/reopen", `{"note": "engano"}`, "Idempotency-Key", "r-1")
		c.must(200, "POST", "/v1/movements/"+dismissable+"/dismiss", `{"note": "tarifa, afinal"}`, "Idempotency-Key", "d-2")
		refund := c.must(200, "POST", "/v1/movements/"+twice+"/refund", `{"note": "devolvido por Pix"}`)
		if r := refund["resolution"].(map[string]any); r["state"] != "refunded" || r["amount"] != "150.00" {
			t.Errorf("refund: %v", refund)
		}
		credit := c.must(200, "POST", "/v1/movements/"+afterWO+"/keep-as-credit", `{"amount": "20.00"}`)
		if r := credit["resolution"].(map[string]any); r["state"] != "kept_as_credit" || r["amount"] != "20.00" {
			t.Errorf("credit: %v", credit)
		}
		counts = c.must(200, "GET", "/v1/attention/counts", "")
		if counts["total"] != 1.0 {
			t.Errorf("open after the decisions: %v", counts)
		}
		if n := len(c.must(200, "GET", "/v1/attention?state=resolved", "")["data"].([]any)); n != 4 {
			t.Errorf("resolved: %d", n)
		}
		types := c.eventTypes(acct)
		if strings.Count(types, "movement.resolved") != 5 || strings.Count(types, "movement.reopened") != 1 {
			t.Errorf("decisions announced: %s", types)
		}

		// The item's history and the audit log.
		item := c.must(200, "GET", "/v1/movements/"+dismissable, "")
		history := item["history"].([]any)
		if len(history) != 3 || item["resolution"].(map[string]any)["note"] != "tarifa, afinal" {
			t.Fatalf("history: %v", item)
		}
		reopen := history[1].(map[string]any)
		if reopen["action"] != "reopened" || reopen["idempotency_key"] != "r-1" ||
			reopen["before"].(map[string]any)["resolution"].(map[string]any)["state"] != "dismissed" || reopen["after"].(map[string]any)["resolution"] != nil {
			t.Errorf("the reopening logged: %v", reopen)
		}
		audit := c.must(200, "GET", "/v1/audit?limit=500", "")["data"].([]any)
		var linkAudit map[string]any
		for _, e := range audit {
			if e := e.(map[string]any); e["operation"] == "POST /v1/movements/{id}/link" && e["status"] == 200.0 {
				linkAudit = e
			}
		}
		if linkAudit == nil || !strings.Contains(fmt.Sprint(linkAudit["before"]), "unmatched") || !strings.Contains(fmt.Sprint(linkAudit["after"]), "linked") {
			t.Errorf("the link's audit entry: %v", linkAudit)
		}
	})
}

// snapshotAttention is what a decision could change: the queue, the
// account's charges and its events.
func (c *client) snapshotAttention(acct string) string {
	c.t.Helper()
	q := c.must(200, "GET", "/v1/attention?state=all", "")
	ch := c.must(200, "GET", "/v1/charges?account_id="+acct+"&limit=500", "")
	return fmt.Sprint(q["data"], ch["data"], c.eventTypes(acct))
}

// eventTypes lists the account's events as type:charge.
func (c *client) eventTypes(acct string) string {
	c.t.Helper()
	var b strings.Builder
	for _, e := range c.must(200, "GET", "/v1/events?limit=500&account_id="+acct, "")["data"].([]any) {
		e := e.(map[string]any)
		fmt.Fprintf(&b, "%s:%v ", e["type"], e["charge_id"])
	}
	return b.String()
}
