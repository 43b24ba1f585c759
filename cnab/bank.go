package cnab

import (
	"strings"

	"baixa"
)

// field is a fixed-width field: 1-based columns, inclusive.
type field struct {
	name     string
	from, to int
}

// Layout240 places a bank's fields in segments T and U. The record type,
// segment and occurrence code are FEBRABAN's and the same for every bank.
type Layout240 struct {
	// Segment T.
	NossoNumero, Parcela, Modalidade, SeuNumero, DueDate, FaceValue, ReceivingBank, ReceivingBranch,
	CompanyRef, PayerDocument, PayerName, Fee, Reasons field
	// PayerKind is the payer's tipo de inscrição (1 CPF, 2 CNPJ), which
	// tells how many digits the document has, leading zeros included.
	PayerKind field
	// Segment U.
	Interest, Discount, Rebate, IOF, Paid, Credited, OtherExpenses, OtherCredits, OccurredOn, CreditedOn field
	// FileNote is where the file header says what the file is, in the
	// bank's words (Header.Note).
	FileNote field
}

// Layout400 places a bank's fields in a CNAB 400 detail record (type 1).
// A field left zero is not in that bank's file.
type Layout400 struct {
	NossoNumero, Parcela, Modalidade, Occurrence, OccurredOn, SeuNumero, CompanyRef, DueDate, FaceValue,
	ReceivingBank, ReceivingBranch, CreditedOn, Fee, OtherExpenses, IOF, Rebate, Discount, Paid, Interest,
	OtherCredits, PayerDocument, PayerName, Reasons, Credited field
	// DetailType is the detail record's type: '1' when zero; Banco do
	// Brasil's CBR643 (convênios of seven digits) writes '7'.
	DetailType byte
	// PaidLessFee: the file gives no amount paid, only, in Credited, the
	// amount paid less the tariff (Fee), which the reader adds back
	// (Itaú).
	PaidLessFee bool
	// Skip lists the record types of the bank's own passed over between
	// the details (Itaú's 3, a boleto's Pix QR code).
	Skip string
}

// Occurrence is what an occurrence code means.
type Occurrence struct {
	Kind baixa.MovementKind
	Name string
}

// Bank is everything bank-specific.
type Bank struct {
	Code, Name string
	L240       *Layout240
	L400       *Layout400
	// Occurrences by code; a code not listed is a status change with the code.
	Occurrences240, Occurrences400 map[string]Occurrence
	// BatchCountsDetails: the CNAB 240 batch trailer may count the batch's
	// detail records only, not FEBRABAN's header and trailer too. Either
	// count is taken (Santander's files are seen both ways); the writer
	// writes the details' count.
	BatchCountsDetails bool
	// WholeNossoNumero is the length of the bank's nosso números that carry
	// no check digit (0: none): settling must not take their last digit
	// for one (see baixa.Movement.NossoNumeroWhole).
	WholeNossoNumero int
}

// WholeNumber reports whether nossoNumero, as a report gives it, has no
// check digit: all digits, of the length the bank writes without one.
func (b *Bank) WholeNumber(nossoNumero string) bool {
	return b.WholeNossoNumero > 0 && len(nossoNumero) == b.WholeNossoNumero && strings.Trim(nossoNumero, "0123456789") == ""
}

// Banks are the banks this package reads, by FEBRABAN code.
var Banks = map[string]*Bank{
	"001": &bancoDoBrasil, "004": &bancoDoNordeste, "033": &santander, "104": &caixa, "041": &banrisul, "085": &ailos, "237": &bradesco,
	"341": &itau, "748": &sicredi, "756": &sicoob,
}

