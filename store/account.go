package store

import (
	"context"
	"database/sql"
	"errors"

	"baixa"
)

var _ baixa.AccountService = (*Accounts)(nil)

// CreateAccount validates and stores a new account, setting its ID.
func (s *Accounts) CreateAccount(ctx context.Context, a *baixa.Account) error {
	db := s.db
	if err := a.Validate(); err != nil {
		return err
	}
	now := db.now()
	a.ID, a.CreatedAt = baixa.NewID("acc", now), now
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.on(tx).ExecContext(ctx, `INSERT INTO accounts (id, name, document, created_at) VALUES ($1, $2, $3, $4)`,
			a.ID, a.Name, a.Document, micros(now))
		return err
	})
}

// FindAccountByID returns ENotFound for an unknown id.
func (s *Accounts) FindAccountByID(ctx context.Context, id string) (*baixa.Account, error) {
	db := s.db
	var a baixa.Account
	var created int64
	err := db.on(db.R).QueryRowContext(ctx, `SELECT id, name, document, created_at FROM accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.Document, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baixa.Errorf(baixa.ENotFound, "account %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// FindAccounts lists accounts in creation order.
func (s *Accounts) FindAccounts(ctx context.Context, p baixa.Page) ([]*baixa.Account, string, error) {
	db := s.db
	limit := pageLimit(p.Limit)
	return page(ctx, db, `SELECT id, name, document, created_at FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`, []any{p.After, limit + 1}, limit,
		func(s scanner) (*baixa.Account, error) {
			var a baixa.Account
			var created int64
			if err := s.Scan(&a.ID, &a.Name, &a.Document, &created); err != nil {
				return nil, err
			}
			a.CreatedAt = fromMicros(created)
			return &a, nil
		}, func(a *baixa.Account) string { return a.ID })
}

// pageLimit clamps a requested page size to 1..500, 50 by default.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}
