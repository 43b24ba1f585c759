package sicoob

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// extractArquivo reads a download response and writes the bytes of its
// "arquivo" (base64, white space tolerated) to w, without holding the
// string in memory. Other fields are skipped; a response with Sicoob's
// error messages instead of a file is reported with them.
func extractArquivo(br *bufio.Reader, w io.Writer) error {
	var last [2]string // the last two strings read (key, value) outside arquivo
	var msgs []string
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			if len(msgs) > 0 {
				return fmt.Errorf("the response carries no file but Sicoob's messages: %s", strings.Join(msgs, "; "))
			}
			return errors.New(`the response has no "arquivo"`)
		}
		if err != nil {
			return err
		}
		if c != '"' {
			if c == ':' && last[1] == "arquivo" {
				return streamBase64(br, w)
			}
			continue
		}
		s, err := shortString(br)
		if err != nil {
			return err
		}
		if last[1] == "mensagem" {
			msgs = append(msgs, s)
		}
		last[0], last[1] = last[1], s
	}
}

// shortString reads the rest of a JSON string (after its opening quote),
// keeping at most its first 256 bytes.
func shortString(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", errors.New("the response ends inside a string")
		}
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if c, err = br.ReadByte(); err != nil {
				return "", errors.New("the response ends inside a string")
			}
		}
		if b.Len() < 256 {
			b.WriteByte(c)
		}
	}
}

// streamBase64 reads `"...base64..."` after a key's colon and writes the
// decoded bytes to w.
func streamBase64(br *bufio.Reader, w io.Writer) error {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return errors.New(`the response ends before the value of "arquivo"`)
		}
		if c == '"' {
			break
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return fmt.Errorf(`"arquivo" is not a string (it starts with %q)`, c)
		}
	}
	in := make([]byte, 0, 64<<10)
	out := make([]byte, base64.StdEncoding.DecodedLen(cap(in)))
	var offset int64
	flush := func(final bool) error {
		n := len(in)
		if !final {
			n -= n % 4
		}
		if n == 0 {
			return nil
		}
		m, err := base64.StdEncoding.Decode(out, in[:n])
		if err != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				return fmt.Errorf(`"arquivo" is not valid base64 at character %d`, offset+int64(ce))
			}
			return fmt.Errorf(`"arquivo" is not valid base64: %w`, err)
		}
		if _, err := w.Write(out[:m]); err != nil {
			return err
		}
		offset += int64(n)
		in = append(in[:0], in[n:]...)
		return nil
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return errors.New(`the response ends inside "arquivo" (truncated?)`)
		}
		switch c {
		case '"':
			if len(in)%4 != 0 && offset+int64(len(in)) > 0 {
				return fmt.Errorf(`"arquivo" is not valid base64: %d characters, not a multiple of 4 (truncated?)`, offset+int64(len(in)))
			}
			return flush(true)
		case ' ', '\t', '\r', '\n':
			continue
		case '\\':
			e, err := br.ReadByte()
			if err != nil {
				return errors.New(`the response ends inside "arquivo"`)
			}
			switch e {
			case '/':
				c = '/'
			case 'n', 'r', 't':
				continue
			default:
				return fmt.Errorf(`"arquivo" holds an unexpected escape \%c`, e)
			}
		}
		if !isBase64(c) {
			return fmt.Errorf(`"arquivo" is not valid base64: %q at character %d`, c, offset+int64(len(in)))
		}
		in = append(in, c)
		if len(in) == cap(in) {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
