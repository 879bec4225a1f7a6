package server

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server/servertest"
	"interlude/syncproto"
)

func TestOversizeFrameClosesAndKeepsData(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxFrame = 64 << 10 })
	a, _, s := e.signUp()
	r := record()
	push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r}})

	big := make([]byte, 100<<10)
	big[0] = byte(syncproto.TypePing)
	// The server may close before the client has finished writing: ignore the error.
	a.WriteFrame(websocket.BinaryMessage, big)
	if got := a.CloseCode(5 * time.Second); got != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d (%v), want 1009", got, a.Err())
	}
	// What was accepted before is still there.
	c := e.resume(s.Token)
	changes, _ := pullAll(t, c, 0)
	if len(changes) != 1 || !bytes.Equal(changes[0].Envelope, r.Envelope) {
		t.Fatalf("after an oversized frame: %+v", changes)
	}
}

func TestOversizeFramesRepeated(t *testing.T) {
	// T6 in miniature: every oversized frame gets its own 1009 close.
	e := newEnv(t, func(c *Config) { c.Limits.MaxFrame = 16 << 10 })
	big := make([]byte, 32<<10)
	for i := range 20 {
		c := e.dial()
		c.WriteFrame(websocket.BinaryMessage, big) // may fail: the server closes early
		if got := c.CloseCode(5 * time.Second); got != websocket.CloseMessageTooBig {
			t.Fatalf("frame %d: close code %d, want 1009", i, got)
		}
	}
}

func TestBatchTooLarge(t *testing.T) {
	e := newEnv(t)
	a, id, _ := e.signUp()
	p := &syncproto.Push{}
	for range syncproto.DefaultMaxBatch + 1 {
		p.Records = append(p.Records, record())
	}
	er := callErr(t, a, p, syncproto.CodeBatchTooLarge)
	if !bytes.Contains([]byte(er.Message), []byte("at most 256")) {
		t.Fatalf("message %q does not say the limit", er.Message)
	}
	// Grants and revokes count too (a record's own grants are part of its item).
	p2 := &syncproto.Push{Records: p.Records[:200]}
	for range 57 {
		p2.Revokes = append(p2.Revokes, syncproto.Revoke{Record: p.Records[0].Record, Recipient: syncproto.NewAccountID()})
	}
	callErr(t, a, p2, syncproto.CodeBatchTooLarge)

	// Nothing written; the connection is alive and a batch at the limit goes through.
	if cur, _ := e.store.Cursor(e.ctx, id.Account); cur != 0 {
		t.Fatalf("cursor %d after a refused batch", cur)
	}
	p.Records = p.Records[:syncproto.DefaultMaxBatch]
	if res := push(t, a, p); len(res) != syncproto.DefaultMaxBatch || res[255].Status != syncproto.StatusAccepted {
		t.Fatalf("batch at the limit: %d results", len(res))
	}
}

func TestFetchLimitAndVisibility(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.signUp()
	ids := make([]syncproto.RecordID, syncproto.DefaultMaxFetch+1)
	for i := range ids {
		ids[i] = syncproto.NewRecordID(testStart)
	}
	callErr(t, a, &syncproto.Fetch{Records: ids}, syncproto.CodeBatchTooLarge)
	got := call[syncproto.Records](t, a, &syncproto.Fetch{Records: ids[:3]})
	if len(got.Items) != 3 {
		t.Fatalf("%d items", len(got.Items))
	}
	for _, it := range got.Items {
		if it.State != syncproto.StateGone || it.Envelope != nil {
			t.Fatalf("missing record = %+v, want StateGone", it)
		}
	}
	if got := call[syncproto.Records](t, a, &syncproto.Fetch{}); len(got.Items) != 0 {
		t.Fatal("empty fetch")
	}
}

func TestPullPageCapped(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxPullPage = 5 })
	a, _, _ := e.signUp()
	p := &syncproto.Push{}
	for range 12 {
		p.Records = append(p.Records, record())
	}
	push(t, a, p)
	ch := call[syncproto.Changes](t, a, &syncproto.Pull{Limit: 1000})
	if len(ch.Items) != 5 || !ch.More {
		t.Fatalf("page of %d (more %v), want 5 and more", len(ch.Items), ch.More)
	}
	all, _ := pullAll(t, a, 0)
	if len(all) != 12 {
		t.Fatalf("%d changes in all pages", len(all))
	}
}