// febraban240 is the FEBRABAN segment T/U layout (v. 087), which Sicoob
// follows; only the nosso número block differs from bank to bank.
var febraban240 = Layout240{
	NossoNumero: field{"nosso número", 38, 47}, Parcela: field{"parcela", 48, 49}, Modalidade: field{"modalidade", 50, 51},
	SeuNumero: field{"seu número", 59, 73}, DueDate: field{"vencimento", 74, 81}, FaceValue: field{"valor do título", 82, 96},
	ReceivingBank: field{"banco recebedor", 97, 99}, ReceivingBranch: field{"agência recebedora", 100, 104},
	CompanyRef: field{"uso da empresa", 106, 130}, PayerKind: field{"tipo de inscrição do pagador", 133, 133},
	PayerDocument: field{"inscrição do pagador", 134, 148}, PayerName: field{"nome do pagador", 149, 188}, Fee: field{"valor da tarifa", 199, 213}, Reasons: field{"motivos", 214, 223},

	Interest: field{"juros/multa/encargos", 18, 32}, Discount: field{"desconto", 33, 47}, Rebate: field{"abatimento", 48, 62},
	IOF: field{"IOF", 63, 77}, Paid: field{"valor pago", 78, 92}, Credited: field{"valor líquido", 93, 107},
	OtherExpenses: field{"outras despesas", 108, 122}, OtherCredits: field{"outros créditos", 123, 137},
	OccurredOn: field{"data da ocorrência", 138, 145}, CreditedOn: field{"data do crédito", 146, 153},
}

var sicoob = Bank{
	Code: "756", Name: "Sicoob",
	L240: &febraban240,
	// Sicoob's CNAB 400 (see providers/sicoob.md §4.2): nosso número in
	// 63-74 (four zeros, seven digits, check digit), parcela 75-76.
	L400: &Layout400{
		CompanyRef: field{"nº de controle do participante", 38, 62}, NossoNumero: field{"nosso número", 63, 74},
		Parcela: field{"parcela", 75, 76}, Modalidade: field{"carteira/modalidade", 107, 108},
		Occurrence: field{"ocorrência", 109, 110}, OccurredOn: field{"data da ocorrência", 111, 116},
		SeuNumero: field{"seu número", 117, 126}, DueDate: field{"vencimento", 147, 152}, FaceValue: field{"valor do título", 153, 165},
		ReceivingBank: field{"banco cobrador", 166, 168}, ReceivingBranch: field{"agência cobradora", 169, 173},
		CreditedOn: field{"data do crédito", 176, 181}, Fee: field{"tarifa", 182, 188}, OtherExpenses: field{"outras despesas", 189, 201},
		IOF: field{"IOF", 215, 227}, Rebate: field{"abatimento", 228, 240}, Discount: field{"desconto", 241, 253},
		Paid: field{"valor recebido", 254, 266}, Interest: field{"juros de mora", 267, 279}, OtherCredits: field{"multa/outros", 280, 292},
		// The payer is not in Sicoob's CNAB 400 return.
	},
	Occurrences240: febrabanOccurrences,
	Occurrences400: map[string]Occurrence{
		"02": {baixa.MoveRegistered, "entrada confirmada"},
		"05": {baixa.MovePaid, "liquidação sem registro"},
		"06": {baixa.MovePaid, "liquidação normal"},
		"09": {baixa.MoveWrittenOff, "baixa de título"},
		"10": {baixa.MoveWrittenOff, "baixa solicitada"},
		"11": {baixa.MoveStatusChanged, "títulos em ser"},
		"14": {baixa.MoveDueDateChanged, "alteração de vencimento"},
		"15": {baixa.MovePaid, "liquidação em cartório"},
		"23": {baixa.MoveStatusChanged, "encaminhado a protesto"},
		"27": {baixa.MoveStatusChanged, "confirmação de alteração de dados"},
		"48": {baixa.MoveStatusChanged, "transferência de carteira"},
	},
}

