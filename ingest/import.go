package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"

	"baixa"
)

// Imports takes files and movement lists given to baixa (the API's
// imports): each is read whole and checked before anything is stored; a
// good one is stored verbatim as a Document, whose settling is queued with
// it.
type Imports struct {
	Accounts interface {
		FindAccountByID(ctx context.Context, id string) (*baixa.Account, error)
	}
	Documents Documents
	// Connections resolve an import made for a connection (nil: none may be).
	Connections interface {
		FindConnectionByID(ctx context.Context, id string) (*baixa.Connection, error)
	}
	// Decoders read each provider's input.
	Decoders map[string]baixa.Decoder
	// Uploads are the providers to which a file imported for one of their
	// connections is handed (PlugBoleto reconciles return files itself).
	Uploads map[string]Upload
	// TempDir is where imports are spooled before they are stored ("" = the OS's).
	TempDir string
}

// Upload is how a provider that reads return files itself takes one: the
// file is checked whole, then stored as the document Document returns (one
// whose Follow starts the upload), keyed by its SHA-256.
type Upload struct {
	// Check reads the whole file and counts its titles, or says why the
	// provider would refuse it (cnab.Check: any bank's structure).
	Check    func(ctx context.Context, r io.Reader) (titles int, err error)
	Document func(c *baixa.Connection, sha256 string) baixa.NewDocument
}

// Generic is the provider name of baixa's own movement format.
const Generic = "generic"

// Import says what an import is.
type Import struct {
	Provider     string
	AccountID    string
	ConnectionID string
	ContentType  string
	SkipBadLines bool

	// check and upload, for a connection of a provider that takes uploads:
	// how the file is checked, and the document to store instead.
	check  func(ctx context.Context, r io.Reader) (int, error)
	upload func(sha256 string) baixa.NewDocument
}

// InputError is an import refused for one of its inputs: In names which
// ("query.account_id", "query.connection_id", "body"), Err says why.
type InputError struct {
	In  string
	Err error
}

func (e *InputError) Error() string { return e.In + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// BodyError is a body that could not be read (or spooled) whole: larger
// than its reader allows (*http.MaxBytesError), or cut short.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "reading the body: " + e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// Unreadable is a body that does not read as its provider's input: Err,
// from the decoder, names the line or movement at fault.
type Unreadable struct{ Err error }

func (e *Unreadable) Error() string { return e.Err.Error() }
func (e *Unreadable) Unwrap() error { return e.Err }

// ResolveFile checks what a provider's file is imported as (POST
// /v1/imports) before its body is read: the provider, and the connection
// it came through, whose account it settles.
func (im *Imports) ResolveFile(ctx context.Context, in Import) (Import, error) {
	if in.Provider == Generic || im.Decoders[in.Provider] == nil {
		return in, baixa.Errorf(baixa.EInvalid, "provider %q: no import of that kind (generic files go to /v1/imports/generic)", in.Provider)
	}
	if in.ConnectionID != "" && im.Connections != nil {
		c, err := im.Connections.FindConnectionByID(ctx, in.ConnectionID)
		if err != nil {
			return in, &InputError{In: "query.connection_id", Err: err}
		}
		if in.AccountID != "" && in.AccountID != c.AccountID {
			return in, baixa.Errorf(baixa.EInvalid, "account_id is not the connection's account")
		}
		in.AccountID = c.AccountID
		if up, ok := im.Uploads[c.Provider]; ok {
			if in.Provider != "cnab" || in.SkipBadLines {
				return in, baixa.Errorf(baixa.EInvalid, "a %s connection takes CNAB return files whole (provider=cnab, no skip_bad_lines)", c.Provider)
			}
			in.check, in.upload = up.Check, func(sha string) baixa.NewDocument { return up.Document(c, sha) }
		}
	}
	if in.AccountID == "" {
		return in, baixa.Errorf(baixa.EInvalid, "name the account the file settles: account_id or connection_id")
	}
	return in, nil
}

// Store spools body to disk, decodes it whole, and stores it as a Document
// only if it reads well (or, with SkipBadLines, if what is bad is single
// lines) and every account it names exists. created is false when the
// same bytes were imported before: the first document is returned. A body
// that cannot be read whole fails with a *BodyError.
func (im *Imports) Store(ctx context.Context, in Import, body io.Reader) (doc *baixa.Document, created bool, err error) {
	if in.AccountID != "" {
		if _, err := im.Accounts.FindAccountByID(ctx, in.AccountID); err != nil {
			return nil, false, &InputError{In: "query.account_id", Err: err}
		}
	}
	f, err := os.CreateTemp(im.TempDir, "baixa-import-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), body); err != nil {
		return nil, false, &BodyError{err}
	}
	if err := im.check(ctx, in, f); err != nil {
		return nil, false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false, err
	}
	nd := baixa.NewDocument{
		Provider: in.Provider, AccountID: in.AccountID, ConnectionID: in.ConnectionID, ContentType: in.ContentType,
		SkipBadLines: in.SkipBadLines,
	}
	if in.upload != nil {
		nd = in.upload(hex.EncodeToString(h.Sum(nil)))
	}
	nd.Body = f
	return im.Documents.CreateDocument(ctx, nd)
}

// check reads the spooled import f whole, as its provider's decoder (or
// the upload's check) does, and checks the accounts its movements name.
func (im *Imports) check(ctx context.Context, in Import, f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	dec := im.Decoders[in.Provider]
	doc := &baixa.Document{Provider: in.Provider, AccountID: in.AccountID, SkipBadLines: in.SkipBadLines}
	accounts := map[string]bool{}
	n := 0
	var err error
	if in.check != nil {
		n, err = in.check(ctx, f)
	} else {
		err = dec.Decode(ctx, doc, f, func(m *baixa.Movement) error {
			n++
			if m.AccountID != "" {
				accounts[m.AccountID] = true
			}
			return nil
		})
	}
	bad, _ := errors.AsType[*baixa.BadLines](err)
	if bad != nil && in.SkipBadLines {
		err = nil
	}
	if err != nil {
		return &Unreadable{err}
	}
	// An import of nothing is a mistake, unless the decoder says its input
	// may hold nothing (a return file of a day without movements) and it
	// read well; a provider that reads the file itself gets nothing to read.
	if empty, ok := dec.(baixa.EmptyAccepter); n == 0 && (!ok || !empty.AcceptsEmpty() || in.check != nil || bad != nil) {
		return baixa.Errorf(baixa.EInvalid, "the import holds no movements")
	}
	for id := range accounts {
		if _, err := im.Accounts.FindAccountByID(ctx, id); err != nil {
			if baixa.IsCode(err, baixa.ENotFound) {
				err = baixa.FieldError("account_id", "account %s not found", id)
			}
			return &InputError{In: "body", Err: err}
		}
	}
	return nil
}
