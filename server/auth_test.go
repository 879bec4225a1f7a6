package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"interlude/server/servertest"
	"interlude/syncproto"
)

// TestChallengeReplay is T8: a challenge signature works once, on its own connection,
// for its own account and role, within its lifetime.
func TestChallengeReplay(t *testing.T) {
	e := newEnv(t)
	_, id, _ := e.signUp()
	other, otherID, _ := e.signUp()
	_ = other

	c1 := e.dial()
	ch := call[syncproto.Challenge](t, c1, &syncproto.ChallengeRequest{})
	if !ch.Expires.Equal(testStart.Add(DefaultChallengeTTL)) {
		t.Fatalf("challenge expires %v", ch.Expires)
	}
	login := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase,
		Signature: servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)}

	// On another connection (another nonce), the signature is worthless.
	c2 := e.dial()
	call[syncproto.Challenge](t, c2, &syncproto.ChallengeRequest{})
	callErr(t, c2, login, syncproto.CodeAuthFailed)

	// Cross-account: a signature over another account's login message.
	c3 := e.dial()
	ch3 := call[syncproto.Challenge](t, c3, &syncproto.ChallengeRequest{})
	cross := &syncproto.Login{Account: otherID.Account, Role: syncproto.RolePassphrase,
		Signature: servertest.Sign(id.LoginKey, ch3.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c3, cross, syncproto.CodeAuthFailed)
	// Cross-role: the passphrase signature presented as the recovery role.
	ch3 = call[syncproto.Challenge](t, c3, &syncproto.ChallengeRequest{})
	role := &syncproto.Login{Account: id.Account, Role: syncproto.RoleRecovery,
		Signature: servertest.Sign(id.RecoveryKey, ch3.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c3, role, syncproto.CodeAuthFailed)

	// On its own connection it works once; a replay there is refused too.
	call[syncproto.Session](t, c1, login)
	callErr(t, c1, login, syncproto.CodeUnexpectedMessage)

	// A failed attempt also uses the challenge up.
	c4 := e.dial()
	ch4 := call[syncproto.Challenge](t, c4, &syncproto.ChallengeRequest{})
	bad := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase}
	callErr(t, c4, bad, syncproto.CodeAuthFailed)
	good := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase,
		Signature: servertest.Sign(id.LoginKey, ch4.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c4, good, syncproto.CodeChallengeExpired)

	// Expired after 60 s.
	c5 := e.dial()
	ch5 := call[syncproto.Challenge](t, c5, &syncproto.ChallengeRequest{})
	e.clock.Advance(DefaultChallengeTTL + time.Second)
	late := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase,
		Signature: servertest.Sign(id.LoginKey, ch5.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c5, late, syncproto.CodeChallengeExpired)

	// No challenge asked at all.
	callErr(t, e.dial(), good, syncproto.CodeChallengeExpired)
}

// TestChallengeReplayMany is T8's figure: many replays of one valid signature, none
// accepted.
func TestChallengeReplayMany(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 1_000_000; c.AuthFailuresPerHour = 1_000_000 })
	_, id, _ := e.signUp()
	c := e.dial()
	ch := call[syncproto.Challenge](t, c, &syncproto.ChallengeRequest{})
	login := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase,
		Signature: servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)}
	call[syncproto.Session](t, c, login)
	// An eavesdropper replays the signature on its own connection.
	x := e.dial()
	accepted := 0
	const replays = 1000
	for i := range replays {
		if i%2 == 1 { // half with a fresh (other) challenge outstanding
			call[syncproto.Challenge](t, x, &syncproto.ChallengeRequest{})
		}
		r, err := x.Call(e.ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.(*syncproto.Session); ok {
			accepted++
		}
	}
	if accepted != 0 {
		t.Fatalf("%d of %d replays accepted", accepted, replays)
	}
}

