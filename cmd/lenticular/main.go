// Command lenticular is the one binary: it parses the command line and hands
// over to platform/app, the composition root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/lenticular/lenticular/platform/app"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/logging"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `Lenticular: accounts, sessions, links and search behind one REST API.

Usage:
  lenticular [serve]                 migrate (when AUTO_MIGRATE is on) and serve HTTP
                                     (and run jobs, unless WORKER=off)
  lenticular worker                  run background jobs only (no HTTP server)
  lenticular migrate up|down|status  apply, roll back one, or list migrations
  lenticular jobs list [--state S] [--limit N]
                                     list jobs, newest first; S is failed, available,
                                     running, completed, cancelled, discarded,
                                     retryable or scheduled
  lenticular mail batch --template NAME --to FILE [--batch ID] [--data k=v ...]
                                     queue one email per address in FILE (one per
                                     line, or CSV with an email column); safe to re-run
  lenticular seed [--users N] [--links M]
                                     add realistic demo data (users without passwords,
                                     links and saves); safe to re-run
  lenticular admin create --email E  create an administrator; the password is read from
                                     standard input and must pass the password policy
  lenticular version                 print the version

Settings come from the environment; see README.md and configs/.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lenticular:", err)
		}
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lenticular", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "serve", "migrate", "worker", "jobs", "mail", "seed", "admin":
	default:
		return usageError{fmt.Sprintf("unknown command %q (run lenticular help)", cmd)}
	}

	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.Env.Deployed(), cfg.LogLevel)
	switch cmd {
	case "migrate":
		if len(args) != 1 {
			return usageError{"usage: lenticular migrate up|down|status"}
		}
		return app.Migrate(context.Background(), cfg, log, args[0], stdout)
	case "worker":
		if len(args) != 0 {
			return usageError{fmt.Sprintf("worker takes no arguments, got %q", args)}
		}
		if err := cfg.EnsureJWTSecret(); err != nil {
			return err
		}
		return app.Work(cfg, buildVersion(), log)
	case "jobs":
		return runJobsCmd(args, cfg, log, stdout, stderr)
	case "mail":
		return runMailCmd(args, cfg, log, stdout, stderr)
	case "seed":
		return runSeedCmd(args, cfg, log, stdout, stderr)
	case "admin":
		return runAdminCmd(args, cfg, log, stdout, stderr)
	default:
		if len(args) != 0 {
			return usageError{fmt.Sprintf("serve takes no arguments, got %q", args)}
		}
		if err := cfg.EnsureJWTSecret(); err != nil {
			return err
		}
		return app.Serve(cfg, buildVersion(), log)
	}
}

// buildVersion prefers the -ldflags value, then the module version recorded
// by `go install`, then the VCS revision.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
