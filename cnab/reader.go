package cnab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"baixa"
)

// Reader reads a return file's details one at a time. It checks the
// file's structure as it goes (record types, segments, the pairing of T
// and U, record counts in the trailers and sequence numbers) and every
// field it reads; errors are *LineError. After a detail's error the
// reader can go on with the next line (Next again), so that a caller may
// collect bad lines and keep the good ones; structural errors (a missing
// trailer, a count that does not match) end the file.
type Reader struct {
	br     *bufio.Reader
	format Format
	bank   *Bank
	header Header

	line  int // lines read
	count int // records (non-blank lines) read
	// buf is the current line, as Latin-1 bytes, of the layout's length:
	// the line as read when it has that length, else padded in pad.
	buf     []byte
	pad     []byte
	scratch []byte // a UTF-8 line as Latin-1
	strs    []byte // a detail's text, decoded (texts)
	// lineASCII: the line has only ASCII bytes (texts slices it).
	lineASCII bool
	done      bool
	fatal     error // an error in the file's structure: every later Next returns it
	anyBank   bool  // see Check

	// CNAB 240 structure.
	inBatch      bool
	batchRecords int
	batches      int
	pendingT     bool // r.d holds a segment T waiting for its U
	skipU        bool // the pending T was bad: its U is skipped
	// CNAB 400 structure.
	records int
	detail  byte // the details' record type

	titles  int      // segments T read, good or bad
	notices []string // what the bank says in segments W, the first few
	noticed int      // the line of the first

	d            Detail
	planT, planU plan // the layout's fields for r.d: segments T and U, or the CNAB 400 detail (planT)
}

// NewReader reads the header and returns a reader of the details. It
// accepts UTF-8 or Latin-1/CP1252, CRLF, LF or CR CR LF, lines shorter than the
// layout (trailing blanks trimmed) or one blank longer, a missing final
// newline and blank lines, at the end or between records.
func NewReader(r io.Reader) (*Reader, error) { return newReader(r, false) }

// newReader reads the header; anyBank takes a bank without a table here,
// whose details are then checked for structure only.
func newReader(r io.Reader, anyBank bool) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), anyBank: anyBank}
	first, err := rd.rawLine()
	for err == nil && len(bytes.TrimSpace(first)) == 0 {
		first, err = rd.rawLine()
	}
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file: not a CNAB return file")
	}
	if err != nil {
		return nil, err
	}
	switch rd.format = formatOf(first); {
	case rd.format != 0:
	case len(first) >= 2 && first[0] == '0' && first[1] == '1':
		return nil, &LineError{Line: rd.line, Msg: "this is a remessa (a file sent to the bank), not a return file"}
	default:
		return nil, &LineError{Line: rd.line, Msg: fmt.Sprintf("not a CNAB return file: it starts with %q", printable(first, 20))}
	}
	rd.count = 1
	if err := rd.fit(first); err != nil {
		return nil, err
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	rd.makePlans()
	return rd, nil
}

// formatOf tells a return file's format by its first line (0: neither).
func formatOf(first []byte) Format {
	switch {
	case len(first) >= 9 && first[0] == '0' && first[1] == '2' && bytes.HasPrefix(first[2:], []byte("RETORNO")):
		return CNAB400
	case len(first) >= 8 && digits(first[:3]) && first[7] == '0' && len(first) <= 241:
		return CNAB240
	}
	return 0
}

// Looks reports whether head, the start of a file, begins like a CNAB 240
// or 400 return file (what NewReader would take for one).
func Looks(head []byte) bool {
	f, _ := BankOf(head)
	return f != 0
}