// TestSessionIdleExpiry is T9 (idle): 14:59 without activity keeps the session, 15:01
// ends it.
func TestSessionIdleExpiry(t *testing.T) {
	e := newEnv(t)
	a, _, s := e.signUp()
	e.clock.Advance(14*time.Minute + 59*time.Second)
	call[syncproto.Changes](t, a, &syncproto.Pull{}) // activity: the idle clock restarts
	e.clock.Advance(14*time.Minute + 59*time.Second)
	call[syncproto.Changes](t, a, &syncproto.Pull{})
	e.clock.Advance(15*time.Minute + time.Second)
	sendClosed(t, a, &syncproto.Pull{}, syncproto.CodeSessionExpired)
	// The token is dead.
	callErr(t, e.dial(), &syncproto.Resume{Token: s.Token}, syncproto.CodeAuthFailed)
}

// TestPingIsNotActivity: an app pinging on a timer does not keep a session alive.
func TestPingIsNotActivity(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.signUp()
	for range 14 {
		e.clock.Advance(time.Minute)
		call[syncproto.Pong](t, a, &syncproto.Ping{})
	}
	e.clock.Advance(time.Minute + time.Second)
	sendClosed(t, a, &syncproto.Ping{}, syncproto.CodeSessionExpired)
}

// TestSessionAbsoluteExpiry is T9 (absolute): an active session ends 12 h after sign-in.
func TestSessionAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	a, _, s := e.signUp()
	b := e.resume(s.Token)
	for e.clock.Now().Before(testStart.Add(DefaultSessionLifetime - 10*time.Minute)) {
		e.clock.Advance(10 * time.Minute)
		call[syncproto.Changes](t, a, &syncproto.Pull{})
	}
	e.clock.Set(testStart.Add(DefaultSessionLifetime - time.Second))
	call[syncproto.Changes](t, a, &syncproto.Pull{})
	e.clock.Set(testStart.Add(DefaultSessionLifetime))
	sendClosed(t, a, &syncproto.Pull{}, syncproto.CodeSessionExpired)
	// Every connection of the session is closed at once.
	closedWith(t, b, syncproto.CodeSessionExpired, websocket.ClosePolicyViolation)
	callErr(t, e.dial(), &syncproto.Resume{Token: s.Token}, syncproto.CodeAuthFailed)
}

// TestSharedSessionActivity: activity on one connection keeps another connection of
// the same session alive (through storage).
func TestSharedSessionActivity(t *testing.T) {
	e := newEnv(t)
	a, _, s := e.signUp()
	b := e.resume(s.Token)
	for range 4 {
		e.clock.Advance(10 * time.Minute)
		call[syncproto.Changes](t, a, &syncproto.Pull{})
	}
	// b has been idle 40 minutes itself, but the session has not.
	call[syncproto.Changes](t, b, &syncproto.Pull{})
}

// TestSweeperClosesIdleConnections: the background sweep signs idle connections out
// without waiting for their next message.
func TestSweeperClosesIdleConnections(t *testing.T) {
	e := newEnv(t)
	a, _, _ := e.signUp()
	b, _, _ := e.signUp()
	e.clock.Advance(10 * time.Minute)
	call[syncproto.Changes](t, b, &syncproto.Pull{})
	e.clock.Advance(5*time.Minute + time.Second)
	e.srv.sweep()
	closedWith(t, a, syncproto.CodeSessionExpired, websocket.ClosePolicyViolation)
	call[syncproto.Changes](t, b, &syncproto.Pull{})
}

