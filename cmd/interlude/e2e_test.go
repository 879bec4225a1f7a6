package main

// End-to-end tests with the real binaries: interlude-server on a free loopback port with
// its SQLite file in a temp directory, and interlude processes on profile directories
// (devices). Assertions look at what the server stored, not only at what the client says.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"interlude/client"
	"interlude/internal/e2etest"
	"interlude/syncproto"
)

func TestMain(m *testing.M) { e2etest.Main(m) }

// serverProc is a running interlude-server and the test it serves.
type serverProc struct {
	t   *testing.T
	srv *e2etest.Server
}

func startServer(t *testing.T) *serverProc {
	t.Helper()
	return &serverProc{t: t, srv: e2etest.StartServer(t, e2etest.ServerConfig{})}
}

func (s *serverProc) url() string { return s.srv.URL() }

// stop stops the server; one that had to be killed is not what these tests check.
func (s *serverProc) stop() {
	if err := s.srv.Stop(); err != nil {
		s.t.Log(err)
	}
}

// restart starts the server again on the same address and data.
func (s *serverProc) restart() {
	s.t.Helper()
	s.srv.Restart(s.t)
}

// db opens the server's database; read-only unless rw.
func (s *serverProc) db(rw bool) *sql.DB {
	s.t.Helper()
	return openDB(s.t, filepath.Join(s.srv.Data, "interlude.db"), rw)
}

