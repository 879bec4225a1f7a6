package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"interlude/crypto"
	"interlude/server"
	"interlude/storage/sqlite"
	"interlude/syncproto"
)

// testServer is a real server (real WebSockets, a real SQLite file) on loopback.
type testServer struct {
	t      *testing.T
	url    string
	addr   string
	dbPath string
	secret []byte
	clock  *clock
	limits server.Limits

	mu    sync.Mutex
	hs    *httptest.Server
	srv   *server.Server
	store *sqlite.Store
}

// clock is an adjustable time source for the server (sessions, challenges).
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func newTestServer(t *testing.T) *testServer {
	return newTestServerWith(t, server.Limits{})
}

func newTestServerWith(t *testing.T, limits server.Limits) *testServer {
	t.Helper()
	s := &testServer{t: t, dbPath: filepath.Join(t.TempDir(), "server.db"), secret: make([]byte, 32), clock: &clock{}, limits: limits}
	rand.Read(s.secret)
	s.start("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

// start serves on addr (which may be the address of a previous run: a restart).
func (s *testServer) start(addr string) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, s.dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: store, FakeSaltSecret: s.secret, Now: s.clock.Now, Limits: s.limits})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	s.mu.Lock()
	s.hs, s.srv, s.store = hs, srv, store
	s.addr = ln.Addr().String()
	s.url = "ws://" + s.addr
	s.mu.Unlock()
}

func (s *testServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	s.hs.Close()
	s.store.Close()
	s.hs, s.srv, s.store = nil, nil, nil
}

func (s *testServer) restart() {
	s.stop()
	s.start(s.addr)
}

