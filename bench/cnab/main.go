// Command cnab measures the CNAB reader and a full CNAB import:
//
//  1. parse only: a generated CNAB 240 file of N segment T/U pairs is read
//     by a bare line scanner (the machine's limit: lines, no parsing) and by
//     cnab.Reader (every field of every detail), and the two rates compared;
//
//  2. full import: a file of M payments against M open boletos goes through
//     POST /v1/imports (read whole to validate, stored) and is settled as the
//     queue's job does it, timed from the upload to the last movement.
//
//     go run ./bench/cnab -pairs 1000000 -payments 100000                     # SQLite
//     go run ./bench/cnab -payments 100000 -db 'postgres://...' -pairs 0      # PostgreSQL, import only
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"baixa"
	"baixa/cnab"
	"baixa/ingest"
	"baixa/internal/measure"
	"baixa/settle"
	"baixa/web"
)

func main() {
	pairs := flag.Int("pairs", 1000000, "segment T/U pairs in the parse-only file (0: skip)")
	payments := flag.Int("payments", 100000, "payments in the imported file (0: skip)")
	dbURL := flag.String("db", "", "database URL for the import (default: SQLite in a temporary directory)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "baixa-bench-cnab-")
	must(err)
	defer os.RemoveAll(dir)
	if *pairs > 0 {
		parseOnly(filepath.Join(dir, "parse.ret"), *pairs)
	}
	if *payments > 0 {
		if *dbURL == "" {
			*dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
		}
		fullImport(dir, *dbURL, *payments)
	}
}

var day = baixa.Date{Year: 2026, Month: 11, Day: 20}

// detail is the i-th payment of a generated file.
func detail(i int, d *cnab.Detail) {
	a := baixa.Amount(10000 + i%90000)
	*d = cnab.Detail{Occurrence: "06", NossoNumero: fmt.Sprintf("%010d", 1000000+i), Parcela: "01", Modalidade: "01",
		SeuNumero: fmt.Sprint(i), DueDate: day.AddDays(5), FaceValue: a, PaidAmount: a, FeeAmount: 170, CreditedAmount: a - 170,
		OccurredOn: day, CreditedOn: day.AddDays(1), ReceivingBank: "756", ReceivingBranch: "03066",
		PayerDocument: "52998224725", PayerName: "PAGADOR DE TESTE"}
}

func writeFile(path string, n int) int64 {
	f, err := os.Create(path)
	must(err)
	must(cnab.Write(f, cnab.CNAB240, cnab.FileInfo{Bank: "756", CompanyName: "BENCH", Generated: day, Sequence: 1}, n, detail))
	st, err := f.Stat()
	must(err)
	must(f.Close())
	return st.Size()
}

func parseOnly(path string, n int) {
	size := writeFile(path, n)
	fmt.Printf("parse only: CNAB 240, %d T/U pairs, %d lines, %.0f MiB, GOMAXPROCS=%d\n", n, 2*n+4, float64(size)/(1<<20), runtime.GOMAXPROCS(0))
	// Warm the page cache, then take the best of three runs of each.
	scan := func() (int, time.Duration) {
		f, err := os.Open(path)
		must(err)
		defer f.Close()
		start := time.Now()
		br := bufio.NewReaderSize(f, 64<<10)
		lines := 0
		for {
			_, err := br.ReadSlice('\n')
			if errors.Is(err, io.EOF) {
				break
			}
			must(err)
			lines++
		}
		return lines, time.Since(start)
	}
	parse := func() (int, time.Duration, uint64) {
		f, err := os.Open(path)
		must(err)
		defer f.Close()
		var peak uint64
		var took time.Duration
		details := 0
		peak = measure.PeakHeap(func() {
			start := time.Now()
			r, err := cnab.NewReader(f)
			must(err)
			for {
				_, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				must(err)
				details++
			}
			took = time.Since(start)
		})
		return details, took, peak
	}
	scan()
	var bestScan, bestParse time.Duration
	var lines, details int
	var peak uint64
	for range 3 {
		l, t := scan()
		if bestScan == 0 || t < bestScan {
			bestScan, lines = t, l
		}
		d, t2, p := parse()
		if bestParse == 0 || t2 < bestParse {
			bestParse, details = t2, d
		}
		peak = max(peak, p)
	}
	scanRate := float64(lines) / bestScan.Seconds()
	parseRate := float64(lines) / bestParse.Seconds()
	fmt.Printf("bare line scanner: %d lines in %.3fs = %.0f lines/s (%.0f MiB/s)\n", lines, bestScan.Seconds(), scanRate, float64(size)/(1<<20)/bestScan.Seconds())
	fmt.Printf("cnab.Reader: %d details (%d records) in %.3fs = %.0f records/s, %.0f details/s; peak Go heap %.1f MiB\n",
		details, lines, bestParse.Seconds(), parseRate, float64(details)/bestParse.Seconds(), float64(peak)/(1<<20))
	fmt.Printf("parser / scanner: %.2f\n", parseRate/scanRate)
}

func fullImport(dir, url string, n int) {
	ctx := context.Background()
	db, err := measure.OpenDB(ctx, url) // jobs enqueued, none worked
	must(err)
	defer db.Close()
	a := &baixa.Account{Name: "Bench", Document: "11222333000181"}
	must(db.Accounts.CreateAccount(ctx, a))
	for i := 0; i < n; i += 5000 {
		var cs []*baixa.Charge
		for j := i; j < min(n, i+5000); j++ {
			cs = append(cs, &baixa.Charge{AccountID: a.ID, Kind: baixa.KindBoleto, Amount: baixa.Amount(10000 + j%90000),
				DueDate: day.AddDays(5), References: baixa.References{NossoNumero: fmt.Sprint(1000000 + j)}})
		}
		must(db.Charges.CreateCharges(ctx, cs))
	}
	must(db.Analyze(ctx)) // as autovacuum would after a bulk load
	path := filepath.Join(dir, "import.ret")
	size := writeFile(path, n)
	decoders := map[string]baixa.Decoder{cnab.Provider: cnab.Decoder{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer((&web.Server{Accounts: db.Accounts, Charges: db.Charges, Documents: db.Documents, Events: db.Events,
		Imports: &ingest.Imports{Accounts: db.Accounts, Documents: db.Documents, Decoders: decoders},
		APIKey:  "bench-key-0123456789", Logger: quiet, MaxImportBytes: 1 << 30}).Handler())
	defer srv.Close()
	proc := &settle.Processor{Store: db.Settling, Decoders: decoders, Settler: &settle.Settler{}, Parallel: db.Writers(), Logger: quiet}

	start := time.Now()
	f, err := os.Open(path)
	must(err)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/imports?account_id="+a.ID, f)
	req.Header.Set("Authorization", "Bearer bench-key-0123456789")
	resp, err := http.DefaultClient.Do(req)
	must(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f.Close()
	if resp.StatusCode != 202 {
		log.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	uploaded := time.Since(start)
	id := between(string(body), `"id":"`, `"`)
	must(proc.Process(ctx, id))
	took := time.Since(start)
	doc, err := db.Documents.FindDocumentByID(ctx, id)
	must(err)
	if doc.Applied != int64(n) {
		log.Fatalf("applied %d of %d: %+v", doc.Applied, n, doc)
	}
	fmt.Printf("full import (%s): %d payments, %.1f MiB: upload and validation %.2fs, settled after %.2fs in all = %.0f movements/s\n",
		db.Dialect, n, float64(size)/(1<<20), uploaded.Seconds(), took.Seconds(), float64(n)/took.Seconds())
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
