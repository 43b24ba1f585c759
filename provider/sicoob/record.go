package sicoob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"baixa"
)

// record is one movement in a Sicoob movement file: the v3 names and the
// short names of older files, side by side (a file uses one or the other).
type record struct {
	SiglaMovimento string `json:"siglaMovimento"`

	CodigoTipoMovimento flexInt `json:"codigoTipoMovimento"`
	CodTipoMovimento    flexInt `json:"codTipoMovimento"`
	NumeroCliente       flexInt `json:"numeroCliente"`
	NumCliente          flexInt `json:"numCliente"`
	Modalidade          flexInt `json:"modalidade"`
	IDModalidadeProduto flexInt `json:"idModalidadeProduto"`
	NumeroTitulo        flexInt `json:"numeroTitulo"`
	NumTitulo           flexInt `json:"numTitulo"`
	SeuNumero           text    `json:"seuNumero"`
	DescSeuNumero       text    `json:"descSeuNumero"`
	CodigoBarras        text    `json:"codigoBarras"`

	DataVencimentoTitulo     sicoobDate `json:"dataVencimentoTitulo"`
	DataMovimentoEntrada     sicoobDate `json:"dataMovimentoEntrada"`
	DataMovEntrada           sicoobDate `json:"dataMovEntrada"`
	DataMovimentoProrrogacao sicoobDate `json:"dataMovimentoProrrogacao"`
	DataVencimentoAnterior   sicoobDate `json:"dataVencimentoAnterior"`
	DataMovimentoLiquidacao  sicoobDate `json:"dataMovimentoLiquidacao"`
	DataLiquidacao           sicoobDate `json:"dataLiquidacao"`
	DataPrevisaoCredito      sicoobDate `json:"dataPrevisaoCredito"`
	DataMovimentoOpCredito   sicoobDate `json:"dataMovimentoOpCredito"`
	DataInicioMovimento      sicoobDate `json:"dataInicioMovimento"`

	ValorTitulo          money `json:"valorTitulo"`
	ValorLiquido         money `json:"valorLiquido"`
	ValorMora            money `json:"valorMora"`
	ValorDesconto        money `json:"valorDesconto"`
	ValorAbatimento      money `json:"valorAbatimento"`
	ValorTarifaMovimento money `json:"valorTarifaMovimento"`

	NumeroBancoRecebedor        flexInt `json:"numeroBancoRecebedor"`
	NumeroAgenciaRecebedora     flexInt `json:"numeroAgenciaRecebedora"`
	IDTipoOpFinanceira          flexInt `json:"idTipoOpFinanceira"`
	TipoOpFinanceira            text    `json:"tipoOpFinanceira"`
	QtdDiasVencido              flexInt `json:"qtdDiasVencido"`
	TipoCarteiraOpCredito       text    `json:"tipoCarteiraOpCredito"`
	DescricaoMovimentoOpCredito text    `json:"descricaoMovimentoOpCredito"`
}

// Movement types: tipoMovimento codes and the siglas of their files.
var siglas = map[int64]string{1: "ENTR", 2: "PROR", 3: "AVENC", 4: "VENC", 5: "LIQUI", 6: "BAIX", 7: "OCRED"}

// channels names the payment channels of idTipoOpFinanceira in LIQUI records.
var channels = map[int64]string{
	2: "caixa", 51: "caixa", 74: "correspondente", 75: "correspondente", 57: "cartorio", 58: "compensacao",
	68: "agendamento", 212: "pix", 213: "poupanca", 215: "intercredis",
}

