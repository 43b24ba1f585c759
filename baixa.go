// Package baixa is the vocabulary of the settlement hub: accounts, charges,
// documents, movements and events, money and civil dates, and the errors that
// every layer shares. It uses the standard library only and does no I/O.
package baixa

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each to an HTTP status; nothing else should.
const (
	EInvalid      = "invalid"      // the input is malformed or breaks a rule (422)
	ENotFound     = "not_found"    // the thing named does not exist (404)
	EConflict     = "conflict"     // the input clashes with stored state, e.g. a duplicate reference (409)
	EUnauthorized = "unauthorized" // missing or wrong credentials (401)
	EForbidden    = "forbidden"    // known, but refused: a disabled connection (403)
	ETooLarge     = "too_large"    // the input exceeds a size limit (413)
	EUnavailable  = "unavailable"  // a dependency is down; try again later (503)
	EInternal     = "internal"     // a bug or an unexpected failure (500)
)

// Error is baixa's one coded error. Field, when set, names the input field at
// fault (for example "charges[3].payer.document").
type Error struct {
	Code    string
	Field   string
	Message string
	// Details holds per-item errors for bulk operations.
	Details []*Error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error about one field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool { return ErrorCode(err) == code }
