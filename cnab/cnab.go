// Package cnab reads bank return files (arquivos de retorno) in the
// FEBRABAN CNAB 240 and CNAB 400 layouts, as a stream: one title's
// occurrence at a time, in memory that does not grow with the file.
//
// The parsing is one piece of code; what differs between banks (where the
// nosso número sits, the CNAB 400 positions, what each occurrence code
// means) is data in a Bank table. Adding a bank is adding a table.
package cnab

import (
	"fmt"

	"baixa"
)

// Format is a file's layout family.
type Format int

// The formats: the line length of each.
const (
	CNAB240 Format = 240
	CNAB400 Format = 400
)

func (f Format) String() string { return fmt.Sprintf("CNAB %d", int(f)) }

// Header is what a return file's header says.
type Header struct {
	Format          Format
	Bank            string // FEBRABAN code, "756"
	BankName        string
	CompanyDocument string // CNAB 240: the beneficiary's CPF or CNPJ, with its leading zeros
	CompanyName     string
	Generated       baixa.Date
	Sequence        int64
	// Note is what the header says the file is, in the bank's words, for
	// a bank whose table says where (Caixa: "RETORNO-PRODUCAO").
	Note string
}

// Detail is one title's occurrence: a segment T with its segment U (CNAB
// 240), or a detail record of type 1 (CNAB 400). Amounts are exact
// centavos; dates are zero when the file has zeros.
type Detail struct {
	Line       int    // the line of its first record
	Occurrence string // código de movimento/ocorrência, "06"
	// NossoNumero is as written, check digit included; Parcela and
	// Modalidade are Sicoob's subfields of the same block.
	NossoNumero, Parcela, Modalidade string
	SeuNumero                        string
	CompanyRef                       string // identificação do título na empresa (uso da empresa)
	DueDate                          baixa.Date
	FaceValue                        baixa.Amount
	PaidAmount                       baixa.Amount
	InterestAmount                   baixa.Amount // juros, multa e encargos
	DiscountAmount                   baixa.Amount
	RebateAmount                     baixa.Amount // abatimento
	IOFAmount                        baixa.Amount
	FeeAmount                        baixa.Amount // tarifa / custas
	CreditedAmount                   baixa.Amount // valor líquido creditado
	OtherExpenses, OtherCredits      baixa.Amount
	OccurredOn                       baixa.Date // data da ocorrência (payment)
	CreditedOn                       baixa.Date
	ReceivingBank, ReceivingBranch   string
	PayerDocument, PayerName         string
	Reasons                          string // motivos da ocorrência, as written
	// UOccurrence is segment U's code when it differs from segment T's.
	UOccurrence string
}

// LineError is a problem at a place in the file: the line, and the
// columns (1-based, inclusive) when one field is at fault.
type LineError struct {
	Line     int
	From, To int
	Field    string
	Msg      string
}

func (e *LineError) Error() string {
	if e.From > 0 {
		return fmt.Sprintf("line %d, columns %d-%d (%s): %s", e.Line, e.From, e.To, e.Field, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}
