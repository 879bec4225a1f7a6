package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"interlude/crypto"
	"interlude/storage/sqlite"
	"interlude/syncproto"
)

func TestCleanPasses(t *testing.T) {
	f := buildFixture(t, 120)
	rep := runAudit(t, Options{DataDir: f.dir, Canaries: f.canaries})
	expectFailed(t, rep)
	if c := rep.Check(CheckSignatures, ""); c.Figures.Get("verified").(map[string]int)["grants"] == 0 {
		t.Error("the fixture has no grants: the grant checks were not exercised")
	}
	for _, c := range rep.Checks {
		if c.Name != CheckLogs && c.Status != StatusPass {
			t.Errorf("%s: %s", c.Label(), c.Status)
		}
	}
}

// TestCleanLargeNoFalsePositives is T10's "0 false positives": a real database with more
// than 1,000 envelopes (and their owner keys, grants and keybags) passes every check.
func TestCleanLargeNoFalsePositives(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1,200 envelopes")
	}
	f := buildFixture(t, 1200)
	logs := t.TempDir()
	os.WriteFile(filepath.Join(logs, "server.log"), []byte("time=2026-03-02T10:00:00Z level=INFO msg=\"database open\" path=/var/lib/interlude/interlude.db\n"), 0o600)
	rep := runAudit(t, Options{DataDir: f.dir, Canaries: f.canaries, LogsDir: logs})
	expectFailed(t, rep)
	env := rep.Check(CheckEnvelopes, "")
	per := env.Figures.Get("chi2_per_blob").(map[string]stats)
	if per["envelope"].N < 1000 {
		t.Fatalf("only %d envelopes tested", per["envelope"].N)
	}
	t.Logf("envelopes: %s", env.Summary)
	t.Logf("sizes: %s", rep.Check(CheckSizes, "").Summary)
}

func TestSchemaMutations(t *testing.T) {
	f := buildFixture(t, 40)
	for _, tc := range []struct {
		name  string
		sql   []string
		where string
	}{
		{"extra plaintext column", []string{"ALTER TABLE records ADD COLUMN title TEXT", "UPDATE records SET title = 'Tuesday'"}, "records.title"},
		{"full-text index", []string{"CREATE VIRTUAL TABLE entry_search USING fts5(body)", "INSERT INTO entry_search (body) VALUES ('x')"}, "entry_search"},
		{"trigger", []string{"CREATE TRIGGER copy_out AFTER INSERT ON records BEGIN SELECT 1; END"}, "copy_out"},
		{"view", []string{"CREATE VIEW v AS SELECT id FROM records"}, "v"},
		{"extra table", []string{"CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)"}, "notes"},
		{"expression index", []string{"CREATE INDEX records_len ON records (length(envelope))"}, "records_len"},
		{"changed column type", []string{"DROP INDEX grants_expires", "ALTER TABLE grants RENAME COLUMN expires TO expires_old", "ALTER TABLE grants ADD COLUMN expires INTEGER NOT NULL DEFAULT 0"}, "grants.expires_old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, f.dir)
			db := openRW(t, dir)
			for _, q := range tc.sql {
				exec(t, db, q)
			}
			db.Close()
			rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
			if tc.name == "changed column type" {
				// The renamed column also hides the expiry the grants sign, and without
				// secure_delete the old CREATE statements linger in the file as text.
				expectFailed(t, rep, CheckSchema, CheckSignatures, CheckPlaintext)
			} else {
				expectFailed(t, rep, CheckSchema)
			}
			if !hasFinding(rep, CheckSchema, tc.where) {
				t.Errorf("no schema finding names %s", tc.where)
			}
		})
	}
}

func hasFinding(rep *Report, check, s string) bool {
	for _, c := range rep.Checks {
		if c.Name != check {
			continue
		}
		for _, f := range c.Findings {
			if strings.Contains(f.Where+" "+f.Message+" "+f.File, s) {
				return true
			}
		}
	}
	return false
}

