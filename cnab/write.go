package cnab

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"strconv"

	"baixa"
)

// FileInfo is what a written file's header says.
type FileInfo struct {
	Bank            string
	CompanyDocument string
	CompanyName     string
	Generated       baixa.Date
	Sequence        int64
}

// Write writes a return file of n details in format f, as the bank would,
// from the same tables the Reader reads with; detail fills the i-th. It is
// for sandboxes, tests and benchmarks.
func Write(w io.Writer, f Format, info FileInfo, n int, detail func(i int, d *Detail)) error {
	b := Banks[info.Bank]
	if b == nil {
		return fmt.Errorf("cnab: unknown bank %q", info.Bank)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	l := &line{b: make([]byte, int(f))}
	var d Detail
	count := 0
	emit := func() error {
		count++
		if f == CNAB400 {
			l.num(field{"", 395, 400}, int64(count))
		}
		if _, err := bw.Write(l.b); err != nil {
			return err
		}
		_, err := bw.WriteString("\r\n")
		return err
	}
	if f == CNAB240 {
		l.reset()
		l.text(field{"", 1, 3}, b.Code)
		l.text(field{"", 4, 8}, "00000")
		l.text(field{"", 18, 18}, cmp.Or(inscriptionKind(info.CompanyDocument), "2"))
		l.num(field{"", 19, 32}, atoi64(info.CompanyDocument))
		l.text(field{"", 73, 102}, info.CompanyName)
		l.text(field{"", 103, 132}, b.Name)
		l.text(field{"", 143, 143}, "2")
		l.date8(field{"", 144, 151}, info.Generated)
		l.num(field{"", 158, 163}, info.Sequence)
		l.text(field{"", 164, 166}, "087")
		if err := emit(); err != nil {
			return err
		}
		l.reset()
		l.text(field{"", 1, 8}, b.Code+"00011")
		l.text(field{"", 9, 17}, "T01  043 ")
		if err := emit(); err != nil {
			return err
		}
		seq := 0
		lt := b.L240
		for i := range n {
			d = Detail{}
			detail(i, &d)
			for _, seg := range []byte{'T', 'U'} {
				seq++
				l.reset()
				l.text(field{"", 1, 7}, b.Code+"0001")
				l.text(field{"", 8, 8}, "3")
				l.num(field{"", 9, 13}, int64(seq))
				l.b[13] = seg
				l.text(field{"", 16, 17}, d.Occurrence)
				if seg == 'T' {
					l.text(lt.NossoNumero, d.NossoNumero)
					l.text(lt.Parcela, d.Parcela)
					l.text(lt.Modalidade, d.Modalidade)
					l.text(lt.SeuNumero, d.SeuNumero)
					l.date8(lt.DueDate, d.DueDate)
					l.amount(lt.FaceValue, d.FaceValue)
					l.text(lt.ReceivingBank, d.ReceivingBank)
					l.text(lt.ReceivingBranch, d.ReceivingBranch)
					l.text(lt.CompanyRef, d.CompanyRef)
					l.num(lt.PayerDocument, atoi64(d.PayerDocument))
					l.text(lt.PayerKind, inscriptionKind(d.PayerDocument))
					l.text(lt.PayerName, d.PayerName)
					l.amount(lt.Fee, d.FeeAmount)
					l.text(lt.Reasons, d.Reasons)
				} else {
					l.amount(lt.Interest, d.InterestAmount)
					l.amount(lt.Discount, d.DiscountAmount)
					l.amount(lt.Rebate, d.RebateAmount)
					l.amount(lt.IOF, d.IOFAmount)
					l.amount(lt.Paid, d.PaidAmount)
					l.amount(lt.Credited, d.CreditedAmount)
					l.amount(lt.OtherExpenses, d.OtherExpenses)
					l.amount(lt.OtherCredits, d.OtherCredits)
					l.date8(lt.OccurredOn, d.OccurredOn)
					l.date8(lt.CreditedOn, d.CreditedOn)
				}
				if err := emit(); err != nil {
					return err
				}
			}
		}
		l.reset()
		l.text(field{"", 1, 8}, b.Code+"00015")
		if b.BatchCountsDetails {
			l.num(field{"", 18, 23}, int64(2*n))
		} else {
			l.num(field{"", 18, 23}, int64(2*n+2))
		}
		if err := emit(); err != nil {
			return err
		}
		l.reset()
		l.text(field{"", 1, 8}, b.Code+"99999")
		l.num(field{"", 18, 23}, 1)
		l.num(field{"", 24, 29}, int64(2*n+4))
		if err := emit(); err != nil {
			return err
		}
		return bw.Flush()
	}
	l4 := b.L400
	l.reset()
	l.text(field{"", 1, 19}, "02RETORNO01COBRANÇA")
	l.text(field{"", 47, 76}, info.CompanyName)
	l.text(bank400, b.Code)
	l.text(field{"", 80, 94}, b.Name)
	l.date6(field{"", 95, 100}, info.Generated)
	if err := emit(); err != nil {
		return err
	}
	for i := range n {
		d = Detail{}
		detail(i, &d)
		l.reset()
		l.text(field{"", 1, 1}, "1")
		if l4.DetailType != 0 {
			l.b[0] = l4.DetailType
		}
		l.text(l4.CompanyRef, d.CompanyRef)
		l.text(l4.NossoNumero, d.NossoNumero)
		l.text(l4.Parcela, d.Parcela)
		l.text(l4.Modalidade, d.Modalidade)
		l.text(l4.Occurrence, d.Occurrence)
		l.date6(l4.OccurredOn, d.OccurredOn)
		l.text(l4.SeuNumero, d.SeuNumero)
		l.date6(l4.DueDate, d.DueDate)
		l.amount(l4.FaceValue, d.FaceValue)
		l.text(l4.ReceivingBank, d.ReceivingBank)
		l.text(l4.ReceivingBranch, d.ReceivingBranch)
		l.date6(l4.CreditedOn, d.CreditedOn)
		l.text(l4.Reasons, d.Reasons)
		l.text(l4.PayerName, d.PayerName)
		l.text(l4.PayerDocument, d.PayerDocument)
		for _, a := range []struct {
			f field
			v baixa.Amount
		}{{l4.Fee, d.FeeAmount}, {l4.OtherExpenses, d.OtherExpenses}, {l4.IOF, d.IOFAmount}, {l4.Rebate, d.RebateAmount},
			{l4.Discount, d.DiscountAmount}, {l4.Paid, d.PaidAmount}, {l4.Interest, d.InterestAmount}, {l4.OtherCredits, d.OtherCredits},
			{l4.Credited, d.CreditedAmount}} {
			l.amount(a.f, a.v)
		}
		if err := emit(); err != nil {
			return err
		}
	}
	l.reset()
	l.text(field{"", 1, 4}, "9201")
	l.text(field{"", 5, 7}, b.Code)
	if err := emit(); err != nil {
		return err
	}
	return bw.Flush()
}

// inscriptionKind is the tipo de inscrição of a document: 1 for a CPF
// (11 digits), 2 for a CNPJ (14), none for anything else.
func inscriptionKind(doc string) string {
	switch len(doc) {
	case 11:
		return "1"
	case 14:
		return "2"
	}
	return ""
}

// line is a record being written, as Latin-1 bytes.
type line struct{ b []byte }

func (l *line) reset() {
	for i := range l.b {
		l.b[i] = ' '
	}
}

func (l *line) text(f field, s string) {
	if f.to == 0 {
		return
	}
	out := l.b[f.from-1 : f.to]
	i := 0
	for _, c := range s {
		if i == len(out) {
			break
		}
		if c > 0xFF {
			c = '?'
		}
		out[i] = byte(c)
		i++
	}
}

func (l *line) num(f field, v int64) {
	if f.to == 0 {
		return
	}
	out := l.b[f.from-1 : f.to]
	s := strconv.FormatInt(v, 10)
	for i := range out {
		out[i] = '0'
	}
	if len(s) > len(out) {
		s = s[len(s)-len(out):]
	}
	copy(out[len(out)-len(s):], s)
}

func (l *line) amount(f field, a baixa.Amount) { l.num(f, int64(a)) }

func (l *line) date8(f field, d baixa.Date) {
	if d.IsZero() {
		l.num(f, 0)
		return
	}
	l.text(f, fmt.Sprintf("%02d%02d%04d", d.Day, int(d.Month), d.Year))
}

func (l *line) date6(f field, d baixa.Date) {
	if d.IsZero() {
		l.num(f, 0)
		return
	}
	l.text(f, fmt.Sprintf("%02d%02d%02d", d.Day, int(d.Month), d.Year%100))
}

func atoi64(s string) int64 {
	var n int64
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int64(c-'0')
		}
	}
	return n
}