func TestBadFramesSurvive(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.signUp()
	if err := a.WriteFrame(websocket.TextMessage, []byte(`{"type":"push"}`)); err != nil {
		t.Fatal(err)
	}
	expectUnsolicited(t, a, syncproto.CodeBadFrame)
	for _, junk := range [][]byte{{0x7f, 0x01}, {byte(syncproto.TypePush), 0x05, 0xff, 0xff}, {byte(syncproto.TypePing), 0x01, 0x00}} {
		if err := a.WriteFrame(websocket.BinaryMessage, junk); err != nil {
			t.Fatal(err)
		}
		expectUnsolicitedOrAnswer(t, a)
	}
	// Server messages sent by a client are refused, the connection survives.
	callErr(t, a, &syncproto.Welcome{Version: 1}, syncproto.CodeUnexpectedMessage)
	call[syncproto.Pong](t, a, &syncproto.Ping{})
}

func expectUnsolicited(t *testing.T, c *servertest.Client, code syncproto.ErrorCode) {
	t.Helper()
	select {
	case e := <-c.Unsolicited():
		if e.Code != code {
			t.Fatalf("got %s, want %s", e.Code, code)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s error", code)
	}
}

// expectUnsolicitedOrAnswer waits for the bad_frame answer to a junk frame, which
// carries request ID 0 when the header itself was unreadable and the frame's own
// request ID otherwise (which this client has not registered, so it is not delivered):
// either way, a Ping afterwards must be answered.
func expectUnsolicitedOrAnswer(t *testing.T, c *servertest.Client) {
	t.Helper()
	select {
	case e := <-c.Unsolicited():
		if e.Code != syncproto.CodeBadFrame && e.Code != syncproto.CodeTooLarge {
			t.Fatalf("got %s, want bad_frame", e.Code)
		}
	case <-time.After(200 * time.Millisecond):
	}
	call[syncproto.Pong](t, c, &syncproto.Ping{})
}

func TestTooManyConnections(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxConnsAccount = 2 })
	_, id, s := e.signUp()
	e.resume(s.Token)
	c := e.dial()
	callErr(t, c, &syncproto.Resume{Token: s.Token}, syncproto.CodeTooManyConnections)
	if got := c.CloseCode(5 * time.Second); got != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", got)
	}
	c = e.dial()
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeTooManyConnections {
		t.Fatalf("login over the cap: %v", err)
	}
	// The refused login registered no device.
	if ds, _ := e.store.Devices(e.ctx, id.Account); len(ds) != 1 {
		t.Fatalf("%d devices after a refused login, want 1", len(ds))
	}
	// Other accounts are not affected.
	e.signUp()
}

func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 3 })
	_, id, _ := e.signUp()
	wrong := *id
	wrong.LoginKey = servertest.NewIdentity().LoginKey
	c := e.dial()
	for i := range 3 {
		if _, err := c.Login(e.ctx, &wrong, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeAuthFailed {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Now even the right key is refused before any work.
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeRateLimited {
		t.Fatalf("after 3 failures: %v, want rate_limited", err)
	}
	// From another address the account is still limited (per account).
	e.clock.Advance(20 * time.Second) // one token back: 3 per minute
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); err != nil {
		t.Fatalf("after the bucket refilled: %v", err)
	}
}

func TestAuthRateLimitPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 2 })
	c := e.dial()
	for range 2 {
		c.Login(e.ctx, servertest.NewIdentity(), syncproto.RolePassphrase)
	}
	// Another (unknown) account from the same address: limited by address.
	if _, err := c.Login(e.ctx, servertest.NewIdentity(), syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeRateLimited {
		t.Fatalf("third failure from one address: %v, want rate_limited", err)
	}
	callErr(t, c, &syncproto.Resume{Token: make([]byte, 32)}, syncproto.CodeRateLimited)
}

func TestAuthHourlyCap(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 50; c.AuthFailuresPerHour = 5 })
	_, id, _ := e.signUp()
	wrong := *id
	wrong.LoginKey = servertest.NewIdentity().LoginKey
	c := e.dial()
	for range 5 {
		c.Login(e.ctx, &wrong, syncproto.RolePassphrase)
		e.clock.Advance(time.Minute) // the per-minute buckets refill; the hourly one does not
	}
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeRateLimited {
		t.Fatalf("after 5 failures in an hour: %v, want rate_limited", err)
	}
}

