package cnab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"baixa"
)

// BenchmarkReader240 reads a CNAB 240 file of 100,000 payments held in
// memory (go test -bench Reader ./cnab); bench/cnab measures a million
// pairs on disk against a bare line scanner.
func BenchmarkReader240(b *testing.B) {
	const n = 100000
	var buf bytes.Buffer
	day := baixa.Date{Year: 2026, Month: 11, Day: 20}
	err := Write(&buf, CNAB240, FileInfo{Bank: "756", CompanyName: "BENCH", Generated: day}, n, func(i int, d *Detail) {
		a := baixa.Amount(10000 + i%90000)
		*d = Detail{Occurrence: "06", NossoNumero: fmt.Sprintf("%010d", i), Parcela: "01", Modalidade: "01", SeuNumero: fmt.Sprint(i),
			DueDate: day, FaceValue: a, PaidAmount: a, FeeAmount: 170, OccurredOn: day, CreditedOn: day, ReceivingBank: "756",
			ReceivingBranch: "03066", PayerDocument: "52998224725", PayerName: "PAGADOR"}
	})
	if err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
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
	b.ReportMetric(float64(2*n+4)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
