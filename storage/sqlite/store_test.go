package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/storage"
	"interlude/syncproto"
)

var testNow = time.Date(2026, 11, 23, 14, 37, 21, 0, time.UTC)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func createAccount(t testing.TB, s *Store) syncproto.AccountID {
	t.Helper()
	a := storage.Account{ID: syncproto.NewAccountID(), KDFParams: randomBytes(40), Keybag: randomBytes(300),
		RecoveryKeybag: randomBytes(300), Bundle: randomBytes(1500), Created: testNow}
	rand.Read(a.Fingerprint[:])
	d := storage.Device{ID: syncproto.NewDeviceID(), Account: a.ID, Created: testNow, LastSeen: testNow}
	if err := s.CreateAccount(context.Background(), a, d); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a.ID
}

func newRecord(envelopeSize int) syncproto.RecordPush {
	return syncproto.RecordPush{Record: syncproto.NewRecordID(testNow), Revision: 1,
		Envelope: randomBytes(envelopeSize), OwnerKey: randomBytes(72)}
}

// setGroupHook installs a hook in the writer goroutine (so without a data race).
func setGroupHook(t *testing.T, s *Store, hook func(n int)) {
	t.Helper()
	err := s.submit(&job{ctx: t.Context(), raw: true, fn: func(*writer) error { s.groupHook = hook; return nil }})
	if err != nil {
		t.Fatal(err)
	}
}

