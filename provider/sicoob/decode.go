package sicoob

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"baixa"
	"baixa/cnab"
)

// Provider is the provider name of Sicoob connections and documents.
const Provider = "sicoob"

// Decoder reads Sicoob movement files: the download response
// ({"resultado": {"arquivo": base64 ZIP}}), a bare ZIP, or a bare JSON
// array of records. It streams: the base64 goes to a temporary file, the
// ZIP is read from there, and each entry's records are decoded one at a
// time, so memory does not grow with the file.
type Decoder struct {
	// Limits against hostile archives; zero means the default.
	MaxEntries    int   // entries in the ZIP (default 1,000)
	MaxEntryBytes int64 // uncompressed bytes of one entry (default 4 GiB)
	MaxTotalBytes int64 // uncompressed bytes of all entries (default 8 GiB)
	MaxRatio      int64 // uncompressed / compressed size of an entry over 1 MiB (default 200; JSON records compress 10 to 30 times)
	TempDir       string
}

var _ baixa.Decoder = Decoder{}

// Decode emits one movement per record, in file order.
func (d Decoder) Decode(ctx context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstByte(br)
	if err != nil {
		return errors.New("empty document")
	}
	switch first {
	case '[':
		return d.records(ctx, doc, "document", br, emit)
	case 'P':
		return d.zipFrom(ctx, doc, br, emit)
	case '{':
		if head, _ := br.Peek(4096); !bytes.Contains(head, []byte(`"arquivo"`)) && !bytes.Contains(head, []byte(`"resultado"`)) &&
			!bytes.Contains(head, []byte(`"mensagens"`)) {
			return d.records(ctx, doc, "document", br, emit) // records, one object per line
		}
		tmp, err := os.CreateTemp(d.TempDir, "baixa-sicoob-*.zip")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := extractArquivo(br, tmp); err != nil {
			return err
		}
		return d.zipFile(ctx, doc, tmp, emit)
	}
	return fmt.Errorf("not a Sicoob movement file: it starts with %q, want a JSON response, a ZIP or a JSON array", first)
}

// firstByte skips a UTF-8 byte order mark and white space and peeks at the
// first byte that follows.
func firstByte(br *bufio.Reader) (byte, error) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.Discard(1)
		default:
			return b[0], nil
		}
	}
}

func (d Decoder) zipFrom(ctx context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	tmp, err := os.CreateTemp(d.TempDir, "baixa-sicoob-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	return d.zipFile(ctx, doc, tmp, emit)
}

// repairLimit bounds the archives that are tried again after undoing a
// UTF-8 re-encoding (Sicoob's documentation example was damaged so).
const repairLimit = 64 << 20

func (d Decoder) zipFile(ctx context.Context, doc *baixa.Document, f *os.File, emit func(*baixa.Movement) error) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var zr *zip.Reader
	zr, err = zip.NewReader(f, st.Size())
	if err != nil && st.Size() <= repairLimit {
		if fixed := undoUTF8(f, st.Size()); fixed != nil {
			if zr2, err2 := zip.NewReader(bytes.NewReader(fixed), int64(len(fixed))); err2 == nil {
				zr, err = zr2, nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("arquivo is not a readable ZIP (%d bytes): %w", st.Size(), err)
	}
	maxEntries := cmp.Or(d.MaxEntries, 1000)
	maxEntry, maxTotal := cmp.Or(d.MaxEntryBytes, 4<<30), cmp.Or(d.MaxTotalBytes, 8<<30)
	maxRatio := cmp.Or(d.MaxRatio, 200)
	if len(zr.File) > maxEntries {
		return fmt.Errorf("ZIP has %d entries, more than the %d allowed", len(zr.File), maxEntries)
	}
	if len(zr.File) == 0 {
		return errors.New("ZIP has no entries")
	}
	var total uint64
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		total += zf.UncompressedSize64
		switch {
		case zf.UncompressedSize64 > uint64(maxEntry):
			return fmt.Errorf("ZIP entry %q declares %d bytes, more than the %d allowed", zf.Name, zf.UncompressedSize64, maxEntry)
		case total > uint64(maxTotal):
			return fmt.Errorf("ZIP entries declare more than the %d bytes allowed in all", maxTotal)
		case zf.UncompressedSize64 > 1<<20 && zf.UncompressedSize64 > uint64(maxRatio)*max(zf.CompressedSize64, 1):
			return fmt.Errorf("ZIP entry %q expands %d times (a ZIP bomb?), more than the %d allowed", zf.Name,
				zf.UncompressedSize64/max(zf.CompressedSize64, 1), maxRatio)
		}
	}
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() {
			continue
		}
		if err := d.entry(ctx, doc, zf, emit); err != nil {
			return err
		}
	}
	return nil
}

