package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"baixa"
	"baixa/internal/dbtest"
)

// A document that the database refuses fails alone: the others stored in
// the same group commit are stored, each caller told its own outcome.
func TestGroupIsolatesAFailingDocument(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		ctx := context.Background()
		postgres := strings.HasPrefix(url, "postgres")
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("conn/P-%d/2", i)
				if i%10 == 0 {
					key = "conn/\xff/2" // PostgreSQL's text refuses it
				}
				_, _, errs[i] = db.Documents.CreateDocument(ctx, baixa.NewDocument{Provider: "bmp", DedupKey: key, ContentType: "application/json",
					Body: strings.NewReader(fmt.Sprintf(`{"n": %d}`, i))})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			bad := i%10 == 0 && postgres
			switch {
			case bad && !baixa.IsCode(err, baixa.EInvalid):
				t.Errorf("document %d (not UTF-8) = %v, want EInvalid", i, err)
			case !bad && err != nil:
				t.Errorf("document %d failed beside a faulty one: %v", i, err)
			}
		}
	})
}