// febrabanOccurrences are the FEBRABAN codes de movimento of a segment T
// (v. 087), which Sicoob, Banco do Brasil, Caixa, Santander and Sicredi
// follow.
var febrabanOccurrences = map[string]Occurrence{
	"02": {baixa.MoveRegistered, "entrada confirmada"},
	"03": {baixa.MoveRejected, "entrada rejeitada"},
	"06": {baixa.MovePaid, "liquidação"},
	"09": {baixa.MoveWrittenOff, "baixa"},
	"11": {baixa.MoveStatusChanged, "títulos em carteira (em ser)"},
	"12": {baixa.MoveStatusChanged, "confirmação de abatimento"},
	"13": {baixa.MoveStatusChanged, "cancelamento de abatimento"},
	"14": {baixa.MoveDueDateChanged, "alteração de vencimento"},
	"17": {baixa.MovePaid, "liquidação após baixa ou de título não registrado"},
	"19": {baixa.MoveStatusChanged, "confirmação de instrução de protesto"},
	"20": {baixa.MoveStatusChanged, "confirmação de sustação de protesto"},
	"23": {baixa.MoveStatusChanged, "remessa a cartório"},
	"25": {baixa.MoveWrittenOff, "protestado e baixado"},
	"26": {baixa.MoveStatusChanged, "instrução rejeitada"},
	"27": {baixa.MoveStatusChanged, "confirmação de alteração de outros dados"},
	"28": {baixa.MoveStatusChanged, "débito de tarifas/custas"},
	"30": {baixa.MoveStatusChanged, "alteração de dados rejeitada"},
	// A cheque pays only when it clears: pending and returned are
	// status changes, cleared is the payment.
	"44": {baixa.MoveStatusChanged, "título pago com cheque devolvido"},
	"45": {baixa.MovePaid, "título pago com cheque compensado"},
	"50": {baixa.MoveStatusChanged, "título pago com cheque pendente de compensação"},
	"48": {baixa.MoveStatusChanged, "transferência de carteira/modalidade"},
}

// wholeBlock is FEBRABAN's layout with the nosso número taken as the
// whole block 38-57 and the carteira in 58, as Banco do Brasil (the
// convênio's digits, then the title's number) and Sicredi (year, byte,
// sequence and check digit) fill it.
var wholeBlock = moved(febraban240, func(l *Layout240) {
	l.NossoNumero, l.Parcela, l.Modalidade = field{"nosso número", 38, 57}, field{}, field{"carteira", 58, 58}
})

// Banco do Brasil: CNAB 240 as FEBRABAN's; CNAB 400 in its CBR643 layout
// (details of type 7, nosso número 64-80, the amount received in 254-266
// and the amount credited, net of the tariff, in 306-318).
var bancoDoBrasil = Bank{
	// A nosso número of 17 digits (a convênio of seven digits and a
	// sequence of ten) has no check digit; shorter convênios' carry one.
	Code: "001", Name: "Banco do Brasil", WholeNossoNumero: 17,
	L240: wholeBlock, Occurrences240: febrabanOccurrences,
	L400: &Layout400{
		DetailType: '7', CompanyRef: field{"uso da empresa", 39, 63}, NossoNumero: field{"nosso número", 64, 80},
		Reasons: field{"natureza do recebimento/motivo", 87, 88}, Modalidade: field{"carteira", 107, 108},
		Occurrence: field{"comando", 109, 110}, OccurredOn: field{"data de liquidação", 111, 116},
		SeuNumero: field{"número do título dado pelo cedente", 117, 126}, DueDate: field{"vencimento", 147, 152},
		FaceValue: field{"valor do título", 153, 165}, ReceivingBank: field{"banco recebedor", 166, 168},
		ReceivingBranch: field{"agência recebedora", 169, 173}, CreditedOn: field{"data do crédito", 176, 181},
		Fee: field{"tarifa de cobrança", 182, 188}, OtherExpenses: field{"outras despesas", 189, 201}, IOF: field{"IOF", 215, 227},
		Rebate: field{"abatimento", 228, 240}, Discount: field{"desconto", 241, 253}, Paid: field{"valor recebido", 254, 266},
		Interest: field{"juros de mora", 267, 279}, OtherCredits: field{"outros recebimentos", 280, 292},
		Credited: field{"valor lançado em conta", 306, 318},
	},
	Occurrences400: map[string]Occurrence{
		"02": {baixa.MoveRegistered, "confirmação de entrada de título"},
		"03": {baixa.MoveRejected, "comando recusado"},
		"05": {baixa.MovePaid, "liquidado sem registro"},
		"06": {baixa.MovePaid, "liquidação normal"},
		"07": {baixa.MovePaid, "liquidação por conta"},
		"08": {baixa.MovePaid, "liquidação por saldo"},
		"09": {baixa.MoveWrittenOff, "baixa de título"},
		"10": {baixa.MoveWrittenOff, "baixa solicitada"},
		"11": {baixa.MoveStatusChanged, "títulos em ser"},
		"12": {baixa.MoveStatusChanged, "abatimento concedido"},
		"13": {baixa.MoveStatusChanged, "abatimento cancelado"},
		"14": {baixa.MoveDueDateChanged, "alteração de vencimento do título"},
		"15": {baixa.MovePaid, "liquidação em cartório"},
		"19": {baixa.MoveStatusChanged, "confirmação de recebimento de instruções para protesto"},
		"23": {baixa.MoveStatusChanged, "indicação de encaminhamento a cartório"},
		"24": {baixa.MoveStatusChanged, "sustar protesto"},
		// A payment by cheque pays only when the cheque clears.
		"44": {baixa.MoveStatusChanged, "título pago com cheque devolvido"},
		"46": {baixa.MoveStatusChanged, "título pago com cheque, aguardando compensação"},
		"96": {baixa.MoveStatusChanged, "despesas de protesto"},
		"97": {baixa.MoveStatusChanged, "despesas de sustação de protesto"},
		"98": {baixa.MoveStatusChanged, "débito de custas antecipadas"},
	},
}

