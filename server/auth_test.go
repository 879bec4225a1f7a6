package server

import (
	"bytes"
	"crypto/ed25519"
	"sync"
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

// updateLoginMsg builds an UpdateLogin to next for account, answering nonce: signed by
// the new key, with proof by proofKey in proofRole.
func updateLoginMsg(next *servertest.Identity, account syncproto.AccountID, nonce [32]byte,
	proofKey ed25519.PrivateKey, proofRole syncproto.LoginRole) *syncproto.UpdateLogin {
	m := &syncproto.UpdateLogin{
		LoginKey: servertest.Public(next.LoginKey), KDFParams: next.KDFParams, Keybag: next.Keybag,
		Signature: servertest.Sign(next.LoginKey, nonce, account, syncproto.RolePassphrase),
		ProofRole: proofRole,
	}
	if proofKey != nil {
		m.Proof = servertest.Sign(proofKey, nonce, account, proofRole)
	}
	return m
}

// loginUnchanged checks that id still signs in with its passphrase key and the account's
// KDF parameters are still id's.
func loginUnchanged(t *testing.T, e *env, id *servertest.Identity) {
	t.Helper()
	c := e.dial()
	defer c.Close()
	s, err := c.Login(e.ctx, id, syncproto.RolePassphrase)
	if err != nil {
		t.Fatalf("login with the unchanged key: %v", err)
	}
	if !bytes.Equal(s.Keybag, id.Keybag) {
		t.Fatal("the keybag changed")
	}
	lp := call[syncproto.LoginParams](t, e.dial(), &syncproto.LoginParamsRequest{Account: id.Account})
	if !bytes.Equal(lp.KDFParams, id.KDFParams) {
		t.Fatal("the KDF parameters changed")
	}
}

// TestUpdateLoginNeedsCurrentKey: a session token alone (say, stolen from an unlocked
// laptop) cannot replace the passphrase login and lock the owner out. UpdateLogin needs,
// besides the new key's signature, a signature of the same challenge by a current login
// key of the account, in the role it names; the challenge is used up either way, and a
// refused update changes nothing.
func TestUpdateLoginNeedsCurrentKey(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 1000; c.AuthFailuresPerHour = 1000 })
	_, id, s := e.signUp()
	thief := e.resume(s.Token) // the stolen token, on the thief's own connection
	next := servertest.NewIdentity()
	stranger := servertest.NewIdentity() // keys the thief made up

	refused := []struct {
		name  string
		proof func(nonce [32]byte) *syncproto.UpdateLogin
	}{
		{"no proof", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, nil, syncproto.RolePassphrase)
		}},
		{"proof by the new key", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, next.LoginKey, syncproto.RolePassphrase)
		}},
		{"proof by a key of the thief's", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, stranger.LoginKey, syncproto.RolePassphrase)
		}},
		{"proof by a key of the thief's, recovery role", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, stranger.RecoveryKey, syncproto.RoleRecovery)
		}},
		{"recovery key presented as the passphrase role", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, id.RecoveryKey, syncproto.RolePassphrase)
		}},
		{"passphrase key presented as the recovery role", func(n [32]byte) *syncproto.UpdateLogin {
			return updateLoginMsg(next, id.Account, n, id.LoginKey, syncproto.RoleRecovery)
		}},
		{"passphrase key signing the recovery role's message", func(n [32]byte) *syncproto.UpdateLogin {
			m := updateLoginMsg(next, id.Account, n, nil, syncproto.RolePassphrase)
			m.Proof = servertest.Sign(id.LoginKey, n, id.Account, syncproto.RoleRecovery)
			return m
		}},
		{"proof for another account", func(n [32]byte) *syncproto.UpdateLogin {
			m := updateLoginMsg(next, id.Account, n, nil, syncproto.RolePassphrase)
			m.Proof = servertest.Sign(id.LoginKey, n, stranger.Account, syncproto.RolePassphrase)
			return m
		}},
		{"proof of another challenge", func(n [32]byte) *syncproto.UpdateLogin {
			m := updateLoginMsg(next, id.Account, n, nil, syncproto.RolePassphrase)
			m.Proof = servertest.Sign(id.LoginKey, [32]byte{1}, id.Account, syncproto.RolePassphrase)
			return m
		}},
		{"good proof, new key's signature missing", func(n [32]byte) *syncproto.UpdateLogin {
			m := updateLoginMsg(next, id.Account, n, id.LoginKey, syncproto.RolePassphrase)
			m.Signature = [64]byte{}
			return m
		}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			ch := call[syncproto.Challenge](t, thief, &syncproto.ChallengeRequest{})
			callErr(t, thief, tt.proof(ch.Nonce), syncproto.CodeAuthFailed)
			loginUnchanged(t, e, id)
		})
	}

	// Whoever also holds the current passphrase key may: a passphrase change.
	ch := call[syncproto.Challenge](t, thief, &syncproto.ChallengeRequest{})
	good := updateLoginMsg(next, id.Account, ch.Nonce, id.LoginKey, syncproto.RolePassphrase)
	call[syncproto.Ack](t, thief, good)
	// Replayed: on the same connection the challenge is used up; under a new challenge
	// the signatures answer the old nonce.
	callErr(t, thief, good, syncproto.CodeChallengeExpired)
	call[syncproto.Challenge](t, thief, &syncproto.ChallengeRequest{})
	callErr(t, thief, good, syncproto.CodeAuthFailed)
	// On another connection of the same session, with its own challenge, too.
	other := e.resume(s.Token)
	call[syncproto.Challenge](t, other, &syncproto.ChallengeRequest{})
	callErr(t, other, good, syncproto.CodeAuthFailed)

	updated := *id
	updated.LoginKey, updated.KDFParams, updated.Keybag = next.LoginKey, next.KDFParams, next.Keybag
	loginUnchanged(t, e, &updated)
	// The old passphrase key is no longer a current key: it proves nothing now.
	third := servertest.NewIdentity()
	ch = call[syncproto.Challenge](t, other, &syncproto.ChallengeRequest{})
	callErr(t, other, updateLoginMsg(third, id.Account, ch.Nonce, id.LoginKey, syncproto.RolePassphrase), syncproto.CodeAuthFailed)
	loginUnchanged(t, e, &updated)

	// Whoever holds the recovery key may: a reset after recovery.
	ch = call[syncproto.Challenge](t, other, &syncproto.ChallengeRequest{})
	call[syncproto.Ack](t, other, updateLoginMsg(third, id.Account, ch.Nonce, id.RecoveryKey, syncproto.RoleRecovery))
	updated.LoginKey, updated.KDFParams, updated.Keybag = third.LoginKey, third.KDFParams, third.Keybag
	loginUnchanged(t, e, &updated)
}

