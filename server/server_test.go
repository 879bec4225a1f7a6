package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server/servertest"
	"interlude/storage"
	"interlude/syncproto"
)

func TestHelloWelcome(t *testing.T) {
	e := newEnv(t)
	c := e.dialRaw(nil)
	w := call[syncproto.Welcome](t, c, &syncproto.Hello{Versions: []uint16{7, 1}, Client: "test/1"})
	if w.Version != 1 || w.Limits.MaxBatch != syncproto.DefaultMaxBatch || w.Limits.MaxFrame != syncproto.DefaultMaxFrame ||
		w.Limits.MaxPullPage != syncproto.DefaultMaxPullPage || w.Limits.MaxFetch != syncproto.DefaultMaxFetch {
		t.Fatalf("Welcome = %+v", w)
	}
	if !w.ServerTime.Equal(testStart) {
		t.Fatalf("ServerTime %v, want the injected clock %v", w.ServerTime, testStart)
	}
}

func TestFirstMessageMustBeHello(t *testing.T) {
	e := newEnv(t)
	c := e.dialRaw(nil)
	callErr(t, c, &syncproto.Ping{}, syncproto.CodeUnexpectedMessage)
	if got := c.CloseCode(5 * time.Second); got != websocket.CloseProtocolError {
		t.Fatalf("close code %d, want %d", got, websocket.CloseProtocolError)
	}

	c = e.dialRaw(nil)
	callErr(t, c, &syncproto.Hello{Versions: []uint16{2, 3}}, syncproto.CodeUnsupportedVersion)
	if got := c.CloseCode(5 * time.Second); got != websocket.CloseProtocolError {
		t.Fatalf("close code %d, want %d", got, websocket.CloseProtocolError)
	}

	c = e.dial()
	callErr(t, c, &syncproto.Hello{Versions: []uint16{1}}, syncproto.CodeUnexpectedMessage)
	call[syncproto.Pong](t, c, &syncproto.Ping{}) // still open
}

func TestSignUpAndSecondDevice(t *testing.T) {
	e := newEnv(t)
	c1, id, s1 := e.signUp()
	if s1.Account != id.Account || s1.Device.IsZero() || len(s1.Token) != 32 || s1.Keybag != nil ||
		s1.IdleTimeout != DefaultIdleTimeout || !s1.Expires.Equal(testStart.Add(DefaultSessionLifetime)) {
		t.Fatalf("sign-up Session = %+v", s1)
	}
	// What the server stored: public keys and the blobs, as sent.
	acct, err := e.store.Account(e.ctx, id.Account)
	if err != nil {
		t.Fatal(err)
	}
	if acct.LoginKey != servertest.Public(id.LoginKey) || acct.RecoveryLoginKey != servertest.Public(id.RecoveryKey) ||
		!bytes.Equal(acct.Keybag, id.Keybag) || !bytes.Equal(acct.RecoveryKeybag, id.RecoveryKeybag) ||
		!bytes.Equal(acct.KDFParams, id.KDFParams) || !bytes.Equal(acct.Bundle, id.Bundle) || acct.Fingerprint != id.Fingerprint {
		t.Fatal("stored account differs from the sign-up")
	}

	// A second device: login parameters, challenge, login, keybag.
	c2 := e.dial()
	lp := call[syncproto.LoginParams](t, c2, &syncproto.LoginParamsRequest{Account: id.Account})
	if !bytes.Equal(lp.KDFParams, id.KDFParams) {
		t.Fatal("login parameters differ from the sign-up's")
	}
	s2, err := c2.Login(e.ctx, id, syncproto.RolePassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Account != id.Account || s2.Device == s1.Device || !bytes.Equal(s2.Keybag, id.Keybag) || bytes.Equal(s2.Token, s1.Token) {
		t.Fatalf("login Session = %+v", s2)
	}
	// The recovery key gets the recovery keybag.
	c3 := e.dial()
	s3, err := c3.Login(e.ctx, id, syncproto.RoleRecovery)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s3.Keybag, id.RecoveryKeybag) {
		t.Fatal("recovery login did not return the recovery keybag")
	}

	ds := call[syncproto.Devices](t, c2, &syncproto.DevicesRequest{})
	if len(ds.Items) != 3 {
		t.Fatalf("%d devices, want 3", len(ds.Items))
	}
	for _, d := range ds.Items {
		if d.Current != (d.Device == s2.Device) || d.Revoked {
			t.Fatalf("device %+v", d)
		}
		if !d.Created.Equal(day(testStart)) || !d.LastSeen.Equal(hour(testStart)) {
			t.Fatalf("device times %v, %v: want day and hour precision", d.Created, d.LastSeen)
		}
	}
	call[syncproto.Pong](t, c1, &syncproto.Ping{})
}

