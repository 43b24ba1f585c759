package cnab

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"baixa"
)

// fuzzRead reads everything; it must end, without panicking, on any input.
func fuzzRead(t *testing.T, in []byte) {
	r, err := NewReader(bytes.NewReader(in))
	if err != nil {
		return
	}
	for range 1 << 20 {
		if _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if r.Fatal() {
				if _, again := r.Next(); !errors.Is(again, err) {
					t.Fatalf("a fatal error, then %v", again)
				}
				return
			}
			continue // a detail's error: the reader goes on
		}
	}
	t.Fatalf("no end after a million details from %d bytes", len(in))
}

func seeds(f *testing.F, format string) {
	files, _ := filepath.Glob("testdata/*.ret")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if bytes.Contains(b[:min(len(b), 10)], []byte("RETORNO")) == (format == "400") {
			f.Add(b)
		}
	}
}

// FuzzReader240 and FuzzReader400: go test -run XXX -fuzz FuzzReader240
// -fuzzminimizetime 3s ./cnab. The seed corpus is the golden inputs of the
// format (testdata/*.ret) and what testdata/fuzz/ holds; minimizing an
// input of that size for Go's default 60 s leaves a short run no time to
// fuzz.
func FuzzReader240(f *testing.F) {
	seeds(f, "240")
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzRead(t, in)
		_ = Decoder{}.Decode(context.Background(), &baixa.Document{SkipBadLines: true}, bytes.NewReader(in), func(*baixa.Movement) error { return nil })
		_, _ = Check(context.Background(), bytes.NewReader(in))
	})
}

func FuzzReader400(f *testing.F) {
	seeds(f, "400")
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzRead(t, in)
		_ = Decoder{}.Decode(context.Background(), &baixa.Document{}, bytes.NewReader(in), func(*baixa.Movement) error { return nil })
		_, _ = Check(context.Background(), bytes.NewReader(in))
	})
}
