package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"interlude/client"
	"interlude/crypto"
	"interlude/syncproto"
)

// Exit statuses.
const (
	exitOK        = 0
	exitError     = 1 // the command failed; the message says what to do
	exitUsage     = 2 // bad command line
	exitAttention = 3 // sync finished, but something needs the person's attention (see the message)
)

// Environment variables (each flag's twin is listed with the flag).
const (
	envHome          = "INTERLUDE_HOME"
	envPassphrase    = "INTERLUDE_PASSPHRASE"
	envNewPassphrase = "INTERLUDE_NEW_PASSPHRASE"
	// envKDF=minimum makes new passphrases use crypto.MinKDFParams() (the floor every client
	// accepts) instead of the default 64 MiB: for tests and slow devices.
	envKDF = "INTERLUDE_KDF"
	// Test-only knobs of the sync engine, so that an end-to-end test can kill a sync
	// between a batch the server committed and the client's record of it.
	envTestBatch = "INTERLUDE_TEST_BATCH"            // records per push (below the server's limit)
	envTestPause = "INTERLUDE_TEST_PAUSE_AFTER_PUSH" // sleep after each push answer, before recording it
	envLogLevel  = "INTERLUDE_LOG_LEVEL"             // debug, info, warn (default) or error; logs go to stderr
)

// cli is one invocation: its streams, environment and the flags every command takes.
type cli struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	home       string
	json       bool
	passFile   string
	deviceName string // --device-name of signup, login and recover
}

// exitErr carries an exit status and a message for the person.
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &exitErr{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

type command struct {
	name    string
	args    string
	summary string
	run     func(c *cli, args []string) error
}

func commands() []command {
	base := []command{
		{"signup", "--server URL --kit FILE", "create an account; writes your recovery kit to FILE", cmdSignup},
		{"login", "--kit FILE [--server URL]", "sign this device in to your account with the kit and passphrase", cmdLogin},
		{"recover", "--kit FILE [--server URL]", "forgot the passphrase: use the kit's recovery code to set a new one", cmdRecover},
		{"status", "", "account, device, pending changes, conflicts, last sync (no passphrase needed)", cmdStatus},
		{"sync", "[--watch]", "send and receive changes once, or stay connected with --watch", cmdSync},
		{"add", "<kind> [field flags]", "write a new entry (see `interlude add` for the kinds)", cmdAdd},
		{"list", "[--kind K] [--since DAY] [--until DAY]", "list entries", cmdList},
		{"show", "ID", "show one entry", cmdShow},
		{"edit", "ID [field flags]", "change the given fields of an entry; the rest is kept", cmdEdit},
		{"delete", "ID", "delete an entry here and, after sync, everywhere", cmdDelete},
		{"conflicts", "", "list entries changed on two devices at once", cmdConflicts},
		{"resolve", "ID --keep local|remote [field flags]", "settle a conflict (field flags merge into the kept version)", cmdResolve},
		{"devices", "[revoke ID]", "list this account's devices, or revoke one", cmdDevices},
		{"passphrase", "", "change your passphrase", cmdPassphrase},
		{"export", "[--out FILE] [--html FILE] [--csv FILE]", "write all your entries, decrypted, as JSON; or a printable report (HTML) and CSV of scores", cmdExport},
		{"trends", "[--since DAY] [--until DAY] [--svg FILE]", "your mood, anxiety, triggers, coping, measures, streaks and homework over time", cmdTrends},
		{"summary", "CLIENT [--since DAY]", "for clinicians: what CLIENT shared since DAY (default 14 days ago), to open a session", cmdSummary},
		{"reminders", "[list|add|remove N|quiet|due]", "check-in and homework reminders on this device (`reminders --help`)", cmdReminders},
		{"signout", "[--force]", "wipe this account's keys and data from this device", cmdSignout},
	}
	return append(base[:len(base)-1:len(base)-1], append(sharingCommands(), base[len(base)-1])...)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: interlude <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %-40s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, `
every command takes:
  --home DIR             profile directory (else $%s, else your config directory/interlude)
  --json                 machine-readable output on stdout
  --passphrase-file FILE read the passphrase from FILE (else $%s, else a prompt)

exit status: 0 done, 1 failed (the message says what to do), 2 bad usage,
3 synced but something needs your attention (the message says what).
`, envHome, envPassphrase)
}

// run is the whole program: parse, dispatch, report. It returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		err := cmd.run(c, rest)
		if err == nil {
			return exitOK
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		var ee *exitErr
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintf(stderr, "interlude %s: %s\n", name, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "interlude %s: %s\n", name, explain(name, err))
		return exitError
	}
	fmt.Fprintf(stderr, "interlude: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

// explain turns an error into a message that says what to do next.
func explain(cmd string, err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, client.ErrOffline) && (cmd == "signup" || cmd == "login" || cmd == "recover"):
		return msg + "\ncheck the server URL and your connection, then try again"
	case errors.Is(err, client.ErrOffline):
		return msg + "\nyour entries are safe on this device; run `interlude sync` again when the server is reachable"
	case errors.Is(err, client.ErrWrongPassphrase):
		return "wrong passphrase: try again (it is case-sensitive); if you forgot it, run `interlude recover --kit FILE` with your recovery kit"
	case errors.Is(err, crypto.ErrWeakKDFParams):
		return msg + "\nthe server asked for key derivation settings weaker than any Interlude client accepts; this device refused to continue"
	case errors.Is(err, client.ErrAuthFailed):
		return msg
	case errors.Is(err, client.ErrDeviceRevoked):
		return msg + "\nrun `interlude signout --force` here, then `interlude login --kit FILE`"
	}
	return msg
}