func TestPlaintextBlob(t *testing.T) {
	f := buildFixture(t, 40)
	r := f.live(3)
	t.Run("JSON in place of an envelope", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		db := openRW(t, dir)
		setEnvelope(t, db, r, entryJSON(300, f.canaries[5]))
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckEnvelopes, CheckPlaintext, CheckCanaries)
		if !hasFinding(rep, CheckEnvelopes, "version byte 0x7b") {
			t.Error("the envelopes finding does not say why")
		}
	})
	t.Run("signed but not encrypted", func(t *testing.T) {
		// A client that forgot to encrypt: a well-formed, correctly signed envelope whose
		// "ciphertext" is the padded JSON. Only the uniformity test can tell.
		dir := copyDir(t, f.dir)
		pt := entryJSON(600, "no canary here")
		ct := make([]byte, crypto.PaddedLength(len(pt))+16)
		copy(ct, pt)
		ct[len(pt)] = 0x80
		nonce := make([]byte, 24)
		rand.Read(nonce)
		e, _ := splitEnvelope(r.env)
		env := craftEnvelope(r.owner, r.id, r.revision, e.KeyCommitment[:], nonce, ct)
		db := openRW(t, dir)
		setEnvelope(t, db, r, env)
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckEnvelopes, CheckPlaintext)
		if !hasFinding(rep, CheckEnvelopes, "χ²") {
			t.Error("no χ² finding")
		}
	})
}

func TestUnpaddedEnvelope(t *testing.T) {
	f := buildFixture(t, 40)
	r := f.live(4)
	e, _ := splitEnvelope(r.env)
	ct := make([]byte, 1030+16) // padded length 1030: no bucket (1024 and 1088 are)
	rand.Read(ct)
	env := craftEnvelope(r.owner, r.id, r.revision, e.KeyCommitment[:], ct[:24], ct)
	dir := copyDir(t, f.dir)
	db := openRW(t, dir)
	setEnvelope(t, db, r, env)
	db.Close()
	rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
	expectFailed(t, rep, CheckSizes)
	if !hasFinding(rep, CheckSizes, "1030") {
		t.Error("the sizes finding does not name the length")
	}
}

func TestForgedGrant(t *testing.T) {
	f := buildFixture(t, 40)
	t.Run("flipped signature byte", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		record, recipient, blob := f.grantRow(t, dir)
		blob[len(blob)-10] ^= 0x01
		db := openRW(t, dir)
		exec(t, db, "UPDATE grants SET blob = ? WHERE record = ? AND recipient = ?", blob, record, recipient)
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckSignatures)
		if !hasFinding(rep, CheckSignatures, "does not verify against the grantor") {
			t.Error("no finding says the grant signature fails")
		}
	})
	t.Run("signed by someone else", func(t *testing.T) {
		// A server injecting a "shared" entry: a well-formed grant signed by another key.
		dir := copyDir(t, f.dir)
		r, mallory, victim := f.live(0), newPerson(t, nil), f.people[2]
		_, ek, _ := crypto.SealEntry(mallory.id, crypto.RecordID(r.id), r.revision, []byte("x"))
		g, err := crypto.SignGrant(mallory.id, crypto.GrantTerms{Record: crypto.RecordID(r.id), Revision: r.revision,
			Recipient: victim.id.Account, RecipientKey: victim.id.Share.Public()}, ek)
		if err != nil {
			t.Fatal(err)
		}
		db := openRW(t, dir)
		exec(t, db, "DELETE FROM grants WHERE record = ? AND recipient = ?", r.id[:], victim.id.Account[:])
		exec(t, db, "INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, 0, ?)", r.id[:], victim.id.Account[:], r.revision, g)
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckSignatures)
		if !hasFinding(rep, CheckSignatures, "but the record belongs to") {
			t.Error("no finding names the wrong grantor")
		}
	})
	t.Run("grant of a missing record", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		record, recipient, _ := f.grantRow(t, dir)
		db := openRW(t, dir)
		exec(t, db, "DELETE FROM records WHERE id = ?", record)
		exec(t, db, "DELETE FROM changes WHERE record = ?", record)
		db.Close()
		_ = recipient
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckSignatures)
		if !hasFinding(rep, CheckSignatures, "which does not exist") {
			t.Error("no finding names the missing record")
		}
	})
}

