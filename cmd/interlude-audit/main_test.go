package main

// End-to-end: the real interlude-server on a free loopback port with its data in a temp
// directory, the real interlude CLI signing up two accounts and writing entries that carry
// random canaries, and the real interlude-audit run on a copy of the server's files and its
// captured log — first clean (pass), then on copies corrupted in each way the checks exist
// for (each must fail with the right check named).

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/oklog/ulid/v2"
	_ "modernc.org/sqlite"

	"interlude/crypto"
	"interlude/internal/e2etest"
)

func TestMain(m *testing.M) { e2etest.Main(m) }

// auditResult is one run of the real interlude-audit binary.
type auditResult struct {
	code   int
	stdout string
	stderr string
	report map[string]any
}

func runAudit(t *testing.T, args ...string) auditResult {
	t.Helper()
	res := e2etest.Run(t, exec.Command(e2etest.Binary(t, "interlude-audit"), args...))
	r := auditResult{code: res.Code, stdout: res.Stdout, stderr: res.Stderr}
	if slices.Contains(args, "--json") && r.code != 2 {
		if err := json.Unmarshal([]byte(r.stdout), &r.report); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, r.stdout)
		}
	}
	return r
}

// failed returns the names of the failed checks in a JSON report, each once, sorted.
func (r auditResult) failed() []string {
	var out []string
	checks, _ := r.report["checks"].([]any)
	for _, c := range checks {
		m := c.(map[string]any)
		if m["status"] == "fail" && !slices.Contains(out, m["name"].(string)) {
			out = append(out, m["name"].(string))
		}
	}
	slices.Sort(out)
	return out
}