func TestRevokedDeviceDisconnected(t *testing.T) {
	e := newEnv(t)
	a, id, _ := e.signUp()
	b, sb := e.login(id)
	b2 := e.resume(sb.Token) // a second connection of the same device
	call[syncproto.Ack](t, a, &syncproto.RevokeDevice{Device: sb.Device})
	closedWith(t, b, syncproto.CodeDeviceRevoked, websocket.ClosePolicyViolation)
	closedWith(t, b2, syncproto.CodeDeviceRevoked, websocket.ClosePolicyViolation)
	callErr(t, e.dial(), &syncproto.Resume{Token: sb.Token}, syncproto.CodeAuthFailed)
	ds := call[syncproto.Devices](t, a, &syncproto.DevicesRequest{})
	for _, d := range ds.Items {
		if d.Revoked != (d.Device == sb.Device) {
			t.Fatalf("device %+v", d)
		}
	}
	callErr(t, a, &syncproto.RevokeDevice{Device: syncproto.NewDeviceID()}, syncproto.CodeNotFound)

	// A device revoked behind this server's back (another instance, or the store
	// directly) is caught within a minute of activity.
	c, sc := e.login(id)
	if err := e.store.RevokeDevice(e.ctx, id.Account, sc.Device); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	sendClosed(t, c, &syncproto.Pull{}, syncproto.CodeDeviceRevoked)
}

func TestRevokeOwnDevice(t *testing.T) {
	e := newEnv(t)
	a, id, s := e.signUp()
	other := e.resume(s.Token)
	call[syncproto.Ack](t, a, &syncproto.RevokeDevice{Device: s.Device})
	if got := a.CloseCode(5 * time.Second); got != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want 1000 after revoking its own device", got)
	}
	closedWith(t, other, syncproto.CodeDeviceRevoked, websocket.ClosePolicyViolation)
	// The revoked device cannot sign in again as itself, only as a new device.
	c := e.dial()
	ch := call[syncproto.Challenge](t, c, &syncproto.ChallengeRequest{})
	again := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase, Device: s.Device,
		Signature: servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c, again, syncproto.CodeDeviceRevoked)
	if _, err := c.Login(e.ctx, id, syncproto.RolePassphrase); err != nil {
		t.Fatal(err)
	}
}

// TestLoginExistingDevice: a device whose session ended signs in again as itself.
func TestLoginExistingDevice(t *testing.T) {
	e := newEnv(t)
	a, id, s := e.signUp()
	call[syncproto.Ack](t, a, &syncproto.Logout{})
	c := e.dial()
	ch := call[syncproto.Challenge](t, c, &syncproto.ChallengeRequest{})
	m := &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase, Device: s.Device,
		Signature: servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)}
	got := call[syncproto.Session](t, c, m)
	if got.Device != s.Device || bytes.Equal(got.Token, s.Token) {
		t.Fatalf("Session %+v: want the same device and a new token", got)
	}
	if ds := call[syncproto.Devices](t, c, &syncproto.DevicesRequest{}); len(ds.Items) != 1 {
		t.Fatalf("%d devices, want 1", len(ds.Items))
	}
	// A device of another account, or none at all: not_found, but only after the key
	// is proven (a wrong key still gets auth_failed).
	c2 := e.dial()
	ch = call[syncproto.Challenge](t, c2, &syncproto.ChallengeRequest{})
	m = &syncproto.Login{Account: id.Account, Role: syncproto.RolePassphrase, Device: syncproto.NewDeviceID(),
		Signature: servertest.Sign(id.LoginKey, ch.Nonce, id.Account, syncproto.RolePassphrase)}
	callErr(t, c2, m, syncproto.CodeNotFound)
	ch = call[syncproto.Challenge](t, c2, &syncproto.ChallengeRequest{})
	m.Signature = servertest.Sign(id.RecoveryKey, ch.Nonce, id.Account, syncproto.RolePassphrase)
	callErr(t, c2, m, syncproto.CodeAuthFailed)
}

func TestUnauthenticatedConnectionsTimeOut(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	a, _, _ := e.signUp()
	for _, x := range e.srv.hub.snapshot() {
		x.opened.Add(-int64(handshakeTimeout + time.Second))
	}
	e.srv.sweep()
	closedWith(t, c, syncproto.CodeUnauthenticated, websocket.ClosePolicyViolation)
	call[syncproto.Pong](t, a, &syncproto.Ping{})
}