func TestDuplicateNonce(t *testing.T) {
	f := buildFixture(t, 40)
	a, b := f.live(1), f.live(2)
	if a.owner != b.owner {
		b = f.live(3)
	}
	ea, _ := splitEnvelope(a.env)
	eb, _ := splitEnvelope(b.env)
	env := craftEnvelope(b.owner, b.id, b.revision, eb.KeyCommitment[:], ea.Nonce[:], eb.Ciphertext)
	dir := copyDir(t, f.dir)
	db := openRW(t, dir)
	setEnvelope(t, db, b, env)
	db.Close()
	rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
	expectFailed(t, rep, CheckUniqueness)
	if !hasFinding(rep, CheckUniqueness, "this nonce") {
		t.Error("no finding names the nonce")
	}
}

func TestCanaryInWAL(t *testing.T) {
	f := buildFixture(t, 40)
	canary := f.canaries[7]
	t.Run("edited then reverted, left in the WAL", func(t *testing.T) {
		// A label briefly held a canary (UTF-16, as some clients write), then was put back.
		// The database is clean; the old frame is still in the write-ahead log.
		live := copyDir(t, f.dir)
		db, err := openWAL(live)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var dev, label []byte
		if err := db.QueryRow("SELECT id, label FROM devices WHERE length(label) > 0").Scan(&dev, &label); err != nil {
			t.Fatal(err)
		}
		exec(t, db, "UPDATE devices SET label = ? WHERE id = ?", utf16Bytes(canary, false), dev)
		exec(t, db, "UPDATE devices SET label = ? WHERE id = ?", label, dev)
		snap := copyDir(t, live) // as a backup tool copying a live server's directory would
		if fi, err := os.Stat(filepath.Join(snap, "interlude.db-wal")); err != nil || fi.Size() == 0 {
			t.Fatalf("no WAL in the copy: %v", err)
		}
		rep := runAudit(t, Options{DataDir: snap, Canaries: f.canaries})
		expectFailed(t, rep, CheckCanaries)
		if !hasFinding(rep, CheckCanaries, "interlude.db-wal") || !hasFinding(rep, CheckCanaries, "utf-16le") {
			t.Error("the canaries finding does not name the WAL and the encoding")
		}
	})
	t.Run("appended to the WAL", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		w, err := os.OpenFile(filepath.Join(dir, "interlude.db-wal"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "\x00\x00%s\x00", base64.StdEncoding.EncodeToString([]byte("note: "+canary+" ok")))
		w.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckCanaries, CheckPlaintext)
		if !hasFinding(rep, CheckCanaries, "base64/") {
			t.Error("the canary was not found as base64")
		}
	})
}

// openWAL opens a data directory's database with automatic checkpoints off, so that
// writes stay in the -wal file until the connection closes.
func openWAL(dir string) (*sqlDB, error) {
	return sqlOpen("file:" + filepath.Join(dir, "interlude.db") + "?_pragma=wal_autocheckpoint(0)&_pragma=foreign_keys(0)")
}