// BankOf tells a return file's format and bank (its FEBRABAN code) by its
// start, head; format 0 if it does not begin like one.
func BankOf(head []byte) (Format, string) {
	line, _, _ := bytes.Cut(bytes.TrimPrefix(head, utf8BOM), []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	switch f := formatOf(line); {
	case f == CNAB240:
		return f, string(line[:3])
	case f == CNAB400 && len(line) >= bank400.to:
		return f, string(line[bank400.from-1 : bank400.to])
	case f == CNAB400:
		return f, ""
	}
	return 0, ""
}

// Header returns the file header.
func (r *Reader) Header() Header { return r.header }

// Bank returns the bank's table.
func (r *Reader) Bank() *Bank { return r.bank }

// printable shows up to n characters of a Latin-1 line.
func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// rawLine returns the next line without its end (CR LF or LF), as Latin-1
// bytes; io.EOF at the end.
func (r *Reader) rawLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &LineError{Line: r.line + 1, Msg: "a line longer than 64 KiB: not a CNAB file"}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if r.line == 0 {
		line = bytes.TrimPrefix(line, utf8BOM) // a text editor's mark of UTF-8
	}
	if errors.Is(err, io.EOF) {
		line = bytes.TrimSuffix(line, []byte{ctrlZ}) // DOS's end of file, on the last line
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	for len(line) > 0 && line[len(line)-1] == '\r' { // CR LF, or CR CR LF (a file sent twice in FTP's text mode)
		line = line[:len(line)-1]
	}
	if r.lineASCII = ascii(line); !r.lineASCII {
		return r.latin1(line), nil
	}
	return line, nil
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// ctrlZ ends a text file for DOS and the Windows tools that kept its habit.
const ctrlZ = 0x1A

// latin1 turns a UTF-8 line into one byte per character, so that columns
// count characters; a line that is not UTF-8 is taken as Latin-1 already.
func (r *Reader) latin1(line []byte) []byte {
	if !utf8.Valid(line) {
		return line
	}
	r.scratch = r.scratch[:0]
	for _, c := range string(line) {
		if c > 0xFF {
			c = '?'
		}
		r.scratch = append(r.scratch, byte(c))
	}
	return r.scratch
}

// fit makes line, padded with blanks to the layout's length, r.buf; a line
// one blank longer is accepted, anything longer is an error. A line of the
// right length is not copied: r.buf is valid until the next line is read.
func (r *Reader) fit(line []byte) error {
	n := int(r.format)
	if len(line) > n {
		if len(line) > n+1 || line[n] != ' ' {
			return &LineError{Line: r.line, Msg: fmt.Sprintf("%d characters, want %d (%s)", len(line), n, r.format)}
		}
		line = line[:n]
	}
	if len(line) == n {
		r.buf = line
		return nil
	}
	if cap(r.pad) < n {
		r.pad = make([]byte, n)
	}
	r.pad = r.pad[:n]
	copy(r.pad, line)
	for i := len(line); i < n; i++ {
		r.pad[i] = ' '
	}
	r.buf = r.pad
	return nil
}

// next reads the next non-blank line into r.buf; io.EOF at the end. Blank
// lines are skipped wherever they are (some banks' files have them between
// records); the trailers' counts, which count records only, still tell a
// line that went missing.
func (r *Reader) next() error {
	for {
		line, err := r.rawLine()
		if err != nil {
			return err
		}
		if (len(line) == 0 || line[0] == ' ' || line[0] == '\t') && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r.count++
		return r.fit(line)
	}
}

func (r *Reader) errAt(f field, msg string, args ...any) error {
	return &LineError{Line: r.line, From: f.from, To: f.to, Field: f.name, Msg: fmt.Sprintf(msg, args...)}
}

func (r *Reader) readHeader() error {
	switch r.format {
	case CNAB240:
		code := string(r.buf[0:3])
		if err := r.findBank(code, code, field{"banco", 1, 3}); err != nil {
			return err
		}
		r.header = Header{Format: CNAB240, Bank: code, BankName: r.bank.Name, CompanyDocument: companyDocument(r.buf[17], string(r.buf[18:32])),
			CompanyName: r.text(field{"", 73, 102})}
		// Sicoob's headers are not always regular (the brcobranca sample's
		// is shorter): the date and sequence are read when they parse.
		var ignored error
		r.header.Generated = r.date8(field{"data de geração", 144, 151}, &ignored)
		r.header.Sequence, _ = r.number(field{"sequencial", 158, 163})
		if l := r.bank.L240; l != nil && l.FileNote.to != 0 {
			r.header.Note = strings.Join(strings.Fields(r.text(l.FileNote)), " ")
		}
	case CNAB400:
		f := bank400
		code := string(r.buf[f.from-1 : f.to])
		if err := r.findBank(code, strconv.Quote(code), f); err != nil {
			return err
		}
		r.header = Header{Format: CNAB400, Bank: code, BankName: r.bank.Name, CompanyName: r.text(field{"", 47, 76})}
		r.detail = '1'
		if l := r.bank.L400; l != nil && l.DetailType != 0 {
			r.detail = l.DetailType
		}
		var ignored error
		r.header.Generated = r.date6(field{"data de gravação", 95, 100}, &ignored)
		r.records = 1
		if err := r.sequence(); err != nil {
			return err
		}
	}
	return nil
}

// occurrence240 is where both CNAB 240 segments, T and U, give the code.
var occurrence240 = field{"código de movimento", 16, 17}

// bank400 is where every CNAB 400 header names the bank.
var bank400 = field{"banco", 77, 79}

// findBank sets r.bank to the bank of code, which must have a table for
// the file's format; with anyBank, a bank without one is read for its
// structure only. shown is the code as the error shows it.
func (r *Reader) findBank(code, shown string, at field) error {
	b := Banks[code]
	switch {
	case b != nil && b.reads(r.format):
		r.bank = b
	case r.anyBank && b != nil:
		r.bank = &Bank{Code: code, Name: b.Name}
	case r.anyBank:
		r.bank = &Bank{Code: code, Name: "banco " + code}
	default:
		return r.errAt(at, "bank %s is not supported in %s (supported: %s)", shown, r.format, supported(r.format))
	}
	return nil
}

// reads reports whether b has a table for format f.
func (b *Bank) reads(f Format) bool {
	return (f == CNAB240 && b.L240 != nil) || (f == CNAB400 && b.L400 != nil)
}

func supported(f Format) string {
	var out []string
	for code, b := range Banks {
		if b.reads(f) {
			out = append(out, code+" "+b.Name)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Next returns the next detail, or io.EOF after the file trailer. The
// Detail is reused by the next call: copy what you keep.
func (r *Reader) Next() (*Detail, error) {
	if r.fatal != nil {
		return nil, r.fatal
	}
	if r.done {
		return nil, io.EOF
	}
	var d *Detail
	var err error
	if r.format == CNAB400 {
		d, err = r.next400()
	} else {
		d, err = r.next240()
	}
	if err == nil || errors.Is(err, io.EOF) {
		return d, err
	}
	if fe := (*fieldError)(nil); errors.As(err, &fe) {
		return nil, fe.LineError // one detail's field: the next call goes on
	}
	r.fatal = err
	return nil, err
}

// Check reads a whole return file as NewReader and Next do and counts its
// titles, with one difference: it also takes a file of a bank that has no
// table here, checking its structure only (record types and their order,
// segments, each T followed by its U, the trailers' counts, the sequence
// numbers), not its fields. It is for providers that read return files
// themselves (PlugBoleto), which know banks baixa does not.
func Check(ctx context.Context, r io.Reader) (titles int, err error) {
	rd, err := newReader(r, true)
	if err != nil {
		return 0, err
	}
	err = rd.Each(ctx, func(*Detail) error { titles++; return nil }, nil)
	return titles, err
}

// Each calls fn with each detail in file order, until the file's end (the
// Detail is reused: copy what you keep). A bad detail's error goes to bad
// and the reading goes on; with bad nil, it ends the reading. An error in
// the file's structure, fn's error or the end of ctx ends it, returned.
func (r *Reader) Each(ctx context.Context, fn func(*Detail) error, bad func(error)) error {
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		d, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil && bad != nil && !r.Fatal():
			bad(err)
		case err != nil:
			return err
		default:
			if err := fn(d); err != nil {
				return err
			}
		}
	}
}

// Fatal reports whether the last error ended the file (its structure is
// broken) rather than one detail (a bad field).
func (r *Reader) Fatal() bool { return r.fatal != nil }

// fieldError marks an error in one detail's fields.
type fieldError struct{ *LineError }

func (r *Reader) next240() (*Detail, error) {
	for {
		if err := r.next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &LineError{Line: r.line, Msg: "the file ends without its trailer (truncated?)"}
			}
			return nil, err
		}
		if string(r.buf[:3]) != r.header.Bank {
			return nil, r.errAt(field{"banco", 1, 3}, "bank %q where the file header's is %s (a file of two banks' records?)", r.buf[:3], r.header.Bank)
		}
		kind := r.buf[7]
		if r.pendingT && (kind != '3' || r.buf[13] != 'U') {
			r.pendingT = false
			return nil, &LineError{Line: r.d.Line, Msg: "segment T without the segment U that must follow it"}
		}
		switch kind {
		case '1':
			if r.inBatch {
				return nil, r.errAt(field{"tipo de registro", 8, 8}, "a batch header inside a batch (no batch trailer before it)")
			}
			r.inBatch, r.batchRecords = true, 1
		case '3':
			if !r.inBatch {
				return nil, r.errAt(field{"tipo de registro", 8, 8}, "a detail outside a batch")
			}
			r.batchRecords++
			d, err := r.segment()
			if d != nil || err != nil {
				return d, err
			}
		case '5':
			if !r.inBatch {
				return nil, r.errAt(field{"tipo de registro", 8, 8}, "a batch trailer without its batch header")
			}
			r.batchRecords++
			r.inBatch = false
			r.batches++
			n, err := r.number(field{"quantidade de registros do lote", 18, 23})
			if err != nil {
				return nil, err
			}
			// Six digits count up to 999,999: larger batches are compared
			// modulo a million. A bank that counts the details only may also
			// count FEBRABAN's way (Santander's files do both).
			if want := r.batchRecords; int(n) != want%1000000 && (!r.bank.BatchCountsDetails || int(n) != (want-2)%1000000) {
				has := fmt.Sprint(want)
				if r.bank.BatchCountsDetails {
					has += fmt.Sprintf(" (%d details)", want-2)
				}
				return nil, r.errAt(field{"quantidade de registros do lote", 18, 23}, "the batch trailer counts %d records, the batch has %s", n, has)
			}
		case '9':
			if r.inBatch {
				return nil, r.errAt(field{"tipo de registro", 8, 8}, "the file trailer inside a batch (no batch trailer)")
			}
			batches, err := r.number(field{"quantidade de lotes", 18, 23})
			if err != nil {
				return nil, err
			}
			records, err := r.number(field{"quantidade de registros", 24, 29})
			if err != nil {
				return nil, err
			}
			if int(batches) != r.batches%1000000 {
				return nil, r.errAt(field{"quantidade de lotes", 18, 23}, "the file trailer counts %d batches, the file has %d", batches, r.batches)
			}
			if want := r.count % 1000000; int(records) != want {
				return nil, r.errAt(field{"quantidade de registros", 24, 29}, "the file trailer counts %d records, the file has %d", records, want)
			}
			err = r.end()
			if errors.Is(err, io.EOF) && r.titles == 0 && len(r.notices) > 0 {
				return nil, r.onlyNotices()
			}
			return nil, err
		case '0':
			return nil, r.errAt(field{"tipo de registro", 8, 8}, "a second file header")
		default:
			return nil, r.errAt(field{"tipo de registro", 8, 8}, "record type %q, want 0, 1, 3, 5 or 9", kind)
		}
	}
}

// end checks that only blank lines (or DOS's end-of-file mark) follow
// the trailer.
func (r *Reader) end() error {
	r.done = true
	for {
		line, err := r.rawLine()
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		if err != nil {
			return err
		}
		if len(bytes.Trim(line, " \t\r\n\x1a")) != 0 {
			return &LineError{Line: r.line, Msg: "data after the file trailer"}
		}
	}
}

// segment reads a detail record (type 3): T is kept in r.d until its U,
// which completes the detail; Y and W are optional and skipped.
func (r *Reader) segment() (*Detail, error) {
	switch seg := r.buf[13]; seg {
	case 'T':
		r.titles++
		r.d = Detail{Line: r.line}
		if r.bank.L240 == nil { // structure only
			r.pendingT = true
			return nil, nil
		}
		if err := r.readT(); err != nil {
			r.skipU = true
			return nil, asField(err)
		}
		r.pendingT = true
		return nil, nil
	case 'U':
		if r.skipU { // its T was bad and reported
			r.skipU = false
			return nil, nil
		}
		if !r.pendingT {
			return nil, r.errAt(field{"segmento", 14, 14}, "segment U without its segment T")
		}
		r.pendingT = false
		// Both segments carry the code; T's is the title's occurrence. Some
		// files (the OpenCnabPHP sample) disagree: U's is kept aside.
		if r.bank.L240 == nil {
			return &r.d, nil
		}
		if string(r.raw(occurrence240)) != r.d.Occurrence {
			r.d.UOccurrence = r.text(occurrence240)
		}
		if err := r.readU(); err != nil {
			return nil, asField(err)
		}
		return &r.d, nil
	case 'W':
		r.notice()
		return nil, nil
	case 'Y':
		return nil, nil
	default:
		return nil, r.errAt(field{"segmento", 14, 14}, "segment %q is not one of a return file (T, U, Y, W)", seg)
	}
}

// notice keeps what a segment W says, the first few of them. Next to a
// title it complements it; in a file of no titles it is the bank's answer
// to the whole remessa (see onlyNotices).
func (r *Reader) notice() {
	if len(r.notices) == 5 || r.titles > 0 {
		return // enough, or beside titles: complements, not answers
	}
	text := fmt.Sprintf("%q", strings.Join(strings.Fields(r.text(field{"", 15, 240})), " "))
	if len(r.notices) == 0 {
		r.noticed = r.line // the error names it
	} else {
		text = fmt.Sprintf("line %d: %s", r.line, text)
	}
	r.notices = append(r.notices, text)
}

// onlyNotices is the error of a file that holds no title, only segments W:
// the bank refused the remessa it answers (Caixa's pre-validation). It
// would otherwise read as a file of nothing.
func (r *Reader) onlyNotices() error {
	msg := "no titles, only the bank's messages (segment W), as in its answer to a remessa it refused: " + strings.Join(r.notices, "; ")
	if r.header.Note != "" {
		msg += fmt.Sprintf("; the header says %q", r.header.Note)
	}
	return &LineError{Line: r.noticed, Msg: msg}
}

func (r *Reader) readT() error {
	if occ := r.raw(occurrence240); !digits(occ) {
		return r.errAt(occurrence240, "want two digits, got %q", occ)
	}
	r.texts(r.planT.texts)
	if k := r.bank.L240.PayerKind; k.to != 0 && r.d.PayerDocument != "" {
		r.d.PayerDocument = document(r.buf[k.from-1], r.d.PayerDocument)
	}
	var err error
	r.d.DueDate = r.date8(r.bank.L240.DueDate, &err)
	r.amounts(r.planT.amounts, &err)
	return err
}

func (r *Reader) readU() error {
	l := r.bank.L240
	var err error
	r.amounts(r.planU.amounts, &err)
	r.d.OccurredOn, r.d.CreditedOn = r.date8(l.OccurredOn, &err), r.date8(l.CreditedOn, &err)
	return err
}

func (r *Reader) next400() (*Detail, error) {
	for {
		if err := r.next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &LineError{Line: r.line, Msg: "the file ends without its trailer (truncated?)"}
			}
			return nil, err
		}
		r.records++
		if err := r.sequence(); err != nil {
			return nil, err
		}
		switch kind, detail := r.buf[0], r.detail; {
		case kind == detail || (r.bank.L400 == nil && (kind == '1' || kind == '7')):
			r.d = Detail{Line: r.line}
			if r.bank.L400 == nil { // structure only
				return &r.d, nil
			}
			if err := r.read400(); err != nil {
				return nil, asField(err)
			}
			return &r.d, nil
		case kind == '9':
			return nil, r.end()
		case kind >= '2' && kind <= '8' && (r.bank.L400 == nil || strings.IndexByte(r.bank.L400.Skip, kind) >= 0):
			// Another record of the bank's own, such as Itaú's type 3 that
			// follows a detail with its Pix QR code, or Santander's type 2
			// with the Pix key it was paid by: passed over by a bank's table
			// that says so, or when the structure only is checked.
			continue
		case kind == '0':
			return nil, r.errAt(field{"tipo de registro", 1, 1}, "a second file header")
		default:
			return nil, r.errAt(field{"tipo de registro", 1, 1}, "record type %q, want %c (detail) or 9 (trailer)", kind, detail)
		}
	}
}

