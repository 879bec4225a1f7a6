package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server/servertest"
	"interlude/storage"
	"interlude/storage/sqlite"
	"interlude/syncproto"
)

// testStart is the injected clock's starting point: whole seconds, so that times survive
// the wire unchanged.
var testStart = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// clock is an injected, settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a real server on loopback over a real SQLite file.
type env struct {
	t      testing.TB
	dir    string
	cfg    Config
	clock  *clock
	store  *sqlite.Store
	srv    *Server
	ts     *httptest.Server
	url    string
	ctx    context.Context
	closed bool
	wrap   func(storage.Store) storage.Store
}

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("INTERLUDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newEnv starts a server; opts adjust its Config.
func newEnv(t testing.TB, opts ...func(*Config)) *env {
	t.Helper()
	return newEnvWrapped(t, nil, opts...)
}

// newEnvWrapped starts a server whose store is wrap(the SQLite store).
func newEnvWrapped(t testing.TB, wrap func(storage.Store) storage.Store, opts ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{t: testStart}, ctx: context.Background(), wrap: wrap}
	e.cfg = Config{Logger: testLogger(t), Now: e.clock.Now, FakeSaltSecret: testSecret}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	st, err := sqlite.Open(e.ctx, filepath.Join(e.dir, "interlude.db"), sqlite.Options{Logger: e.cfg.Logger})
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	e.store = st
	cfg := e.cfg
	cfg.Store = st
	if e.wrap != nil {
		cfg.Store = e.wrap(st)
	}
	srv, err := New(cfg)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	e.url = "ws" + strings.TrimPrefix(e.ts.URL, "http") + syncproto.Path
	e.closed = false
}

func (e *env) stop() {
	if e.closed {
		return
	}
	e.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("Shutdown: %v", err)
	}
	e.ts.Close()
	if err := e.store.Close(); err != nil {
		e.t.Errorf("store Close: %v", err)
	}
}

// restart stops the server, closes the store, and starts both again on the same file.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// dialRaw connects without Hello.
func (e *env) dialRaw(opts *servertest.DialOptions) *servertest.Client {
	e.t.Helper()
	c, _, err := servertest.Dial(e.ctx, e.url, opts)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// dial connects and says Hello.
func (e *env) dial() *servertest.Client {
	e.t.Helper()
	c := e.dialRaw(nil)
	if _, err := c.Hello(e.ctx); err != nil {
		e.t.Fatalf("Hello: %v", err)
	}
	return c
}

// signUp creates an account on a new connection.
func (e *env) signUp() (*servertest.Client, *servertest.Identity, *syncproto.Session) {
	e.t.Helper()
	c := e.dial()
	id := servertest.NewIdentity()
	s, err := c.SignUp(e.ctx, id)
	if err != nil {
		e.t.Fatalf("SignUp: %v", err)
	}
	return c, id, s
}

// login signs a new device of id in on a new connection.
func (e *env) login(id *servertest.Identity) (*servertest.Client, *syncproto.Session) {
	e.t.Helper()
	c := e.dial()
	s, err := c.Login(e.ctx, id, syncproto.RolePassphrase)
	if err != nil {
		e.t.Fatalf("Login: %v", err)
	}
	return c, s
}

// resume signs in with a token on a new connection.
func (e *env) resume(token []byte) *servertest.Client {
	e.t.Helper()
	c := e.dial()
	if _, err := c.Resume(e.ctx, token); err != nil {
		e.t.Fatalf("Resume: %v", err)
	}
	return c
}

// call sends m and expects an answer of type T.
func call[T any](t testing.TB, c *servertest.Client, m syncproto.Message) *T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := servertest.Expect[T](c.Call(ctx, m))
	if err != nil {
		t.Fatalf("%s: %v", m.Type(), err)
	}
	return r
}

// callErr sends m and expects an Error with code.
func callErr(t testing.TB, c *servertest.Client, m syncproto.Message, code syncproto.ErrorCode) *syncproto.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Call(ctx, m)
	if err != nil {
		t.Fatalf("%s: %v", m.Type(), err)
	}
	e, ok := r.(*syncproto.Error)
	if !ok || e.Code != code {
		t.Fatalf("%s: got %#v, want Error %s", m.Type(), r, code)
	}
	return e
}

// push pushes records and returns the results.
func push(t testing.TB, c *servertest.Client, p *syncproto.Push) []syncproto.ItemResult {
	t.Helper()
	return call[syncproto.PushResult](t, c, p).Results
}

// pullAll pulls every page after cursor.
func pullAll(t testing.TB, c *servertest.Client, cursor uint64) ([]syncproto.Change, uint64) {
	t.Helper()
	var out []syncproto.Change
	for range 10_000 {
		ch := call[syncproto.Changes](t, c, &syncproto.Pull{Cursor: cursor})
		out = append(out, ch.Items...)
		cursor = ch.Cursor
		if !ch.More {
			return out, cursor
		}
	}
	t.Fatal("pull never ended")
	return nil, 0
}

// waitNote waits for a Notify with a cursor of at least min.
func waitNote(t testing.TB, c *servertest.Client, min uint64) uint64 {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case n := <-c.Notes():
			if n.Cursor >= min {
				return n.Cursor
			}
		case <-deadline:
			t.Fatalf("no Notify with cursor ≥ %d within 5 s", min)
			return 0
		}
	}
}

// noNote checks that no Notify arrives for a moment.
func noNote(t testing.TB, c *servertest.Client) {
	t.Helper()
	select {
	case n := <-c.Notes():
		t.Fatalf("unexpected Notify %d", n.Cursor)
	case <-time.After(200 * time.Millisecond):
	}
}

// drainNotes drops notifications already received.
func drainNotes(c *servertest.Client) {
	for {
		select {
		case <-c.Notes():
		default:
			return
		}
	}
}

// closedWith waits for the server to close c and checks the Error it sent first and
// the close code.
func closedWith(t testing.TB, c *servertest.Client, code syncproto.ErrorCode, closeCode int) {
	t.Helper()
	select {
	case e := <-c.Unsolicited():
		if e.Code != code {
			t.Fatalf("closing Error: got %s (%q), want %s", e.Code, e.Message, code)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no Error %s before close", code)
	}
	if got := c.CloseCode(5 * time.Second); got != closeCode {
		t.Fatalf("close code %d (%v), want %d", got, c.Err(), closeCode)
	}
}

// sendClosed sends m and expects the server to answer with its own Error code (request
// ID 0) and close the connection (1008), as for an expired session or a revoked device.
func sendClosed(t testing.TB, c *servertest.Client, m syncproto.Message, code syncproto.ErrorCode) {
	t.Helper()
	if _, err := c.Go(m); err != nil {
		t.Fatalf("%s: %v", m.Type(), err)
	}
	closedWith(t, c, code, websocket.ClosePolicyViolation)
}

// record makes a first revision of a fresh record.
func record() syncproto.RecordPush { return servertest.NewRecord(testStart) }

// revise makes the next revision of r with a new envelope.
func revise(r syncproto.RecordPush) syncproto.RecordPush {
	r.BaseRevision, r.Revision = r.Revision, r.Revision+1
	r.Envelope = servertest.Envelope()
	r.Grants = nil
	return r
}

// grant shares r's current revision with recipient.
func grant(r syncproto.RecordPush, recipient syncproto.AccountID) syncproto.GrantPush {
	return syncproto.GrantPush{Record: r.Record, Revision: r.Revision, Recipient: recipient, Blob: servertest.RandomBytes(1300)}
}
