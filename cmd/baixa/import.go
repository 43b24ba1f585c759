package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"baixa"
)

// importCmd uploads files to a running baixa and follows their settling.
type importCmd struct {
	Files        []string `arg:"" name:"file" type:"existingfile" help:"The files: CNAB 240 or 400 return files, imported one after another."`
	Account      string   `help:"The account whose charges the files settle." xor:"target"`
	Connection   string   `help:"Or the connection the files came through (its account is used)." xor:"target"`
	Provider     string   `default:"cnab" help:"The files' format."`
	SkipBadLines bool     `name:"skip-bad-lines" help:"Settle the good lines and report the bad ones, instead of refusing a file."`
	URL          string   `name:"url" env:"BAIXA_URL" default:"http://127.0.0.1:8080" help:"The running baixa to import into."`
	APIKey       string   `name:"api-key" env:"BAIXA_API_KEY" help:"Its API key (default: the one kept beside the SQLite database, baixa.db.apikey)."`
	KeyFile      string   `name:"api-key-file" default:"baixa.db.apikey" help:"Where to read the API key when none is given."`
}

// Run imports each file in turn; one that is refused or fails does not
// stop the others, and makes the command fail at the end.
func (c *importCmd) Run(ctx context.Context, e *env) error {
	key := c.APIKey
	if key == "" {
		b, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return fmt.Errorf("no API key: set BAIXA_API_KEY or --api-key (%s: %w)", c.KeyFile, err)
		}
		key = strings.TrimSpace(string(b))
	}
	if c.Account == "" && c.Connection == "" {
		return errors.New("name the account (--account) or the connection (--connection) the files settle")
	}
	api := &apiClient{base: strings.TrimRight(c.URL, "/"), key: key}
	failed, err := eachFile(ctx, e, c.Files, func(file string) error { return c.importFile(ctx, e, api, file) })
	if err != nil || len(c.Files) == 1 {
		return err
	}
	fmt.Fprintf(e.stdout, "%d files: %d imported, %d not\n", len(c.Files), len(c.Files)-len(failed), len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files not imported: %s", len(failed), len(c.Files), strings.Join(failed, ", "))
	}
	return nil
}

// eachFile runs fn on each file in turn. One file's error is returned,
// naming the file; of several, each failure is reported on stderr, the next file
// taken, and the failed ones listed at the end. An interruption stops it.
func eachFile(ctx context.Context, e *env, files []string, fn func(file string) error) (failed []string, err error) {
	for _, file := range files {
		if err := fn(file); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			if len(files) == 1 {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			fmt.Fprintf(e.stderr, "%s: %v\n", file, err)
			failed = append(failed, file)
		}
	}
	return failed, nil
}

// importFile uploads one file and follows it until it is settled or failed.
func (c *importCmd) importFile(ctx context.Context, e *env, api *apiClient, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	q := url.Values{"provider": {c.Provider}}
	if c.Account != "" {
		q.Set("account_id", c.Account)
	}
	if c.Connection != "" {
		q.Set("connection_id", c.Connection)
	}
	if c.SkipBadLines {
		q.Set("skip_bad_lines", "true")
	}
	var doc baixa.Document
	status, err := api.do(ctx, http.MethodPost, "/v1/imports?"+q.Encode(), f, &doc)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		fmt.Fprintf(e.stdout, "%s was imported before as %s: nothing changes\n", file, doc.ID)
	}
	tty := isTerminal(e.stderr)
	last := time.Time{}
	for doc.Status == baixa.DocPending {
		what := fmt.Sprintf("settling %s, %d of %d movements", doc.ID, doc.Progress, doc.Total)
		if doc.Provider != c.Provider {
			what = fmt.Sprintf("%s is with %s (see the connection)", doc.ID, doc.Provider)
		}
		if tty {
			fmt.Fprintf(e.stderr, "\r%s: %s", file, what)
		} else if time.Since(last) > 5*time.Second {
			fmt.Fprintf(e.stderr, "%s: %s\n", file, what)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := api.do(ctx, http.MethodGet, "/v1/documents/"+doc.ID, nil, &doc); err != nil {
			return err
		}
	}
	if tty {
		fmt.Fprintln(e.stderr)
	}
	prefix := ""
	if len(c.Files) > 1 {
		prefix = file + ": "
	}
	switch {
	case doc.Provider != c.Provider:
		// Handed to a provider that reconciles it (PlugBoleto): its answers
		// are the connection's documents.
		fmt.Fprintf(e.stdout, "%sdocument %s: %s by %s\n", prefix, doc.ID, doc.Status, doc.Provider)
		if doc.Report != "" {
			fmt.Fprintln(e.stdout, doc.Report)
		}
	default:
		fmt.Fprintf(e.stdout, "%sdocument %s: %s; %d movements: %d applied, %d duplicate, %d unmatched, %d conflict\n",
			prefix, doc.ID, doc.Status, doc.Total, doc.Applied, doc.Duplicate, doc.Unmatched, doc.Conflict)
		if doc.Report != "" {
			fmt.Fprintln(e.stdout, "left out:", doc.Report)
		}
	}
	if doc.Status == baixa.DocFailed {
		return fmt.Errorf("the document failed: %s", doc.Error)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// apiClient calls baixa's API.
type apiClient struct {
	base, key string
}

// do sends a request and decodes a 2xx JSON answer into out; other
// answers are errors with the problem's detail.
func (a *apiClient) do(ctx context.Context, method, path string, body io.Reader, out any) (int, error) {
	return a.send(ctx, method, path, body, "application/octet-stream", out)
}

// json sends v as JSON (nil: no body) and decodes the answer into out.
func (a *apiClient) json(ctx context.Context, method, path string, v, out any) (int, error) {
	if v == nil {
		return a.send(ctx, method, path, nil, "", out)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	return a.send(ctx, method, path, bytes.NewReader(b), "application/json", out)
}

func (a *apiClient) send(ctx context.Context, method, path string, body io.Reader, contentType string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("is baixa running at %s? %w", a.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		var p struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(raw, &p) == nil && p.Detail != "" {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, p.Detail)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	return resp.StatusCode, json.Unmarshal(raw, out)
}