func TestUsageAndExitCodes(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "--data DIR is required"},
		{[]string{"--data", filepath.Join(empty, "missing")}, 2, "not a readable directory"},
		{[]string{"--data", empty}, 2, "no SQLite database"},
		{[]string{"--data", empty, "--canary", "short"}, 2, "at least 8"},
		{[]string{"--data", empty, "--canary-file", filepath.Join(empty, "none.txt")}, 2, "--canary-file"},
		{[]string{"--data", empty, "stray"}, 2, "unexpected argument"},
		{[]string{"--help"}, 0, ""},
	} {
		r := runAudit(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("interlude-audit %q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// device is one interlude profile.
type device struct {
	t    *testing.T
	home string
	pass string
}

func newDevice(t *testing.T) *device {
	return &device{t: t, home: filepath.Join(t.TempDir(), "home"), pass: "correct horse battery " + newCanary()[:6]}
}

// run runs the real CLI and fails the test unless it exits 0; it returns stdout.
func (d *device) run(args ...string) string {
	d.t.Helper()
	r := e2etest.Run(d.t, e2etest.Client(d.t, d.home, d.pass, args...))
	if r.Code != 0 {
		d.t.Fatalf("interlude %q: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// add runs an add command with --json and returns the new entry's ID.
func (d *device) add(args ...string) string {
	d.t.Helper()
	var r struct{ ID string }
	if err := json.Unmarshal([]byte(d.run(append(args, "--json")...)), &r); err != nil || r.ID == "" {
		d.t.Fatalf("interlude %q: no ID in the output: %v", args, err)
	}
	return r.ID
}

// newCanary returns a unique random canary: 26 lowercase letters and digits.
func newCanary() string {
	b := make([]byte, 15)
	rand.Read(b)
	return "zq" + strings.ToLower(base32.StdEncoding.EncodeToString(b))[:24]
}

// e2eWorld is the server's data after a realistic session, and the canaries written.
type e2eWorld struct {
	data, logs string
	canaries   []string
	canaryFile string
}

// buildWorld drives the real binaries: two accounts (one on two devices) write journal
// entries, check-ins and session prep carrying canaries in every field, edit and delete some,
// and sync; then the server is stopped with SIGTERM.
func buildWorld(t *testing.T) *e2eWorld {
	root := t.TempDir()
	w := &e2eWorld{data: filepath.Join(root, "data"), logs: filepath.Join(root, "logs")}
	if err := os.MkdirAll(w.logs, 0o700); err != nil {
		t.Fatal(err)
	}
	// Debug level: the most the server ever logs is what the audit must vouch for.
	srv := e2etest.StartServer(t, e2etest.ServerConfig{
		Data:     w.data,
		LogFile:  filepath.Join(w.logs, "interlude-server.log"),
		LogLevel: "debug",
	})
	url := srv.URL()
	c := func() string {
		s := newCanary()
		w.canaries = append(w.canaries, s)
		return s
	}
	a, b := newDevice(t), newDevice(t)
	kitA := filepath.Join(t.TempDir(), "kit-a.txt")
	a.run("signup", "--server", url, "--kit", kitA)
	b.run("signup", "--server", url, "--kit", filepath.Join(t.TempDir(), "kit-b.txt"))

	var edit, del []string
	for i := range 6 {
		id := a.add("add", "journal", "--title", c(), "--text", "Session notes "+c()+" and more "+strings.Repeat("words ", i*300), "--tags", c()+","+c())
		switch i {
		case 1, 4:
			edit = append(edit, id)
		case 2:
			del = append(del, id)
		}
	}
	for i := range 4 {
		id := a.add("add", "checkin", "--mood", fmt.Sprint(3+i), "--note", "felt "+c(), "--emotions", c(), "--triggers", c())
		if i == 0 {
			del = append(del, id)
		}
	}
	a.add("add", "session_prep", "--topics", c(), "--questions", c())
	a.run("sync")
	for _, id := range edit {
		a.run("edit", id, "--text", "Rewritten "+c())
	}
	for _, id := range del {
		a.run("delete", id)
	}
	a.run("sync")

	for range 3 {
		b.add("add", "journal", "--text", "Other account "+c())
	}
	b.add("add", "checkin", "--mood", "7", "--note", c())
	b.run("sync")

	// A (the client) pairs in person with B (the clinician), with names that are canaries
	// too, and shares one entry in full and one check-in as scores only: the clean run then
	// verifies real grants (and a scores-only copy) made by the real client.
	var inv struct{ Code string }
	if err := json.Unmarshal([]byte(b.run("pair", "invite", "--name", "Dr "+c(), "--json")), &inv); err != nil || inv.Code == "" {
		t.Fatalf("pair invite: no code (%v)", err)
	}
	a.run("pair", "accept", inv.Code, "--name", "Client "+c())
	b.run("sync")
	a.run("sync")
	var contacts []struct{ Name string }
	if err := json.Unmarshal([]byte(a.run("contacts", "--json")), &contacts); err != nil || len(contacts) != 1 {
		t.Fatalf("contacts after pairing: %v %v", contacts, err)
	}
	dr := contacts[0].Name
	full := a.add("add", "journal", "--text", "For my clinician "+c())
	scores := a.add("add", "checkin", "--mood", "5", "--anxiety", "6", "--note", "private "+c())
	a.run("share", full, "--with", dr)
	a.run("share", scores, "--with", dr, "--scores-only")
	a.run("sync")
	b.run("sync")

	// A second device of account A logs in with the kit and pulls everything.
	a2 := &device{t: t, home: filepath.Join(t.TempDir(), "home-a2"), pass: a.pass}
	a2.run("login", "--kit", kitA, "--server", url)
	a2.run("sync")
	a2.add("add", "journal", "--text", "From the second device "+c())
	a2.run("sync")
	a.run("sync")

	if err := srv.Stop(); err != nil {
		t.Error(err)
	}
	w.canaryFile = filepath.Join(t.TempDir(), "canaries.txt")
	os.WriteFile(w.canaryFile, []byte(strings.Join(w.canaries, "\n")+"\n"), 0o600)
	return w
}

// copyTree copies a directory (a data or logs copy for one corruption).
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o700)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func openDB(t *testing.T, dir, extra string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "interlude.db")+"?_pragma=foreign_keys(0)"+extra)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// envelopeHash is storage/sqlite's records.envelope_hash, recomputed so that a corruption
// changes only what it means to.
func envelopeHash(env, ownerKey []byte) []byte {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(env))))
	h.Write(env)
	h.Write(ownerKey)
	return h.Sum(nil)
}

// liveRecord returns one live record's ID, owner, revision, envelope and owner key.
func liveRecord(t *testing.T, db *sql.DB) (id, owner []byte, rev int64, env, ownerKey []byte) {
	t.Helper()
	if err := db.QueryRow("SELECT id, owner, revision, envelope, owner_key FROM records WHERE deleted = 0 ORDER BY length(envelope) DESC LIMIT 1").
		Scan(&id, &owner, &rev, &env, &ownerKey); err != nil {
		t.Fatal(err)
	}
	return
}

func TestEndToEnd(t *testing.T) {
	w := buildWorld(t)
	if len(w.canaries) < 30 {
		t.Fatalf("only %d canaries planted", len(w.canaries))
	}
	// The server's own directory must not be written by the audit: audit it in place once
	// (read-only), then work on copies.
	before := treeDigest(t, w.data)
	clean := runAudit(t, "--data", w.data, "--canary-file", w.canaryFile, "--logs", w.logs)
	if after := treeDigest(t, w.data); after != before {
		t.Fatalf("the audit changed the data directory")
	}
	if clean.code != 0 {
		t.Fatalf("clean run: exit %d\n%s%s", clean.code, clean.stdout, clean.stderr)
	}
	t.Logf("clean run of the real binaries:\n%s", clean.stdout)
	js := runAudit(t, "--data", w.data, "--canary-file", w.canaryFile, "--logs", w.logs, "--json")
	if js.code != 0 || js.report["pass"] != true || len(js.failed()) != 0 {
		t.Fatalf("clean --json run: exit %d, failed %v", js.code, js.failed())
	}
	checkFigures(t, js.report, len(w.canaries))

	canary := w.canaries[len(w.canaries)/2]
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, data, logs string) string // returns the data dir to audit
		want    []string
	}{
		{"plaintext column", func(t *testing.T, data, _ string) string {
			db := openDB(t, data, "")
			defer db.Close()
			mustExec(t, db, "ALTER TABLE records ADD COLUMN title TEXT")
			mustExec(t, db, "UPDATE records SET title = 'Tuesday'")
			return data
		}, []string{"schema"}},
		{"plaintext blob", func(t *testing.T, data, _ string) string {
			db := openDB(t, data, "")
			defer db.Close()
			id, _, _, _, ok := liveRecord(t, db)
			pt := []byte(`{"v":1,"kind":"journal","body":{"title":"Tuesday","text":"` + canary + ` I felt anxious"}}`)
			mustExec(t, db, "UPDATE records SET envelope = ?, envelope_hash = ? WHERE id = ?", pt, envelopeHash(pt, ok), id)
			return data
		}, []string{"canaries", "envelopes", "plaintext"}},
		{"unpadded blob", func(t *testing.T, data, _ string) string {
			// Six bytes cut from the ciphertext: a well-formed envelope off every bucket
			// (and, having no key, the auditor cannot re-sign it).
			db := openDB(t, data, "")
			defer db.Close()
			id, _, _, env, ok := liveRecord(t, db)
			cut := append(append([]byte{}, env[:len(env)-64-6]...), env[len(env)-64:]...)
			mustExec(t, db, "UPDATE records SET envelope = ?, envelope_hash = ? WHERE id = ?", cut, envelopeHash(cut, ok), id)
			return data
		}, []string{"signatures", "sizes"}},
		{"forged grant", func(t *testing.T, data, _ string) string {
			// A server injecting a "shared" entry: a well-formed grant of one account's
			// record to the other, signed by a key that is not the owner's.
			db := openDB(t, data, "")
			defer db.Close()
			id, owner, rev, _, _ := liveRecord(t, db)
			var recipient, bundle []byte
			if err := db.QueryRow("SELECT id, bundle FROM accounts WHERE id != ? LIMIT 1", owner).Scan(&recipient, &bundle); err != nil {
				t.Fatal(err)
			}
			pb, err := crypto.ParsePublicBundle(bundle)
			if err != nil {
				t.Fatal(err)
			}
			mallory, _ := crypto.NewIdentity()
			copy(mallory.Account[:], owner) // claims to be the owner
			_, ek, _ := crypto.SealEntry(mallory, crypto.RecordID(id), uint64(rev), []byte("x"))
			g, err := crypto.SignGrant(mallory, crypto.GrantTerms{Record: crypto.RecordID(id), Revision: uint64(rev),
				Recipient: pb.Account, RecipientKey: pb.Share}, ek)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, "INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, 0, ?)", id, recipient, rev, g)
			return data
		}, []string{"signatures"}},
		{"canary in the WAL", func(t *testing.T, data, _ string) string {
			// A device label briefly held a canary (UTF-16), then was put back: the database
			// is clean, the old frame lingers in the -wal file of a live copy.
			db := openDB(t, data, "&_pragma=wal_autocheckpoint(0)")
			defer db.Close()
			var acct, dev, label []byte
			if err := db.QueryRow("SELECT account, id, label FROM devices LIMIT 1").Scan(&acct, &dev, &label); err != nil {
				t.Fatal(err)
			}
			u := utf16.Encode([]rune("Sam's phone " + canary))
			b := make([]byte, 0, 2*len(u))
			for _, x := range u {
				b = append(b, byte(x), byte(x>>8))
			}
			mustExec(t, db, "UPDATE devices SET label = ? WHERE account = ? AND id = ?", b, acct, dev)
			mustExec(t, db, "UPDATE devices SET label = ? WHERE account = ? AND id = ?", append([]byte{}, label...), acct, dev)
			live := copyTree(t, data) // while the connection is open: the WAL is in the copy
			if fi, err := os.Stat(filepath.Join(live, "interlude.db-wal")); err != nil || fi.Size() == 0 {
				t.Fatalf("no WAL in the copy (%v)", err)
			}
			return live
		}, []string{"canaries"}},
		{"millisecond record ID", func(t *testing.T, data, _ string) string {
			db := openDB(t, data, "")
			defer db.Close()
			id, _, _, _, _ := liveRecord(t, db)
			ms := ulid.Make()
			for _, q := range []string{"UPDATE records SET id = ? WHERE id = ?", "UPDATE changes SET record = ? WHERE record = ?", "UPDATE grants SET record = ? WHERE record = ?"} {
				mustExec(t, db, q, ms[:], id)
			}
			return data
		}, []string{"signatures", "time"}}, // the envelope still names its real ID
		{"un-coarsened time", func(t *testing.T, data, _ string) string {
			db := openDB(t, data, "")
			defer db.Close()
			mustExec(t, db, "UPDATE records SET received_hour = received_hour + 1234 WHERE rowid = (SELECT min(rowid) FROM records)")
			return data
		}, []string{"time"}},
		{"log with a canary", func(t *testing.T, data, logs string) string {
			f, err := os.OpenFile(filepath.Join(logs, "interlude-server.log"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "time=2026-03-02T10:00:00Z level=ERROR msg=\"request failed\" err=\"bad entry %s\"\n", canary)
			f.Close()
			return data
		}, []string{"logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, logs := copyTree(t, w.data), copyTree(t, w.logs)
			dir := tc.corrupt(t, data, logs)
			r := runAudit(t, "--data", dir, "--canary-file", w.canaryFile, "--logs", logs, "--json")
			if r.code != 1 || !slices.Equal(r.failed(), tc.want) {
				text := runAudit(t, "--data", dir, "--canary-file", w.canaryFile, "--logs", logs)
				t.Fatalf("exit %d, failed %v; want exit 1, failed %v\n%s%s", r.code, r.failed(), tc.want, text.stdout, r.stderr)
			}
		})
	}
}

