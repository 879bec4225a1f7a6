package server

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server/servertest"
	"interlude/syncproto"
)

// actor is one column of the authorization matrix.
type actor int

const (
	owner          actor = iota // the record's owner, signed in
	grantee                     // holds a live grant on the record
	revokedGrantee              // held a grant that was revoked
	stranger                    // another account, no grant
	revokedDevice               // a device of the owner that was revoked: its token no longer signs in
	expiredSession              // a device of the owner whose session's lifetime has passed
	numActors
)

func (a actor) String() string {
	return [...]string{"owner", "grantee", "revoked-grantee", "stranger", "revoked-device", "expired-session"}[a]
}

// world is the shared state the matrix runs against.
type world struct {
	e        *env
	ids      [numActors]*servertest.Identity
	tokens   [numActors][]byte
	r        syncproto.RecordPush // owned by the owner, granted to grantee (and revoked from revokedGrantee)
	ownerDev syncproto.DeviceID
	spareDev syncproto.DeviceID // a device of the owner that the owner's RevokeDevice cell revokes
	revDev   syncproto.DeviceID
	extra    syncproto.AccountID // an account nobody else involves, for the grant cells
}

func newWorld(t *testing.T) *world {
	// The revoked device's failed resumes would otherwise trip the per-address limit.
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 10_000 })
	w := &world{e: e}
	var ownerConn *servertest.Client
	for _, a := range []actor{owner, grantee, revokedGrantee, stranger} {
		c, id, s := e.signUp()
		w.ids[a], w.tokens[a] = id, s.Token
		if a == owner {
			ownerConn, w.ownerDev = c, s.Device
		} else {
			c.Close()
		}
	}
	w.ids[revokedDevice], w.ids[expiredSession] = w.ids[owner], w.ids[owner]
	xc, xid, _ := e.signUp()
	xc.Close()
	w.extra = xid.Account

	w.r = record()
	w.r.Grants = []syncproto.GrantPush{grant(w.r, w.ids[grantee].Account), grant(w.r, w.ids[revokedGrantee].Account)}
	for _, res := range push(t, ownerConn, &syncproto.Push{Records: []syncproto.RecordPush{w.r}}) {
		if res.Status != syncproto.StatusAccepted {
			t.Fatalf("setup push: %+v", res)
		}
	}
	res := push(t, ownerConn, &syncproto.Push{Revokes: []syncproto.Revoke{{Record: w.r.Record, Recipient: w.ids[revokedGrantee].Account}}})
	if res[0].Status != syncproto.StatusAccepted {
		t.Fatalf("setup revoke: %+v", res)
	}

	rc, rs := e.login(w.ids[owner])
	w.revDev, w.tokens[revokedDevice] = rs.Device, rs.Token
	call[syncproto.Ack](t, ownerConn, &syncproto.RevokeDevice{Device: rs.Device})
	closedWith(t, rc, syncproto.CodeDeviceRevoked, websocket.ClosePolicyViolation)
	sc, ss := e.login(w.ids[owner])
	sc.Close()
	w.spareDev = ss.Device
	ownerConn.Close()
	return w
}