// TestHostileOrigins is T7: WebSocket hijacking from other sites.
func TestHostileOrigins(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowedOrigins = []string{"https://app.interlude.example", "http://localhost:5173"} })
	hostile := []string{
		"https://evil.example",
		"http://app.interlude.example",           // scheme downgrade
		"https://app.interlude.example:8443",     // other port
		"https://app.interlude.example.evil.com", // suffix trick
		"https://evilapp.interlude.example",      // prefix trick
		"https://sub.app.interlude.example",      // subdomain
		"https://app.interlude.example.",         // trailing dot
		"https://app.interlude.exampl",           // truncated
		"null",                                   // sandboxed iframe, file://
		"",                                       // empty header
		"https://app.interlude.example/",         // a path is not an origin
		"https://user@app.interlude.example",     // userinfo
		"file://app.interlude.example",           // other scheme
		"chrome-extension://abcdefghijklmnop",    // extension
		"https://app.interlude.example%2eevil.com",
		"https://xn--pp-interlude-9za.example", // punycode look-alike
		"http://localhost:5174",                // dev server on another port
		"http://127.0.0.1:5173",                // same host by another name
		"https://localhost:5173",               // other scheme
		"*",
	}
	for _, o := range hostile {
		h := http.Header{"Origin": {o}}
		_, resp, err := servertest.Dial(e.ctx, e.url, &servertest.DialOptions{Header: h})
		if err == nil {
			t.Errorf("origin %q: connected", o)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", o, err)
		}
	}
	// Two Origin headers.
	if _, resp, err := servertest.Dial(e.ctx, e.url, &servertest.DialOptions{Header: http.Header{"Origin": {"https://app.interlude.example", "https://evil.example"}}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("two origins: %v", err)
	}
	t.Logf("%d/%d hostile origins refused", len(hostile), len(hostile))

	for _, o := range []string{"https://app.interlude.example", "https://APP.Interlude.example:443", "http://localhost:5173", ""} {
		c, _, err := servertest.Dial(e.ctx, e.url, &servertest.DialOptions{Origin: o})
		if err != nil {
			t.Errorf("allowed origin %q: %v", o, err)
			continue
		}
		c.Close()
	}
}

func TestHelloTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.HelloTimeout = 200 * time.Millisecond })
	c := e.dialRaw(nil)
	if got := c.CloseCode(5 * time.Second); got != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d (%v), want 1008 when no Hello comes", got, c.Err())
	}
	// After Hello, the ordinary read timeout applies.
	ok := e.dial()
	time.Sleep(400 * time.Millisecond)
	call[syncproto.Pong](t, ok, &syncproto.Ping{})
}

// TestHelloTimeoutIgnoresPongs: WebSocket pongs before Hello do not put off the Hello
// deadline (RFC 6455 lets a peer send pongs unasked).
func TestHelloTimeoutIgnoresPongs(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.HelloTimeout = 300 * time.Millisecond })
	c := e.dialRaw(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-c.Done():
				return
			case <-tick.C:
				c.WriteFrame(websocket.PongMessage, nil)
			}
		}
	}()
	if got := c.CloseCode(3 * time.Second); got != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d (%v), want 1008: pongs kept a connection without Hello open", got, c.Err())
	}
}

func TestPullPageEndsBeforeFrameLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxFrame = 64 << 10 })
	a, _, _ := e.signUp()
	for range 2 {
		p := &syncproto.Push{}
		for range 40 {
			p.Records = append(p.Records, record())
		}
		push(t, a, p)
	}
	ch := call[syncproto.Changes](t, a, &syncproto.Pull{})
	if len(ch.Items) == 0 || len(ch.Items) >= 80 || !ch.More || ch.Cursor != ch.Items[len(ch.Items)-1].Seq {
		t.Fatalf("first page: %d items, more %v, cursor %d", len(ch.Items), ch.More, ch.Cursor)
	}
	all, _ := pullAll(t, a, 0)
	seen := map[syncproto.RecordID]bool{}
	for _, it := range all {
		seen[it.Record] = true
	}
	if len(all) != 80 || len(seen) != 80 {
		t.Fatalf("%d changes (%d records) over all pages, want 80", len(all), len(seen))
	}
	// A Fetch whose answer cannot fit is refused with too_large; fewer IDs work.
	ids := make([]syncproto.RecordID, len(all))
	for i, it := range all {
		ids[i] = it.Record
	}
	callErr(t, a, &syncproto.Fetch{Records: ids}, syncproto.CodeTooLarge)
	call[syncproto.Records](t, a, &syncproto.Fetch{Records: ids[:10]})
}