func TestResume(t *testing.T) {
	e := newEnv(t)
	_, id, s := e.signUp()
	c := e.dial()
	r, err := c.Resume(e.ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if r.Account != id.Account || r.Device != s.Device || !bytes.Equal(r.Token, s.Token) {
		t.Fatalf("Resume Session = %+v", r)
	}
	call[syncproto.Changes](t, c, &syncproto.Pull{})

	bad := e.dial()
	wrong := slices.Clone(s.Token)
	wrong[0] ^= 1
	e1 := callErr(t, bad, &syncproto.Resume{Token: wrong}, syncproto.CodeAuthFailed)
	e2 := callErr(t, bad, &syncproto.Resume{Token: wrong[:16]}, syncproto.CodeAuthFailed)
	if e1.Message != e2.Message || e1.Message != msgAuthFailed {
		t.Fatalf("auth failures differ: %q, %q", e1.Message, e2.Message)
	}
	callErr(t, bad, &syncproto.Pull{}, syncproto.CodeUnauthenticated)
	call[syncproto.Pong](t, bad, &syncproto.Ping{})
}

func TestPushPullLiveNotify(t *testing.T) {
	e := newEnv(t)
	a, id, _ := e.signUp()
	b, _ := e.login(id)
	call[syncproto.Ack](t, b, &syncproto.Subscribe{})
	first := waitNote(t, b, 0) // the current cursor, announced on subscribing

	recs := []syncproto.RecordPush{record(), record(), record()}
	res := push(t, a, &syncproto.Push{Records: recs})
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if r.Status != syncproto.StatusAccepted || r.Record != recs[i].Record || r.Revision != 1 || r.Seq == 0 {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	cur := waitNote(t, b, first+1)
	changes, pcur := pullAll(t, b, 0)
	if pcur < cur || len(changes) != 3 {
		t.Fatalf("pulled %d changes to cursor %d (notified %d)", len(changes), pcur, cur)
	}
	for i, ch := range changes {
		if ch.Record != recs[i].Record || ch.State != syncproto.StateLive || ch.Owner != id.Account ||
			!bytes.Equal(ch.Envelope, recs[i].Envelope) || !bytes.Equal(ch.OwnerKey, recs[i].OwnerKey) {
			t.Fatalf("change %d = %+v", i, ch)
		}
	}
	// Assert on what the server stored, not only on what it said.
	stored, err := e.store.Records(e.ctx, id.Account, []syncproto.RecordID{recs[1].Record}, testStart)
	if err != nil || len(stored) != 1 || !bytes.Equal(stored[0].Envelope, recs[1].Envelope) {
		t.Fatalf("stored record: %v %+v", err, stored)
	}
	// A pull after the cursor is empty.
	if ch := call[syncproto.Changes](t, b, &syncproto.Pull{Cursor: pcur}); len(ch.Items) != 0 || ch.More {
		t.Fatalf("pull after cursor = %+v", ch)
	}
}

func TestIdempotentReplayConflictDelete(t *testing.T) {
	e := newEnv(t)
	a, id, _ := e.signUp()
	r := record()
	first := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r}})[0]
	again := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r}})[0]
	if again != first || again.Status != syncproto.StatusAccepted {
		t.Fatalf("replay = %+v, first = %+v", again, first)
	}
	changes, _ := pullAll(t, a, 0)
	if len(changes) != 1 {
		t.Fatalf("%d changes after a replay, want 1", len(changes))
	}

	// Same revision, other bytes: a conflict with the current revision.
	other := r
	other.Envelope = servertest.Envelope()
	if got := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{other}})[0]; got.Status != syncproto.StatusConflict || got.Revision != 1 {
		t.Fatalf("same revision, other bytes = %+v", got)
	}
	r2 := revise(r)
	if got := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r2}})[0]; got.Status != syncproto.StatusAccepted || got.Revision != 2 {
		t.Fatalf("revision 2 = %+v", got)
	}
	stale := revise(r) // base 1 again, other bytes
	if got := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{stale}})[0]; got.Status != syncproto.StatusConflict || got.Revision != 2 {
		t.Fatalf("stale base = %+v", got)
	}

	// Delete, then a push on the deleted record is refused.
	statement := bytes.Repeat([]byte{0xd1}, 105) // opaque to the server: a signed deletion statement
	del := syncproto.RecordPush{Record: r.Record, BaseRevision: 2, Revision: 3, Delete: true, Envelope: statement}
	if got := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{del}})[0]; got.Status != syncproto.StatusAccepted {
		t.Fatalf("delete = %+v", got)
	}
	after := syncproto.RecordPush{Record: r.Record, BaseRevision: 3, Revision: 4, Envelope: servertest.Envelope(), OwnerKey: r.OwnerKey}
	if got := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{after}})[0]; got.Status != syncproto.StatusRejected || got.Code != syncproto.CodeDeleted {
		t.Fatalf("push after delete = %+v", got)
	}
	b, _ := e.login(id)
	changes, _ = pullAll(t, b, 0)
	if len(changes) != 1 || changes[0].State != syncproto.StateDeleted || !bytes.Equal(changes[0].Envelope, statement) {
		t.Fatalf("after delete: %+v", changes)
	}
}