// Sicredi: CNAB 240 as FEBRABAN's.
var sicredi = Bank{Code: "748", Name: "Sicredi", L240: wholeBlock, Occurrences240: febrabanOccurrences}

// Ailos (formerly Cecred): CNAB 240 as FEBRABAN's, the nosso número in
// the whole block (the account's digits, then the title's).
var ailos = Bank{Code: "085", Name: "Ailos", L240: wholeBlock, Occurrences240: febrabanOccurrences}

// Caixa's CNAB 240 (SIGCB): nosso número 40-56 (its modalidade, 24 for
// instance, then fifteen digits, with no check digit), carteira 58, seu
// número 59-69. Its file header says what the file is in 172-211:
// "RETORNO-PRODUCAO" for a return, "RET PRE CRI-PRODUCAO" (and "REMESSA
// REJEITADA") for its answer to a remessa it refused whole, whose only
// detail is a segment W with the reason.
var caixa = Bank{
	Code: "104", Name: "Caixa", WholeNossoNumero: 17,
	L240: moved(febraban240, func(l *Layout240) {
		l.NossoNumero, l.Parcela, l.Modalidade = field{"nosso número", 40, 56}, field{}, field{"carteira", 58, 58}
		l.SeuNumero = field{"seu número", 59, 69}
		l.FileNote = field{"situação do arquivo", 172, 211}
	}),
	// Its CNAB 400 (SIGCB) holds the same seventeen-digit nosso número in
	// 57-73, the carteira in 107-108, the uso da empresa in 32-56, the
	// reason of a rejection (99) in 80-82 and the credit date in 294-299,
	// as ACBr, laravel-boleto and pagarme/node-boleto read it and two real
	// files (node-boleto's) show: 1.13 paid on 01/02/2021 and credited on
	// 02/02, 461.16 and 179.80 paid on 25/11/2020 and credited on 27/11,
	// each with its tariff in 176-188. 280-292 is read as other credits,
	// as ACBr and node-boleto do (laravel-boleto reads a fine there). The
	// payer is not in it.
	L400: moved(common400, func(l *Layout400) {
		l.CompanyRef, l.NossoNumero = field{"uso da empresa", 32, 56}, field{"nosso número", 57, 73}
		l.Reasons, l.Modalidade = field{"motivo de rejeição", 80, 82}, field{"carteira", 107, 108}
		l.CreditedOn = field{"data do crédito", 294, 299}
	}),
	Occurrences240: febrabanOccurrences,
	// Caixa's CNAB 400 codes are its own (ACBr's and laravel-boleto's
	// tables agree but for 34: ACBr's "tarifas diversas" is what a real
	// file shows, a record of no title, its nosso número zeros).
	Occurrences400: map[string]Occurrence{
		"01": {baixa.MoveRegistered, "entrada confirmada"},
		"02": {baixa.MoveWrittenOff, "baixa confirmada"},
		"03": {baixa.MoveStatusChanged, "abatimento concedido"},
		"04": {baixa.MoveStatusChanged, "abatimento cancelado"},
		"05": {baixa.MoveDueDateChanged, "vencimento alterado"},
		"06": {baixa.MoveStatusChanged, "uso da empresa alterado"},
		"07": {baixa.MoveStatusChanged, "prazo de protesto alterado"},
		"08": {baixa.MoveStatusChanged, "prazo de devolução alterado"},
		"09": {baixa.MoveStatusChanged, "alteração confirmada"},
		"10": {baixa.MoveStatusChanged, "alteração com reemissão de bloqueto confirmada"},
		"11": {baixa.MoveStatusChanged, "alteração da opção de protesto para devolução"},
		"12": {baixa.MoveStatusChanged, "alteração da opção de devolução para protesto"},
		"20": {baixa.MoveStatusChanged, "em ser"},
		"21": {baixa.MovePaid, "liquidação"},
		"22": {baixa.MovePaid, "liquidação em cartório"},
		"23": {baixa.MoveWrittenOff, "baixa por devolução"},
		"24": {baixa.MoveWrittenOff, "baixa por franco pagamento"},
		"25": {baixa.MoveWrittenOff, "baixa por protesto"},
		"26": {baixa.MoveStatusChanged, "título enviado para cartório"},
		"27": {baixa.MoveStatusChanged, "sustação de protesto"},
		"28": {baixa.MoveStatusChanged, "estorno de protesto"},
		"29": {baixa.MoveStatusChanged, "estorno de sustação de protesto"},
		"30": {baixa.MoveStatusChanged, "alteração de título"},
		"31": {baixa.MoveStatusChanged, "tarifa sobre título vencido"},
		"32": {baixa.MoveStatusChanged, "outras tarifas de alteração"},
		"33": {baixa.MoveStatusChanged, "estorno de baixa/liquidação"},
		"34": {baixa.MoveStatusChanged, "tarifas diversas"},
		"35": {baixa.MoveStatusChanged, "transferência de carteira/baixa"},
		"99": {baixa.MoveRejected, "rejeição do título"},
	},
}