func openDB(t *testing.T, path string, rw bool) *sql.DB {
	t.Helper()
	dsn := "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)"
	if rw {
		dsn = path + "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// device is one profile directory.
type device struct {
	t    *testing.T
	home string
	pass string
}

func newDevice(t *testing.T, pass string) *device {
	return &device{t: t, home: filepath.Join(t.TempDir(), "home"), pass: pass}
}

type result struct {
	stdout, stderr string
	code           int
}

func (d *device) command(env []string, args ...string) *exec.Cmd {
	d.t.Helper()
	cmd := e2etest.Client(d.t, d.home, d.pass, args...)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// runEnv runs the client with extra environment and returns what it printed.
func (d *device) runEnv(env []string, args ...string) result {
	d.t.Helper()
	r := e2etest.Run(d.t, d.command(env, args...))
	return result{stdout: r.Stdout, stderr: r.Stderr, code: r.Code}
}

func (d *device) run(args ...string) result {
	d.t.Helper()
	return d.runEnv(nil, args...)
}

// ok runs the client and fails the test unless it exits 0.
func (d *device) ok(args ...string) result {
	d.t.Helper()
	r := d.run(args...)
	if r.code != 0 {
		d.t.Fatalf("interlude %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// okJSON runs the client with --json and decodes its output into v.
func (d *device) okJSON(v any, args ...string) {
	d.t.Helper()
	r := d.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		d.t.Fatalf("interlude %s --json: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

type listItem struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Revision uint64          `json:"revision"`
	Synced   bool            `json:"synced"`
	Conflict bool            `json:"conflict"`
	Entry    json.RawMessage `json:"entry"`
}

func (d *device) list() []listItem {
	d.t.Helper()
	var items []listItem
	d.okJSON(&items, "list")
	return items
}

func (d *device) status() statusJSON {
	d.t.Helper()
	var st statusJSON
	d.okJSON(&st, "status")
	return st
}

// exported returns the entries of `interlude export`, by ID, as compact JSON documents.
func (d *device) exported() map[string]string {
	d.t.Helper()
	var doc struct {
		Entries []struct {
			ID       string          `json:"id"`
			Document json.RawMessage `json:"document"`
		} `json:"entries"`
	}
	r := d.ok("export")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		d.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range doc.Entries {
		var b bytes.Buffer
		json.Compact(&b, e.Document)
		out[e.ID] = b.String()
	}
	return out
}

func bodyText(t *testing.T, entry json.RawMessage) string {
	t.Helper()
	var e struct {
		Body struct {
			Text string `json:"text"`
		} `json:"body"`
	}
	if err := json.Unmarshal(entry, &e); err != nil {
		t.Fatal(err)
	}
	return e.Body.Text
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const passA = "apricot lantern seventeen"

func TestOfflineWritesKilledSyncAndSecondDevice(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	a := newDevice(t, passA)
	r := a.ok("signup", "--server", srv.url(), "--kit", kit)
	if !strings.Contains(r.stdout, "nobody, including us, can recover it") || !strings.Contains(r.stdout, kit) {
		t.Fatalf("signup did not explain the kit:\n%s", r.stdout)
	}
	other := newDevice(t, "another account's passphrase")
	other.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit2.txt"))

	// 50 entries with the server down.
	srv.stop()
	const n = 50
	want := map[string]string{}
	for i := range n {
		text := fmt.Sprintf("entry %02d: written offline, with a comma, and ünïcode", i)
		var added struct{ ID string }
		a.okJSON(&added, "add", "journal", "--text", text, "--tags", "offline")
		want[added.ID] = text
	}
	if st := a.status(); st.Pending != n || st.Entries != n {
		t.Fatalf("status offline: %+v", st)
	}
	r = a.run("sync")
	if r.code != exitError || !strings.Contains(r.stderr, "safe on this device") {
		t.Fatalf("sync with the server down: exit %d, %s", r.code, r.stderr)
	}

	// Server up; a sync paused after the first batch's answer, then SIGKILLed: the server
	// has committed 10 records that the client has not recorded.
	srv.restart()
	sdb := srv.db(false)
	cmd := a.command([]string{"INTERLUDE_TEST_BATCH=10", "INTERLUDE_TEST_PAUSE_AFTER_PUSH=10m"}, "sync")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first batch on the server", 30*time.Second, func() bool {
		return count(t, sdb, `SELECT count(*) FROM records`) >= 10
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if got := count(t, sdb, `SELECT count(*) FROM records`); got != 10 {
		t.Fatalf("server holds %d records at the kill, want 10", got)
	}
	cdb := openDB(t, filepath.Join(a.home, "interlude.db"), false)
	if got := count(t, cdb, `SELECT count(*) FROM outbox`); got != n {
		t.Fatalf("client outbox after the kill: %d, want %d (the committed batch unrecorded)", got, n)
	}

	// The next sync finishes: nothing lost, nothing doubled.
	r = a.ok("sync")
	if !strings.Contains(r.stdout, "sent 50 changes") {
		t.Fatalf("sync after the kill: %s", r.stdout)
	}
	if st := a.status(); st.Pending != 0 || st.Entries != n {
		t.Fatalf("status after sync: %+v", st)
	}
	if got := count(t, sdb, `SELECT count(*) FROM records`); got != n {
		t.Fatalf("server holds %d records, want %d", got, n)
	}
	if got := count(t, sdb, `SELECT count(*) FROM records WHERE revision != 1 OR deleted != 0`); got != 0 {
		t.Fatalf("%d records with a revision other than 1", got)
	}
	if got := count(t, sdb, `SELECT count(*) FROM (SELECT DISTINCT owner, owner_seq FROM records)`); got != n {
		t.Fatalf("server feed holds %d owner changes, want %d", got, n)
	}

	// Device B signs in with the kit and the passphrase and sees all 50, byte-identical.
	b := newDevice(t, passA)
	b.ok("login", "--kit", kit, "--device-name", "Sam's phone")
	b.ok("sync")
	// Both devices list B by the name it gave itself, and A by its host name.
	host, _ := os.Hostname()
	for _, d := range []*device{a, b} {
		var devs []struct{ Name string }
		d.okJSON(&devs, "devices")
		names := map[string]bool{}
		for _, dev := range devs {
			names[dev.Name] = true
		}
		if len(devs) != 2 || !names["Sam's phone"] || !names[client.DeviceNameFit(host)] {
			t.Fatalf("devices list %+v; want Sam's phone and %q", devs, client.DeviceNameFit(host))
		}
	}
	items := b.list()
	if len(items) != n {
		t.Fatalf("device B lists %d entries, want %d", len(items), n)
	}
	for _, it := range items {
		if got := bodyText(t, it.Entry); got != want[it.ID] {
			t.Fatalf("entry %s on B: %q, want %q", it.ID, got, want[it.ID])
		}
	}
	ea, eb := a.exported(), b.exported()
	if len(ea) != n || len(eb) != n {
		t.Fatalf("exports: A %d, B %d", len(ea), len(eb))
	}
	for id, doc := range ea {
		if eb[id] != doc {
			t.Fatalf("entry %s differs between devices:\nA %s\nB %s", id, doc, eb[id])
		}
	}

	// The other account sees none of it.
	other.ok("sync")
	if items := other.list(); len(items) != 0 {
		t.Fatalf("the other account sees %d entries", len(items))
	}
}

func TestConflictSurfacesAndResolves(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", kit)
	var added struct{ ID string }
	a.okJSON(&added, "add", "checkin", "--mood", "5", "--note", "first")
	id := added.ID
	a.ok("sync")
	b := newDevice(t, passA)
	b.ok("login", "--kit", kit)
	b.ok("sync")

	// Both edit the entry offline.
	srv.stop()
	a.ok("edit", id, "--note", "from A")
	b.ok("edit", id, "--note", "from B", "--mood", "3")
	srv.restart()
	a.ok("sync")
	r := b.ok("sync")
	if !strings.Contains(r.stdout, "both versions are kept") {
		t.Fatalf("B's sync did not report the conflict:\n%s", r.stdout)
	}
	if st := b.status(); st.Conflicts != 1 {
		t.Fatalf("B status: %+v", st)
	}
	var cs []conflictJSON
	b.okJSON(&cs, "conflicts")
	if len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("conflicts: %+v", cs)
	}
	if l, rm := string(cs[0].Local.View.Entry), string(cs[0].Remote.View.Entry); !strings.Contains(l, `"from B"`) || !strings.Contains(rm, `"from A"`) {
		t.Fatalf("conflict versions:\nlocal  %s\nremote %s", l, rm)
	}
	if r := b.run("edit", id, "--note", "x"); r.code == 0 || !strings.Contains(r.stderr, "conflict") {
		t.Fatalf("edit during a conflict: exit %d %s", r.code, r.stderr)
	}

	// Keep B's version, with one field merged in; the resolution reaches A.
	b.ok("resolve", id, "--keep", "local", "--energy", "6")
	b.ok("sync")
	if st := b.status(); st.Conflicts != 0 || st.Pending != 0 {
		t.Fatalf("B after resolving: %+v", st)
	}
	a.ok("sync")
	var shown entryView
	a.okJSON(&shown, "show", id)
	var e struct {
		Body map[string]any `json:"body"`
	}
	json.Unmarshal(shown.Entry, &e)
	if e.Body["note"] != "from B" || e.Body["mood"] != float64(3) || e.Body["energy"] != float64(6) || shown.Revision != 3 {
		t.Fatalf("A sees revision %d: %v", shown.Revision, e.Body)
	}
	db := srv.db(false)
	if got := count(t, db, `SELECT revision FROM records`); got != 3 {
		t.Fatalf("server revision %d, want 3", got)
	}
}

func TestTamperedEnvelopeIsRejected(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", kit)
	var good, bad struct{ ID string }
	a.okJSON(&good, "add", "journal", "--text", "untouched")
	a.okJSON(&bad, "add", "journal", "--text", "to be tampered with")
	a.ok("sync")

	// Flip one bit in the middle of the stored envelope.
	db := srv.db(true)
	var id, env []byte
	rows, err := db.Query(`SELECT id, envelope FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rid, renv []byte
		rows.Scan(&rid, &renv)
		if ulidString(rid) == bad.ID {
			id, env = rid, renv
		}
	}
	rows.Close()
	if id == nil {
		t.Fatal("tampered record not found on the server")
	}
	env[len(env)/2] ^= 0x01
	if _, err := db.Exec(`UPDATE records SET envelope = ? WHERE id = ?`, env, id); err != nil {
		t.Fatal(err)
	}

	c := newDevice(t, passA)
	c.ok("login", "--kit", kit)
	r := c.run("sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "REJECTED "+bad.ID) || !strings.Contains(r.stdout, "Check failed") {
		t.Fatalf("sync of a tampered envelope: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if st := c.status(); st.Invalid != 1 || st.Entries != 1 {
		t.Fatalf("status: %+v", st)
	}
	if r := c.run("show", bad.ID); r.code == 0 {
		t.Fatalf("the tampered entry was stored: %s", r.stdout)
	}
	var shown entryView
	c.okJSON(&shown, "show", good.ID)
	if bodyText(t, shown.Entry) != "untouched" {
		t.Fatal("the good entry is wrong")
	}
}

func TestRecoveryAndPassphrases(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	const oldPass, newPass = "first passphrase here", "second passphrase, recovered"
	a := newDevice(t, oldPass)
	a.ok("signup", "--server", srv.url(), "--kit", kit)
	var added struct{ ID string }
	a.okJSON(&added, "add", "journal", "--text", "before recovery")
	a.ok("sync")

	// A wrong passphrase says so.
	r := a.runEnv([]string{"INTERLUDE_PASSPHRASE=not it at all"}, "list")
	if r.code != exitError || !strings.Contains(r.stderr, "wrong passphrase") || !strings.Contains(r.stderr, "recover") {
		t.Fatalf("wrong passphrase: exit %d: %s", r.code, r.stderr)
	}

	// Recovery with the kit's recovery code sets a new passphrase.
	rec := newDevice(t, newPass)
	rec.ok("recover", "--kit", kit)
	rec.ok("sync")
	if items := rec.list(); len(items) != 1 || bodyText(t, items[0].Entry) != "before recovery" {
		t.Fatalf("recovered device: %+v", items)
	}
	old := newDevice(t, oldPass)
	if r := old.run("login", "--kit", kit); r.code == 0 || !strings.Contains(r.stderr, "did not accept") {
		t.Fatalf("login with the old passphrase after recovery: exit %d: %s", r.code, r.stderr)
	}
	fresh := newDevice(t, newPass)
	fresh.ok("login", "--kit", kit)
	fresh.ok("sync")
	if items := fresh.list(); len(items) != 1 {
		t.Fatalf("fresh device lists %d", len(items))
	}

	// Changing the passphrase re-wraps the keybag: the old one stops unlocking.
	pf := filepath.Join(t.TempDir(), "new-pass")
	os.WriteFile(pf, []byte("third passphrase now\n"), 0o600)
	fresh.ok("passphrase", "--new-passphrase-file", pf)
	if r := fresh.run("list"); r.code == 0 {
		t.Fatal("the replaced passphrase still unlocks")
	}
	fresh.pass = "third passphrase now"
	fresh.ok("list")
	fresh.ok("sync")
	if r := newDevice(t, "third passphrase now").run("login", "--kit", kit); r.code != 0 {
		t.Fatalf("login with the changed passphrase: %s", r.stderr)
	}
}

func TestWatchAppliesLiveChanges(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	a := newDevice(t, passA)
	a.ok("signup", "--server", srv.url(), "--kit", kit)
	b := newDevice(t, passA)
	b.ok("login", "--kit", kit)

	cmd := b.command(nil, "sync", "--watch", "--json")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "the watcher's first round", 30*time.Second, func() bool { return strings.Contains(out.String(), `"pulled"`) })

	var added struct{ ID string }
	a.okJSON(&added, "add", "journal", "--text", "live")
	a.ok("sync")
	waitFor(t, "the change to reach the watching device", 30*time.Second, func() bool {
		return strings.Contains(out.String(), `"pulled":1`)
	})
	// And B's own additions leave without a manual sync.
	var fromB struct{ ID string }
	b.okJSON(&fromB, "add", "journal", "--text", "from the watching device")
	db := srv.db(false)
	waitFor(t, "B's entry on the server", 30*time.Second, func() bool {
		return count(t, db, `SELECT count(*) FROM records`) == 2
	})
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGINT: %v\n%s", err, out.String())
	}
	a.ok("sync")
	if items := a.list(); len(items) != 2 {
		t.Fatalf("A lists %d", len(items))
	}
}

func TestUsageAndErrors(t *testing.T) {
	t.Parallel()
	d := newDevice(t, passA)
	if r := d.run(); r.code != exitUsage {
		t.Fatalf("no command: exit %d", r.code)
	}
	if r := d.run("frobnicate"); r.code != exitUsage || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: %d %s", r.code, r.stderr)
	}
	if r := d.run("status"); r.code != exitError || !strings.Contains(r.stderr, "signup") {
		t.Fatalf("status without an account: %d %s", r.code, r.stderr)
	}
	if r := d.run("signup", "--server", "ws://127.0.0.1:1", "--kit", filepath.Join(t.TempDir(), "k")); r.code != exitError || !strings.Contains(r.stderr, "nothing was created") {
		t.Fatalf("signup offline: %d %s", r.code, r.stderr)
	}
	if r := d.run("add"); r.code != exitUsage || !strings.Contains(r.stderr, "checkin") {
		t.Fatalf("add without a kind: %d %s", r.code, r.stderr)
	}
	if r := d.run("help"); r.code != 0 || !strings.Contains(r.stdout, "signup") {
		t.Fatalf("help: %d", r.code)
	}
	// A stray argument is a mistake to report, not to ignore (e.g. `sync now`).
	for _, cmd := range []string{"status", "sync", "conflicts", "export", "passphrase", "signout"} {
		if r := d.run(cmd, "stray"); r.code != exitUsage || !strings.Contains(r.stderr, `unexpected argument "stray"`) {
			t.Errorf("%s with a stray argument: exit %d %s", cmd, r.code, r.stderr)
		}
	}

	srv := startServer(t)
	d.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	if r := d.run("add", "checkin", "--mood", "11"); r.code != exitUsage || !strings.Contains(r.stderr, "--mood") {
		t.Fatalf("invalid field: %d %s", r.code, r.stderr)
	}
	// Long text from stdin.
	cmd := d.command(nil, "add", "journal", "--json")
	cmd.Stdin = strings.NewReader("line one\nline two, with a comma\n")
	outb, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var added struct{ ID string }
	json.Unmarshal(outb, &added)
	var shown entryView
	d.okJSON(&shown, "show", added.ID)
	if got := bodyText(t, shown.Entry); got != "line one\nline two, with a comma" {
		t.Fatalf("text from stdin: %q", got)
	}
	// An edit changes only the field it names (unknown members: fields_test.go).
	d.ok("edit", added.ID, "--title", "Tuesday")
	d.okJSON(&shown, "show", added.ID)
	if bodyText(t, shown.Entry) != "line one\nline two, with a comma" || !strings.Contains(string(shown.Entry), `"Tuesday"`) {
		t.Fatalf("after edit: %s", shown.Entry)
	}
	// Sign-out refuses while changes wait, then wipes.
	if r := d.run("signout"); r.code != exitError || !strings.Contains(r.stderr, "not yet synced") {
		t.Fatalf("signout with pending changes: %d %s", r.code, r.stderr)
	}
	d.ok("sync")
	d.ok("signout")
	if r := d.run("status"); r.code != exitError {
		t.Fatalf("status after signout: %d", r.code)
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ulidString(id []byte) string { return syncproto.RecordID(id).String() }