func TestPushValidation(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxEnvelope = 4096 })
	a, id, _ := e.signUp()
	good := record()
	big := record()
	big.Envelope = make([]byte, 4097)
	delWithoutStatement := syncproto.RecordPush{Record: syncproto.NewRecordID(testStart), BaseRevision: 1, Revision: 2, Delete: true}
	noEnv := syncproto.RecordPush{Record: syncproto.NewRecordID(testStart), Revision: 1}
	zeroID := syncproto.RecordPush{Revision: 1, Envelope: []byte{1}, OwnerKey: []byte{1}}
	selfGrant := record()
	selfGrant.Grants = []syncproto.GrantPush{grant(selfGrant, id.Account)}
	otherRev := record()
	g := grant(otherRev, syncproto.NewAccountID())
	g.Revision = 2
	otherRev.Grants = []syncproto.GrantPush{g}
	badRev := record()
	badRev.Revision = 3

	p := &syncproto.Push{
		Records: []syncproto.RecordPush{good, big, delWithoutStatement, noEnv, zeroID, selfGrant, otherRev, badRev},
		Grants:  []syncproto.GrantPush{{Record: good.Record, Revision: 1, Recipient: syncproto.NewAccountID()}},
		Revokes: []syncproto.Revoke{{Record: good.Record}},
	}
	want := []syncproto.ErrorCode{0, syncproto.CodeTooLarge, syncproto.CodeBadRequest, syncproto.CodeBadRequest,
		syncproto.CodeBadRequest, syncproto.CodeBadRequest, syncproto.CodeBadRequest, 0, syncproto.CodeBadRequest, syncproto.CodeBadRequest}
	res := push(t, a, p)
	if len(res) != len(want) {
		t.Fatalf("%d results for %d items", len(res), len(want))
	}
	if res[0].Status != syncproto.StatusAccepted || res[0].Record != good.Record {
		t.Fatalf("the good record: %+v", res[0])
	}
	// Revision 3 on base 0 is malformed, not a conflict.
	if res[7].Record != badRev.Record {
		t.Fatalf("revision 3 on base 0: %+v", res[7])
	}
	for i, code := range want {
		if code == 0 {
			continue
		}
		if res[i].Status != syncproto.StatusRejected || res[i].Code != code || res[i].Seq != 0 {
			t.Errorf("item %d: %+v, want rejected %s", i, res[i], code)
		}
	}
	if res[1].Record != big.Record || res[9].Record != good.Record {
		t.Error("refused items' results name the wrong records")
	}
	// Only the good record was written.
	changes, _ := pullAll(t, a, 0)
	if len(changes) != 1 || changes[0].Record != good.Record {
		t.Fatalf("stored: %+v", changes)
	}
	if got := push(t, a, &syncproto.Push{}); len(got) != 0 {
		t.Fatalf("empty push = %+v", got)
	}
	// A request with ID 0 is refused.
	frame, _ := syncproto.Encode(0, &syncproto.Ping{})
	if err := a.WriteFrame(websocket.BinaryMessage, frame); err != nil {
		t.Fatal(err)
	}
	select {
	case er := <-a.Unsolicited():
		if er.Code != syncproto.CodeBadRequest {
			t.Fatalf("request ID 0: %s", er.Code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to request ID 0")
	}
}

// pushSpy wraps a store and records the record and grant IDs each Push carries.
type pushSpy struct {
	storage.Store
	mu   sync.Mutex
	seen map[syncproto.RecordID]bool
}

func (s *pushSpy) Push(ctx context.Context, owner syncproto.AccountID, p syncproto.Push, now time.Time) (storage.PushOutcome, error) {
	s.mu.Lock()
	for _, r := range p.Records {
		s.seen[r.Record] = true
	}
	for _, g := range p.Grants {
		s.seen[g.Record] = true
	}
	s.mu.Unlock()
	return s.Store.Push(ctx, owner, p, now)
}

// TestPushBadRevisionRejected: a record whose Revision is not BaseRevision+1 (or does
// not fit 63 bits) is malformed: Rejected bad_request, never a conflict, refused by the
// server before the store sees it, whatever the record's state.
func TestPushBadRevisionRejected(t *testing.T) {
	spy := &pushSpy{seen: make(map[syncproto.RecordID]bool)}
	e := newEnvWrapped(t, func(st storage.Store) storage.Store { spy.Store = st; return spy })
	a, _, _ := e.signUp()
	existing := record()
	push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{existing}})
	spy.mu.Lock()
	clear(spy.seen)
	spy.mu.Unlock()

	skip := record()
	skip.Revision = 2 // base 0
	wrap := record()
	wrap.BaseRevision, wrap.Revision = math.MaxUint64, 0 // BaseRevision+1 overflows to 0
	huge := record()
	huge.BaseRevision, huge.Revision = math.MaxInt64, math.MaxInt64+1
	stale := revise(existing)
	stale.Revision = 3 // base 1, the record's current revision
	hugeGrant := grant(existing, syncproto.NewAccountID())
	hugeGrant.Record = syncproto.NewRecordID(testStart)
	hugeGrant.Revision = math.MaxInt64 + 1
	res := push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{skip, wrap, huge, stale}, Grants: []syncproto.GrantPush{hugeGrant}})
	for i, id := range []syncproto.RecordID{skip.Record, wrap.Record, huge.Record, stale.Record, hugeGrant.Record} {
		if r := res[i]; r.Record != id || r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeBadRequest || r.Seq != 0 {
			t.Errorf("item %d: %+v, want rejected bad_request", i, r)
		}
		spy.mu.Lock()
		seen := spy.seen[id]
		spy.mu.Unlock()
		if seen {
			t.Errorf("item %d reached the store", i)
		}
	}
	if got := call[syncproto.Records](t, a, &syncproto.Fetch{Records: []syncproto.RecordID{existing.Record}}); got.Items[0].Revision != 1 {
		t.Fatalf("the existing record moved: %+v", got.Items[0])
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	get := func() (int, string) {
		resp, err := http.Get(e.ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := get(); code != 200 || body != "ok" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	e.store.Close()
	if code, _ := get(); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz with the store closed = %d, want 503", code)
	}
}

func TestUpgradeNeedsSubprotocol(t *testing.T) {
	e := newEnv(t)
	for _, protos := range [][]string{{}, {"interlude.v2"}, {"chat", "superchat"}} {
		_, resp, err := servertest.Dial(e.ctx, e.url, &servertest.DialOptions{Subprotocols: protos})
		if err == nil {
			t.Fatalf("subprotocols %q: connected", protos)
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("subprotocols %q: %v %v", protos, resp, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), syncproto.Subprotocol) {
			t.Fatalf("refusal %q does not name the subprotocol to offer", b)
		}
	}
	// Plain HTTP to the endpoint is refused too.
	resp, err := http.Get(e.ts.URL + syncproto.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain GET = %d", resp.StatusCode)
	}
}

func TestFakeLoginParams(t *testing.T) {
	e := newEnv(t)
	_, id, _ := e.signUp()
	c := e.dial()
	unknown := syncproto.NewAccountID()
	p1 := call[syncproto.LoginParams](t, c, &syncproto.LoginParamsRequest{Account: unknown}).KDFParams
	p2 := call[syncproto.LoginParams](t, c, &syncproto.LoginParamsRequest{Account: unknown}).KDFParams
	other := call[syncproto.LoginParams](t, c, &syncproto.LoginParamsRequest{Account: syncproto.NewAccountID()}).KDFParams
	real := call[syncproto.LoginParams](t, c, &syncproto.LoginParamsRequest{Account: id.Account}).KDFParams
	if !bytes.Equal(p1, p2) {
		t.Fatal("fake parameters are not deterministic")
	}
	if bytes.Equal(p1[10:], other[10:]) {
		t.Fatal("two unknown accounts share a fake salt")
	}
	if len(p1) != 26 || len(p1) != len(real) || p1[0] != 0x01 ||
		binary.BigEndian.Uint32(p1[1:]) != 65536 || binary.BigEndian.Uint32(p1[5:]) != 3 || p1[9] != 4 {
		t.Fatalf("fake parameters %x are not well-formed", p1)
	}
	// Deterministic across restarts (the secret is kept in the data directory).
	e.restart()
	c = e.dial()
	if p3 := call[syncproto.LoginParams](t, c, &syncproto.LoginParamsRequest{Account: unknown}).KDFParams; !bytes.Equal(p1, p3) {
		t.Fatal("fake parameters changed across a restart")
	}
}

func TestUnknownAccountAndWrongKeyIndistinguishable(t *testing.T) {
	e := newEnv(t)
	_, id, _ := e.signUp()
	c := e.dial()

	// A wrong key for a real account.
	wrong := servertest.NewIdentity()
	wrong.Account = id.Account
	_, err := c.Login(e.ctx, wrong, syncproto.RolePassphrase)
	// An unknown account.
	_, err2 := c.Login(e.ctx, servertest.NewIdentity(), syncproto.RolePassphrase)
	// The recovery role with the passphrase key.
	mixed := *id
	mixed.RecoveryKey = id.LoginKey
	_, err3 := c.Login(e.ctx, &mixed, syncproto.RoleRecovery)
	for _, err := range []error{err, err2, err3} {
		var pe *syncproto.Error
		if !asError(err, &pe) || pe.Code != syncproto.CodeAuthFailed || pe.Message != msgAuthFailed {
			t.Fatalf("got %v, want auth_failed with the one message", err)
		}
	}
}

func asError(err error, target **syncproto.Error) bool {
	pe, ok := err.(*syncproto.Error)
	if ok {
		*target = pe
	}
	return ok
}

func TestRestartKeepsData(t *testing.T) {
	e := newEnv(t)
	a, id, s := e.signUp()
	recs := []syncproto.RecordPush{record(), record()}
	push(t, a, &syncproto.Push{Records: recs})
	before, cur := pullAll(t, a, 0)

	e.restart()
	c := e.resume(s.Token) // sessions survive
	after, cur2 := pullAll(t, c, 0)
	if cur2 != cur || len(after) != len(before) {
		t.Fatalf("after restart: %d changes to %d, before %d to %d", len(after), cur2, len(before), cur)
	}
	for i := range after {
		if !bytes.Equal(after[i].Envelope, recs[i].Envelope) {
			t.Fatalf("record %d changed across the restart", i)
		}
	}
	c2 := e.dial()
	if _, err := c2.Login(e.ctx, id, syncproto.RolePassphrase); err != nil {
		t.Fatalf("login after restart: %v", err)
	}
}

func TestShutdownClosesWebSockets(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.signUp()
	fresh := e.dial()
	raw := e.dialRaw(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*servertest.Client{a, fresh, raw} {
		closedWith(t, c, syncproto.CodeShuttingDown, websocket.CloseGoingAway)
	}
	if n, _ := e.srv.hub.count(); n != 0 {
		t.Fatalf("%d connections left after Shutdown", n)
	}
	// New WebSockets are refused while stopping.
	if _, resp, err := servertest.Dial(e.ctx, e.url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Shutdown: %v %v", resp, err)
	}
}

// TestShutdownRaceSaysWhy: a WebSocket upgraded just as Shutdown begins (after the
// handler's check, before it is registered) gets the same Error shutting_down (ID 0)
// before its close 1001 as every other connection.
func TestShutdownRaceSaysWhy(t *testing.T) {
	e := newEnv(t)
	e.srv.hub.close() // Shutdown has begun
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := e.srv.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		e.srv.admit(ws, r.RemoteAddr)
	}))
	defer ts.Close()
	c, _, err := servertest.Dial(e.ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closedWith(t, c, syncproto.CodeShuttingDown, websocket.CloseGoingAway)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	a, id, s := e.signUp()
	call[syncproto.Ack](t, a, &syncproto.Logout{})
	if got := a.CloseCode(5 * time.Second); got != websocket.CloseNormalClosure {
		t.Fatalf("close code %d after Logout, want 1000", got)
	}
	c := e.dial()
	callErr(t, c, &syncproto.Resume{Token: s.Token}, syncproto.CodeAuthFailed)
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); err != nil {
		t.Fatal(err)
	}
	call[syncproto.Changes](t, c, &syncproto.Pull{})
}