// Santander's CNAB 240 lays its segment T out after its own account block:
// nosso número 41-53 (with its check digit), carteira 54, and every field
// after it four or five columns before FEBRABAN's; its segment U is
// FEBRABAN's, and so are its codes. Its batch trailer counts the details
// (brcobranca's and laravel-boleto's files) or, as FEBRABAN's, every record
// of the batch (laravel-boleto's file of a Pix payment, with a segment Y).
var santander = Bank{
	Code: "033", Name: "Santander",
	L240: moved(febraban240, func(l *Layout240) {
		l.NossoNumero, l.Parcela, l.Modalidade = field{"nosso número", 41, 53}, field{}, field{"carteira", 54, 54}
		l.SeuNumero, l.DueDate, l.FaceValue = field{"seu número", 55, 69}, field{"vencimento", 70, 77}, field{"valor do título", 78, 92}
		l.ReceivingBank, l.ReceivingBranch = field{"banco cobrador", 93, 95}, field{"agência cobradora", 96, 99}
		l.CompanyRef, l.PayerKind, l.PayerDocument = field{"uso da empresa", 101, 125}, field{"tipo de inscrição do pagador", 128, 128},
			field{"inscrição do pagador", 129, 143}
		l.PayerName, l.Fee, l.Reasons = field{"nome do pagador", 144, 183}, field{"valor da tarifa", 194, 208}, field{"motivos", 209, 218}
	}),
	Occurrences240:     febrabanOccurrences,
	BatchCountsDetails: true,
}