// blockWriter makes the writer's next group wait until the returned function is called,
// and reports every group's size on sizes.
func blockWriter(t *testing.T, s *Store) (entered <-chan struct{}, release func(), sizes <-chan int) {
	in := make(chan struct{})
	out := make(chan struct{})
	sz := make(chan int, 100)
	var once sync.Once
	setGroupHook(t, s, func(n int) {
		sz <- n
		once.Do(func() {
			close(in)
			<-out
		})
	})
	return in, sync.OnceFunc(func() { close(out) }), sz
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPragmas(t *testing.T) {
	s := openTest(t, Options{})
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "secure_delete": "1", "foreign_keys": "1", "busy_timeout": "5000"}
	check := func(who string, q func(pragma string) (string, error)) {
		for p, v := range want {
			got, err := q(p)
			if err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", who, p, err)
			}
			if got != v {
				t.Errorf("%s: PRAGMA %s = %s, want %s", who, p, got, v)
			}
		}
	}
	err := s.submit(&job{ctx: t.Context(), raw: true, fn: func(w *writer) error {
		check("writer", func(p string) (v string, err error) {
			err = w.conn.QueryRowxContext(writeCtx, "PRAGMA "+p).Scan(&v)
			return v, err
		})
		var every int
		if err := w.conn.QueryRowxContext(writeCtx, "PRAGMA wal_autocheckpoint").Scan(&every); err != nil || every != checkpointPages {
			t.Errorf("writer: wal_autocheckpoint = %d, %v; want %d", every, err, checkpointPages)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Hold several reader connections at once, so that each is a separate connection.
	var conns []*sqlx.Conn
	for range 3 {
		c, err := s.readers.Connx(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		check(fmt.Sprintf("reader %d", i), func(p string) (v string, err error) {
			err = c.QueryRowxContext(t.Context(), "PRAGMA "+p).Scan(&v)
			return v, err
		})
		var qo int
		if err := c.QueryRowxContext(t.Context(), "PRAGMA query_only").Scan(&qo); err != nil || qo != 1 {
			t.Errorf("reader %d: query_only = %d, %v; want 1", i, qo, err)
		}
		if _, err := c.ExecContext(t.Context(), "DELETE FROM accounts"); err == nil {
			t.Errorf("reader %d accepted a write", i)
		}
		c.Close()
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	s, err := Open(t.Context(), filepath.Join(dir, "interlude.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	createAccount(t, s)
	for path, want := range map[string]fs.FileMode{dir: 0o700, s.Path(): 0o600, s.Path() + "-wal": 0o600, s.Path() + "-shm": 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interlude.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner := createAccount(t, s)
	rp := newRecord(1024)
	out, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{rp}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	firstSeq := out.Results[0].Seq
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close the -wal file is still there (%v): the log was not checkpointed", err)
	}
	for range 2 { // migrations are idempotent: reopening applies none
		s, err = Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n, v int
		if err := s.readers.Get(&n, "SELECT count(*) FROM schema_migrations"); err != nil || n != len(migrations) {
			t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, len(migrations))
		}
		if err := s.readers.Get(&v, "SELECT max(version) FROM schema_migrations"); err != nil || v != len(migrations) {
			t.Errorf("schema version %d (%v), want %d", v, err, len(migrations))
		}
		got, err := s.Records(t.Context(), owner, []syncproto.RecordID{rp.Record}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if c := got[0]; c.State != syncproto.StateLive || c.Seq != firstSeq || !bytes.Equal(c.Envelope, rp.Envelope) {
			t.Errorf("after reopen: state %d, seq %d (want %d), envelope intact %v", c.State, c.Seq, firstSeq, bytes.Equal(c.Envelope, rp.Envelope))
		}
		// The feed continues after the highest seq ever issued.
		r2 := newRecord(10)
		out2, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{r2}}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if out2.Results[0].Seq <= out.Results[0].Seq {
			t.Errorf("seq after reopen %d not after %d", out2.Results[0].Seq, out.Results[0].Seq)
		}
		out = out2
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interlude.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, applied_day) VALUES (?, 0)", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	t.Logf("the message: %v", err)
	if _, err := Open(t.Context(), path, Options{ReadOnly: true}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("read-only Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files fstest.MapFS
		ok    bool
	}{
		{"in order", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0002_b.sql": {}}, true},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, false},
		{"starts at 2", fstest.MapFS{"migrations/0002_b.sql": {}}, false},
	} {
		_, err := loadMigrations(tt.files)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// TestSchemaClasses checks that every column of every table carries a class comment in
// its migration, as the auditor's allow-list expects.
func TestSchemaClasses(t *testing.T) {
	s := openTest(t, Options{})
	classes := map[string]bool{"random-id": true, "public-key": true, "wrapped-key": true, "opaque-blob": true,
		"hash": true, "seq": true, "flag": true, "coarse-time": true, "client-time": true}
	documented := map[string]string{} // table.column → class
	table := regexp.MustCompile(`(?i)^(?:CREATE TABLE (?:IF NOT EXISTS )?|ALTER TABLE )(\w+)`)
	column := regexp.MustCompile(`^\s+(\w+)\s+(?:INTEGER|BLOB)\b.*--\s*([a-z-]+)`)
	var all strings.Builder
	for _, m := range migrations {
		all.WriteString(m.sql + "\n")
	}
	all.WriteString(schemaMigrationsSQL + "\n")
	current := ""
	for line := range strings.Lines(all.String()) {
		if m := table.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if m := column.FindStringSubmatch(line); m != nil && current != "" {
			if !classes[m[2]] {
				t.Errorf("%s.%s: unknown class %q", current, m[1], m[2])
			}
			documented[current+"."+m[1]] = m[2]
		}
	}
	var tables []string
	if err := s.readers.Select(&tables, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tb := range tables {
		rows, err := s.readers.Query("SELECT name FROM pragma_table_xinfo(?)", tb)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var col string
			rows.Scan(&col)
			if _, ok := documented[tb+"."+col]; !ok {
				t.Errorf("column %s.%s has no class comment", tb, col)
			}
			n++
		}
		rows.Close()
	}
	t.Logf("%d tables, %d columns, each with a class", len(tables), n)
}

func TestQueryPlans(t *testing.T) {
	s := openTest(t, Options{})
	for name, q := range map[string]string{"own feed": ownFeedQuery, "recipient feed": recipientFeedQuery,
		"feedGrants": feedGrantsQuery, "digest": digestQuery, "cursor": cursorQuery, "live count": liveCountQuery,
		"listed by": listedByQuery} {
		var details []string
		args := []any{1, 2, 3, 4}[:queryParams(q)]
		rows, err := s.readers.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			details = append(details, detail)
		}
		rows.Close()
		plan := strings.Join(details, "; ")
		scans := strings.ReplaceAll(plan, "SCAN CONSTANT ROW", "") // a SELECT without FROM
		if strings.Contains(scans, "SCAN") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan scans or sorts: %s", name, plan)
		}
		if name == "live count" && !strings.Contains(plan, "COVERING INDEX records_feed") {
			t.Errorf("live count does not use records_feed alone: %s", plan)
		}
	}
}

// queryParams is the number of parameters q takes: its highest ?N, or its count of bare ?.
func queryParams(q string) int {
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if j == i+1 {
			n++ // a bare ?
		} else if k, _ := strconv.Atoi(q[i+1 : j]); k > n {
			n = k
		}
	}
	return n
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interlude.db")
	if _, err := Open(t.Context(), path, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only Open of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Open created %s", path)
	}
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner := createAccount(t, s)
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{newRecord(100)}}, testNow); err != nil {
		t.Fatal(err)
	}
	// The server still has the file open, with commits in the -wal that immutable mode
	// would not see: refused.
	if _, err := Open(t.Context(), path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "-wal") {
		t.Errorf("read-only Open beside a live writer: %v, want a refusal naming the -wal file", err)
	}
	s.Close()

	ro, err := Open(t.Context(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Account(t.Context(), owner); err != nil {
		t.Errorf("read-only Account: %v", err)
	}
	if c, err := ro.Cursor(t.Context(), owner); err != nil || c == 0 {
		t.Errorf("read-only Cursor = %d, %v", c, err)
	}
	if _, err := ro.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{newRecord(100)}}, testNow); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Push: %v, want ErrReadOnly", err)
	}
	if err := ro.TouchDevice(t.Context(), owner, syncproto.DeviceID{}, testNow); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only TouchDevice: %v, want ErrReadOnly", err)
	}
}

func TestGroupCommit(t *testing.T) {
	s := openTest(t, Options{GroupCommitMax: 64})
	owner := createAccount(t, s)
	entered, release, sizes := blockWriter(t, s)
	defer release()

	const waiters = 40
	type answer struct {
		rp  syncproto.RecordPush
		out storage.PushOutcome
		err error
	}
	answers := make(chan answer, waiters+1)
	pushOne := func() {
		rp := newRecord(1024)
		out, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{rp}}, testNow)
		answers <- answer{rp, out, err}
	}
	go pushOne() // the writer takes this one and blocks in the hook
	<-entered
	for range waiters {
		go pushOne()
	}
	waitFor(t, "the waiters to queue", func() bool { return len(s.queue) == waiters })
	release()

	seqs := map[uint64]bool{}
	for range waiters + 1 {
		a := <-answers
		if a.err != nil {
			t.Fatalf("Push: %v", a.err)
		}
		r := a.out.Results[0]
		if r.Status != syncproto.StatusAccepted || seqs[r.Seq] {
			t.Errorf("result %+v (duplicate seq %v)", r, seqs[r.Seq])
		}
		seqs[r.Seq] = true
	}
	if first, second := <-sizes, <-sizes; first != 1 || second != waiters {
		t.Errorf("groups of %d then %d jobs, want 1 then %d (all the waiters in one commit)", first, second, waiters)
	}
}

// TestGroupIsolation queues, behind a job that holds the writer, pushes and failing jobs in
// one group, in several orders: a job failing first runs without a savepoint, and its
// failure rolls back the whole transaction before the next job begins; a job failing
// later rolls back to its savepoint. Either way the failed job leaves nothing and the
// others commit.
func TestGroupIsolation(t *testing.T) {
	for _, order := range [][]int{{0, 1, 2, 3}, {2, 1, 0, 3}, {0, 3, 2, 1}, {1, 0, 2, 3}, {2, 1}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) { testGroupIsolation(t, order) })
	}
}

