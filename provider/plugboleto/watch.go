package plugboleto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"baixa"
	"baixa/cnab"
)

// ScopeWatch is the fetch that reads a connection's watched folder.
const ScopeWatch = "watch"

// Folders a watched folder's files are moved to.
const (
	ImportedDir = "imported"
	RejectedDir = "rejected"
	// EmptyDir takes a valid return file that holds no title, what a bank
	// sends on a day without movements: nothing to upload, and nothing
	// wrong with it either.
	EmptyDir = "empty"
)

// maxWatchedFile bounds a file read from a watched folder.
const maxWatchedFile = 256 << 20

// watchBatch bounds the files one step imports.
const watchBatch = 100

// watch imports the return files in the connection's folder: each is
// checked whole as CNAB, stored (with the fetch that uploads it) and only
// then moved to imported/; one that is not a return file goes to
// rejected/, the reason beside it in NAME.error.txt, and a return file of
// no titles to empty/. A file stored before (the same bytes) is not stored
// again.
func (k *Connector) watch(ctx context.Context, c *baixa.Connection, s *Settings, f *baixa.Fetch, st baixa.FetchStore) error {
	entries, err := os.ReadDir(s.WatchDir)
	if err != nil {
		return k.fail(ctx, st, f, "", "the watched folder cannot be read: "+err.Error())
	}
	imported, rejected, empty := 0, 0, 0
	for _, e := range entries {
		if imported+rejected+empty >= watchBatch {
			break
		}
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(s.WatchDir, e.Name())
		body, titles, problem, err := readReturnFile(ctx, path)
		if err != nil {
			return err // the disk: asked again by the queue
		}
		if problem != "" {
			rejected++
			if err := moveTo(path, RejectedDir, problem); err != nil {
				return err
			}
			continue
		}
		if titles == 0 {
			empty++
			if err := moveTo(path, EmptyDir, ""); err != nil {
				return err
			}
			continue
		}
		h := sha256.Sum256(body)
		sum := hex.EncodeToString(h[:])
		nd := Upload(c, sum)
		nd.Body = bytes.NewReader(body)
		f.Files = append(f.Files, sum)
		if _, err := st.StoreFetchFile(ctx, f, sum, nd); err != nil {
			return err
		}
		imported++
		if err := moveTo(path, ImportedDir, ""); err != nil {
			return err
		}
	}
	f.Status, f.Note = baixa.FetchDone, fmt.Sprintf("watched folder: %d files imported, %d rejected", imported, rejected)
	if empty > 0 {
		f.Note += fmt.Sprintf(", %d of no titles", empty)
	}
	return st.SaveFetch(ctx, f)
}

// readReturnFile reads a file and checks it is a whole return file of
// titles titles; problem says why it is not one.
func readReturnFile(ctx context.Context, path string) (body []byte, titles int, problem string, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, "", err
	}
	defer fh.Close()
	body, err = io.ReadAll(io.LimitReader(fh, maxWatchedFile+1))
	if err != nil {
		return nil, 0, "", err
	}
	if len(body) > maxWatchedFile {
		return nil, 0, fmt.Sprintf("larger than %d bytes", maxWatchedFile), nil
	}
	if titles, err = cnab.Check(ctx, bytes.NewReader(body)); err != nil {
		return nil, 0, err.Error(), nil
	}
	return body, titles, "", nil
}

// moveTo moves path into the folder dir beside it, with why written next
// to it when given.
func moveTo(path, dir, why string) error {
	target := filepath.Join(filepath.Dir(path), dir)
	if err := os.MkdirAll(target, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(target, filepath.Base(path))
	if why != "" {
		if err := os.WriteFile(dst+".error.txt", []byte(why+"\n"), 0o640); err != nil {
			return err
		}
	}
	return os.Rename(path, dst)
}