// sequence checks a CNAB 400 record's sequential number (395-400).
func (r *Reader) sequence() error {
	f := field{"número sequencial", 395, 400}
	n, err := r.number(f)
	if err != nil {
		return err
	}
	if int(n) != r.records {
		return r.errAt(f, "record number %d, want %d (a line missing or out of order?)", n, r.records)
	}
	return nil
}

func (r *Reader) read400() error {
	l, d := r.bank.L400, &r.d
	if !digits(r.raw(l.Occurrence)) {
		return r.errAt(l.Occurrence, "want two digits, got %q", r.raw(l.Occurrence))
	}
	r.texts(r.planT.texts)
	var err error
	d.OccurredOn, d.DueDate, d.CreditedOn = r.date6(l.OccurredOn, &err), r.date6(l.DueDate, &err), r.date6(l.CreditedOn, &err)
	r.amounts(r.planT.amounts, &err)
	// On a payment only: Itaú's write-offs carry an amount there too
	// (brcobranca's file: 2.10, the tariff), which pays nothing.
	if l.PaidLessFee && d.CreditedAmount > 0 && r.bank.Occurrences400[d.Occurrence].Kind == baixa.MovePaid {
		d.PaidAmount = d.CreditedAmount + d.FeeAmount
		// Unless the amount credited is already what the title came to:
		// then the tariff was charged apart (a contract whose tariffs are
		// debited monthly, say), and adding it would overstate the payment.
		if d.FeeAmount != 0 && d.CreditedAmount == d.FaceValue-d.DiscountAmount-d.RebateAmount+d.InterestAmount+d.OtherCredits {
			d.PaidAmount = d.CreditedAmount
		}
	}
	return err
}

