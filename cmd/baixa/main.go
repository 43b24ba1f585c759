// Command baixa is the settlement hub's one binary: serve, migrate, import, read, sandbox, demo, version.
// It is the only package that wires the adapters together.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/alecthomas/kong"
)

// cli is the command line; every flag also reads its BAIXA_* variable, and
// --config reads a JSON file of the same names.
type cli struct {
	Config kong.ConfigFlag `help:"JSON file with settings (keys are flag names in snake_case, e.g. {\"listen\": \"127.0.0.1:9000\", \"log_format\": \"json\"}); flags and environment override it." type:"existingfile"`

	Serve   serveCmd   `cmd:"" help:"Run the API and the background workers (migrates first)."`
	Migrate migrateCmd `cmd:"" help:"Apply database migrations and exit."`
	Import  importCmd  `cmd:"" help:"Import a file (a CNAB return file) into a running baixa and follow its settling."`
	Read    readCmd    `cmd:"" help:"Read CNAB return files here, without importing them: each detail and the movement it would make."`
	Sandbox sandboxCmd `cmd:"" help:"Run a provider's sandbox on loopback (for trials, tests and the demo)."`
	Demo    demoCmd    `cmd:"" help:"Run baixa with every provider's sandbox and a small ERP, and play a day of payments through them."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command line in args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	// --help prints and asks kong to exit: remember it, so that the command
	// it was asked of never runs (kong goes on parsing when Exit returns).
	exited := false
	parser, err := kong.New(&c,
		kong.Name("baixa"),
		kong.Description("Settlement hub for Brazilian receivables."),
		kong.Configuration(kong.JSON),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) { exited = true }),
		kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(&env{stdout: stdout, stderr: stderr}),
	)
	if err != nil {
		fmt.Fprintln(stderr, "baixa:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if exited {
		return 0 // --help: printed; what it left unparsed does not matter
	}
	if err != nil {
		fmt.Fprintln(stderr, "baixa:", err)
		return 2
	}
	if kctx.Command() == "" {
		return 0 // --help
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(stderr, "baixa:", err)
		return 1
	}
	return 0
}

// env carries the process's outputs to commands.
type env struct {
	stdout, stderr io.Writer
}

func (e *env) logger(format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	fmt.Fprintln(e.stdout, "baixa", version())
	return nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}
