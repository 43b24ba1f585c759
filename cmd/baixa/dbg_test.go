package main

import (
	"log/slog"
	"os"
	"testing"
)

func init() { debugLogger = slog.New(slog.NewTextHandler(os.Stderr, nil)) }

var _ = testing.Short