// document gives back the leading zeros of a CPF (kind 1: eleven digits)
// or a CNPJ (kind 2: fourteen digits or, since 2026, capital letters and
// digits), which reading the zero-padded field as a number dropped; any
// other kind, a longer document or one of other characters is left as it
// is.
func document(kind byte, doc string) string {
	var n int
	switch kind {
	case '1':
		n = 11
	case '2':
		n = 14
	}
	if len(doc) >= n || strings.Trim(doc, "0123456789") != "" && (kind != '2' || strings.Trim(doc, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return doc
	}
	return strings.Repeat("0", n-len(doc)) + doc
}

// companyDocument is the file header's CPF or CNPJ (19-32) by its tipo de
// inscrição (18); without one (Caixa's file of 2023 writes 0), by its
// check digits: 14 digits that make a CNPJ are one, the last 11 of a field
// that starts with three zeros and make a CPF are one.
func companyDocument(kind byte, field string) string {
	if kind != '1' && kind != '2' && len(field) == 14 {
		switch {
		case baixa.ValidateTaxID(field) == nil:
			return field
		case strings.HasPrefix(field, "000") && baixa.ValidateTaxID(field[3:]) == nil:
			return field[3:]
		}
	}
	return document(kind, strings.TrimLeft(field, "0 "))
}

func asField(err error) error {
	var le *LineError
	if errors.As(err, &le) {
		return &fieldError{le}
	}
	return err
}
