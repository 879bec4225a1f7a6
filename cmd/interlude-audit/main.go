// Command interlude-audit lets a privacy auditor verify, from the raw files and without any
// key, that an Interlude sync server holds ciphertext only.
//
// Usage:
//
//	interlude-audit --data DIR [--canary TEXT ...] [--canary-file FILE] [--logs DIR] [--json] [--tmp DIR]
//
// Point --data at a copy of the server's data directory (database, -wal, -shm, backups).
// The tool copies every file into a private temporary snapshot and reads only that; it never
// writes to DIR. It prints each check with pass or fail and its figures (as JSON with
// --json) and exits 0 if every check passed, 1 if any failed, and 2 if it could not run
// (bad flags, unreadable files, no database). docs/audit.md explains every check.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"interlude/audit"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("interlude-audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		data, logs, tmp string
		canaryFiles     listFlag
		canaries        listFlag
		asJSON          bool
	)
	fs.StringVar(&data, "data", "", "the server's data directory, or a copy of it (required; never written to)")
	fs.StringVar(&logs, "logs", "", "directory of the server's log files (optional; enables the logs check)")
	fs.Var(&canaries, "canary", "a canary string written into entries on a client (repeatable; at least 8 bytes)")
	fs.Var(&canaryFiles, "canary-file", "a file of canaries, one per line (repeatable)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON (docs/audit.md describes it)")
	fs.StringVar(&tmp, "tmp", "", "where to make the private snapshot (default: the system temporary directory)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: interlude-audit --data DIR [--canary TEXT ...] [--canary-file FILE] [--logs DIR] [--json]

Verifies from the raw files, without any key, that an Interlude server's data directory
holds ciphertext only. Exit status: 0 all checks passed, 1 a check failed, 2 could not run.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "interlude-audit: unexpected argument %q: every setting is a flag (see --help)\n", fs.Arg(0))
		return exitUsage
	}
	if data == "" {
		fmt.Fprintln(stderr, "interlude-audit: --data DIR is required: point it at a copy of the server's data directory")
		return exitUsage
	}
	for _, f := range canaryFiles {
		cs, err := readCanaryFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "interlude-audit: --canary-file %s: %v\n", f, err)
			return exitUsage
		}
		canaries = append(canaries, cs...)
	}

	rep, err := audit.Run(ctx, audit.Options{DataDir: data, LogsDir: logs, Canaries: canaries, TempDir: tmp})
	if err != nil {
		fmt.Fprintf(stderr, "interlude-audit: %v\n", err)
		return exitUsage
	}
	if asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "interlude-audit: writing the report: %v\n", err)
		return exitUsage
	}
	if !rep.Pass {
		return exitFail
	}
	return exitPass
}

// readCanaryFile reads one canary per line; blank lines are skipped and white space at either
// end of a line is dropped.
func readCanaryFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no canaries in it (one per line)")
	}
	return out, nil
}
