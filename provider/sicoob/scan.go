package sicoob

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// recordScanner reads a stream of flat JSON objects (Sicoob's records:
// scalar values only) from an array or one per line. It is a fast path
// for the common case, several times quicker than encoding/json's
// reflection; a record it does not expect (a nested value, an escaped
// key) is handed to encoding/json whole, so the result is the same.
type recordScanner struct {
	br  *bufio.Reader
	off int64  // bytes consumed
	buf []byte // the current record's bytes
}

var (
	errEndOfRecords = errors.New("end of records")
	errTruncated    = errors.New("the data ends in the middle of a record (truncated?)")
)

func (s *recordScanner) byte() (byte, error) {
	c, err := s.br.ReadByte()
	if err == nil {
		s.off++
	}
	return c, err
}

// skip reads white space and returns the next other byte.
func (s *recordScanner) skip() (byte, error) {
	for {
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
	}
}

// next reads the next record's bytes into s.buf; errEndOfRecords after
// the closing bracket (array) or at the end of input (lines).
func (s *recordScanner) next(array, first bool) error {
	c, err := s.skip()
	if errors.Is(err, io.EOF) && !array {
		return errEndOfRecords
	}
	if err != nil {
		return errTruncated
	}
	if array {
		switch {
		case c == ']':
			return errEndOfRecords
		case !first && c != ',':
			return fmt.Errorf("want ',' or ']' after a record, got %q", c)
		case !first:
			if c, err = s.skip(); err != nil {
				return errTruncated
			}
		}
	} else if c == ',' {
		if c, err = s.skip(); err != nil {
			return errTruncated
		}
	}
	if c != '{' {
		return fmt.Errorf("want a record (an object), got %q", c)
	}
	s.buf = append(s.buf[:0], '{')
	depth, inString, escaped := 1, false, false
	for depth > 0 {
		if s.br.Buffered() == 0 {
			if _, err := s.br.Peek(1); err != nil {
				return errTruncated
			}
		}
		chunk, _ := s.br.Peek(s.br.Buffered())
		i := 0
		for ; i < len(chunk) && depth > 0; i++ {
			c := chunk[i]
			switch {
			case escaped:
				escaped = false
			case inString:
				switch c {
				case '\\':
					escaped = true
				case '"':
					inString = false
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
		s.buf = append(s.buf, chunk[:i]...)
		_, _ = s.br.Discard(i)
		s.off += int64(i)
	}
	return nil
}

// decode fills rec from the record in s.buf.
func (s *recordScanner) decode(rec *record) error {
	if ok, err := decodeFlat(s.buf, rec); ok || err != nil {
		return err
	}
	*rec = record{}
	return json.Unmarshal(s.buf, rec)
}

// decodeFlat decodes a flat object; ok=false means it is not one that the
// fast path takes (nothing was decided).
func decodeFlat(b []byte, rec *record) (ok bool, err error) {
	i := 1
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
	}
	for {
		ws()
		if i >= len(b) {
			return false, nil
		}
		if b[i] == '}' {
			return true, nil
		}
		if b[i] == ',' {
			i++
			ws()
		}
		if i >= len(b) || b[i] != '"' {
			return false, nil
		}
		j := i + 1
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j >= len(b) || b[j] != '"' {
			return false, nil
		}
		key := b[i+1 : j]
		i = j + 1
		ws()
		if i >= len(b) || b[i] != ':' {
			return false, nil
		}
		i++
		ws()
		if i >= len(b) {
			return false, nil
		}
		start := i
		switch b[i] {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return false, nil
			}
			i++
		case '{', '[':
			return false, nil
		default:
			for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
				i++
			}
			if !literal(b[start:i]) {
				return false, nil // let encoding/json name the syntax error
			}
		}
		if err := rec.set(key, b[start:i]); err != nil {
			return true, fmt.Errorf("%s: %w", key, err)
		}
	}
}

// literal reports whether v is a JSON number, true, false or null.
func literal(v []byte) bool {
	switch string(v) {
	case "true", "false", "null":
		return true
	case "":
		return false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

// set decodes one field; unknown keys are ignored, as encoding/json does.
func (r *record) set(key, v []byte) error {
	type unmarshaler interface{ UnmarshalJSON([]byte) error }
	var f unmarshaler
	switch string(key) {
	case "siglaMovimento":
		var t text
		if err := t.UnmarshalJSON(v); err != nil {
			return err
		}
		r.SiglaMovimento = t.v
		return nil
	case "codigoTipoMovimento":
		f = &r.CodigoTipoMovimento
	case "codTipoMovimento":
		f = &r.CodTipoMovimento
	case "numeroCliente":
		f = &r.NumeroCliente
	case "numCliente":
		f = &r.NumCliente
	case "modalidade":
		f = &r.Modalidade
	case "idModalidadeProduto":
		f = &r.IDModalidadeProduto
	case "numeroTitulo":
		f = &r.NumeroTitulo
	case "numTitulo":
		f = &r.NumTitulo
	case "seuNumero":
		f = &r.SeuNumero
	case "descSeuNumero":
		f = &r.DescSeuNumero
	case "codigoBarras":
		f = &r.CodigoBarras
	case "dataVencimentoTitulo":
		f = &r.DataVencimentoTitulo
	case "dataMovimentoEntrada":
		f = &r.DataMovimentoEntrada
	case "dataMovEntrada":
		f = &r.DataMovEntrada
	case "dataMovimentoProrrogacao":
		f = &r.DataMovimentoProrrogacao
	case "dataVencimentoAnterior":
		f = &r.DataVencimentoAnterior
	case "dataMovimentoLiquidacao":
		f = &r.DataMovimentoLiquidacao
	case "dataLiquidacao":
		f = &r.DataLiquidacao
	case "dataPrevisaoCredito":
		f = &r.DataPrevisaoCredito
	case "dataMovimentoOpCredito":
		f = &r.DataMovimentoOpCredito
	case "dataInicioMovimento":
		f = &r.DataInicioMovimento
	case "valorTitulo":
		f = &r.ValorTitulo
	case "valorLiquido":
		f = &r.ValorLiquido
	case "valorMora":
		f = &r.ValorMora
	case "valorDesconto":
		f = &r.ValorDesconto
	case "valorAbatimento":
		f = &r.ValorAbatimento
	case "valorTarifaMovimento":
		f = &r.ValorTarifaMovimento
	case "numeroBancoRecebedor":
		f = &r.NumeroBancoRecebedor
	case "numeroAgenciaRecebedora":
		f = &r.NumeroAgenciaRecebedora
	case "idTipoOpFinanceira":
		f = &r.IDTipoOpFinanceira
	case "tipoOpFinanceira":
		f = &r.TipoOpFinanceira
	case "qtdDiasVencido":
		f = &r.QtdDiasVencido
	case "tipoCarteiraOpCredito":
		f = &r.TipoCarteiraOpCredito
	case "descricaoMovimentoOpCredito":
		f = &r.DescricaoMovimentoOpCredito
	default:
		return nil
	}
	return f.UnmarshalJSON(v)
}
