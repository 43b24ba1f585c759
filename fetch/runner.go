// Package fetch runs the connections of the providers baixa pulls from:
// it plans each due connection's fetches and follows every fetch through
// its provider's Connector (package provider and those below it).
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"baixa"
)

// Store is what the runner needs from storage.
type Store interface {
	baixa.FetchStore
	DueConnections(ctx context.Context, now time.Time, limit int) ([]*baixa.Connection, error)
	FetchesSince(ctx context.Context, connectionID string, from baixa.Date) ([]*baixa.Fetch, error)
	// StartRun records a run: the fetches (with their jobs), the cursor and
	// the next run, atomically; false when the connection's next run moved.
	StartRun(ctx context.Context, c *baixa.Connection, fetches []*baixa.Fetch, cursor string, now time.Time) (bool, error)
	FindConnectionByID(ctx context.Context, id string) (*baixa.Connection, error)
	FindFetchByID(ctx context.Context, id string) (*baixa.Fetch, error)
	SetConnectionError(ctx context.Context, id, msg string) error
	FindDocumentByID(ctx context.Context, id string) (*baixa.Document, error)
	CreateDocument(ctx context.Context, d baixa.NewDocument) (*baixa.Document, bool, error)
}

// Runner plans and follows connections' fetches. Tick and Step are the
// bodies of the queue's periodic tick job and its fetch job.
type Runner struct {
	Store      Store
	Connectors map[string]baixa.Connector
	Now        func() time.Time
	Logger     *slog.Logger

	warned sync.Map // connection id -> when its certificate was last warned about
}

// CertificateWarning is how long before a client certificate expires the
// runner starts to warn, once a day.
const CertificateWarning = 30 * 24 * time.Hour

func (r *Runner) warnCertificate(c *baixa.Connection, now time.Time) {
	exp := c.CertificateExpiresAt
	if exp.IsZero() || exp.Sub(now) > CertificateWarning {
		return
	}
	if last, ok := r.warned.Load(c.ID); ok && now.Sub(last.(time.Time)) < 24*time.Hour {
		return
	}
	r.warned.Store(c.ID, now)
	r.log().Warn("client certificate expires soon: renew it and update the connection", "connection", c.ID,
		"provider", c.Provider, "expires", exp.Format(time.DateOnly), "days_left", int(exp.Sub(now).Hours()/24))
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Tick starts a run of every connection that is due: its connector plans
// the fetches, and they are stored with their jobs in one transaction.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.now()
	due, err := r.Store.DueConnections(ctx, now, 100)
	if err != nil {
		return fmt.Errorf("due connections: %w", err)
	}
	var errs []error
	for _, c := range due {
		if err := r.start(ctx, c, now); err != nil {
			errs = append(errs, fmt.Errorf("connection %s: %w", c.ID, err))
			_ = r.Store.SetConnectionError(ctx, c.ID, err.Error())
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) start(ctx context.Context, c *baixa.Connection, now time.Time) error {
	conn, ok := r.Connectors[c.Provider]
	if !ok {
		return fmt.Errorf("no connector for provider %q", c.Provider)
	}
	r.warnCertificate(c, now)
	var from baixa.Date
	if c.Cursor != "" {
		from, _ = baixa.ParseDate(c.Cursor)
	}
	known, err := r.Store.FetchesSince(ctx, c.ID, from)
	if err != nil {
		return err
	}
	fetches, cursor := conn.Plan(c, known, now)
	started, err := r.Store.StartRun(ctx, c, fetches, cursor, now)
	if err != nil {
		return err
	}
	if started {
		r.log().Info("connection run", "connection", c.ID, "provider", c.Provider, "fetches", len(fetches), "cursor", cursor)
	}
	return nil
}

// Step moves one fetch forward. It returns *baixa.RetryLater when the
// fetch must be looked at again later, nil when it has ended (or no longer
// exists), and other errors for the queue to retry.
func (r *Runner) Step(ctx context.Context, fetchID string) error {
	f, err := r.Store.FindFetchByID(ctx, fetchID)
	if baixa.IsCode(err, baixa.ENotFound) {
		return nil // its connection was deleted
	}
	if err != nil {
		return err
	}
	if !f.Status.Active() {
		return nil
	}
	c, err := r.Store.FindConnectionByID(ctx, f.ConnectionID)
	if baixa.IsCode(err, baixa.ENotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	conn, ok := r.Connectors[c.Provider]
	if !ok {
		return fmt.Errorf("no connector for provider %q", c.Provider)
	}
	err = conn.Step(ctx, c, f, r.Store)
	var later *baixa.RetryLater
	switch {
	case errors.As(err, &later):
		if later.Fault {
			_ = r.Store.SetConnectionError(ctx, c.ID, later.Reason)
		}
		return later
	case err != nil:
		_ = r.Store.SetConnectionError(ctx, c.ID, err.Error())
		return err
	case f.Status == baixa.FetchFailed:
		r.log().Warn("fetch failed", "connection", c.ID, "fetch", f.ID, "window", f.WindowFrom.String(), "scope", f.Scope, "reason", f.Note)
		return r.Store.SetConnectionError(ctx, c.ID, f.Note)
	default:
		return r.Store.SetConnectionError(ctx, c.ID, "")
	}
}

// maxAckBody bounds the stored document an acknowledgement reads back.
const maxAckBody = 1 << 20

// Ack acknowledges a stored document to its provider (the body of the
// queue's acknowledgement job), and stores the provider's answer when its
// connector keeps one. A document or connection that no longer exists, or
// a provider that takes no acknowledgement, needs nothing.
func (r *Runner) Ack(ctx context.Context, documentID string) error {
	doc, err := r.Store.FindDocumentByID(ctx, documentID)
	if baixa.IsCode(err, baixa.ENotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := r.Store.FindConnectionByID(ctx, doc.ConnectionID)
	if baixa.IsCode(err, baixa.ENotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	acker, ok := r.Connectors[c.Provider].(baixa.Acker)
	if !ok {
		return nil
	}
	rc, err := r.Store.OpenDocument(ctx, doc.ID)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(rc, maxAckBody))
	_ = rc.Close()
	if err != nil {
		return err
	}
	answer, err := acker.Ack(ctx, c, doc, body)
	if err != nil {
		reason := "acknowledging document " + doc.ID + ": " + err.Error()
		if later, ok := errors.AsType[*baixa.RetryLater](err); ok {
			reason = "acknowledging document " + doc.ID + ": " + later.Reason
		}
		_ = r.Store.SetConnectionError(ctx, c.ID, reason)
		return err
	}
	if answer != nil {
		if _, _, err := r.Store.CreateDocument(ctx, *answer); err != nil {
			return fmt.Errorf("store the answer: %w", err)
		}
	}
	return r.Store.SetConnectionError(ctx, c.ID, "")
}
