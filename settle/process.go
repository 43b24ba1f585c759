package settle

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"baixa"
)

// Processor decodes stored documents and settles their movements in
// batches, each in one transaction with the document's progress, so that a
// restart resumes after the last committed batch.
type Processor struct {
	Store    baixa.SettleStore
	Decoders map[string]baixa.Decoder // by provider
	Settler  *Settler
	// BatchSize is the number of movements settled per transaction (default 1000).
	BatchSize int
	// Parallel is how many batches of one document may be settled at once
	// (default 1). More than one helps only where the database takes
	// concurrent writers (PostgreSQL); SQLite has a single writer.
	Parallel int
	// Settled, when set, is called after each committed batch.
	Settled func(provider string, c baixa.Counts)
	Logger  *slog.Logger
}

// Process decodes and settles document id. It is idempotent: a settled or
// failed document is left alone, and movements already settled are skipped.
// A document that cannot be decoded is marked failed with the reason before
// any of its movements is applied; Process then returns nil (retrying cannot
// help). Other errors are worth retrying.
func (p *Processor) Process(ctx context.Context, id string) error {
	doc, err := p.Store.FindDocumentByID(ctx, id)
	if err != nil {
		return err
	}
	if doc.Status != baixa.DocPending {
		return nil
	}
	log := cmp.Or(p.Logger, slog.Default()).With("document", doc.ID, "provider", doc.Provider)
	dec := p.Decoders[doc.Provider]
	if dec == nil {
		return p.fail(ctx, doc, fmt.Sprintf("no decoder for provider %q", doc.Provider))
	}

	// Pass 1: decode everything, so that a bad record fails the document
	// before anything is applied.
	var total int64
	bad, err := p.decode(ctx, doc, dec, func(m *baixa.Movement) error {
		total++
		return nil
	})
	if err == nil && bad != nil {
		log.Warn("document has bad lines, left out", "report", bad.Error())
		if err := p.Store.WriteTx(ctx, func(tx baixa.SettleTx) error { return tx.ReportDocument(ctx, doc.ID, bad.Error()) }); err != nil {
			return err
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var decodeErr *decodeError
		if errors.As(err, &decodeErr) {
			log.Warn("document failed", "reason", decodeErr.Error())
			return p.fail(ctx, doc, decodeErr.Error())
		}
		return err
	}

	// Pass 2: settle in batches, resuming after doc.Progress.
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches, decodeErr := p.decodeAhead(dctx, doc, dec)
	contiguous, err := p.settleBatches(ctx, doc, batches, total, cancel)
	if err != nil {
		return err
	}
	if err := decodeErr(); err != nil {
		return err
	}
	if contiguous != total {
		// Never mark a document settled with movements missing.
		return fmt.Errorf("settled %d of the document's %d movements", contiguous, total)
	}
	if err := p.settleBatch(ctx, doc, batch{}, func() int64 { return contiguous }, total, true, nil); err != nil {
		return err
	}
	log.Info("document settled", "movements", total)
	return nil
}

// decodeAhead decodes the document again in its own goroutine, skipping
// what doc.Progress says is settled, and sends batches of movements, each
// already encoded and matched on the store's read side when it has one, so
// that the writer only writes. At most two batches wait, so memory stays
// bounded. The returned function gives the decoding error once the channel
// is closed.
func (p *Processor) decodeAhead(ctx context.Context, doc *baixa.Document, dec baixa.Decoder) (<-chan batch, func() error) {
	size := cmp.Or(p.BatchSize, 1000)
	batches := make(chan batch, 2)
	var decodeErr error
	go func() {
		defer close(batches)
		var index int64
		ms := make([]*baixa.Movement, 0, size)
		finder, _ := p.Store.(RefFinder)
		// Peeked charges save the writer a query, but are no use when
		// batches overlap: each must see the one before it.
		peeker, _ := p.Store.(ChargePeeker)
		if p.Parallel > 1 {
			peeker = nil
		}
		send := func() error {
			b := batch{ms: ms}
			if finder != nil {
				if err := Resolve(ctx, finder, ms); err != nil {
					return err
				}
			}
			if finder != nil && peeker != nil {
				var err error
				if b.charges, err = peeker.PeekCharges(ctx, chargeIDs(ms)); err != nil {
					return fmt.Errorf("peek charges: %w", err)
				}
			}
			select {
			case batches <- b:
				ms = make([]*baixa.Movement, 0, size)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		_, decodeErr = p.decode(ctx, doc, dec, func(m *baixa.Movement) error {
			if index++; index <= doc.Progress {
				return nil
			}
			enc, err := json.Marshal(m)
			if err != nil {
				return &decodeError{fmt.Errorf("movement %d: %w", index, err)}
			}
			m.Encoded = enc
			if ms = append(ms, m); len(ms) == size {
				return send()
			}
			return nil
		})
		if decodeErr == nil && len(ms) > 0 {
			decodeErr = send()
		}
	}()
	return batches, func() error { return decodeErr }
}

// settleBatches settles the batches with up to Parallel in flight, each in
// its own transaction. A batch starts only once the one before it holds its
// charges' locks, so on any charge they share the later batch waits for the
// earlier one and sees its result: each charge takes its movements in
// document order. Progress moves past a batch only when every batch before
// it committed. On the first failure it calls stop, drains the channel and
// returns the error; otherwise it returns the progress reached.
func (p *Processor) settleBatches(ctx context.Context, doc *baixa.Document, batches <-chan batch, total int64, stop func()) (int64, error) {
	var (
		mu         sync.Mutex
		settleErr  error
		contiguous = doc.Progress      // every movement before this is committed
		committed  = map[int64]int64{} // start -> end of batches committed out of order
		wg         sync.WaitGroup
		slots      = make(chan struct{}, max(1, p.Parallel))
		next       = doc.Progress
	)
	for batch := range batches {
		mu.Lock()
		failed := settleErr != nil
		mu.Unlock()
		if failed {
			continue // drain
		}
		slots <- struct{}{}
		start, end := next, next+int64(len(batch.ms))
		next = end
		locked := make(chan struct{})
		var once sync.Once
		signal := func() { once.Do(func() { close(locked) }) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			progressAt := func() int64 {
				mu.Lock()
				defer mu.Unlock()
				if contiguous == start {
					return end // committing this batch completes the prefix
				}
				return contiguous
			}
			err := p.settleBatch(ctx, doc, batch, progressAt, total, false, signal)
			signal()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if settleErr == nil {
					settleErr = err
				}
				stop()
				return
			}
			committed[start] = end
			for e, ok := committed[contiguous]; ok; e, ok = committed[contiguous] {
				delete(committed, contiguous)
				contiguous = e
			}
		}()
		<-locked
	}
	wg.Wait()
	return contiguous, settleErr
}

// settleBatch settles one batch and advances the document in one
// transaction, again when a concurrent settlement of the same movements won
// a race.
func (p *Processor) settleBatch(ctx context.Context, doc *baixa.Document, b batch, progress func() int64, total int64, done bool, locked func()) error {
	for attempt := 0; ; attempt++ {
		var counts baixa.Counts
		err := p.Store.WriteTx(ctx, func(tx baixa.SettleTx) error {
			var err error
			if counts, _, err = p.Settler.settle(ctx, tx, b.ms, batchOpts{peeked: b.charges, locked: locked}); err != nil {
				return err
			}
			return tx.AdvanceDocument(ctx, doc.ID, counts, progress(), total, done)
		})
		if errors.Is(err, ErrRace) && attempt < 5 {
			for _, m := range b.ms {
				m.Result, m.Reason, m.ChargeID, m.ID = "", "", "", ""
			}
			b.charges = nil
			continue
		}
		if err != nil {
			return err
		}
		if p.Settled != nil && len(b.ms) > 0 {
			p.Settled(doc.Provider, counts)
		}
		return nil
	}
}

// batch is a run of a document's movements settled in one transaction,
// with the charges they matched as peeked ahead (nil when not).
type batch struct {
	ms      []*baixa.Movement
	charges map[string]*baixa.Charge
}

type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// decode runs the decoder over the stored bytes, fills what every movement
// inherits from its document, and checks what settling relies on. Decoder
// and validation failures come back as *decodeError; errors of emit and of
// reading storage come back as they are. For a document that skips bad
// lines, the lines its decoder left out come back as bad, with no error:
// every good movement was emitted.
func (p *Processor) decode(ctx context.Context, doc *baixa.Document, dec baixa.Decoder, emit func(*baixa.Movement) error) (bad *baixa.BadLines, err error) {
	r, err := p.Store.OpenDocument(ctx, doc.ID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var emitErr error
	var n int
	err = dec.Decode(ctx, doc, &storageReader{r: r}, func(m *baixa.Movement) error {
		n++
		m.DocumentID = doc.ID
		m.Provider = cmp.Or(m.Provider, doc.Provider)
		m.AccountID = cmp.Or(m.AccountID, doc.AccountID)
		if err := check(m); err != nil {
			return &decodeError{fmt.Errorf("movement %d: %w", n, err)}
		}
		if emitErr = emit(m); emitErr != nil {
			return emitErr
		}
		return nil
	})
	switch {
	case err == nil:
		return nil, nil
	case emitErr != nil && errors.Is(err, emitErr):
		return nil, emitErr
	case doc.SkipBadLines && errors.As(err, &bad):
		return bad, nil
	}
	var se *storageError
	if errors.As(err, &se) {
		return nil, se.err
	}
	var de *decodeError
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return nil, &decodeError{err}
}

func check(m *baixa.Movement) error {
	switch {
	case m.Key == "":
		return errors.New("no key")
	case m.AccountID == "":
		return errors.New("no account")
	case len(m.References.List()) == 0:
		return errors.New("no reference to match a charge by")
	}
	if err := m.CheckText(); err != nil {
		return err
	}
	for _, k := range baixa.MovementKinds {
		if m.Kind == k {
			return nil
		}
	}
	return fmt.Errorf("unknown kind %q", m.Kind)
}

func (p *Processor) fail(ctx context.Context, doc *baixa.Document, reason string) error {
	return p.Store.WriteTx(ctx, func(tx baixa.SettleTx) error { return tx.FailDocument(ctx, doc.ID, reason) })
}

// storageReader marks read errors as storage failures, so that a database
// hiccup is retried rather than taken for a corrupt document.
type storageReader struct{ r io.Reader }

type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

func (s *storageReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		err = &storageError{err}
	}
	return n, err
}