// Itaú's CNAB 240 places the carteira (38-40), the nosso número (41-48)
// and its DAC (49) in the block, a ten-character seu número and a
// thirty-character name, and its own codes. Its CNAB 400 has the same
// codes, the carteira in 83-85 and the nosso número with its DAC in 86-94,
// and no amount paid: its 254-266 is the amount credited, what was paid
// less the tariff (176-188). A return file with payments shows it on each
// of its four (andersondanilo/CnabPHP's: 395.41 less 3.33 of tariff plus
// 0.01 of interest credits 392.09; 545.60 less a discount of 201.60 and
// the tariff credits 340.67), as does a report on ACBr's forum (a boleto
// of 5.00, a tariff of 2.25, 2.75 there). The reader adds the tariff back,
// unless the amount credited already is what the title came to.
var itau = Bank{
	Code: "341", Name: "Itaú",
	L240: moved(febraban240, func(l *Layout240) {
		l.Modalidade, l.NossoNumero, l.Parcela = field{"carteira", 38, 40}, field{"nosso número", 41, 49}, field{}
		l.SeuNumero, l.PayerName, l.Reasons = field{"seu número", 59, 68}, field{"nome do pagador", 149, 178}, field{"erros", 214, 221}
	}),
	L400: moved(common400, func(l *Layout400) {
		l.Modalidade, l.NossoNumero, l.SeuNumero = field{"carteira", 83, 85}, field{"nosso número", 86, 94}, field{"nº do documento", 117, 126}
		l.Paid, l.Credited = field{}, field{"valor principal (creditado)", 254, 266}
		l.PayerName, l.Reasons = field{"nome do pagador", 325, 354}, field{"erros", 378, 385}
		l.PaidLessFee, l.Skip = true, "3"
	}),
	Occurrences240: itauOccurrences,
	Occurrences400: itauOccurrences,
}

// itauOccurrences are Itaú's codes, the same in its CNAB 240 and 400.
var itauOccurrences = map[string]Occurrence{
	"02": {baixa.MoveRegistered, "entrada confirmada"},
	"03": {baixa.MoveRejected, "entrada rejeitada"},
	"04": {baixa.MoveStatusChanged, "alteração de dados - nova entrada"},
	"05": {baixa.MoveStatusChanged, "alteração de dados - baixa"},
	"06": {baixa.MovePaid, "liquidação normal"},
	"07": {baixa.MovePaid, "liquidação parcial"},
	"08": {baixa.MovePaid, "liquidação em cartório"},
	"09": {baixa.MoveWrittenOff, "baixa simples"},
	// Written off because it was paid: the payment is its own code.
	"10": {baixa.MoveStatusChanged, "baixa por ter sido liquidado"},
	"11": {baixa.MoveStatusChanged, "em ser"},
	"12": {baixa.MoveStatusChanged, "abatimento concedido"},
	"13": {baixa.MoveStatusChanged, "abatimento cancelado"},
	"14": {baixa.MoveDueDateChanged, "vencimento alterado"},
	"15": {baixa.MoveStatusChanged, "baixas rejeitadas"},
	"16": {baixa.MoveStatusChanged, "instruções rejeitadas"},
	"17": {baixa.MoveStatusChanged, "alteração/exclusão de dados rejeitados"},
	"19": {baixa.MoveStatusChanged, "confirma recebimento de instrução de protesto"},
	"20": {baixa.MoveStatusChanged, "confirma recebimento de instrução de sustação de protesto"},
	"23": {baixa.MoveStatusChanged, "título enviado a cartório"},
	"32": {baixa.MoveWrittenOff, "baixa por ter sido protestado"},
	"69": {baixa.MoveStatusChanged, "cheque devolvido"},
}