// db opens the server's database for inspection or tampering.
func (s *testServer) db() *sql.DB {
	s.t.Helper()
	db, err := sql.Open("sqlite", s.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

func (s *testServer) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db().QueryRow(q, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// fastKDF gives tests the floor parameters (still accepted by every check).
func fastKDF() crypto.KDFParams {
	p := crypto.MinKDFParams()
	rand.Read(p.Salt[:])
	return p
}

const pass = "correct horse battery staple"

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	opts.NewKDFParams = fastKDF
	c, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func signUp(t *testing.T, s *testServer) (*Client, *RecoveryKit) {
	t.Helper()
	c := newClient(t, Options{})
	kit, err := c.SignUp(context.Background(), s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, kit
}

func login(t *testing.T, kit *RecoveryKit, passphrase string) *Client {
	t.Helper()
	c := newClient(t, Options{})
	if err := c.Login(context.Background(), kit, []byte(passphrase)); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSync(t *testing.T, c *Client) *SyncReport {
	t.Helper()
	rep, err := c.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Invalid) > 0 || len(rep.Refused) > 0 || rep.DigestMismatch != "" {
		t.Fatalf("sync problems: %+v", rep)
	}
	return rep
}

func mustAdd(t *testing.T, c *Client, text string) syncproto.RecordID {
	t.Helper()
	id, err := c.Add(context.Background(), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func text(t *testing.T, c *Client, id syncproto.RecordID) string {
	t.Helper()
	e, err := c.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Plaintext)
}

func TestOfflineWritesThenTwoDevices(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	s.stop()

	var ids []syncproto.RecordID
	for i := range 20 {
		ids = append(ids, mustAdd(t, a, fmt.Sprintf(`{"n":%d}`, i)))
	}
	if _, err := a.Sync(ctx); !errors.Is(err, ErrOffline) {
		t.Fatalf("sync with the server down: got %v, want ErrOffline", err)
	}
	st, _ := a.Status(ctx)
	if st.Pending != 20 || st.Entries != 20 {
		t.Fatalf("status offline: %+v", st)
	}

	s.restart()
	rep := mustSync(t, a)
	if rep.Pushed != 20 || rep.Pending != 0 || !rep.DigestChecked {
		t.Fatalf("first sync: %+v", rep)
	}
	if n := s.count(`SELECT count(*) FROM records`); n != 20 {
		t.Fatalf("server holds %d records, want 20", n)
	}

	b := login(t, kit, pass)
	rep = mustSync(t, b)
	if rep.Pulled != 20 {
		t.Fatalf("device B pulled %d, want 20", rep.Pulled)
	}
	for i, id := range ids {
		if got, want := text(t, b, id), fmt.Sprintf(`{"n":%d}`, i); got != want {
			t.Fatalf("entry %d on B: %q, want %q", i, got, want)
		}
	}
	// A second sync is a no-op.
	if rep := mustSync(t, b); rep.Pulled != 0 || rep.Pushed != 0 {
		t.Fatalf("idle sync did something: %+v", rep)
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	s := newTestServer(t)
	a, _ := signUp(t, s)
	secret := "a very recognisable sentence about my week"
	mustAdd(t, a, secret)
	mustSync(t, a)
	a.Close()
	for _, name := range []string{DBFile, DBFile + "-wal"} {
		b, _ := readFileIfExists(filepath.Join(a.Dir(), name))
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(pass)) {
			t.Fatalf("%s contains plaintext", name)
		}
	}
}

func readFileIfExists(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func TestCrashAfterServerCommitBeforeLocalRecord(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	for i := range 30 {
		mustAdd(t, a, fmt.Sprintf("entry %d", i))
	}
	// The second batch is committed by the server, then the "process dies" before it is
	// recorded: the hook cancels the context, so the recording transaction never starts.
	a.opts.BatchSize = 10
	cctx, cancel := context.WithCancel(ctx)
	a.opts.AfterPush = func(batch int) {
		if batch == 2 {
			cancel()
		}
	}
	if _, err := a.Sync(cctx); err == nil {
		t.Fatal("interrupted sync succeeded")
	}
	a.opts.AfterPush = nil
	if n := s.count(`SELECT count(*) FROM records`); n != 20 {
		t.Fatalf("server holds %d records after the crash, want 20", n)
	}
	st, _ := a.Status(ctx)
	if st.Pending != 20 {
		t.Fatalf("outbox after crash: %d, want 20 (batch 2 unrecorded)", st.Pending)
	}
	rep := mustSync(t, a)
	if rep.Pending != 0 || len(rep.Conflicts) != 0 {
		t.Fatalf("sync after crash: %+v", rep)
	}
	if n := s.count(`SELECT count(*) FROM records`); n != 30 {
		t.Fatalf("server holds %d records, want 30", n)
	}
	if n := s.count(`SELECT count(DISTINCT owner_seq) FROM records`); n != 30 {
		t.Fatalf("server feed holds %d changes, want 30", n)
	}
	b := login(t, kit, pass)
	if rep := mustSync(t, b); rep.Pulled != 30 {
		t.Fatalf("B pulled %d", rep.Pulled)
	}
}

func TestConflictKeepsBothAndResolves(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	id := mustAdd(t, a, "original")
	mustSync(t, a)
	b := login(t, kit, pass)
	mustSync(t, b)

	if err := a.Edit(ctx, id, []byte("edited on A")); err != nil {
		t.Fatal(err)
	}
	if err := b.Edit(ctx, id, []byte("edited on B")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	rep, err := b.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 1 || rep.Conflicts[0] != id {
		t.Fatalf("B's sync: conflicts %v", rep.Conflicts)
	}
	cs, err := b.Conflicts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || string(cs[0].Local.Plaintext) != "edited on B" || string(cs[0].Remote.Plaintext) != "edited on A" {
		t.Fatalf("conflicts: %+v", cs)
	}
	if err := b.Edit(ctx, id, []byte("x")); !errors.Is(err, ErrConflicted) {
		t.Fatalf("edit during a conflict: %v", err)
	}
	if _, err := b.Resolve(ctx, id, KeepMerged, []byte("A and B")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	mustSync(t, a)
	if got := text(t, a, id); got != "A and B" {
		t.Fatalf("A sees %q after resolution", got)
	}
	if e, _ := a.Get(ctx, id); e.Revision != 3 {
		t.Fatalf("revision %d, want 3", e.Revision)
	}
}

func TestEditVersusDelete(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	id := mustAdd(t, a, "original")
	mustSync(t, a)
	b := login(t, kit, pass)
	mustSync(t, b)

	if err := a.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Edit(ctx, id, []byte("kept on B")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	rep, err := b.Sync(ctx)
	if err != nil || len(rep.Conflicts) != 1 {
		t.Fatalf("B: %v %+v", err, rep)
	}
	nid, err := b.Resolve(ctx, id, KeepLocal, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nid == id {
		t.Fatal("keeping an edit of a deleted entry should make a new entry")
	}
	mustSync(t, b)
	mustSync(t, a)
	if got := text(t, a, nid); got != "kept on B" {
		t.Fatalf("A sees %q", got)
	}
	if _, err := a.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted entry: %v", err)
	}
}

func TestDeletePropagates(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	id := mustAdd(t, a, "to delete")
	keep := mustAdd(t, a, "to keep")
	mustSync(t, a)
	b := login(t, kit, pass)
	mustSync(t, b)
	if err := a.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	mustSync(t, b)
	if _, err := b.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B still has the deleted entry: %v", err)
	}
	if text(t, b, keep) != "to keep" {
		t.Fatal("lost the other entry")
	}
	if n := s.count(`SELECT count(*) FROM records WHERE envelope IS NOT NULL AND deleted = 0`); n != 1 {
		t.Fatalf("server still holds %d envelopes, want 1", n)
	}
	// The tombstone keeps only the signed deletion statement, not the ciphertext.
	if n := s.count(`SELECT count(*) FROM records WHERE deleted = 1 AND length(envelope) = 105 AND owner_key IS NULL`); n != 1 {
		t.Fatalf("%d tombstones hold exactly a deletion statement, want 1", n)
	}
	// An entry never pushed is simply dropped.
	local := mustAdd(t, a, "never synced")
	if err := a.Delete(ctx, local); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.Status(ctx); st.Pending != 0 {
		t.Fatalf("pending %d after deleting an unsynced entry", st.Pending)
	}
}

func TestTamperedEnvelopeRejected(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	good := mustAdd(t, a, "fine")
	bad := mustAdd(t, a, "will be tampered with")
	mustSync(t, a)

	db := s.db()
	var env []byte
	if err := db.QueryRow(`SELECT envelope FROM records WHERE id = ?`, bad[:]).Scan(&env); err != nil {
		t.Fatal(err)
	}
	env[100] ^= 1 // one bit of the ciphertext
	if _, err := db.Exec(`UPDATE records SET envelope = ? WHERE id = ?`, env, bad[:]); err != nil {
		t.Fatal(err)
	}
	b := login(t, kit, pass)
	rep, err := b.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Invalid) != 1 || rep.Invalid[0].Record != bad {
		t.Fatalf("invalid: %+v", rep.Invalid)
	}
	if rep.DigestMismatch == "" {
		t.Fatal("digest mismatch not reported")
	}
	if _, err := b.Get(ctx, bad); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tampered entry was stored: %v", err)
	}
	if text(t, b, good) != "fine" {
		t.Fatal("good entry lost")
	}
	if st, _ := b.Status(ctx); st.Invalid != 1 {
		t.Fatalf("status invalid = %d", st.Invalid)
	}
}

func TestPassphrases(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	id := mustAdd(t, a, "mine")
	mustSync(t, a)
	dir := a.Dir()
	a.Close()

	// Wrong passphrase, offline unlock.
	a2, err := Open(dir, Options{NewKDFParams: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if err := a2.Unlock([]byte("not my passphrase")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	s.stop()
	if err := a2.Unlock([]byte(pass)); err != nil {
		t.Fatalf("offline unlock: %v", err)
	}
	s.restart()

	// Change the passphrase: only the keybag changes.
	const pass2 = "a second passphrase, longer"
	if err := a2.ChangePassphrase(ctx, []byte("wrong old one"), []byte(pass2)); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("change with a wrong old passphrase: %v", err)
	}
	if err := a2.ChangePassphrase(ctx, []byte(pass), []byte(pass2)); err != nil {
		t.Fatal(err)
	}
	if err := a2.Unlock([]byte(pass)); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after change: %v", err)
	}
	if err := a2.Unlock([]byte(pass2)); err != nil {
		t.Fatal(err)
	}
	if text(t, a2, id) != "mine" {
		t.Fatal("entry lost across passphrase change")
	}
	mustSync(t, a2) // the re-sealed session token still works

	// Recovery sets a third passphrase; the second stops working for sign-in.
	const pass3 = "recovered passphrase three"
	r := newClient(t, Options{})
	if err := r.Recover(ctx, kit, []byte(pass3)); err != nil {
		t.Fatal(err)
	}
	mustSync(t, r)
	if text(t, r, id) != "mine" {
		t.Fatal("recovered device cannot read the entry")
	}
	old := newClient(t, Options{})
	if err := old.Login(ctx, kit, []byte(pass2)); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("login with the replaced passphrase: %v", err)
	}
	login(t, kit, pass3)
}

// TestChangePassphraseNeedsCurrentPassphrase: a device still holding a passphrase that
// was changed elsewhere (its session still valid) cannot overwrite the newer one: the
// server wants proof by the current passphrase key, and nothing changes.
func TestChangePassphraseNeedsCurrentPassphrase(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	b := login(t, kit, pass)
	mustSync(t, b) // b has a live session
	const pass2, pass3 = "changed on device a first", "changed on device b later"
	if err := a.ChangePassphrase(ctx, []byte(pass), []byte(pass2)); err != nil {
		t.Fatal(err)
	}
	if err := b.ChangePassphrase(ctx, []byte(pass), []byte(pass3)); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("change with a passphrase the server no longer takes: %v, want ErrAuthFailed", err)
	}
	if err := newClient(t, Options{}).Login(ctx, kit, []byte(pass3)); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("login with the refused passphrase: %v", err)
	}
	login(t, kit, pass2)
	// b still unlocks with its old passphrase locally: the refusal changed nothing there.
	if err := b.Unlock([]byte(pass)); err != nil {
		t.Fatalf("b after the refused change: %v", err)
	}
}

func TestLoginRefusesWeakServerParams(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	// An account whose stored parameters are below the floor (a malicious or buggy
	// server would hand these out).
	account := syncproto.NewAccountID()
	weak := crypto.KDFParams{MemoryKiB: 1024, Time: 1, Threads: 1}
	cn, err := dial(ctx, s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	ch, err := expect[syncproto.Challenge](ctx, cn, syncproto.ChallengeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := crypto.NewIdentity()
	rc := crypto.NewRecoveryCode()
	rs, _ := crypto.DeriveFromRecoveryCode(rc, crypto.AccountID(account))
	msg := syncproto.SignUp{Account: account, KDFParams: weak.Marshal(), Keybag: []byte{1}, RecoveryKeybag: []byte{1},
		Bundle: id.PublicBundle()}
	copy(msg.LoginKey[:], rs.LoginPublic())
	copy(msg.RecoveryLoginKey[:], rs.LoginPublic())
	msg.LoginSig = signLogin(rs.Login, ch.Nonce, account, syncproto.RolePassphrase)
	msg.RecoverySig = signLogin(rs.Login, ch.Nonce, account, syncproto.RoleRecovery)
	if _, err := expect[syncproto.Session](ctx, cn, msg); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{})
	kit := &RecoveryKit{Account: account, Server: s.url, SecretKey: crypto.NewSecretKey().Text(), RecoveryCode: rc.Text()}
	if err := c.Login(ctx, kit, []byte(pass)); !errors.Is(err, crypto.ErrWeakKDFParams) {
		t.Fatalf("login with weak parameters: %v", err)
	}
}

func TestSessionExpiryRelogsInTransparently(t *testing.T) {
	s := newTestServer(t)
	a, _ := signUp(t, s)
	mustAdd(t, a, "before")
	mustSync(t, a)
	before, _ := a.Status(context.Background())
	s.clock.Advance(server.DefaultSessionLifetime + time.Hour)
	mustAdd(t, a, "after")
	if rep := mustSync(t, a); rep.Pushed != 1 {
		t.Fatalf("pushed %d", rep.Pushed)
	}
	// The same device signed in again: the device list does not grow.
	after, _ := a.Status(context.Background())
	if after.Device != before.Device {
		t.Errorf("re-login registered a new device %s (was %s)", after.Device, before.Device)
	}
	ds, err := a.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || !ds[0].Current {
		t.Errorf("devices after re-login: %+v", ds)
	}
}

func TestWatchAppliesLiveChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	b := login(t, kit, pass)
	rounds := make(chan *SyncReport, 16)
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, func(r *SyncReport) { rounds <- r }) }()
	<-rounds // the initial sync

	id := mustAdd(t, a, "live")
	mustSync(t, a)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-rounds:
			if r.Pulled == 0 {
				continue
			}
			if text(t, b, id) != "live" {
				t.Fatal("wrong text")
			}
		case <-deadline:
			t.Fatal("B did not receive the change within 10s")
		}
		break
	}
	// B's own additions go out without a manual sync.
	id2 := mustAdd(t, b, "from B")
	deadline = time.After(10 * time.Second)
	for s.count(`SELECT count(*) FROM records WHERE id = ?`, id2[:]) == 0 {
		select {
		case <-rounds:
		case <-deadline:
			t.Fatal("B's addition did not reach the server within 10s")
		}
	}
	// Survives a server restart.
	s.restart()
	id3 := mustAdd(t, a, "after restart")
	mustSync(t, a)
	deadline = time.After(20 * time.Second)
	for {
		if e, err := b.Get(ctx, id3); err == nil && string(e.Plaintext) == "after restart" {
			break
		}
		select {
		case <-rounds:
		case <-deadline:
			t.Fatal("B did not catch up after a server restart")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSignOut(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	mustAdd(t, a, "pending")
	if err := a.SignOut(ctx, false); !errors.Is(err, ErrPendingChanges) {
		t.Fatalf("sign-out with pending changes: %v", err)
	}
	mustSync(t, a)
	if err := a.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.HasAccount(ctx); ok {
		t.Fatal("profile survived sign-out")
	}
	if err := a.Unlock([]byte(pass)); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("unlock after sign-out: %v", err)
	}
	if err := a.Login(ctx, kit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if rep := mustSync(t, a); rep.Pulled != 1 {
		t.Fatalf("pulled %d after signing in again", rep.Pulled)
	}
}

func TestKitRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kit.txt")
	k := &RecoveryKit{Account: syncproto.NewAccountID(), Server: "ws://127.0.0.1:7700",
		SecretKey: crypto.NewSecretKey().Text(), RecoveryCode: crypto.NewRecoveryCode().Text(), Created: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	if err := k.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFile(path); err == nil {
		t.Fatal("overwrote an existing kit")
	}
	got, err := ReadKit(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != k.Account || got.Server != k.Server || got.SecretKey != k.SecretKey || got.RecoveryCode != k.RecoveryCode || !got.Created.Equal(k.Created) {
		t.Fatalf("round trip: %+v", got)
	}
	if s := fmt.Sprint(k); bytes.Contains([]byte(s), []byte(k.SecretKey)) || bytes.Contains([]byte(s), []byte(k.RecoveryCode)) {
		t.Fatalf("kit printed its secrets: %s", s)
	}
	if _, err := ParseKit([]byte("Account ID: x\n")); err == nil {
		t.Fatal("parsed an incomplete kit")
	}
}

func TestRefusedItemDoesNotBlockTheOutbox(t *testing.T) {
	ctx := context.Background()
	s := newTestServerWith(t, server.Limits{MaxEnvelope: 4096})
	a, _ := signUp(t, s)
	small1 := mustAdd(t, a, "small")
	big := mustAdd(t, a, string(bytes.Repeat([]byte("x"), 10000)))
	small2 := mustAdd(t, a, "small too")
	rep, err := a.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed != 2 || len(rep.Refused) != 1 || rep.Refused[0].Record != big || rep.Refused[0].Code != syncproto.CodeTooLarge {
		t.Fatalf("report: %+v", rep)
	}
	if n := s.count(`SELECT count(*) FROM records WHERE id IN (?, ?)`, small1[:], small2[:]); n != 2 {
		t.Fatalf("server holds %d of the small entries", n)
	}
	st, _ := a.Status(ctx)
	if st.Pending != 1 || st.Refused != 1 {
		t.Fatalf("status: %+v", st)
	}
	if text(t, a, big) == "" {
		t.Fatal("the refused entry is gone locally")
	}
}

func TestPullRecognisesOwnUnrecordedPush(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, _ := signUp(t, s)
	for i := range 5 {
		mustAdd(t, a, fmt.Sprintf("e%d", i))
	}
	cctx, cancel := context.WithCancel(ctx)
	a.opts.AfterPush = func(int) { cancel() }
	if _, err := a.Sync(cctx); err == nil {
		t.Fatal("interrupted sync succeeded")
	}
	a.opts.AfterPush = nil
	// Another process pulls before anything is pushed again: it must recognise the
	// client's own revisions, not see conflicts.
	k, _ := a.unlocked()
	cn, _, err := a.connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	rep := &SyncReport{}
	if err := a.pull(ctx, cn, k, rep, false); err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 0 {
		t.Fatalf("conflicts with itself: %v", rep.Conflicts)
	}
	if st, _ := a.Status(ctx); st.Pending != 0 || st.Conflicts != 0 {
		t.Fatalf("status: %+v", st)
	}
	if n := s.count(`SELECT count(*) FROM records`); n != 5 {
		t.Fatalf("server holds %d", n)
	}
}

func TestRevokedDeviceStops(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, kit := signUp(t, s)
	b := login(t, kit, pass)
	ds, err := a.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("devices: %+v", ds)
	}
	bs, _ := b.Status(ctx)
	if err := a.RevokeDevice(ctx, bs.Device); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, b, "written after revocation")
	if _, err := b.Sync(ctx); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("sync on a revoked device: %v", err)
	}
	if err := b.Watch(ctx, nil); !errors.Is(err, ErrDeviceRevoked) {
		t.Fatalf("watch on a revoked device: %v", err)
	}
	// Nothing was lost: the entry is still here to export or move.
	if st, _ := b.Status(ctx); st.Pending != 1 {
		t.Fatalf("status: %+v", st)
	}
}

// A server that forges a deletion (no statement, or one signed by another key) cannot
// make a device drop an entry: the copy stays and the sync reports the change as invalid.
func TestForgedDeletionRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		statement func(t *testing.T, id syncproto.RecordID, revision uint64) []byte
	}{
		{"no statement", func(*testing.T, syncproto.RecordID, uint64) []byte { return nil }},
		{"signed by a stranger", func(t *testing.T, id syncproto.RecordID, revision uint64) []byte {
			stranger, err := crypto.NewIdentity()
			if err != nil {
				t.Fatal(err)
			}
			b, err := crypto.SignDeletion(stranger, crypto.RecordID(id), revision)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			a, _ := signUp(t, s)
			id := mustAdd(t, a, "keep me")
			mustSync(t, a)
			db := s.db()
			// The server marks the record deleted at revision 2 and tells the owner's feed.
			if _, err := db.Exec(`UPDATE records SET deleted = 1, revision = 2, envelope = ?, owner_key = NULL WHERE id = ?`,
				tc.statement(t, id, 2), id[:]); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE records SET owner_seq = (SELECT max(owner_seq) + 1 FROM records) WHERE id = ?`, id[:]); err != nil {
				t.Fatal(err)
			}
			rep, err := a.Sync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Invalid) != 1 || rep.Invalid[0].Record != id {
				t.Fatalf("invalid: %+v, want the forged deletion reported", rep.Invalid)
			}
			if text(t, a, id) != "keep me" {
				t.Fatal("the entry was dropped on a forged deletion")
			}
		})
	}
}

// A passphrase typed as composed characters on one device and decomposed on another (one
// keyboard sends "é", another "e" + U+0301) opens the same account: the client
// derives from the NFKC form. Without normalising, the second device is locked out.
func TestPassphraseIsUnicodeNormalized(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	composed := "caf\u00e9 au lait, s'il vous pla\u00eet"
	decomposed := "cafe\u0301 au lait, s'il vous plai\u0302t"
	if composed == decomposed {
		t.Fatal("test strings must differ in bytes")
	}
	a := newClient(t, Options{})
	kit, err := a.SignUp(ctx, s.url, []byte(composed), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := mustAdd(t, a, "mine")
	mustSync(t, a)
	b := login(t, kit, decomposed)
	mustSync(t, b)
	if text(t, b, id) != "mine" {
		t.Fatal("the second device cannot read the entry")
	}
	c2, err := Open(a.Dir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Unlock([]byte(decomposed)); err != nil {
		t.Fatalf("unlocking with the decomposed spelling: %v", err)
	}
}

// TestDeviceNames: each device seals the name it is given, every device of the account
// reads every name, and the server stores only the sealed labels.
func TestDeviceNames(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	a := newClient(t, Options{DeviceName: "  Sam's laptop\n"})
	kit, err := a.SignUp(ctx, s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := newClient(t, Options{DeviceName: "Sam's phone"})
	if err := b.Login(ctx, kit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	unnamed := login(t, kit, pass)
	for _, c := range []*Client{a, b, unnamed} {
		ds, err := c.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, d := range ds {
			if d.NameUnreadable {
				t.Errorf("device %s: name does not open", d.ID)
			}
			names[d.Name] = true
		}
		if len(ds) != 3 || !names["Sam's laptop"] || !names["Sam's phone"] || !names[""] {
			t.Errorf("devices %+v; want Sam's laptop, Sam's phone and one without a name", ds)
		}
	}
	// A name sealed with control characters (by another implementation) is shown without
	// them: a terminal would obey an escape sequence.
	sk, err := crypto.ParseSecretKey(kit.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := crypto.SealDeviceLabel(sk, crypto.AccountID(kit.Account), "evil\x1b[2Jname")
	if err != nil {
		t.Fatal(err)
	}
	bStatus, _ := b.Status(ctx)
	if _, err := s.db().Exec(`UPDATE devices SET label = ? WHERE id = ?`, evil, bStatus.Device[:]); err != nil {
		t.Fatal(err)
	}
	ds, err := a.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == bStatus.Device && d.Name != "evil[2Jname" {
			t.Errorf("a name with an escape sequence is shown as %q", d.Name)
		}
	}

	// What the server holds is the sealed label, never the name (in the file or its log).
	for _, path := range []string{s.dbPath, s.dbPath + "-wal"} {
		dump, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(dump, []byte("Sam's")) || bytes.Contains(dump, []byte("evil")) {
			t.Errorf("%s holds a device name in clear", filepath.Base(path))
		}
	}
}

func TestDeviceNameFit(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	for _, c := range []struct{ in, want string }{
		{"Sam's phone", "Sam's phone"},
		{"  padded \t", "padded"},
		{"tab\there", "tabhere"},
		{"bad\xffutf8", "badutf8"},
		{long, strings.Repeat("é", crypto.MaxDeviceName/2)},
		{"", ""},
		{" \n ", ""},
	} {
		got := DeviceNameFit(c.in)
		if got != c.want {
			t.Errorf("DeviceNameFit(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > crypto.MaxDeviceName {
			t.Errorf("DeviceNameFit(%q) is %d bytes", c.in, len(got))
		}
	}
}