// TestUpdateLoginFailedProofIsRateLimited: a failed proof counts as a failed sign-in, so
// a stolen token cannot be used to guess at the passphrase key faster than Login can;
// the limit then refuses even a good update (and uses up its challenge).
func TestUpdateLoginFailedProofIsRateLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 3 })
	a, id, _ := e.signUp()
	next := servertest.NewIdentity()
	wrong := servertest.NewIdentity().LoginKey
	for range 3 {
		ch := call[syncproto.Challenge](t, a, &syncproto.ChallengeRequest{})
		callErr(t, a, updateLoginMsg(next, id.Account, ch.Nonce, wrong, syncproto.RolePassphrase), syncproto.CodeAuthFailed)
	}
	ch := call[syncproto.Challenge](t, a, &syncproto.ChallengeRequest{})
	good := updateLoginMsg(next, id.Account, ch.Nonce, id.LoginKey, syncproto.RolePassphrase)
	callErr(t, a, good, syncproto.CodeRateLimited)
	callErr(t, a, good, syncproto.CodeChallengeExpired)
	// Sign-in is limited too: the failures counted against the account (and the address).
	if _, err := e.dial().Login(e.ctx, id, syncproto.RolePassphrase); servertest.CodeOf(err) != syncproto.CodeRateLimited {
		t.Fatalf("Login after 3 failed proofs: %v, want rate_limited", err)
	}
	e.clock.Advance(20 * time.Second) // one attempt back
	ch = call[syncproto.Challenge](t, a, &syncproto.ChallengeRequest{})
	call[syncproto.Ack](t, a, updateLoginMsg(next, id.Account, ch.Nonce, id.LoginKey, syncproto.RolePassphrase))
}

// TestUpdateLoginConcurrent: updates that all prove the same current key race; exactly
// one wins, and the others, checked against the key that replaced it, are refused.
func TestUpdateLoginConcurrent(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuthAttemptsPerMin = 1000; c.AuthFailuresPerHour = 1000 })
	_, id, s := e.signUp()
	const n = 8
	conns := make([]*servertest.Client, n)
	msgs := make([]*syncproto.UpdateLogin, n)
	nexts := make([]*servertest.Identity, n)
	for i := range n {
		conns[i] = e.resume(s.Token)
		ch := call[syncproto.Challenge](t, conns[i], &syncproto.ChallengeRequest{})
		nexts[i] = servertest.NewIdentity()
		msgs[i] = updateLoginMsg(nexts[i], id.Account, ch.Nonce, id.LoginKey, syncproto.RolePassphrase)
	}
	answers := make([]syncproto.Message, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := conns[i].Call(e.ctx, msgs[i])
			if err != nil {
				t.Error(err)
			}
			answers[i] = r
		})
	}
	wg.Wait()
	winner := -1
	for i, r := range answers {
		switch r := r.(type) {
		case *syncproto.Ack:
			if winner >= 0 {
				t.Fatalf("updates %d and %d both accepted", winner, i)
			}
			winner = i
		case *syncproto.Error:
			if r.Code != syncproto.CodeAuthFailed {
				t.Fatalf("update %d: %s, want auth_failed", i, r.Code)
			}
		default:
			t.Fatalf("update %d: %#v", i, r)
		}
	}
	if winner < 0 {
		t.Fatal("no update accepted")
	}
	updated := *id
	updated.LoginKey, updated.KDFParams, updated.Keybag = nexts[winner].LoginKey, nexts[winner].KDFParams, nexts[winner].Keybag
	loginUnchanged(t, e, &updated)
}