func TestTimeCoarseness(t *testing.T) {
	f := buildFixture(t, 40)
	t.Run("millisecond ULID", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		s, err := sqlite.Open(context.Background(), filepath.Join(dir, "interlude.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := f.people[0]
		id := syncproto.RecordID(ulid.Make()) // a plain ULID: millisecond time, monotonic entropy
		push(t, context.Background(), s, p, []syncproto.RecordPush{seal(t, p, id, 1, []byte("hi"), nil, time.Time{})}, f.now)
		s.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckTime)
		if !hasFinding(rep, CheckTime, "not a UTC midnight") {
			t.Error("no finding names the ULID")
		}
	})
	t.Run("un-coarsened hour", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		db := openRW(t, dir)
		exec(t, db, "UPDATE devices SET last_seen_hour = last_seen_hour + 1234")
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckTime)
		if !hasFinding(rep, CheckTime, "last_seen_hour") {
			t.Error("no finding names the column")
		}
	})
	t.Run("un-coarsened session minute", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		db := openRW(t, dir)
		exec(t, db, "UPDATE sessions SET created = created + 7")
		db.Close()
		expectFailed(t, runAudit(t, Options{DataDir: dir, Canaries: f.canaries}), CheckTime)
	})
	t.Run("time-based account IDs", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		s, err := sqlite.Open(context.Background(), filepath.Join(dir, "interlude.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			id := crypto.AccountID(ulid.Make())
			createAccount(t, context.Background(), s, newPerson(t, &id), f.now, nil)
		}
		s.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckTime)
		if !hasFinding(rep, CheckTime, "carry a creation time") {
			t.Error("no finding about time-based IDs")
		}
	})
}

func TestColumnAndFormatMutations(t *testing.T) {
	f := buildFixture(t, 40)
	weak := crypto.KDFParams{MemoryKiB: 1024, Time: 1, Threads: 1}
	for _, tc := range []struct {
		name  string
		sql   string
		args  []any
		check string
	}{
		{"fingerprint of something else", "UPDATE accounts SET fingerprint = randomblob(32) WHERE id IN (SELECT id FROM accounts LIMIT 1)", nil, CheckColumns},
		{"envelope hash of something else", "UPDATE records SET envelope_hash = randomblob(32) WHERE id IN (SELECT id FROM records WHERE deleted = 0 LIMIT 1)", nil, CheckColumns},
		{"short random ID", "UPDATE sessions SET device = randomblob(8)", nil, CheckColumns},
		{"flag out of range", "UPDATE devices SET revoked = 2", nil, CheckColumns},
		{"weak KDF parameters", "UPDATE accounts SET kdf_params = ? WHERE id IN (SELECT id FROM accounts LIMIT 1)", []any{weak.Marshal()}, CheckEnvelopes},
		{"keybag of the wrong kind", "UPDATE accounts SET recovery_keybag = keybag", nil, CheckEnvelopes},
		{"truncated owner key", "UPDATE records SET owner_key = substr(owner_key, 1, 40), envelope_hash = randomblob(32) WHERE deleted = 0", nil, CheckEnvelopes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, f.dir)
			db := openRW(t, dir)
			exec(t, db, tc.sql, tc.args...)
			db.Close()
			rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
			got := rep.FailedChecks()
			if len(got) == 0 || rep.Pass {
				t.Fatalf("nothing failed")
			}
			found := false
			for _, g := range got {
				found = found || g == tc.check
			}
			if !found {
				t.Fatalf("failed %v, want %s among them", got, tc.check)
			}
			switch tc.name {
			case "keybag of the wrong kind":
				expectFailed(t, rep, CheckEnvelopes) // an unparsed blob is not counted again by other checks
			case "truncated owner key":
				expectFailed(t, rep, CheckEnvelopes, CheckColumns)
			default:
				expectFailed(t, rep, tc.check)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	f := buildFixture(t, 40)
	env := f.live(2).env
	token := make([]byte, 32)
	rand.Read(token)
	clean := "time=2026-03-02T10:00:00.123Z level=INFO msg=\"database open\" component=storage path=/tmp/TestLogs123456/001/data/interlude.db schema_version=1\n" +
		"time=2026-03-02T10:00:01Z level=DEBUG msg=push event=push account=a7k3m9q2x4b8c1d5e6f7g8h9j0 items=3 duration=1.2ms\n"
	for _, tc := range []struct {
		name, log, want string
	}{
		{"clean", clean, ""},
		{"canary", clean + "level=WARN msg=\"bad entry\" text=\"" + f.canaries[3] + "\"\n", "canary #4"},
		{"envelope as base64", clean + "level=DEBUG msg=frame body=" + base64.StdEncoding.EncodeToString(env[:400]) + "\n", "records["},
		{"envelope as Go-quoted bytes", clean + fmt.Sprintf("level=DEBUG msg=frame body=%q\n", env[100:300]), "(as quoted)"},
		{"envelope as a byte list", clean + fmt.Sprintf("level=DEBUG msg=frame body=%v\n", env[200:300]), "(as decimal)"},
		{"session token", clean + "level=DEBUG msg=resume token=" + hex.EncodeToString(token) + "\n", "token-like"},
		{"raw envelope bytes", clean + string(env[500:700]) + "\n", "(as raw)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := t.TempDir()
			if err := os.WriteFile(filepath.Join(logs, "server.log"), []byte(tc.log), 0o600); err != nil {
				t.Fatal(err)
			}
			rep := runAudit(t, Options{DataDir: f.dir, Canaries: f.canaries, LogsDir: logs})
			if tc.want == "" {
				expectFailed(t, rep)
				return
			}
			expectFailed(t, rep, CheckLogs)
			if !hasFinding(rep, CheckLogs, tc.want) {
				var b bytes.Buffer
				rep.WriteText(&b)
				t.Errorf("no logs finding mentions %q\n%s", tc.want, b.String())
			}
		})
	}
	t.Run("gzipped rotated log", func(t *testing.T) {
		logs := t.TempDir()
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(clean + "msg=oops note=" + f.canaries[9] + "\n"))
		zw.Close()
		os.WriteFile(filepath.Join(logs, "server.log.1.gz"), b.Bytes(), 0o600)
		rep := runAudit(t, Options{DataDir: f.dir, Canaries: f.canaries, LogsDir: logs})
		expectFailed(t, rep, CheckLogs)
		if !hasFinding(rep, CheckLogs, "server.log.1.gz!") {
			t.Error("the canary inside the gzip file was not found")
		}
	})
}