// checkFigures checks the clean report's headline figures.
func checkFigures(t *testing.T, rep map[string]any, canaries int) {
	t.Helper()
	if n := int(rep["canaries"].(float64)); n != canaries {
		t.Errorf("report counts %d canaries, %d were planted", n, canaries)
	}
	find := func(name string) map[string]any {
		for _, c := range rep["checks"].([]any) {
			if m := c.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("no %s check", name)
		return nil
	}
	for _, name := range []string{"controls", "schema", "columns", "envelopes", "sizes", "uniqueness", "signatures", "time", "canaries", "plaintext", "logs"} {
		if s := find(name)["status"]; s != "pass" {
			t.Errorf("%s: %v", name, s)
		}
	}
	ctl := find("controls")["figures"].(map[string]any)
	if found, total, ok := strings.Cut(fmt.Sprint(ctl["canary_patterns_found"]), "/"); !ok || found != total || total == "0" {
		t.Errorf("positive control found %v canary patterns", ctl["canary_patterns_found"])
	}
	env := find("envelopes")["figures"].(map[string]any)
	if env["parsed"].(map[string]any)["envelope"].(float64) < 10 {
		t.Errorf("too few envelopes parsed: %v", env["parsed"])
	}
	sig := find("signatures")["figures"].(map[string]any)["verified"].(map[string]any)
	if sig["envelopes"].(float64) < 10 || sig["bundles"].(float64) != 2 || sig["grants"] == nil || sig["grants"].(float64) < 2 {
		t.Errorf("verified %v", sig)
	}
	if logs := find("logs")["figures"].(map[string]any); logs["files"].(float64) != 1 || logs["bytes"].(float64) == 0 {
		t.Errorf("logs figures %v", logs)
	}
}

func treeDigest(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		fi, _ := d.Info()
		fmt.Fprintf(&b, "%s %x %d; ", p, h.Sum(nil), fi.ModTime().UnixNano())
		return nil
	})
	return b.String()
}