func testGroupIsolation(t *testing.T, order []int) {
	s := openTest(t, Options{})
	owner := createAccount(t, s)
	entered, release, sizes := blockWriter(t, s)
	defer release()

	go s.write(t.Context(), func(*writer) error { return nil })
	<-entered
	type answer struct {
		name string
		err  error
	}
	answers := make(chan answer, 4)
	r1, r2 := newRecord(64), newRecord(64)
	doomed := syncproto.NewAccountID()
	errDoomed := errors.New("doomed")
	jobs := []struct {
		name string
		f    func() error
	}{
		{"push 1", func() error {
			_, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{r1}}, testNow)
			return err
		}},
		{"bad SQL", func() error {
			return s.write(t.Context(), func(w *writer) error { _, err := w.exec("INSERT INTO no_such_table VALUES (1)"); return err })
		}},
		{"write then fail", func() error {
			return s.write(t.Context(), func(w *writer) error {
				if _, err := w.exec(`INSERT INTO accounts (id, created_day, fingerprint, login_key, recovery_login_key, kdf_params, keybag, recovery_keybag, bundle)
					VALUES (?, 0, x'00', x'00', x'00', x'', x'', x'', x'')`, doomed[:]); err != nil {
					return err
				}
				w.nextSeq(owner) // a seq issued in a rolled-back job is issued again
				return errDoomed
			})
		}},
		{"push 2", func() error {
			_, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{r2}}, testNow)
			return err
		}},
	}
	for i, k := range order {
		j := jobs[k]
		go func() { answers <- answer{j.name, j.f()} }()
		waitFor(t, j.name+" to queue", func() bool { return len(s.queue) == i+1 })
	}
	release()
	for range order {
		a := <-answers
		switch a.name {
		case "push 1", "push 2":
			if a.err != nil {
				t.Errorf("%s failed beside a failing job: %v", a.name, a.err)
			}
		case "bad SQL":
			if a.err == nil || !strings.Contains(a.err.Error(), "no such table") {
				t.Errorf("bad SQL: %v, want its own error", a.err)
			}
		case "write then fail":
			if !errors.Is(a.err, errDoomed) {
				t.Errorf("write then fail: %v", a.err)
			}
		}
	}
	if first, second := <-sizes, <-sizes; first != 1 || second != len(order) {
		t.Errorf("groups of %d then %d jobs, want 1 then %d", first, second, len(order))
	}
	if _, err := s.Account(t.Context(), doomed); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the failed job's write survived: %v", err)
	}
	// The writer is left ready: a later push commits, at the seq after the group's.
	r3 := newRecord(64)
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{r3}}, testNow); err != nil {
		t.Fatalf("push after the group: %v", err)
	}
	ids := []syncproto.RecordID{r3.Record}
	if slices.Contains(order, 0) {
		ids = []syncproto.RecordID{r1.Record, r2.Record, r3.Record}
	}
	got, err := s.Records(t.Context(), owner, ids, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r.State != syncproto.StateLive || r.Seq != uint64(i+1) {
			t.Errorf("record %d of %d: seq %d, state %d; want seqs 1, 2, ... (a rolled-back job's seq is reused), live",
				i+1, len(got), r.Seq, r.State)
		}
	}
}