func TestBackups(t *testing.T) {
	f := buildFixture(t, 40)
	t.Run("VACUUM INTO copy is audited as a database", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		db := openRW(t, dir)
		exec(t, db, "VACUUM INTO ?", filepath.Join(dir, "backup-2026-03-01.db"))
		db.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep)
		if len(rep.Databases) != 2 {
			t.Fatalf("databases %v, want the main one and the backup", rep.Databases)
		}
	})
	t.Run("old backup with a plaintext column", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		db := openRW(t, dir)
		backup := filepath.Join(dir, "backups", "old.bak")
		os.MkdirAll(filepath.Dir(backup), 0o700)
		exec(t, db, "VACUUM INTO ?", backup)
		db.Close()
		bdb, err := sqlOpen("file:" + backup)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, bdb, "ALTER TABLE records ADD COLUMN title TEXT")
		bdb.Close()
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckSchema)
		if c := rep.Check(CheckSchema, "backups/old.bak"); c == nil || c.Status != StatusFail {
			t.Error("the backup's schema check did not fail")
		}
		if c := rep.Check(CheckSchema, "interlude.db"); c == nil || c.Status != StatusPass {
			t.Error("the main database's schema check did not pass")
		}
	})
	t.Run("gzipped backup holding a canary", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(utf16Bytes("export: "+f.canaries[11], true))
		zw.Close()
		os.WriteFile(filepath.Join(dir, "export.json.gz"), b.Bytes(), 0o600)
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckCanaries)
		if !hasFinding(rep, CheckCanaries, "utf-16be") {
			t.Error("the canary in the gzip file was not found")
		}
	})
	t.Run("zstd backup cannot be searched", func(t *testing.T) {
		dir := copyDir(t, f.dir)
		os.WriteFile(filepath.Join(dir, "backup.db.zst"), append([]byte{0x28, 0xb5, 0x2f, 0xfd}, make([]byte, 100)...), 0o600)
		rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
		expectFailed(t, rep, CheckCanaries)
	})
}