// undoUTF8 returns the bytes of f with a UTF-8 re-encoding of Latin-1
// undone (every byte >= 0x80 written as two), or nil when f is not so.
func undoUTF8(f *os.File, size int64) []byte {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil || !utf8.Valid(b) || utf8.RuneCount(b) == len(b) {
		return nil
	}
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r > 0xFF {
			return nil
		}
		out = append(out, byte(r))
	}
	return out
}

func (d Decoder) entry(ctx context.Context, doc *baixa.Document, zf *zip.File, emit func(*baixa.Movement) error) error {
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("ZIP entry %q: %w", zf.Name, err)
	}
	defer rc.Close()
	// Read no more than declared: an entry that lies about its size fails.
	cr := &countReader{r: io.LimitReader(rc, int64(zf.UncompressedSize64)+1)}
	br := bufio.NewReaderSize(cr, 64<<10)
	first, err := firstByte(br)
	if errors.Is(err, io.EOF) {
		return nil // an empty entry: no records
	}
	if err != nil {
		return fmt.Errorf("ZIP entry %q: %w", zf.Name, err)
	}
	if first != '[' && first != '{' {
		head, _ := br.Peek(240)
		if cnab.Looks(head) {
			// Some movement files carry the bank's CNAB return file instead
			// of JSON records: read it as one (its movements are the cnab
			// provider's, so the same file imported by hand is the same facts).
			if err := (cnab.Decoder{}).Decode(ctx, doc, br, emit); err != nil {
				return fmt.Errorf("ZIP entry %q (CNAB): %w", zf.Name, err)
			}
			if cr.n > int64(zf.UncompressedSize64) {
				return fmt.Errorf("ZIP entry %q is larger than it declares (%d bytes)", zf.Name, zf.UncompressedSize64)
			}
			return nil
		}
		return fmt.Errorf("ZIP entry %q is not JSON (it starts with %q)", zf.Name, head[:min(len(head), 16)])
	}
	err = d.records(ctx, doc, "ZIP entry "+fmt.Sprintf("%q", zf.Name), br, emit)
	if cr.n > int64(zf.UncompressedSize64) {
		return fmt.Errorf("ZIP entry %q is larger than it declares (%d bytes)", zf.Name, zf.UncompressedSize64)
	}
	if err != nil {
		return err
	}
	return nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// records decodes a JSON array of records (or a sequence of objects, one per
// line) and emits their movements.
func (d Decoder) records(ctx context.Context, doc *baixa.Document, where string, br *bufio.Reader, emit func(*baixa.Movement) error) error {
	sc := &recordScanner{br: br}
	array := false
	if b, _ := br.Peek(1); len(b) == 1 && b[0] == '[' {
		array = true
		_, _ = sc.byte()
	}
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		err := sc.next(array, n == 1)
		if errors.Is(err, errEndOfRecords) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s, record %d (byte %d): %w", where, n, sc.off, err)
		}
		var rec record
		if err := sc.decode(&rec); err != nil {
			return fmt.Errorf("%s, record %d (byte %d): %w", where, n, sc.off, err)
		}
		m, err := rec.movement(doc)
		if err != nil {
			return fmt.Errorf("%s, record %d: %w", where, n, err)
		}
		if err := emit(m); err != nil {
			return err
		}
	}
	if array {
		if c, err := sc.skip(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: unexpected data after the array (%q at byte %d)", where, c, sc.off)
		}
	}
	return nil
}