func TestCancelledWaiter(t *testing.T) {
	s := openTest(t, Options{})
	owner := createAccount(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rp := newRecord(64)
	if _, err := s.Push(ctx, owner, syncproto.Push{Records: []syncproto.RecordPush{rp}}, testNow); !errors.Is(err, context.Canceled) {
		t.Errorf("Push with a cancelled context: %v", err)
	}

	// Cancelled while queued: the writer skips it.
	entered, release, _ := blockWriter(t, s)
	defer release()
	go s.write(t.Context(), func(*writer) error { return nil })
	<-entered
	ctx, cancel = context.WithCancel(t.Context())
	queuedRP := newRecord(64)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Push(ctx, owner, syncproto.Push{Records: []syncproto.RecordPush{queuedRP}}, testNow)
		errc <- err
	}()
	waitFor(t, "the push to queue", func() bool { return len(s.queue) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Push cancelled while queued: %v", err)
	}
	release()
	// A later write proves the writer has passed the cancelled job.
	createAccount(t, s)
	got, err := s.Records(t.Context(), owner, []syncproto.RecordID{rp.Record, queuedRP.Record}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].State != syncproto.StateGone || got[1].State != syncproto.StateGone {
		t.Errorf("cancelled pushes were written: %+v", got)
	}
}

func TestCloseDrains(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "interlude.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner := createAccount(t, s)
	entered, release, _ := blockWriter(t, s)
	go s.write(t.Context(), func(*writer) error { return nil })
	<-entered
	const n = 10
	errc := make(chan error, n)
	for range n {
		go func() {
			_, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{newRecord(64)}}, testNow)
			errc <- err
		}()
	}
	waitFor(t, "the pushes to queue", func() bool { return len(s.queue) == n })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close waits for the queue; new writes are refused meanwhile.
	waitFor(t, "Close to begin", func() bool { s.mu.RLock(); defer s.mu.RUnlock(); return s.closed })
	if err := s.DeleteSession(t.Context(), [32]byte{}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("write during Close: %v, want ErrClosed", err)
	}
	release()
	for range n {
		if err := <-errc; err != nil {
			t.Errorf("a push queued before Close: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), s.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.Cursor(t.Context(), owner); err != nil || c != n {
		t.Errorf("cursor after reopen = %d, %v; want %d (every queued push committed)", c, err, n)
	}
}

// TestDeletedBytesScrubbed plants recognisable bytes, deletes them, checkpoints and scans
// the database files for them (the method of SQLite's securedel2.test).
func TestDeletedBytesScrubbed(t *testing.T) {
	s := openTest(t, Options{})
	owner, grantee := createAccount(t, s), createAccount(t, s)
	canary := func(tag string, n int) []byte {
		return bytes.Repeat([]byte("CANARY-"+tag+"-"+fmt.Sprintf("%x", randomBytes(8))+"|"), n)[:n]
	}
	rp := newRecord(0)
	rp.Envelope, rp.OwnerKey = canary("envelope", 3000), canary("ownerkey", 72)
	rp.Grants = []syncproto.GrantPush{{Record: rp.Record, Revision: 1, Recipient: grantee, Blob: canary("grant", 1168)}}
	old := newRecord(0) // an envelope replaced by a new revision must go too
	old.Envelope = canary("oldrevision", 1500)
	var others []syncproto.RecordPush
	for range 20 {
		others = append(others, newRecord(1024))
	}
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: append([]syncproto.RecordPush{rp, old}, others...)}, testNow); err != nil {
		t.Fatal(err)
	}
	files := func() []byte {
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(s.Path() + suffix)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	probes := map[string][]byte{"envelope": rp.Envelope[:40], "owner key": rp.OwnerKey[:40], "grant": rp.Grants[0].Blob[:40], "old revision": old.Envelope[:40]}
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	all := files()
	for what, p := range probes { // the positive control: the scan finds live bytes
		if !bytes.Contains(all, p) {
			t.Fatalf("the scan does not find the live %s: it could not fail", what)
		}
	}
	next := newRecord(1024)
	next.Record, next.BaseRevision, next.Revision = old.Record, 1, 2
	del := syncproto.RecordPush{Record: rp.Record, BaseRevision: 1, Revision: 2, Delete: true, Envelope: bytes.Repeat([]byte{0xd1}, 105)}
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{del, next}}, testNow); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	all = files()
	for what, p := range probes {
		if i := bytes.Index(all, p); i >= 0 {
			t.Errorf("the deleted %s is still in the database files (offset %d)", what, i)
		}
	}
	if fi, err := os.Stat(s.Path() + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("-wal is %d bytes after wal_checkpoint(TRUNCATE)", fi.Size())
	}
}