func TestNeverWritesTheDataDirectory(t *testing.T) {
	f := buildFixture(t, 20)
	dir := copyDir(t, f.dir)
	// Leave a WAL with committed frames, the case where SQLite would write on open.
	db, err := openWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, db, "UPDATE devices SET last_seen_hour = last_seen_hour")
	exec(t, db, "UPDATE accounts SET created_day = created_day")
	snap := copyDir(t, dir)
	db.Close()
	before := treeDigest(t, snap)
	os.Chmod(snap, 0o500) // and the directory is read-only
	defer os.Chmod(snap, 0o700)
	rep := runAudit(t, Options{DataDir: snap, Canaries: f.canaries})
	expectFailed(t, rep)
	if after := treeDigest(t, snap); after != before {
		t.Fatalf("the data directory changed:\nbefore %s\nafter  %s", before, after)
	}
}

func treeDigest(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		fi, _ := d.Info()
		fmt.Fprintf(&b, "%s %d %x %v; ", d.Name(), len(data), sha256Sum(data), fi.ModTime().UnixNano())
		return nil
	})
	return b.String()
}

func TestUsageErrors(t *testing.T) {
	f := buildFixture(t, 5)
	for _, tc := range []Options{
		{},
		{DataDir: filepath.Join(f.dir, "nope")},
		{DataDir: f.dir, Canaries: []string{"short"}},
		{DataDir: f.dir, LogsDir: filepath.Join(f.dir, "nope")},
		{DataDir: f.dir, TempDir: f.dir},
	} {
		if _, err := Run(context.Background(), tc); !errors.Is(err, ErrUsage) {
			t.Errorf("%+v: err %v, want ErrUsage", tc, err)
		}
	}
	link := filepath.Join(t.TempDir(), "data-link")
	if err := os.Symlink(f.dir, link); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(context.Background(), Options{DataDir: link}); err != nil || !rep.Pass {
		t.Errorf("a symlinked data directory: err %v", err)
	}
	if ents, _ := os.ReadDir(f.dir); len(ents) != 1 {
		t.Errorf("the refused runs left files in the data directory: %v", ents)
	}
	empty := t.TempDir()
	if _, err := Run(context.Background(), Options{DataDir: empty}); err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("empty directory: err %v, want a could-not-read error", err)
	}
}

func TestULIDHelpers(t *testing.T) {
	id := syncproto.NewRecordID(time.Now())
	ms := binary.BigEndian.Uint64(append([]byte{0, 0}, id[:6]...))
	if ms%dayMillis != 0 {
		t.Fatalf("NewRecordID is not day-aligned: %d", ms)
	}
}

// TestDeviceLabelOfWrongSize: a device label that is not the fixed-size sealed format
// (here a sealed box whose size follows the name's length) fails the envelopes check.
func TestDeviceLabelOfWrongSize(t *testing.T) {
	f := buildFixture(t, 40)
	dir := copyDir(t, f.dir)
	db := openRW(t, dir)
	var dev, label []byte
	if err := db.QueryRow("SELECT id, label FROM devices WHERE length(label) > 0").Scan(&dev, &label); err != nil {
		t.Fatal(err)
	}
	short := make([]byte, 1+24+len("Sam's phone")+16)
	rand.Read(short)
	short[0] = 0x01
	exec(t, db, "UPDATE devices SET label = ? WHERE id = ?", short, dev)
	db.Close()
	rep := runAudit(t, Options{DataDir: dir, Canaries: f.canaries})
	expectFailed(t, rep, CheckEnvelopes)
	if !hasFinding(rep, CheckEnvelopes, "sealed label") {
		t.Error("the envelopes finding does not name the label")
	}
}
