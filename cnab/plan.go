package cnab

import "baixa"

// plan is a bank's layout made ready for one reader: every field the
// layout has, with the place in r.d it is read into, so that a record is
// read by a few loops over fields rather than a call per field. The
// reader is never copied, which keeps the pointers into r.d valid.
type plan struct {
	texts   []textSlot
	amounts []amountField
}

// textSlot is a text field made ready for the hot loop: its columns,
// 0-based and half-open, where it goes and how it is read.
type textSlot struct {
	from, to int
	dst      *string
	kind     textKind
}

type amountField struct {
	f   field
	dst *baixa.Amount
}

// compile leaves out the fields a layout does not have (to == 0): r.d
// is cleared before each detail, so they read as empty.
func compile(texts []textField, amounts []amountField) plan {
	var p plan
	for _, t := range texts {
		if t.f.to != 0 {
			p.texts = append(p.texts, textSlot{t.f.from - 1, t.f.to, t.dst, t.kind})
		}
	}
	for _, a := range amounts {
		if a.f.to != 0 {
			p.amounts = append(p.amounts, a)
		}
	}
	return p
}

// makePlans readies the bank's layout for the file's format: segments T
// and U for CNAB 240, the detail for CNAB 400.
func (r *Reader) makePlans() {
	d := &r.d
	switch {
	case r.format == CNAB240 && r.bank.L240 != nil:
		l := r.bank.L240
		r.planT = compile([]textField{{occurrence240, &d.Occurrence, plainText},
			{l.NossoNumero, &d.NossoNumero, plainText}, {l.Parcela, &d.Parcela, plainText},
			{l.Modalidade, &d.Modalidade, plainText}, {l.SeuNumero, &d.SeuNumero, plainText}, {l.CompanyRef, &d.CompanyRef, plainText},
			{l.ReceivingBank, &d.ReceivingBank, plainText}, {l.ReceivingBranch, &d.ReceivingBranch, plainText},
			{l.PayerDocument, &d.PayerDocument, numberText}, {l.PayerName, &d.PayerName, nameText}, {l.Reasons, &d.Reasons, plainText}},
			[]amountField{{l.FaceValue, &d.FaceValue}, {l.Fee, &d.FeeAmount}})
		r.planU = compile(nil, []amountField{{l.Interest, &d.InterestAmount}, {l.Discount, &d.DiscountAmount},
			{l.Rebate, &d.RebateAmount}, {l.IOF, &d.IOFAmount}, {l.Paid, &d.PaidAmount}, {l.Credited, &d.CreditedAmount},
			{l.OtherExpenses, &d.OtherExpenses}, {l.OtherCredits, &d.OtherCredits}})
	case r.format == CNAB400 && r.bank.L400 != nil:
		l := r.bank.L400
		r.planT = compile([]textField{{l.Occurrence, &d.Occurrence, plainText}, {l.NossoNumero, &d.NossoNumero, plainText},
			{l.Parcela, &d.Parcela, plainText}, {l.Modalidade, &d.Modalidade, plainText}, {l.SeuNumero, &d.SeuNumero, plainText},
			{l.CompanyRef, &d.CompanyRef, plainText}, {l.ReceivingBank, &d.ReceivingBank, plainText},
			{l.ReceivingBranch, &d.ReceivingBranch, plainText}, {l.PayerDocument, &d.PayerDocument, numberText},
			{l.PayerName, &d.PayerName, nameText}, {l.Reasons, &d.Reasons, plainText}},
			[]amountField{{l.FaceValue, &d.FaceValue}, {l.Fee, &d.FeeAmount}, {l.OtherExpenses, &d.OtherExpenses},
				{l.IOF, &d.IOFAmount}, {l.Rebate, &d.RebateAmount}, {l.Discount, &d.DiscountAmount}, {l.Paid, &d.PaidAmount},
				{l.Interest, &d.InterestAmount}, {l.OtherCredits, &d.OtherCredits}, {l.Credited, &d.CreditedAmount}})
	}
}

// texts reads a plan's text fields, trimmed and decoded, into r.d. An
// ASCII line's (the usual) are slices of one copy of the line; any other
// line's are decoded end to end into one string.
func (r *Reader) texts(fs []textSlot) {
	if r.lineASCII {
		s := string(r.buf)
		for k := range fs {
			t := &fs[k]
			b := r.buf[t.from:t.to]
			i, j := trimmed(b)
			i, j = t.kind.zeros(b, i, j)
			*t.dst = s[t.from+i : t.from+j]
		}
		return
	}
	var ends [16]int
	r.strs = r.strs[:0]
	for n := range fs {
		t := &fs[n]
		b := trimBlank(r.buf[t.from:t.to])
		i, j := t.kind.zeros(b, 0, len(b))
		r.strs = appendText(r.strs, b[i:j])
		ends[n] = len(r.strs)
	}
	s, from := string(r.strs), 0
	for n := range fs {
		*fs[n].dst, from = s[from:ends[n]], ends[n]
	}
}

// amounts reads a plan's amounts into r.d. The first error of several
// fields is kept in *err.
func (r *Reader) amounts(fs []amountField, err *error) {
	for k := range fs {
		a := &fs[k]
		if v, ok := decimal(r.buf[a.f.from-1 : a.f.to]); ok {
			*a.dst = baixa.Amount(v)
			continue
		}
		*a.dst = r.amount(a.f, err) // blanks, or the error
	}
}