// Bradesco's CNAB 400: nosso número 71-82 (eleven digits and the check
// digit), carteira in the company's block (22-24), the amount paid in
// 254-266 and the reasons in 319-328. The payer is not in its return.
var bradesco = Bank{
	Code: "237", Name: "Bradesco",
	L400: moved(common400, func(l *Layout400) {
		l.Modalidade, l.CompanyRef, l.NossoNumero = field{"carteira", 22, 24}, field{"nº de controle do participante", 38, 62}, field{"nosso número", 71, 82}
		l.OtherExpenses, l.Reasons = field{"outras despesas", 189, 201}, field{"motivos", 319, 328}
	}),
	Occurrences400: map[string]Occurrence{
		"02": {baixa.MoveRegistered, "entrada confirmada"},
		"03": {baixa.MoveRejected, "entrada rejeitada"},
		"06": {baixa.MovePaid, "liquidação normal"},
		"09": {baixa.MoveWrittenOff, "baixado automaticamente via arquivo"},
		"10": {baixa.MoveWrittenOff, "baixado conforme instruções da agência"},
		"11": {baixa.MoveStatusChanged, "em ser"},
		"12": {baixa.MoveStatusChanged, "abatimento concedido"},
		"13": {baixa.MoveStatusChanged, "abatimento cancelado"},
		"14": {baixa.MoveDueDateChanged, "vencimento alterado"},
		"15": {baixa.MovePaid, "liquidação em cartório"},
		// A payment by cheque pays only when the cheque clears.
		"16": {baixa.MoveStatusChanged, "título pago em cheque - vinculado"},
		"17": {baixa.MovePaid, "liquidação após baixa ou título não registrado"},
		"19": {baixa.MoveStatusChanged, "confirmação de instrução de protesto"},
		"20": {baixa.MoveStatusChanged, "confirmação de instrução de sustação de protesto"},
		"22": {baixa.MoveStatusChanged, "título com pagamento cancelado"},
		"23": {baixa.MoveStatusChanged, "entrada do título em cartório"},
		"24": {baixa.MoveRejected, "entrada rejeitada por CEP irregular"},
		"27": {baixa.MoveStatusChanged, "baixa rejeitada"},
		"28": {baixa.MoveStatusChanged, "débito de tarifas/custas"},
		"30": {baixa.MoveStatusChanged, "alteração de outros dados rejeitada"},
		"32": {baixa.MoveStatusChanged, "instrução rejeitada"},
		"33": {baixa.MoveStatusChanged, "confirmação de alteração de outros dados"},
		"34": {baixa.MoveStatusChanged, "retirado de cartório e mantido em carteira"},
		"40": {baixa.MoveStatusChanged, "estorno de pagamento"},
	},
}

// Banrisul's CNAB 400: nosso número 63-72 (eight digits and its two check
// digits), carteira 108, the amount paid in 254-266 and the reasons in
// 383-392. The payer is not in its return. Its 189-201 is left unread:
// brcobranca reads it as the IOF, laravel-boleto as other expenses.
var banrisul = Bank{
	Code: "041", Name: "Banrisul",
	L400: moved(common400, func(l *Layout400) {
		l.NossoNumero, l.Modalidade, l.IOF = field{"nosso número", 63, 72}, field{"carteira", 108, 108}, field{}
		l.OtherCredits, l.Reasons = field{"outros recebimentos", 280, 292}, field{"motivos", 383, 392}
	}),
	Occurrences400: map[string]Occurrence{
		"02": {baixa.MoveRegistered, "confirmação de entrada"},
		"03": {baixa.MoveRejected, "entrada rejeitada"},
		"04": {baixa.MoveWrittenOff, "baixa de título liquidado por edital"},
		"06": {baixa.MovePaid, "liquidação normal"},
		"07": {baixa.MovePaid, "liquidação parcial"},
		"08": {baixa.MovePaid, "baixa por pagamento, liquidação pelo saldo"},
		"09": {baixa.MoveWrittenOff, "devolução automática"},
		"10": {baixa.MoveWrittenOff, "baixado conforme instruções"},
		"12": {baixa.MoveStatusChanged, "concessão de abatimento"},
		"13": {baixa.MoveStatusChanged, "cancelamento de abatimento"},
		"14": {baixa.MoveDueDateChanged, "vencimento alterado"},
		"15": {baixa.MovePaid, "pagamento em cartório"},
		"19": {baixa.MoveStatusChanged, "confirmação de instrução de protesto"},
		"23": {baixa.MoveStatusChanged, "confirmação da entrada em cartório"},
		// Returned after an earlier payment: that payment settled it.
		"25": {baixa.MoveStatusChanged, "devolução, liquidado anteriormente"},
		// In transit: the payment is reported again when it is credited.
		"30": {baixa.MoveStatusChanged, "cobrança a creditar (liquidação em trânsito)"},
		"31": {baixa.MoveStatusChanged, "título em trânsito pago em cartório"},
		"40": {baixa.MoveWrittenOff, "baixa de títulos protestados"},
		"47": {baixa.MoveRegistered, "confirmação de entrada, pagador DDA"},
	},
}