// ---- crash durability ----

const (
	crashEnvPath  = "INTERLUDE_STORAGE_CRASH_DB"
	crashEnvOwner = "INTERLUDE_STORAGE_CRASH_OWNER"
)

// TestCrashHelper is not a test: TestCrashDurability runs the test binary again with the
// environment set, and this pushes records until it is killed, printing "ack ID REVISION"
// for each acknowledged revision.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("the helper process of TestCrashDurability")
	}
	owner, err := syncproto.ParseAccountID(os.Getenv(crashEnvOwner))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for range 8 {
		go func() {
			mine := newRecord(1024) // updated in every batch
			for {
				p := syncproto.Push{Records: []syncproto.RecordPush{mine}}
				for range 3 {
					p.Records = append(p.Records, newRecord(1024))
				}
				out, err := s.Push(context.Background(), owner, p, time.Now())
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				var lines strings.Builder
				for i, r := range out.Results {
					if r.Status == syncproto.StatusAccepted {
						fmt.Fprintf(&lines, "ack %s %d\n", p.Records[i].Record, r.Revision)
					}
				}
				mu.Lock()
				os.Stdout.WriteString(lines.String()) // one write: a kill cannot split it mid-line
				mu.Unlock()
				mine.BaseRevision, mine.Revision = mine.Revision, mine.Revision+1
				mine.Envelope = randomBytes(1024)
			}
		}()
	}
	time.Sleep(2 * time.Minute) // the parent kills this process long before
	os.Exit(3)
}