// movement turns r into a Movement; the error names what is wrong.
func (r *record) movement(doc *baixa.Document) (*baixa.Movement, error) {
	sigla := strings.ToUpper(strings.TrimSpace(r.SiglaMovimento))
	tipo := r.CodigoTipoMovimento.or(r.CodTipoMovimento)
	if sigla == "" && tipo.set {
		sigla = siglas[tipo.v]
	}
	titulo := r.NumeroTitulo.or(r.NumTitulo)
	seu := r.SeuNumero.or(r.DescSeuNumero)
	if !titulo.set && seu.v == "" {
		return nil, fmt.Errorf("no numeroTitulo and no seuNumero")
	}
	cliente := r.NumeroCliente.or(r.NumCliente)
	m := &baixa.Movement{
		DocumentID: doc.ID, AccountID: doc.AccountID, Provider: Provider, ProviderCode: sigla,
		References: baixa.References{SeuNumero: seu.v, Barcode: r.CodigoBarras.v},
		Amount:     r.ValorTitulo.v,
	}
	if titulo.set {
		m.References.NossoNumero = strconv.FormatInt(titulo.v, 10)
	}
	// The natural key: the same fact reported by two windows or two
	// downloads has the same key.
	key := []string{sigla, cliente.String(), r.Modalidade.or(r.IDModalidadeProduto).String(), titulo.String(), seu.v}
	switch sigla {
	case "LIQUI":
		m.Kind = baixa.MovePaid
		if !r.ValorLiquido.set {
			return nil, fmt.Errorf("LIQUI without valorLiquido")
		}
		if r.DataLiquidacao.d.IsZero() {
			return nil, fmt.Errorf("LIQUI without dataLiquidacao")
		}
		m.PaidAmount, m.InterestAmount, m.DiscountAmount = r.ValorLiquido.v, r.ValorMora.v, r.ValorDesconto.v
		m.RebateAmount, m.FeeAmount = r.ValorAbatimento.v, r.ValorTarifaMovimento.v
		m.PaidOn, m.CreditedOn = r.DataLiquidacao.d, r.DataPrevisaoCredito.d
		m.OccurredAt = r.DataMovimentoLiquidacao.or(r.DataLiquidacao).t
		m.Channel = channel(r.IDTipoOpFinanceira, r.TipoOpFinanceira.v)
		m.ProviderStatus = r.TipoOpFinanceira.v
		if r.NumeroBancoRecebedor.set {
			m.Note = "received by bank " + r.NumeroBancoRecebedor.String() + " branch " + r.NumeroAgenciaRecebedora.String()
		}
		key = append(key, r.DataMovimentoLiquidacao.d.String(), r.DataLiquidacao.d.String(), r.ValorLiquido.v.String())
	case "BAIX":
		m.Kind = baixa.MoveWrittenOff
		m.FeeAmount = r.ValorTarifaMovimento.v
		m.OccurredAt = r.DataMovimentoLiquidacao.or(r.DataLiquidacao).t
		m.ProviderStatus, m.Note = r.TipoOpFinanceira.v, r.TipoOpFinanceira.v
		key = append(key, r.DataMovimentoLiquidacao.d.String(), r.IDTipoOpFinanceira.String())
	case "ENTR":
		m.Kind = baixa.MoveRegistered
		m.FeeAmount = r.ValorTarifaMovimento.v
		m.OccurredAt = r.DataMovimentoEntrada.or(r.DataMovEntrada).t
		key = append(key, r.DataMovimentoEntrada.or(r.DataMovEntrada).d.String())
	case "PROR":
		m.Kind = baixa.MoveDueDateChanged
		m.DueDate = r.DataVencimentoTitulo.d
		if m.DueDate.IsZero() {
			return nil, fmt.Errorf("PROR without dataVencimentoTitulo")
		}
		m.OccurredAt = r.DataMovimentoProrrogacao.t
		if !r.DataVencimentoAnterior.d.IsZero() {
			m.Note = "previous due date " + r.DataVencimentoAnterior.d.String()
		}
		key = append(key, r.DataMovimentoProrrogacao.d.String(), m.DueDate.String())
	case "VENC":
		m.Kind = baixa.MoveOverdue
		m.OccurredAt = r.DataFimOrVencimento()
		key = append(key, r.DataVencimentoTitulo.d.String())
	case "AVENC":
		m.Kind, m.ProviderStatus, m.Note = baixa.MoveStatusChanged, "a vencer", "due soon"
		key = append(key, r.DataVencimentoTitulo.d.String())
	case "OCRED":
		m.Kind = baixa.MoveStatusChanged
		m.ProviderStatus = strings.TrimSpace(r.DescricaoMovimentoOpCredito.v + " " + r.TipoCarteiraOpCredito.v)
		m.Note = "credit operation link: " + m.ProviderStatus
		m.OccurredAt = r.DataMovimentoOpCredito.t
		key = append(key, r.DataMovimentoOpCredito.d.String(), r.DescricaoMovimentoOpCredito.v)
	case "":
		return nil, fmt.Errorf("no siglaMovimento and no codigoTipoMovimento")
	default:
		return nil, fmt.Errorf("unknown siglaMovimento %q", sigla)
	}
	m.Key = strings.Join(key, "/")
	return m, nil
}

// DataFimOrVencimento is when an overdue report applies: its due date.
func (r *record) DataFimOrVencimento() time.Time { return r.DataVencimentoTitulo.t }

// channel names a LIQUI's payment channel: by id, else from the text
// ("07 - Via Pix" gives "pix").
func channel(id flexInt, desc string) string {
	if c, ok := channels[id.v]; ok && id.set {
		return c
	}
	if _, after, ok := strings.Cut(desc, "Via "); ok {
		return strings.ToLower(strings.TrimSpace(after))
	}
	return ""
}

// flexInt is an integer sent as a JSON number or as a string, possibly
// formatted ("1.500.000", "123456-7").
type flexInt struct {
	v   int64
	set bool
}

func (f flexInt) or(g flexInt) flexInt {
	if f.set {
		return f
	}
	return g
}

func (f flexInt) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatInt(f.v, 10)
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := b
	if len(b) > 0 && b[0] == '"' {
		u, err := strconv.Unquote(string(b))
		if err != nil {
			return err
		}
		u = strings.NewReplacer(".", "", "-", "", " ", "").Replace(strings.TrimSpace(u))
		if u == "" {
			return nil
		}
		s = []byte(u)
	} else if i := bytes.IndexByte(s, '.'); i >= 0 && strings.Trim(string(s[i+1:]), "0") == "" {
		s = s[:i] // 26.0
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", b)
	}
	f.v, f.set = v, true
	return nil
}