// Banco do Nordeste's CNAB 400: nosso número 63-70 (seven digits and the
// check digit), carteira 108, the amount paid in 254-266 (the whole amount:
// brcobranca's file pays 175.00 there with its tariff of 2.60 in 176-188)
// and the reasons in 319-328. The payer is not in its return, nor, surely,
// the credit date: laravel-boleto's file has a date in 296-301 where
// brcobranca's has 001110, and laravel-boleto takes the occurrence date
// for it; it is left unread. Its errors are codes 51-72, one per
// instruction ("erro ocorrência 02" is 52).
var bancoDoNordeste = Bank{
	Code: "004", Name: "Banco do Nordeste",
	L400: moved(common400, func(l *Layout400) {
		l.NossoNumero, l.Modalidade, l.OtherExpenses = field{"nosso número", 63, 70}, field{"carteira", 108, 108}, field{"outras despesas", 189, 201}
		l.Paid, l.Reasons, l.CreditedOn = field{"valor recebido", 254, 266}, field{"motivos", 319, 328}, field{}
	}),
	Occurrences400: map[string]Occurrence{
		"02": {baixa.MoveRegistered, "entrada confirmada"},
		"04": {baixa.MoveStatusChanged, "alteração"},
		"06": {baixa.MovePaid, "liquidação normal"},
		// A payment on account: part of the amount (payments accumulate).
		"07": {baixa.MovePaid, "pagamento por conta"},
		"08": {baixa.MovePaid, "pagamento em cartório"},
		"09": {baixa.MoveWrittenOff, "baixa simples"},
		// Protested and returned to the company: the debt is not settled.
		"10": {baixa.MoveStatusChanged, "devolvido, protestado"},
		"11": {baixa.MoveStatusChanged, "em ser"},
		"12": {baixa.MoveStatusChanged, "abatimento concedido"},
		"13": {baixa.MoveStatusChanged, "abatimento cancelado"},
		"14": {baixa.MoveDueDateChanged, "vencimento alterado"},
		"15": {baixa.MoveWrittenOff, "baixa automática"},
		"18": {baixa.MoveStatusChanged, "alteração de depositária"},
		"19": {baixa.MoveStatusChanged, "confirma recebimento de instrução de protesto"},
		"20": {baixa.MoveStatusChanged, "confirma recebimento de instrução de sustação de protesto"},
		"21": {baixa.MoveStatusChanged, "alteração de informações de controle da empresa"},
		"22": {baixa.MoveStatusChanged, "alteração do seu número"},
		"51": {baixa.MoveRejected, "entrada rejeitada"},
	},
}

// moved is a copy of a layout, CNAB 240 or 400, with some fields moved.
func moved[L Layout240 | Layout400](l L, move func(*L)) *L {
	move(&l)
	return &l
}

// common400 is the CNAB 400 detail that Bradesco, Itaú, Banrisul, Caixa and
// Banco do Nordeste share, each placing its nosso número and carteira and
// moving or leaving out a few fields (moved).
var common400 = Layout400{
	CompanyRef: field{"uso da empresa", 38, 62}, Occurrence: field{"ocorrência", 109, 110}, OccurredOn: field{"data da ocorrência", 111, 116},
	SeuNumero: field{"número do documento", 117, 126}, DueDate: field{"vencimento", 147, 152}, FaceValue: field{"valor do título", 153, 165},
	ReceivingBank: field{"banco cobrador", 166, 168}, ReceivingBranch: field{"agência cobradora", 169, 173},
	Fee: field{"tarifa de cobrança", 176, 188}, IOF: field{"IOF", 215, 227}, Rebate: field{"abatimento", 228, 240},
	Discount: field{"desconto", 241, 253}, Paid: field{"valor pago", 254, 266}, Interest: field{"juros de mora e multa", 267, 279},
	OtherCredits: field{"outros créditos", 280, 292}, CreditedOn: field{"data do crédito", 296, 301},
}