// conn opens a connection in the actor's state: signed in, signed out after a failed
// resume (revoked device), or signed in with a session past its lifetime.
func (w *world) conn(t *testing.T, a actor) *servertest.Client {
	t.Helper()
	ctx := context.Background()
	c, _, err := servertest.Dial(ctx, w.e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Hello(ctx); err != nil {
		t.Fatal(err)
	}
	switch a {
	case revokedDevice:
		callErr(t, c, &syncproto.Resume{Token: w.tokens[revokedDevice]}, syncproto.CodeAuthFailed)
	case expiredSession:
		w.e.clock.Set(testStart.Add(-DefaultSessionLifetime - time.Hour))
		_, err = c.Login(ctx, w.ids[owner], syncproto.RolePassphrase)
		w.e.clock.Set(testStart)
	default:
		_, err = c.Resume(ctx, w.tokens[a])
	}
	if err != nil {
		t.Fatalf("signing in as %s: %v", a, err)
	}
	return c
}

// expect is one cell's expected answer.
type expect struct {
	code  syncproto.ErrorCode                 // an Error with this code, or …
	check func(*testing.T, syncproto.Message) // … an answer that passes this check
}

func errCode(c syncproto.ErrorCode) expect { return expect{code: c} }

func is[T any](extra ...func(*testing.T, *T)) expect {
	return expect{check: func(t *testing.T, m syncproto.Message) {
		t.Helper()
		v, err := servertest.Expect[T](m, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range extra {
			f(t, v)
		}
	}}
}

// row is one message type: how to build it for an actor, and each actor's answer.
type row struct {
	name  string
	build func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message
	want  [numActors]expect
}

func fixed(m syncproto.Message) func(*testing.T, *world, actor, *servertest.Client) syncproto.Message {
	return func(*testing.T, *world, actor, *servertest.Client) syncproto.Message { return m }
}

// The last two columns repeat for every authenticated-only message.
var (
	unauth  = errCode(syncproto.CodeUnauthenticated)
	expired = errCode(syncproto.CodeSessionExpired)
	already = errCode(syncproto.CodeUnexpectedMessage)
)

// TestAuthorizationMatrix runs every client message type as each actor and checks the
// answer: what the owner, a grantee, a revoked grantee, a stranger, a revoked device and
// an expired session may do and see.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	r := w.r

	seesRecord := func(state syncproto.RecordState, ownerView bool) func(*testing.T, []syncproto.Change) {
		return func(t *testing.T, items []syncproto.Change) {
			t.Helper()
			var got *syncproto.Change
			for i := range items {
				if items[i].Record == r.Record {
					got = &items[i]
				}
			}
			if state == 0 {
				if got != nil {
					t.Fatalf("sees the record: %+v", got)
				}
				return
			}
			if got == nil || got.State != state {
				t.Fatalf("record = %+v, want state %d", got, state)
			}
			switch state {
			case syncproto.StateLive:
				if !bytes.Equal(got.Envelope, r.Envelope) || got.Owner != w.ids[owner].Account {
					t.Fatal("live record without its envelope")
				}
				if ownerView {
					if !bytes.Equal(got.OwnerKey, r.OwnerKey) || len(got.Grants) != 1 || got.Grants[0].Recipient != w.ids[grantee].Account {
						t.Fatalf("owner's view: owner key %v, grants %+v", got.OwnerKey != nil, got.Grants)
					}
				} else if got.OwnerKey != nil || len(got.Grants) != 1 || got.Grants[0].Recipient != w.ids[grantee].Account {
					t.Fatalf("grantee's view: owner key %v, grants %+v (want only its own)", got.OwnerKey != nil, got.Grants)
				}
			default:
				if got.Envelope != nil || got.OwnerKey != nil || got.Grants != nil {
					t.Fatalf("a %d record carries data", state)
				}
			}
		}
	}
	pullSees := func(state syncproto.RecordState, ownerView bool) expect {
		f := seesRecord(state, ownerView)
		return is(func(t *testing.T, ch *syncproto.Changes) { f(t, ch.Items) })
	}
	fetchSees := func(state syncproto.RecordState, ownerView bool) expect {
		f := seesRecord(state, ownerView)
		return is(func(t *testing.T, rs *syncproto.Records) {
			if len(rs.Items) != 1 {
				t.Fatalf("%d items for one ID", len(rs.Items))
			}
			f(t, rs.Items)
		})
	}
	digest := func(n uint64) expect {
		return is(func(t *testing.T, d *syncproto.Digest) {
			if d.Count != n {
				t.Fatalf("digest count %d, want %d", d.Count, n)
			}
		})
	}
	pushed := func(status syncproto.ItemStatus, code syncproto.ErrorCode) expect {
		return is(func(t *testing.T, p *syncproto.PushResult) {
			if len(p.Results) != 1 || p.Results[0].Status != status || p.Results[0].Code != code {
				t.Fatalf("results %+v, want status %d code %s", p.Results, status, code)
			}
		})
	}
	devicesOf := func(own bool) expect {
		return is(func(t *testing.T, d *syncproto.Devices) {
			for _, x := range d.Items {
				if (x.Device == w.ownerDev || x.Device == w.revDev) != own && own == false {
					t.Fatalf("sees another account's device %s", x.Device)
				}
			}
			if own && len(d.Items) < 3 {
				t.Fatalf("owner sees %d devices", len(d.Items))
			}
			if !own && len(d.Items) != 1 {
				t.Fatalf("sees %d devices, want its own 1", len(d.Items))
			}
		})
	}
	bundleOfOwner := is(func(t *testing.T, b *syncproto.Bundle) {
		if b.Account != w.ids[owner].Account || !bytes.Equal(b.Bundle, w.ids[owner].Bundle) {
			t.Fatal("wrong bundle")
		}
	})
	live := func(e expect) [numActors]expect {
		return [numActors]expect{e, e, e, e, unauth, expired}
	}

	rows := []row{
		{"Hello", fixed(&syncproto.Hello{Versions: []uint16{1}}), [numActors]expect{already, already, already, already, already, expired}},
		{"ChallengeRequest", fixed(&syncproto.ChallengeRequest{}), [numActors]expect{
			is[syncproto.Challenge](), is[syncproto.Challenge](), is[syncproto.Challenge](), is[syncproto.Challenge](), is[syncproto.Challenge](), expired}},
		{"SignUp", func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message {
			return servertest.NewIdentity().SignUpMessage([32]byte{}, nil)
		}, [numActors]expect{already, already, already, already, errCode(syncproto.CodeChallengeExpired), expired}},
		{"LoginParamsRequest", fixed(&syncproto.LoginParamsRequest{Account: w.ids[owner].Account}), [numActors]expect{
			already, already, already, already, is[syncproto.LoginParams](), expired}},
		{"Login", fixed(&syncproto.Login{Account: w.ids[owner].Account, Role: syncproto.RolePassphrase}), [numActors]expect{
			already, already, already, already, errCode(syncproto.CodeChallengeExpired), expired}},
		{"Resume", fixed(&syncproto.Resume{Token: w.tokens[revokedDevice]}), [numActors]expect{
			already, already, already, already, errCode(syncproto.CodeAuthFailed), expired}},
		{"Ping", fixed(&syncproto.Ping{}), [numActors]expect{
			is[syncproto.Pong](), is[syncproto.Pong](), is[syncproto.Pong](), is[syncproto.Pong](), is[syncproto.Pong](), expired}},
		{"Pull", fixed(&syncproto.Pull{}), [numActors]expect{
			pullSees(syncproto.StateLive, true), pullSees(syncproto.StateLive, false), pullSees(syncproto.StateGone, false), pullSees(0, false), unauth, expired}},
		{"Fetch", fixed(&syncproto.Fetch{Records: []syncproto.RecordID{r.Record}}), [numActors]expect{
			fetchSees(syncproto.StateLive, true), fetchSees(syncproto.StateLive, false), fetchSees(syncproto.StateGone, false), fetchSees(syncproto.StateGone, false), unauth, expired}},
		{"DigestRequest", fixed(&syncproto.DigestRequest{}), [numActors]expect{digest(1), digest(1), digest(0), digest(0), unauth, expired}},
		{"Subscribe", fixed(&syncproto.Subscribe{}), live(is[syncproto.Ack]())},
		{"DevicesRequest", fixed(&syncproto.DevicesRequest{}), [numActors]expect{devicesOf(true), devicesOf(false), devicesOf(false), devicesOf(false), unauth, expired}},
		{"BundleRequest", fixed(&syncproto.BundleRequest{Account: w.ids[owner].Account}), live(bundleOfOwner)},
		{"Push record", func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message {
			if a == owner {
				return &syncproto.Push{Records: []syncproto.RecordPush{record()}}
			}
			return &syncproto.Push{Records: []syncproto.RecordPush{revise(r)}}
		}, [numActors]expect{
			pushed(syncproto.StatusAccepted, 0), pushed(syncproto.StatusRejected, syncproto.CodeForbidden),
			pushed(syncproto.StatusRejected, syncproto.CodeForbidden), pushed(syncproto.StatusRejected, syncproto.CodeForbidden), unauth, expired}},
		{"Push grant", func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message {
			return &syncproto.Push{Grants: []syncproto.GrantPush{grant(r, w.extra)}}
		}, [numActors]expect{
			pushed(syncproto.StatusAccepted, 0), pushed(syncproto.StatusRejected, syncproto.CodeForbidden),
			pushed(syncproto.StatusRejected, syncproto.CodeForbidden), pushed(syncproto.StatusRejected, syncproto.CodeForbidden), unauth, expired}},
		{"Push revoke", func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message {
			recipient := w.ids[grantee].Account
			if a == owner || a == grantee {
				recipient = w.ids[revokedGrantee].Account // the owner's cell must not change the grantee's view
			}
			return &syncproto.Push{Revokes: []syncproto.Revoke{{Record: r.Record, Recipient: recipient}}}
		}, [numActors]expect{
			pushed(syncproto.StatusAccepted, 0), pushed(syncproto.StatusRejected, syncproto.CodeForbidden),
			pushed(syncproto.StatusRejected, syncproto.CodeForbidden), pushed(syncproto.StatusRejected, syncproto.CodeForbidden), unauth, expired}},
		{"RevokeDevice", fixed(&syncproto.RevokeDevice{Device: w.spareDev}), [numActors]expect{
			is[syncproto.Ack](), errCode(syncproto.CodeNotFound), errCode(syncproto.CodeNotFound), errCode(syncproto.CodeNotFound), unauth, expired}},
		{"UpdateLogin", func(t *testing.T, w *world, a actor, c *servertest.Client) syncproto.Message {
			next := servertest.NewIdentity()
			m := &syncproto.UpdateLogin{LoginKey: servertest.Public(next.LoginKey), KDFParams: next.KDFParams, Keybag: next.Keybag,
				ProofRole: syncproto.RolePassphrase}
			if a < revokedDevice {
				ch := call[syncproto.Challenge](t, c, &syncproto.ChallengeRequest{})
				m.Signature = servertest.Sign(next.LoginKey, ch.Nonce, w.ids[a].Account, syncproto.RolePassphrase)
				m.Proof = servertest.Sign(w.ids[a].LoginKey, ch.Nonce, w.ids[a].Account, syncproto.RolePassphrase)
				w.ids[a].LoginKey = next.LoginKey // later cells sign in with the new key
			}
			return m
		}, live(is[syncproto.Ack]())},
		{"Welcome (a server message)", fixed(&syncproto.Welcome{Version: 1}), [numActors]expect{already, already, already, already, already, expired}},
		{"Logout", fixed(&syncproto.Logout{}), live(is[syncproto.Ack]())},
	}

	for _, rw := range rows {
		for a := range numActors {
			t.Run(fmt.Sprintf("%s/%s", rw.name, a), func(t *testing.T) {
				c := w.conn(t, a)
				defer c.Close()
				m := rw.build(t, w, a, c)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				want := rw.want[a]
				if want.code == syncproto.CodeSessionExpired {
					sendClosed(t, c, m, want.code) // Error (ID 0), then close 1008
					return
				}
				got, err := c.Call(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				if want.check == nil {
					e, ok := got.(*syncproto.Error)
					if !ok || e.Code != want.code {
						t.Fatalf("got %#v, want Error %s", got, want.code)
					}
					return
				}
				want.check(t, got)
			})
		}
	}

	// Nothing a non-owner did changed what anyone sees; the spare device is revoked.
	for a, state := range map[actor]syncproto.RecordState{grantee: syncproto.StateLive, revokedGrantee: syncproto.StateGone, stranger: syncproto.StateGone} {
		items, err := w.e.store.Records(w.e.ctx, w.ids[a].Account, []syncproto.RecordID{r.Record}, testStart)
		if err != nil || len(items) != 1 || items[0].State != state {
			t.Errorf("%s afterwards: %v %+v, want state %d", a, err, items, state)
		}
	}
	if d, err := w.e.store.Device(w.e.ctx, w.ids[owner].Account, w.spareDev); err != nil || !d.Revoked {
		t.Errorf("spare device: %v %+v, want revoked", err, d)
	}
}

// TestNotifyReachesOnlyWhoMaySee: a change notifies the owner's other devices and the
// grantees, nobody else; a revoke notifies the grantee, whose feed shows StateGone.
func TestNotifyReachesOnlyWhoMaySee(t *testing.T) {
	e := newEnv(t)
	a, owner, _ := e.signUp()
	a2, _ := e.login(owner)
	b, bid, _ := e.signUp()
	c, cid, _ := e.signUp()
	d, _, _ := e.signUp()
	for _, x := range []*servertest.Client{a2, b, c, d} {
		call[syncproto.Ack](t, x, &syncproto.Subscribe{})
		waitNote(t, x, 0)
	}
	r := record()
	r.Grants = []syncproto.GrantPush{grant(r, bid.Account)}
	push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r}})
	waitNote(t, a2, 1)
	bc := waitNote(t, b, 1)
	noNote(t, c)
	noNote(t, d)

	// A top-level grant to c notifies c only (and the owner's devices).
	drainNotes(a2)
	push(t, a, &syncproto.Push{Grants: []syncproto.GrantPush{grant(r, cid.Account)}})
	waitNote(t, c, 1)
	waitNote(t, a2, 1)
	noNote(t, b)

	// Revoking b's grant notifies b, whose feed then says StateGone.
	push(t, a, &syncproto.Push{Revokes: []syncproto.Revoke{{Record: r.Record, Recipient: bid.Account}}})
	waitNote(t, b, bc+1)
	noNote(t, d)
	ch := call[syncproto.Changes](t, b, &syncproto.Pull{Cursor: bc})
	if len(ch.Items) != 1 || ch.Items[0].Record != r.Record || ch.Items[0].State != syncproto.StateGone {
		t.Fatalf("grantee's feed after a revoke: %+v", ch.Items)
	}
	if got := call[syncproto.Records](t, b, &syncproto.Fetch{Records: []syncproto.RecordID{r.Record}}); got.Items[0].State != syncproto.StateGone {
		t.Fatal("a revoked grantee can still fetch the record")
	}
}

// TestGrantExpiryNotifies: the sweeper expires grants and notifies the recipients.
func TestGrantExpiryNotifies(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout = 2 * time.Hour })
	a, _, _ := e.signUp()
	b, bid, _ := e.signUp()
	call[syncproto.Ack](t, b, &syncproto.Subscribe{})
	waitNote(t, b, 0)
	r := record()
	g := grant(r, bid.Account)
	g.Expires = testStart.Add(time.Hour)
	r.Grants = []syncproto.GrantPush{g}
	push(t, a, &syncproto.Push{Records: []syncproto.RecordPush{r}})
	cur := waitNote(t, b, 1)
	e.clock.Advance(time.Hour + time.Second)
	e.srv.sweep()
	waitNote(t, b, cur+1)
	ch := call[syncproto.Changes](t, b, &syncproto.Pull{Cursor: cur})
	if len(ch.Items) != 1 || ch.Items[0].State != syncproto.StateGone {
		t.Fatalf("after expiry: %+v", ch.Items)
	}
}