// TestCrashDurability kills a process pushing records (SIGKILL, at a random point) and
// checks that every revision it acknowledged is in the database afterwards, and that the
// database passes PRAGMA integrity_check. It covers process crashes; power loss is what
// synchronous=FULL is for, and needs a VFS or hardware harness to test.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped in -short")
	}
	if os.Getenv(crashEnvPath) != "" {
		t.Skip("inside the helper")
	}
	iterations := 5
	if v := os.Getenv("INTERLUDE_CRASH_ITERATIONS"); v != "" {
		fmt.Sscan(v, &iterations)
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner := createAccount(t, s)
	s.Close()

	acked := map[syncproto.RecordID]uint64{} // the highest acknowledged revision
	totalAcks := 0
	for i := range iterations {
		n, err := rand.Int(rand.Reader, big.NewInt(2000))
		if err != nil {
			t.Fatal(err)
		}
		killAt := int(n.Int64()) + 1
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
		cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvOwner+"="+owner.String())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks, killed := 0, false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var idText string
			var rev uint64
			if _, err := fmt.Sscanf(sc.Text(), "ack %s %d", &idText, &rev); err != nil {
				continue // the test framework's own output
			}
			id, err := syncproto.ParseRecordID(idText)
			if err != nil {
				t.Fatalf("helper printed %q: %v", sc.Text(), err)
			}
			acked[id] = max(acked[id], rev)
			acks++
			if acks == killAt && !killed {
				cmd.Process.Kill() // SIGKILL: no deferred code, no Close
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("iteration %d: the helper exited after %d acks: %s", i, acks, stderr.String())
		}
		totalAcks += acks

		s, err := Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatalf("iteration %d: reopen after kill: %v", i, err)
		}
		var check string
		if err := s.readers.Get(&check, "PRAGMA integrity_check"); err != nil || check != "ok" {
			t.Errorf("iteration %d: integrity_check = %q, %v", i, check, err)
		}
		ids := make([]syncproto.RecordID, 0, len(acked))
		for id := range acked {
			ids = append(ids, id)
		}
		lost := 0
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 256)]
			ids = ids[len(chunk):]
			got, err := s.Records(t.Context(), owner, chunk, testNow)
			if err != nil {
				t.Fatal(err)
			}
			for j, c := range got {
				if c.State != syncproto.StateLive || c.Revision < acked[chunk[j]] {
					lost++
				}
			}
		}
		if lost > 0 {
			t.Errorf("iteration %d: %d acknowledged revisions lost", i, lost)
		}
		s.Close()
		t.Logf("kill %d after %d acks (%d acks printed before the kill took effect): %d records acknowledged so far, %d lost, integrity_check %s",
			i+1, killAt, acks, len(acked), lost, check)
	}
	t.Logf("%d kills, %d acknowledgements, %d records: 0 lost unless reported above", iterations, totalAcks, len(acked))
}

