package sicoob

import (
	"bytes"
	"context"
	"testing"

	"baixa"
)

// benchFile is a download answer of n LIQUI records, as the sandbox writes it.
func benchFile(n int) []byte {
	sb := NewSandbox("bench", 707090)
	day := baixa.Date{Year: 2026, Month: 11, Day: 20}
	recs := make([]SandboxMovement, n)
	for i := range recs {
		a := baixa.Amount(10000 + i%90000)
		recs[i] = SandboxMovement{Type: 5, Date: day, NumeroTitulo: int64(1000000 + i), SeuNumero: "NF-" + a.String(), Amount: a, Paid: a,
			Fee: 170, PaidOn: day, DueDate: day.AddDays(3)}
	}
	var buf bytes.Buffer
	sb.writeFile(&buf, "LIQUI_bench", recs, Faults{})
	return buf.Bytes()
}

// BenchmarkDecode decodes a download answer of 50,000 LIQUI records:
// base64, ZIP, JSON, movements (go test -bench Decode ./provider/sicoob).
func BenchmarkDecode(b *testing.B) {
	const n = 50000
	file := benchFile(n)
	doc := &baixa.Document{ID: "doc", AccountID: "acc"}
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		count := 0
		err := Decoder{TempDir: b.TempDir()}.Decode(context.Background(), doc, bytes.NewReader(file), func(*baixa.Movement) error { count++; return nil })
		if err != nil || count != n {
			b.Fatalf("%d records, %v", count, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
