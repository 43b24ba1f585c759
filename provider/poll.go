package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"baixa"
)

// Polling is how a polled provider's fetch waits: PollEvery first, doubled
// with each poll up to PollMax, and given up after GiveUpAfter (the
// provider never ready, or failing all along). Durations are written as
// Go durations ("5s", "2m").
type Polling struct {
	PollEvery   string `json:"poll_every,omitempty"`
	PollMax     string `json:"poll_max,omitempty"`
	GiveUpAfter string `json:"give_up_after,omitempty"`
	// Timeout bounds one request to the provider (default 60 s).
	Timeout string `json:"timeout,omitempty"`

	Every, Max, GiveUp, RequestTimeout time.Duration `json:"-"`
}

// Normalize parses p, fills in the defaults and keeps PollEvery at least
// floor (a provider's asked-for minimum between polls).
func (p *Polling) Normalize(every, most, giveUp, floor time.Duration) error {
	parse := func(name string, s *string, def time.Duration) (time.Duration, error) {
		if *s == "" {
			*s = def.String()
			return def, nil
		}
		d, err := time.ParseDuration(*s)
		if err != nil || d <= 0 {
			return 0, baixa.FieldError("settings."+name, "want a positive duration like \"5s\" or \"2m\"")
		}
		return d, nil
	}
	var err error
	if p.Every, err = parse("poll_every", &p.PollEvery, every); err != nil {
		return err
	}
	if p.Every < floor {
		return baixa.FieldError("settings.poll_every", "at least %s", floor)
	}
	if p.Max, err = parse("poll_max", &p.PollMax, max(most, p.Every)); err != nil {
		return err
	}
	if p.Max < p.Every {
		return baixa.FieldError("settings.poll_max", "at least poll_every (%s)", p.PollEvery)
	}
	if p.GiveUp, err = parse("give_up_after", &p.GiveUpAfter, giveUp); err != nil {
		return err
	}
	if p.RequestTimeout, err = parse("timeout", &p.Timeout, time.Minute); err != nil {
		return err
	}
	return nil
}

// Backoff is the wait before poll number polls+1: PollEvery doubled with
// each poll, up to PollMax.
func (p *Polling) Backoff(polls int) time.Duration {
	d := p.Every
	for i := 1; i < polls && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Retry records a fault met while following fetch f (the provider down,
// busy or answering what cannot be read) and says what to do: it counts
// the poll; once GiveUp has passed since the fetch began it ends the fetch
// through fail; otherwise it keeps the fault as the fetch's note and asks
// to be called again after the backoff, or after the provider's
// Retry-After when that is longer.
func (p *Polling) Retry(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, now time.Time, err error, fail func(why string) error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	f.Polls++
	if now.Sub(f.CreatedAt) > p.GiveUp {
		return fail(fmt.Sprintf("gave up after %s: %v", p.GiveUp, err))
	}
	f.Note = err.Error()
	if serr := st.SaveFetch(ctx, f); serr != nil {
		return serr
	}
	wait := p.Backoff(f.Polls)
	if he, ok := errors.AsType[*HTTPError](err); ok && he.RetryAfter > wait {
		wait = he.RetryAfter
	}
	return &baixa.RetryLater{After: wait, Reason: err.Error(), Fault: true}
}
