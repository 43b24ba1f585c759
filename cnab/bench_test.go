package cnab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"baixa"
)

const benchPairs = 100000

// benchFile is a CNAB 240 file of 100,000 payments, made once.
var benchFile = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	day := baixa.Date{Year: 2026, Month: 11, Day: 20}
	err := Write(&buf, CNAB240, FileInfo{Bank: "756", CompanyName: "BENCH", Generated: day}, benchPairs, func(i int, d *Detail) {
		a := baixa.Amount(10000 + i%90000)
		*d = Detail{Occurrence: "06", NossoNumero: fmt.Sprintf("%010d", i), Parcela: "01", Modalidade: "01", SeuNumero: fmt.Sprint(i),
			DueDate: day, FaceValue: a, PaidAmount: a, FeeAmount: 170, CreditedAmount: a - 170, OccurredOn: day, CreditedOn: day,
			ReceivingBank: "756", ReceivingBranch: "03066", PayerDocument: "52998224725", PayerName: "PAGADOR DE TESTE"}
	})
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// BenchmarkReader240 reads the file held in memory (go test -bench 240
// ./cnab); BenchmarkScan240 only finds its lines, as the machine's limit.
// bench/cnab measures a million pairs on disk.
func BenchmarkReader240(b *testing.B) {
	file := benchFile()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(2*benchPairs+4)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkScan240(b *testing.B) {
	file := benchFile()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	lines := 0
	for b.Loop() {
		br := bufio.NewReaderSize(bytes.NewReader(file), 64<<10)
		for {
			if _, err := br.ReadSlice('\n'); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			lines++
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReader240Parts shows where the reader's time goes, on the same
// file: "lines" only reads the lines (ends, ASCII check, blank lines,
// fitting to the layout); each other part adds one kind of field of each
// detail to that. Part minus lines is that part's cost.
func BenchmarkReader240Parts(b *testing.B) {
	parts := []struct {
		name string
		read func(r *Reader)
	}{
		{"lines", func(*Reader) {}},
		{"texts", func(r *Reader) {
			if r.buf[13] == 'T' {
				r.texts(r.planT.texts)
			}
		}},
		{"amounts", func(r *Reader) {
			var err error
			if r.buf[13] == 'T' {
				r.amounts(r.planT.amounts, &err)
			} else {
				r.amounts(r.planU.amounts, &err)
			}
		}},
		{"dates", func(r *Reader) {
			var err error
			if l := r.bank.L240; r.buf[13] == 'T' {
				r.d.DueDate = r.date8(l.DueDate, &err)
			} else {
				r.d.OccurredOn, r.d.CreditedOn = r.date8(l.OccurredOn, &err), r.date8(l.CreditedOn, &err)
			}
		}},
	}
	file := benchFile()
	for _, p := range parts {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(file))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r.next() == nil {
					if r.buf[7] == '3' {
						p.read(r)
						n++
					}
				}
				if n != 2*benchPairs {
					b.Fatalf("%d detail records", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPairs, "ns/detail")
		})
	}
}
