// Command interlude is the Interlude client for clients and clinicians: a local-first,
// end-to-end encrypted journal. Entries are written to an encrypted store on this device
// at once, with or without a network, and synced through a server that cannot read them.
//
// Usage:
//
//	interlude <command> [flags]
//
// Run `interlude help` for the commands. Every command takes --home DIR (else
// INTERLUDE_HOME, else the user's config directory/interlude) and --json. The passphrase
// comes from --passphrase-file, else INTERLUDE_PASSPHRASE, else a prompt on the terminal
// (not echoed). See docs/client.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
