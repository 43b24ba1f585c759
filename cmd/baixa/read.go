package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"baixa"
	"baixa/cnab"
)

// readCmd reads return files here, without a running baixa and without
// storing anything: what each detail says and the movement baixa would
// make of it, for an operator to check a file before importing it.
type readCmd struct {
	Files []string `arg:"" name:"file" type:"existingfile" help:"The files: CNAB 240 or 400 return files."`
	JSON  bool     `name:"json" help:"Print each movement as a line of JSON (the movement an import would settle) instead of a table."`
}

// Run reads each file in turn. A file with bad lines is read to its end,
// each bad line reported, and makes the command fail, as an import would
// refuse it; a file whose structure is broken stops at the break.
func (c *readCmd) Run(ctx context.Context, e *env) error {
	failed, err := eachFile(ctx, e, c.Files, func(file string) error { return c.readFile(ctx, e, file) })
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files not read whole: %s", len(failed), len(c.Files), strings.Join(failed, ", "))
	}
	return nil
}

func (c *readCmd) readFile(ctx context.Context, e *env, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := cnab.NewReader(f)
	if err != nil {
		// A bank without a table here: say whether PlugBoleto, which reads
		// it itself, would be handed the file.
		if _, serr := f.Seek(0, io.SeekStart); serr == nil {
			if titles, cerr := cnab.Check(ctx, f); cerr == nil {
				return fmt.Errorf("%w; its structure checks out (%d titles): a PlugBoleto connection, which reads that bank itself, takes it", err, titles)
			}
		}
		return err
	}
	h := r.Header()
	if !c.JSON {
		company := orNone(h.CompanyName)
		if h.CompanyDocument != "" {
			company += " (" + h.CompanyDocument + ")"
		}
		fmt.Fprintf(e.stdout, "%s: %s, bank %s %s, company %s, generated %s", file, h.Format, h.Bank, h.BankName, company, orNone(h.Generated.String()))
		if h.Sequence != 0 {
			fmt.Fprintf(e.stdout, ", file number %d", h.Sequence)
		}
		if h.Note != "" {
			fmt.Fprintf(e.stdout, ", %q", h.Note)
		}
		fmt.Fprintln(e.stdout)
	}
	enc := json.NewEncoder(e.stdout)
	kinds := map[baixa.MovementKind]int{}
	var paid baixa.Amount
	var bad []string
	doc := &baixa.Document{}
	err = r.Each(ctx, func(d *cnab.Detail) error {
		m := cnab.Movement(h, r.Bank(), d, doc)
		kinds[m.Kind]++
		if m.Kind == baixa.MovePaid {
			paid += m.PaidAmount
		}
		if c.JSON {
			return enc.Encode(m)
		}
		fmt.Fprintf(e.stdout, "  line %d: %s %s -> %s; nosso número %s", d.Line, d.Occurrence, m.ProviderStatus, m.Kind, orNone(d.NossoNumero))
		if m.References.SeuNumero != "" {
			fmt.Fprintf(e.stdout, ", seu número %s", m.References.SeuNumero)
		}
		fmt.Fprintf(e.stdout, ", face %s", m.Amount)
		if m.Kind == baixa.MovePaid {
			fmt.Fprintf(e.stdout, ", paid %s on %s", m.PaidAmount, m.PaidOn)
		}
		if m.FeeAmount != 0 {
			fmt.Fprintf(e.stdout, ", tariff %s", m.FeeAmount)
		}
		if m.Note != "" {
			fmt.Fprintf(e.stdout, "; %s", m.Note)
		}
		fmt.Fprintln(e.stdout)
		return nil
	}, func(err error) {
		bad = append(bad, err.Error())
		fmt.Fprintf(e.stderr, "%s: %v\n", file, err)
	})
	if err != nil {
		return err
	}
	if !c.JSON {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
		}
		total := 0
		for _, n := range kinds {
			total += n
		}
		fmt.Fprintf(e.stdout, "details: %d (%s), paid in all %s; bad: %d\n", total, orNone(strings.Join(parts, ", ")), paid, len(bad))
	}
	if len(bad) > 0 {
		return fmt.Errorf("bad details: %d; an import refuses the file (with --skip-bad-lines it settles the others)", len(bad))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