// text is a string sent as a JSON string or number.
type text struct{ v string }

func (t text) or(u text) text {
	if t.v != "" {
		return t
	}
	return u
}

func (t *text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 1 && b[0] == '"' {
		inner := b[1 : len(b)-1]
		if !bytes.ContainsAny(inner, "\\\"") {
			t.v = strings.TrimSpace(string(inner))
			return nil
		}
		var u string
		if err := json.Unmarshal(b, &u); err != nil {
			return fmt.Errorf("bad string %s", b)
		}
		t.v = strings.TrimSpace(u)
		return nil
	}
	t.v = string(b)
	return nil
}

// money is an amount sent as a JSON number (85.0000) or a string ("85,00",
// "1.234,56"); it must be exact to the centavo.
type money struct {
	v   baixa.Amount
	set bool
}

func (m *money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if s[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("bad amount %s", b)
		}
		s = strings.TrimSpace(u)
		if s == "" {
			return nil
		}
		if strings.Contains(s, ",") { // Brazilian: 1.234,56
			s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
		}
	}
	v, err := exactAmount(s)
	if err != nil {
		return err
	}
	m.v, m.set = v, true
	return nil
}

// exactAmount parses a decimal such as "85.0000" into centavos; places
// after the second must be zeros.
func exactAmount(s string) (baixa.Amount, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative amount %s", s)
	}
	a, err := baixa.ParseExactAmount(s)
	if err != nil && !strings.Contains(err.Error(), "centavo") {
		return 0, fmt.Errorf("bad amount %s", s)
	}
	return a, err
}

// sicoobDate is a date Sicoob writes as "2025-01-05T00:00:00-03:00", with
// or without the offset or the time, sometimes with a one-digit day or
// month ("2019-05-7"), or as "05/01/2025". The civil date is taken in
// America/Sao_Paulo.
type sicoobDate struct {
	d baixa.Date
	t time.Time
}

func (s sicoobDate) or(o sicoobDate) sicoobDate {
	if !s.d.IsZero() {
		return s
	}
	return o
}

func (s *sicoobDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return fmt.Errorf("want a date string, got %s", b)
	}
	t, err := parseSicoobTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	s.t, s.d = t, baixa.DateOf(t.In(baixa.SaoPaulo))
	return nil
}

// brt is Brasília's offset, which Sicoob's timestamps carry.
var brt = time.FixedZone("-03", -3*60*60)

func parseSicoobTime(v string) (time.Time, error) {
	// The common form first: 2006-01-02T15:04:05-03:00.
	if len(v) == 25 && v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[16] == ':' && v[19] == '-' && v[20:] == "03:00" {
		y, e1 := strconv.Atoi(v[0:4])
		mo, e2 := strconv.Atoi(v[5:7])
		d, e3 := strconv.Atoi(v[8:10])
		h, e4 := strconv.Atoi(v[11:13])
		mi, e5 := strconv.Atoi(v[14:16])
		sec, e6 := strconv.Atoi(v[17:19])
		if e1 == nil && e2 == nil && e3 == nil && e4 == nil && e5 == nil && e6 == nil && mo >= 1 && mo <= 12 && d >= 1 &&
			d <= 31 && h < 24 && mi < 60 && sec < 60 && time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Day() == d {
			return time.Date(y, time.Month(mo), d, h, mi, sec, 0, brt), nil
		}
	}
	datePart, clock, hasClock := strings.Cut(v, "T")
	if !hasClock {
		datePart, clock, hasClock = strings.Cut(v, " ")
	}
	var y, mo, d int
	var err error
	if parts := strings.Split(datePart, "-"); len(parts) == 3 {
		y, mo, d, err = atoi3(parts[0], parts[1], parts[2])
	} else if parts := strings.Split(datePart, "/"); len(parts) == 3 {
		d, mo, y, err = atoi3(parts[0], parts[1], parts[2])
	} else {
		err = fmt.Errorf("no date")
	}
	if err != nil || y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, fmt.Errorf("bad date %q", v)
	}
	if time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return time.Time{}, fmt.Errorf("impossible date %q", v)
	}
	if !hasClock {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, baixa.SaoPaulo), nil
	}
	norm := fmt.Sprintf("%04d-%02d-%02dT%s", y, mo, d, clock) // rare forms only
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		loc := baixa.SaoPaulo
		if t, err := time.ParseInLocation(layout, norm, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", v)
}

func atoi3(a, b, c string) (int, int, int, error) {
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	z, err3 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || err3 != nil || len(a) > 4 || len(b) > 4 || len(c) > 4 {
		return 0, 0, 0, fmt.Errorf("not numbers")
	}
	return x, y, z, nil
}
