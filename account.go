package baixa

import (
	"context"
	"time"
)

// Account is a beneficiary (cedente, credor) whose charges baixa tracks.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Document  string    `json:"document"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate normalizes and checks an account before it is stored.
func (a *Account) Validate() error {
	if a.Name == "" {
		return FieldError("name", "is required")
	}
	a.Document = NormalizeTaxID(a.Document)
	if err := ValidateTaxID(a.Document); err != nil {
		return FieldError("document", "%v", err)
	}
	return nil
}

// Page asks for one page of a list: up to Limit items after the opaque
// cursor After.
type Page struct {
	After string
	Limit int
}

// AccountService stores accounts.
type AccountService interface {
	CreateAccount(ctx context.Context, a *Account) error
	FindAccountByID(ctx context.Context, id string) (*Account, error)
	// FindAccounts returns a page of accounts and the cursor of the next page ("" at the end).
	FindAccounts(ctx context.Context, p Page) ([]*Account, string, error)
}