// TestLogoutEndsSessionEverywhere: Logout on one connection ends the session on every
// other connection signed in with it at once (Error session_expired, ID 0, close 1008),
// without waiting for their next check against storage; other sessions of the same
// device and account are not touched.
func TestLogoutEndsSessionEverywhere(t *testing.T) {
	e := newEnv(t)
	a, id, s := e.signUp()
	same := e.resume(s.Token)
	call[syncproto.Ack](t, same, &syncproto.Subscribe{})
	other, _ := e.login(id)
	call[syncproto.Ack](t, a, &syncproto.Logout{})
	if got := a.CloseCode(5 * time.Second); got != websocket.CloseNormalClosure {
		t.Fatalf("close code %d after Logout, want 1000", got)
	}
	closedWith(t, same, syncproto.CodeSessionExpired, websocket.ClosePolicyViolation)
	call[syncproto.Changes](t, other, &syncproto.Pull{})
}

func TestUpdateLogin(t *testing.T) {
	e := newEnv(t)
	a, id, _ := e.signUp()
	next := servertest.NewIdentity()
	ch := call[syncproto.Challenge](t, a, &syncproto.ChallengeRequest{})
	upd := &syncproto.UpdateLogin{
		LoginKey: servertest.Public(next.LoginKey), KDFParams: next.KDFParams, Keybag: next.Keybag,
		Signature: servertest.Sign(next.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase),
		ProofRole: syncproto.RolePassphrase,
		Proof:     servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase),
	}
	call[syncproto.Ack](t, a, upd)
	// The challenge was used: the same update again is refused.
	callErr(t, a, upd, syncproto.CodeChallengeExpired)
	// The new key's signature by another key (the proof, by the now current key, is good).
	ch = call[syncproto.Challenge](t, a, &syncproto.ChallengeRequest{})
	upd.Signature = servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)
	upd.Proof = servertest.Sign(next.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)
	callErr(t, a, upd, syncproto.CodeAuthFailed)

	c := e.dial()
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeAuthFailed {
		t.Fatalf("login with the old key: %v", err)
	}
	updated := *id
	updated.LoginKey = next.LoginKey
	s, err := c.Login(e.ctx, &updated, syncproto.RolePassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Keybag, next.Keybag) {
		t.Fatal("login after the update did not return the new keybag")
	}
	lp := call[syncproto.LoginParams](t, e.dial(), &syncproto.LoginParamsRequest{Account: id.Account})
	if !bytes.Equal(lp.KDFParams, next.KDFParams) {
		t.Fatal("KDF parameters were not updated")
	}
}

func TestBundle(t *testing.T) {
	e := newEnv(t)
	_, id, _ := e.signUp()
	b, _, _ := e.signUp()
	got := call[syncproto.Bundle](t, b, &syncproto.BundleRequest{Account: id.Account})
	if got.Account != id.Account || !bytes.Equal(got.Bundle, id.Bundle) {
		t.Fatal("bundle by account")
	}
	got = call[syncproto.Bundle](t, b, &syncproto.BundleRequest{Fingerprint: id.Fingerprint[:10]})
	if got.Account != id.Account || !bytes.Equal(got.Bundle, id.Bundle) {
		t.Fatal("bundle by fingerprint")
	}
	callErr(t, b, &syncproto.BundleRequest{Fingerprint: id.Fingerprint[:9]}, syncproto.CodeBadRequest)
	callErr(t, b, &syncproto.BundleRequest{}, syncproto.CodeBadRequest)
	callErr(t, b, &syncproto.BundleRequest{Account: id.Account, Fingerprint: id.Fingerprint[:]}, syncproto.CodeBadRequest)
	callErr(t, b, &syncproto.BundleRequest{Account: syncproto.NewAccountID()}, syncproto.CodeNotFound)
}