// flags returns a flag set with the flags every command takes.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("interlude "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.home, "home", "", "profile directory (else $"+envHome+", else your config directory/interlude)")
	fs.BoolVar(&c.json, "json", false, "machine-readable output")
	fs.StringVar(&c.passFile, "passphrase-file", "", "read the passphrase from this file (else $"+envPassphrase+", else a prompt)")
	return fs
}

// parse parses flags and positional arguments in any order (`show ID --json` and
// `show --json ID` both work). A lone "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitErr{code: exitUsage, msg: ""}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs parses a command that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	return nil
}

// parseID parses a command whose one argument is a record ID.
func parseID(fs *flag.FlagSet, args []string) (syncproto.RecordID, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return syncproto.RecordID{}, err
	}
	if len(pos) != 1 {
		return syncproto.RecordID{}, usageErr("%v", errNoID)
	}
	id, err := syncproto.ParseRecordID(pos[0])
	if err != nil {
		return id, usageErr("%v", err)
	}
	return id, nil
}

// parseIDs reads arguments that are all record IDs.
func parseIDs(pos []string) ([]syncproto.RecordID, error) {
	var ids []syncproto.RecordID
	for _, p := range pos {
		id, err := syncproto.ParseRecordID(p)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// homeDir resolves the profile directory.
func (c *cli) homeDir() (string, error) {
	if c.home != "" {
		return c.home, nil
	}
	if h := c.getenv(envHome); h != "" {
		return h, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no profile directory: give --home DIR or set %s (%v)", envHome, err)
	}
	return filepath.Join(dir, "interlude"), nil
}

func (c *cli) logger() *slog.Logger {
	lv := slog.LevelWarn
	if s := c.getenv(envLogLevel); s != "" {
		lv.UnmarshalText([]byte(s))
	}
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: lv}))
}

// open opens the profile (without unlocking it).
func (c *cli) open() (*client.Client, error) {
	home, err := c.homeDir()
	if err != nil {
		return nil, err
	}
	opts := client.Options{Logger: c.logger(), Now: c.now, DeviceName: c.deviceName}
	if opts.DeviceName == "" {
		opts.DeviceName, _ = os.Hostname() // sealed: only the account's devices read it
	}
	switch v := c.getenv(envKDF); v {
	case "", "default":
	case "minimum":
		opts.NewKDFParams = func() crypto.KDFParams {
			p := crypto.MinKDFParams()
			rand.Read(p.Salt[:])
			return p
		}
	default:
		return nil, fmt.Errorf("%s=%q: use \"minimum\" or leave it unset", envKDF, v)
	}
	if v := c.getenv(envTestBatch); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a positive number", envTestBatch, v)
		}
		opts.BatchSize = n
	}
	if v := c.getenv(envTestPause); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %v", envTestPause, v, err)
		}
		opts.AfterPush = func(int) { time.Sleep(d) }
	}
	return client.Open(home, opts)
}

// openUnlocked opens the profile and unlocks it with the passphrase.
func (c *cli) openUnlocked() (*client.Client, error) {
	cl, err := c.open()
	if err != nil {
		return nil, err
	}
	ok, err := cl.HasAccount(c.ctx)
	if err != nil || !ok {
		cl.Close()
		if err == nil {
			err = fmt.Errorf("%w (profile: %s)", client.ErrNoProfile, cl.Dir())
		}
		return nil, err
	}
	p, err := c.passphrase("Passphrase: ")
	if err != nil {
		cl.Close()
		return nil, err
	}
	if err := cl.Unlock(p); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// openID parses a command whose one argument is a record ID, then opens the profile
// unlocked. The caller closes the client.
func (c *cli) openID(fs *flag.FlagSet, args []string) (*client.Client, syncproto.RecordID, error) {
	id, err := parseID(fs, args)
	if err != nil {
		return nil, id, err
	}
	cl, err := c.openUnlocked()
	return cl, id, err
}

// openEntry parses a command whose one argument is an entry's ID, opens the profile
// unlocked and gets the entry. The caller closes the client.
func (c *cli) openEntry(fs *flag.FlagSet, args []string) (*client.Client, *client.Entry, error) {
	id, err := parseID(fs, args)
	if err != nil {
		return nil, nil, err
	}
	return c.openUnlockedEntry(id)
}

// openUnlockedEntry opens the profile unlocked and gets one entry. The caller closes
// the client.
func (c *cli) openUnlockedEntry(id syncproto.RecordID) (*client.Client, *client.Entry, error) {
	cl, err := c.openUnlocked()
	if err != nil {
		return nil, nil, err
	}
	e, err := cl.Get(c.ctx, id)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, e, nil
}

// openContact opens the profile unlocked and finds the contact a command names. The
// caller closes the client.
func (c *cli) openContact(name string) (*client.Client, *client.Contact, error) {
	cl, err := c.openUnlocked()
	if err != nil {
		return nil, nil, err
	}
	ct, err := contactArg(c, cl, name)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, ct, nil
}

// out writes v as JSON when --json is set, else calls human.
func (c *cli) out(v any, human func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(c.stdout)
	return nil
}

// note writes a line for people to stderr (so that stdout stays clean for --json).
func (c *cli) note(format string, args ...any) {
	fmt.Fprintf(c.stderr, format+"\n", args...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func trim(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