// TestQuotaCount checks the writer's count of live records: right after a reopen (it is
// not stored; it is counted again) and after a job that created records was rolled back.
func TestQuotaCount(t *testing.T) {
	const max = 4
	path := filepath.Join(t.TempDir(), "interlude.db")
	s, err := Open(t.Context(), path, Options{MaxRecords: max})
	if err != nil {
		t.Fatal(err)
	}
	owner := createAccount(t, s)
	status := func(s *Store, rps ...syncproto.RecordPush) []syncproto.ItemStatus {
		t.Helper()
		out, err := s.Push(t.Context(), owner, syncproto.Push{Records: rps}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		var st []syncproto.ItemStatus
		for _, r := range out.Results {
			st = append(st, r.Status)
		}
		return st
	}
	first := newRecord(10)
	status(s, first, newRecord(10))
	// A job that creates two records and then fails: its records and its count go.
	errFail := errors.New("fail after creating")
	err = s.write(t.Context(), func(w *writer) error {
		if _, err := s.push(w, owner, syncproto.Push{Records: []syncproto.RecordPush{newRecord(10), newRecord(10)}}, testNow); err != nil {
			return err
		}
		return errFail
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("failing job: %v", err)
	}
	if got := status(s, newRecord(10), newRecord(10), newRecord(10)); fmt.Sprint(got) != fmt.Sprint([]syncproto.ItemStatus{
		syncproto.StatusAccepted, syncproto.StatusAccepted, syncproto.StatusRejected}) {
		t.Errorf("after a rolled-back job: %v, want two accepted then the quota", got)
	}
	s.Close()

	s, err = Open(t.Context(), path, Options{MaxRecords: max})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := status(s, newRecord(10)); got[0] != syncproto.StatusRejected {
		t.Errorf("after reopen at the quota: %v, want rejected", got)
	}
	del := syncproto.RecordPush{Record: first.Record, BaseRevision: 1, Revision: 2, Delete: true, Envelope: bytes.Repeat([]byte{0xd1}, 105)}
	if got := status(s, del, newRecord(10), newRecord(10)); fmt.Sprint(got) != fmt.Sprint([]syncproto.ItemStatus{
		syncproto.StatusAccepted, syncproto.StatusAccepted, syncproto.StatusRejected}) {
		t.Errorf("delete then two new: %v, want the delete, one new, then the quota", got)
	}
}

// TestCoarseTimes checks that every time the server stores is a multiple of its unit, as
// interlude-audit will (check 7): given times with minutes, seconds and nanoseconds.
func TestCoarseTimes(t *testing.T) {
	s := openTest(t, Options{})
	odd := time.Date(2026, 11, 23, 14, 37, 21, 123456789, time.UTC)
	a := storage.Account{ID: syncproto.NewAccountID(), Created: odd}
	d := storage.Device{ID: syncproto.NewDeviceID(), Account: a.ID, Created: odd, LastSeen: odd}
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	ss := storage.Session{Account: a.ID, Device: d.ID, Created: odd, LastSeen: odd, Expires: odd.Add(12 * time.Hour)}
	rand.Read(ss.TokenHash[:])
	if err := s.CreateSession(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(t.Context(), ss.TokenHash, odd.Add(3*time.Minute+7*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchDevice(t.Context(), a.ID, d.ID, odd.Add(5*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Push(t.Context(), a.ID, syncproto.Push{Records: []syncproto.RecordPush{newRecord(100)}}, odd); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		column string
		unit   int64
	}{
		{"accounts.created_day", day}, {"devices.created_day", day}, {"devices.last_seen_hour", hour},
		{"sessions.created", minute}, {"sessions.last_seen", minute}, {"sessions.expires", minute},
		{"records.received_hour", hour}, {"schema_migrations.applied_day", day},
	} {
		table, col, _ := strings.Cut(c.column, ".")
		var n, bad int
		if err := s.readers.Get(&n, "SELECT count(*) FROM "+table); err != nil || n == 0 {
			t.Fatalf("%s: %d rows, %v", table, n, err)
		}
		if err := s.readers.Get(&bad, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s %% %d != 0", table, col, c.unit)); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%s: %d values finer than %d s", c.column, bad, c.unit)
		}
	}
}

// TestSharedFlag follows records.shared through every write that adds or removes a grant:
// it must say whether the record has a grant now, because Changes reads the grants of
// shared records only.
func TestSharedFlag(t *testing.T) {
	s := openTest(t, Options{})
	owner, alice, bob := createAccount(t, s), createAccount(t, s), createAccount(t, s)
	grant := func(id syncproto.RecordID, rev uint64, to syncproto.AccountID, expires time.Time) syncproto.GrantPush {
		return syncproto.GrantPush{Record: id, Revision: rev, Recipient: to, Expires: expires, Blob: randomBytes(200)}
	}
	push := func(p syncproto.Push) {
		t.Helper()
		res, err := s.Push(t.Context(), owner, p, testNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Results {
			if r.Status != syncproto.StatusAccepted {
				t.Fatalf("push refused: %+v", r)
			}
		}
	}
	check := func(step string, want map[syncproto.RecordID]bool) {
		t.Helper()
		for id, w := range want {
			var got bool
			if err := s.readers.Get(&got, "SELECT shared FROM records WHERE id = ?", id[:]); err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("%s: shared = %v, want %v", step, got, w)
			}
		}
		var wrong int
		if err := s.readers.Get(&wrong, "SELECT count(*) FROM records WHERE shared != EXISTS (SELECT 1 FROM grants WHERE record = records.id)"); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%s: %d records whose flag disagrees with their grants", step, wrong)
		}
		page, err := s.Changes(t.Context(), owner, 0, 100, testNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			var n int
			if err := s.readers.Get(&n, "SELECT count(*) FROM grants WHERE record = ?", c.Record[:]); err != nil {
				t.Fatal(err)
			}
			if len(c.Grants) != n {
				t.Errorf("%s: the owner's feed shows %d grants of record %s, the store holds %d", step, len(c.Grants), c.Record, n)
			}
		}
	}

	plain, withGrant := newRecord(100), newRecord(100)
	withGrant.Grants = []syncproto.GrantPush{grant(withGrant.Record, 1, alice, time.Time{})}
	push(syncproto.Push{Records: []syncproto.RecordPush{plain, withGrant}})
	check("created", map[syncproto.RecordID]bool{plain.Record: false, withGrant.Record: true})

	push(syncproto.Push{Grants: []syncproto.GrantPush{grant(plain.Record, 1, alice, time.Time{}), grant(plain.Record, 1, bob, testNow.Add(time.Hour))}})
	check("granted", map[syncproto.RecordID]bool{plain.Record: true})

	push(syncproto.Push{Revokes: []syncproto.Revoke{{Record: plain.Record, Recipient: alice}}})
	check("one of two revoked", map[syncproto.RecordID]bool{plain.Record: true})

	if _, err := s.ExpireGrants(t.Context(), testNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("last grant expired", map[syncproto.RecordID]bool{plain.Record: false})

	next := newRecord(100)
	next.Record, next.BaseRevision, next.Revision = withGrant.Record, 1, 2
	push(syncproto.Push{Records: []syncproto.RecordPush{next}})
	check("new revision without grants", map[syncproto.RecordID]bool{withGrant.Record: false})

	again := newRecord(100)
	again.Record, again.BaseRevision, again.Revision = withGrant.Record, 2, 3
	again.Grants = []syncproto.GrantPush{grant(withGrant.Record, 3, bob, time.Time{})}
	push(syncproto.Push{Records: []syncproto.RecordPush{again}})
	check("new revision with a grant", map[syncproto.RecordID]bool{withGrant.Record: true})

	push(syncproto.Push{Revokes: []syncproto.Revoke{{Record: withGrant.Record, Recipient: bob}}})
	check("revoked", map[syncproto.RecordID]bool{withGrant.Record: false})

	push(syncproto.Push{Grants: []syncproto.GrantPush{grant(withGrant.Record, 3, alice, time.Time{})}})
	del := syncproto.RecordPush{Record: withGrant.Record, BaseRevision: 3, Revision: 4, Delete: true, Envelope: bytes.Repeat([]byte{0xd1}, 105)}
	push(syncproto.Push{Records: []syncproto.RecordPush{del}})
	check("deleted", map[syncproto.RecordID]bool{withGrant.Record: false})
}

// TestSharedFlagMigration opens a database as it was before records.shared existed
// (schema version 2) and checks that migration 3 marks exactly the records with a grant.
func TestSharedFlagMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interlude.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner, grantee := createAccount(t, s), createAccount(t, s)
	plain, shared, revoked := newRecord(100), newRecord(100), newRecord(100)
	for _, rp := range []*syncproto.RecordPush{&shared, &revoked} {
		rp.Grants = []syncproto.GrantPush{{Record: rp.Record, Revision: 1, Recipient: grantee, Blob: randomBytes(200)}}
	}
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: []syncproto.RecordPush{plain, shared, revoked},
		Revokes: []syncproto.Revoke{{Record: revoked.Record, Recipient: grantee}}}, testNow); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to version 2: the rows stay, the flag and its index go.
	db, err := sqlx.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP INDEX records_shared; ALTER TABLE records DROP COLUMN shared;
		DELETE FROM schema_migrations WHERE version = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[syncproto.RecordID]bool{plain.Record: false, shared.Record: true, revoked.Record: false} {
		var got bool
		if err := s.readers.Get(&got, "SELECT shared FROM records WHERE id = ?", id[:]); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("record %s: shared = %v after migration, want %v", id, got, want)
		}
	}
	page, err := s.Changes(t.Context(), owner, 0, 10, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		if (len(c.Grants) > 0) != (c.Record == shared.Record) {
			t.Errorf("record %s: %d grants in the owner's feed after migration", c.Record, len(c.Grants))
		}
	}
}
