package server

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/gorilla/websocket"

	"interlude/storage"
	"interlude/syncproto"
)

// Fake KDF parameters for accounts that do not exist. They have the format of real ones
// (version 0x01 | memory KiB u32 BE | time u32 BE | threads u8 | salt 16 bytes) and the
// values clients use, and the salt is a keyed hash of the account ID, so asking twice —
// even across restarts — gives the same answer, as for a real account.
const (
	fakeKDFMemoryKiB = 64 << 10
	fakeKDFTime      = 3
	fakeKDFThreads   = 4
	kdfParamsSize    = 1 + 4 + 4 + 1 + 16
)

// fakeKDFParams returns the deterministic fake KDF parameters for account.
func (s *Server) fakeKDFParams(account syncproto.AccountID) []byte {
	mac := hmac.New(sha256.New, s.cfg.FakeSaltSecret)
	mac.Write([]byte(fakeSaltLabel))
	mac.Write(account[:])
	salt := mac.Sum(nil)[:16]
	p := make([]byte, 0, kdfParamsSize)
	p = append(p, kdfParamsVersion)
	p = binary.BigEndian.AppendUint32(p, fakeKDFMemoryKiB)
	p = binary.BigEndian.AppendUint32(p, fakeKDFTime)
	p = append(p, fakeKDFThreads)
	return append(p, salt...)
}

// verifyLogin checks an Ed25519ctx signature by a login key over the challenge.
func verifyLogin(pub [32]byte, nonce [32]byte, account syncproto.AccountID, role syncproto.LoginRole, sig [64]byte) bool {
	err := ed25519.VerifyWithOptions(ed25519.PublicKey(pub[:]), syncproto.LoginMessage(nonce, account, role), sig[:],
		&ed25519.Options{Context: syncproto.LoginSignatureContext})
	return err == nil
}

// hello answers Hello with version 1 and the limits in force, or closes the connection
// if the client speaks no version in common.
func (c *conn) hello(h *syncproto.Hello) (syncproto.Message, error) {
	for _, v := range h.Versions {
		if v == syncproto.ProtocolVersion {
			c.state = stateOpen
			l := c.s.limits
			return &syncproto.Welcome{
				Version:    syncproto.ProtocolVersion,
				ServerTime: c.s.now().UTC().Truncate(time.Second),
				Limits: syncproto.Limits{
					MaxFrame: uint32(l.MaxFrame), MaxBatch: uint32(l.MaxBatch),
					MaxPullPage: uint32(l.MaxPullPage), MaxFetch: uint32(l.MaxFetch), MaxEnvelope: uint32(l.MaxEnvelope),
				},
			}, nil
		}
	}
	return nil, fatal(syncproto.CodeUnsupportedVersion, websocket.CloseProtocolError,
		"this server speaks protocol version %d only: update the app", syncproto.ProtocolVersion)
}

// newChallenge makes a fresh nonce for this connection, replacing any earlier one.
func (c *conn) newChallenge() (syncproto.Message, error) {
	var n [32]byte
	rand.Read(n[:])
	exp := c.s.now().Add(c.s.cfg.ChallengeTTL)
	c.challenge = challenge{nonce: n, expires: exp, valid: true}
	return &syncproto.Challenge{Nonce: n, Expires: exp}, nil
}

// takeChallenge consumes the connection's challenge: whatever the outcome of the request
// that uses it, it cannot be used again.
func (c *conn) takeChallenge(now time.Time) ([32]byte, error) {
	ch := c.challenge
	c.challenge = challenge{}
	if !ch.valid {
		return ch.nonce, fail(syncproto.CodeChallengeExpired, "ask for a challenge (ChallengeRequest) and sign it first; a challenge can be used once")
	}
	if !now.Before(ch.expires) {
		return ch.nonce, fail(syncproto.CodeChallengeExpired, "the challenge expired: ask for a new one and answer within %s", c.s.cfg.ChallengeTTL)
	}
	return ch.nonce, nil
}

// authAllowed reports whether the rate limits let another sign-in attempt through.
func (c *conn) authAllowed(account *syncproto.AccountID, now time.Time) error {
	ok := c.s.addrLimit.allow(c.addr, now)
	if account != nil {
		k := account.String()
		ok = ok && c.s.acctLimit.allow(k, now) && c.s.hourLimit.allow(k, now)
	}
	if !ok {
		return fail(syncproto.CodeRateLimited, "too many failed sign-ins: wait a minute and try again")
	}
	return nil
}

// authFailed counts a failed attempt against the client address and the account.
func (c *conn) authFailed(account *syncproto.AccountID, now time.Time) {
	c.s.addrLimit.fail(c.addr, now)
	if account != nil {
		k := account.String()
		c.s.acctLimit.fail(k, now)
		c.s.hourLimit.fail(k, now)
	}
}

// loginParams answers with the account's KDF parameters, or with fake ones that look
// the same for an account that does not exist.
func (c *conn) loginParams(ctx context.Context, m *syncproto.LoginParamsRequest) (syncproto.Message, error) {
	a, err := c.s.store.Account(ctx, m.Account)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return &syncproto.LoginParams{KDFParams: c.s.fakeKDFParams(m.Account)}, nil
	case err != nil:
		return nil, err
	}
	return &syncproto.LoginParams{KDFParams: a.KDFParams}, nil
}

// signUp creates an account and its first device once both login keys have signed the
// challenge.
func (c *conn) signUp(ctx context.Context, m *syncproto.SignUp) (syncproto.Message, error) {
	now := c.s.now()
	nonce, err := c.takeChallenge(now)
	if err != nil {
		return nil, err
	}
	if err := c.authAllowed(nil, now); err != nil {
		return nil, err
	}
	switch {
	case m.Account.IsZero():
		return nil, fail(syncproto.CodeBadRequest, "the account ID is zero: make 16 random bytes")
	case len(m.KDFParams) == 0 || len(m.Keybag) == 0 || len(m.RecoveryKeybag) == 0 || len(m.Bundle) == 0:
		return nil, fail(syncproto.CodeBadRequest, "sign-up needs KDF parameters, both keybags and a key bundle")
	}
	if !verifyLogin(m.LoginKey, nonce, m.Account, syncproto.RolePassphrase, m.LoginSig) ||
		!verifyLogin(m.RecoveryLoginKey, nonce, m.Account, syncproto.RoleRecovery, m.RecoverySig) {
		c.authFailed(nil, now)
		return nil, fail(syncproto.CodeAuthFailed, "sign-up refused: both login keys must sign this connection's current challenge (passphrase and recovery roles); ask for a new challenge and try again")
	}
	if !c.s.hub.attach(c, m.Account, c.s.limits.MaxConnsAccount) {
		return nil, c.tooManyConns()
	}
	acct := storage.Account{
		ID: m.Account, LoginKey: m.LoginKey, RecoveryLoginKey: m.RecoveryLoginKey, KDFParams: m.KDFParams,
		Keybag: m.Keybag, RecoveryKeybag: m.RecoveryKeybag, Bundle: m.Bundle, Fingerprint: m.Fingerprint,
		Created: day(now),
	}
	dev := storage.Device{ID: syncproto.NewDeviceID(), Account: m.Account, Label: m.DeviceLabel, Created: day(now), LastSeen: hour(now)}
	if err := c.s.store.CreateAccount(ctx, acct, dev); err != nil {
		c.s.hub.detach(c, m.Account)
		return nil, err
	}
	sess, err := c.startSession(ctx, m.Account, dev.ID, now)
	if err != nil {
		c.s.hub.detach(c, m.Account)
		return nil, err
	}
	c.s.log.Debug("signed up", "event", "sign_up", "account", m.Account.String(), "device", dev.ID.String())
	return sess, nil
}

// login signs a device of an existing account in: a new one, or (Login.Device set) an
// earlier one whose session ended. An unknown account and a wrong key get the same answer
// after the same work: one signature verification.
func (c *conn) login(ctx context.Context, m *syncproto.Login) (syncproto.Message, error) {
	now := c.s.now()
	nonce, err := c.takeChallenge(now)
	if err != nil {
		return nil, err
	}
	if err := c.authAllowed(&m.Account, now); err != nil {
		return nil, err
	}
	if m.Role != syncproto.RolePassphrase && m.Role != syncproto.RoleRecovery {
		return nil, fail(syncproto.CodeBadRequest, "the role must be 1 (passphrase) or 2 (recovery)")
	}
	a, err := c.s.store.Account(ctx, m.Account)
	var ok bool
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Verify against the server's fake key so that this path costs what a wrong key
		// costs; the result is discarded.
		var fake [32]byte
		copy(fake[:], c.s.fakeKey)
		verifyLogin(fake, nonce, m.Account, m.Role, m.Signature)
	case err != nil:
		return nil, err
	default:
		key, keybag := a.LoginKey, a.Keybag
		if m.Role == syncproto.RoleRecovery {
			key, keybag = a.RecoveryLoginKey, a.RecoveryKeybag
		}
		if ok = verifyLogin(key, nonce, m.Account, m.Role, m.Signature); ok {
			a.Keybag = keybag
		}
	}
	if !ok {
		c.authFailed(&m.Account, now)
		c.s.log.Debug("sign-in failed", "event", "login_failed", "account", m.Account.String())
		return nil, errAuthFailed
	}
	// Only now, with the account's key proven, may the answer say anything about a device.
	var dev storage.Device
	if !m.Device.IsZero() {
		dev, err = c.s.store.Device(ctx, m.Account, m.Device)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil, fail(syncproto.CodeNotFound, "this account has no such device: sign in as a new device (Device zero)")
		case err != nil:
			return nil, err
		case dev.Revoked:
			return nil, fail(syncproto.CodeDeviceRevoked, "this device was revoked: sign in as a new device (Device zero)")
		}
	}
	if !c.s.hub.attach(c, m.Account, c.s.limits.MaxConnsAccount) {
		return nil, c.tooManyConns()
	}
	if m.Device.IsZero() {
		dev = storage.Device{ID: syncproto.NewDeviceID(), Account: m.Account, Label: m.DeviceLabel, Created: day(now), LastSeen: hour(now)}
		if err := c.s.store.AddDevice(ctx, dev); err != nil {
			c.s.hub.detach(c, m.Account)
			return nil, err
		}
	} else if err := c.s.store.TouchDevice(ctx, m.Account, dev.ID, hour(now)); err != nil {
		c.s.log.Warn("recording device activity failed", "event", "touch_device", "err", err)
	}
	sess, err := c.startSession(ctx, m.Account, dev.ID, now)
	if err != nil {
		c.s.hub.detach(c, m.Account)
		return nil, err
	}
	sess.Keybag = a.Keybag
	c.s.log.Debug("signed in", "event", "login", "account", m.Account.String(), "device", dev.ID.String(), "role", int(m.Role))
	return sess, nil
}

// startSession stores a new session for a device and marks the connection signed in.
func (c *conn) startSession(ctx context.Context, account syncproto.AccountID, device syncproto.DeviceID, now time.Time) (*syncproto.Session, error) {
	token := make([]byte, tokenSize)
	rand.Read(token)
	hash := sha256.Sum256(token)
	st := storage.Session{TokenHash: hash, Account: account, Device: device, Created: now, LastSeen: now, Expires: now.Add(c.s.cfg.SessionLifetime)}
	if err := c.s.store.CreateSession(ctx, st); err != nil {
		return nil, err
	}
	c.signIn(st, now)
	return &syncproto.Session{Account: account, Device: device, Token: token, Expires: st.Expires, IdleTimeout: c.s.cfg.IdleTimeout}, nil
}

// signIn records the session on the connection (already attached to the hub).
func (c *conn) signIn(st storage.Session, now time.Time) {
	c.auth.Store(&authState{
		account: st.Account, device: st.Device, tokenHash: st.TokenHash, expires: st.Expires,
		lastSeen: st.LastSeen, stored: st.LastSeen, checked: now,
	})
}

// resume signs a connection in with the token of an earlier session. A bad, unknown or
// expired token gets the one auth_failed answer.
func (c *conn) resume(ctx context.Context, m *syncproto.Resume) (syncproto.Message, error) {
	now := c.s.now()
	if err := c.authAllowed(nil, now); err != nil {
		return nil, err
	}
	if len(m.Token) != tokenSize {
		c.authFailed(nil, now)
		return nil, errAuthFailed
	}
	hash := sha256.Sum256(m.Token)
	st, err := c.s.store.Session(ctx, hash)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c.authFailed(nil, now)
		return nil, errAuthFailed
	case err != nil:
		return nil, err
	}
	if !now.Before(st.Expires) || now.Sub(st.LastSeen) >= c.s.cfg.IdleTimeout {
		c.s.store.DeleteSession(ctx, hash)
		c.s.log.Debug("resume with an expired session", "event", "resume_expired", "account", st.Account.String())
		return nil, errAuthFailed
	}
	dev, err := c.s.store.Device(ctx, st.Account, st.Device)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && dev.Revoked):
		c.s.store.DeleteSession(ctx, hash)
		return nil, errAuthFailed // one answer for every token that does not work
	case err != nil:
		return nil, err
	}
	if !c.s.hub.attach(c, st.Account, c.s.limits.MaxConnsAccount) {
		return nil, c.tooManyConns()
	}
	if err := c.s.store.TouchSession(ctx, hash, now); err != nil {
		c.s.hub.detach(c, st.Account)
		return nil, err
	}
	if err := c.s.store.TouchDevice(ctx, st.Account, st.Device, hour(now)); err != nil {
		c.s.log.Warn("recording device activity failed", "event", "touch_device", "err", err)
	}
	st.LastSeen = now
	c.signIn(st, now)
	c.s.log.Debug("resumed", "event", "resume", "account", st.Account.String(), "device", st.Device.String())
	return &syncproto.Session{Account: st.Account, Device: st.Device, Token: m.Token, Expires: st.Expires, IdleTimeout: c.s.cfg.IdleTimeout}, nil
}

func (c *conn) tooManyConns() error {
	return fatal(syncproto.CodeTooManyConnections, websocket.ClosePolicyViolation,
		"this account already has %d connections open, the most it may: close one and retry", c.s.limits.MaxConnsAccount)
}

// updateLogin replaces the passphrase login key, KDF parameters and keybag. A session
// token alone is not enough (it may have been stolen with an unlocked device): both the
// new key and a current login key of the account (the passphrase key, or the recovery
// key, as ProofRole says) must have signed the challenge. Either failing is a failed
// sign-in for the rate limits and changes nothing.
func (c *conn) updateLogin(ctx context.Context, a *authState, m *syncproto.UpdateLogin) (syncproto.Message, error) {
	now := c.s.now()
	nonce, err := c.takeChallenge(now)
	if err != nil {
		return nil, err
	}
	if err := c.authAllowed(&a.account, now); err != nil {
		return nil, err
	}
	if len(m.KDFParams) == 0 || len(m.Keybag) == 0 {
		return nil, fail(syncproto.CodeBadRequest, "a login update needs KDF parameters and a keybag")
	}
	if m.ProofRole != syncproto.RolePassphrase && m.ProofRole != syncproto.RoleRecovery {
		return nil, fail(syncproto.CodeBadRequest, "the proof role must be 1 (passphrase) or 2 (recovery)")
	}
	// One update at a time, so that the key a proof was checked against is still the
	// current one when the new key replaces it.
	c.s.loginMu.Lock()
	defer c.s.loginMu.Unlock()
	acct, err := c.s.store.Account(ctx, a.account)
	if err != nil {
		return nil, err
	}
	current := acct.LoginKey
	if m.ProofRole == syncproto.RoleRecovery {
		current = acct.RecoveryLoginKey
	}
	newOK := verifyLogin(m.LoginKey, nonce, a.account, syncproto.RolePassphrase, m.Signature)
	proofOK := verifyLogin(current, nonce, a.account, m.ProofRole, m.Proof)
	if !newOK || !proofOK {
		c.authFailed(&a.account, now)
		c.s.log.Debug("login update refused", "event", "update_login_failed", "account", a.account.String(),
			"new_key_ok", newOK, "proof_ok", proofOK, "proof_role", int(m.ProofRole))
		return nil, fail(syncproto.CodeAuthFailed, "login update refused: the new login key (passphrase role) and the account's current login key of the proof role (the old passphrase, or the recovery code) must both sign this connection's current challenge; nothing was changed: ask for a new challenge and try again")
	}
	if err := c.s.store.UpdateLogin(ctx, a.account, storage.LoginUpdate{LoginKey: m.LoginKey, KDFParams: m.KDFParams, Keybag: m.Keybag}); err != nil {
		return nil, err
	}
	c.s.log.Debug("login key updated", "event", "update_login", "account", a.account.String(), "proof_role", int(m.ProofRole))
	return &syncproto.Ack{}, nil
}

// logout ends the session (its token stops working) and, after the Ack, closes the
// connection normally (1000). Other connections signed in with the same session end at
// once too, as when the session expires (Error session_expired, ID 0, close 1008):
// otherwise they would keep working until their next check against storage.
func (c *conn) logout(ctx context.Context, a *authState) (syncproto.Message, error) {
	if err := c.s.store.DeleteSession(ctx, a.tokenHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	others := c.s.hub.sessionConns(a.account, a.tokenHash)
	c.s.hub.detach(c, a.account)
	c.auth.Store(nil)
	c.subscribed.Store(false)
	c.s.log.Debug("signed out", "event", "logout", "account", a.account.String(), "device", a.device.String())
	c.then = func() {
		c.closeNormal("signed out")
		for _, x := range others {
			if x != c {
				x.closeWith(0, errSessionExpired)
			}
		}
	}
	return &syncproto.Ack{}, nil
}

// checkSession enforces the session's absolute lifetime, its idle timeout and device
// revocation before an authenticated message is handled (activity true) or when the
// sweeper looks at an idle connection (activity false). Storage is consulted at most
// once a touchInterval, or when the in-memory state says the session is idle (another
// connection with the same token may have kept it alive).
func (c *conn) checkSession(ctx context.Context, a *authState, now time.Time, activity bool) error {
	idle := c.s.cfg.IdleTimeout
	a.mu.Lock()
	defer a.mu.Unlock()
	if !now.Before(a.expires) {
		return errSessionExpired
	}
	if now.Sub(a.lastSeen) >= idle || (activity && now.Sub(a.checked) >= touchInterval) {
		st, err := c.s.store.Session(ctx, a.tokenHash)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			// Deleted: by a logout elsewhere, by expiry, or because the device was revoked.
			if d, err := c.s.store.Device(ctx, a.account, a.device); err == nil && d.Revoked {
				return errDeviceRevoked
			}
			return errSessionExpired
		case err != nil:
			return err
		}
		a.checked = now
		if st.LastSeen.After(a.lastSeen) {
			a.lastSeen = st.LastSeen
		}
		if st.LastSeen.After(a.stored) {
			a.stored = st.LastSeen
		}
		if now.Sub(a.lastSeen) >= idle {
			c.s.store.DeleteSession(ctx, a.tokenHash)
			return errSessionExpired
		}
	}
	if activity {
		a.lastSeen = now
		if now.Sub(a.stored) >= touchInterval {
			if err := c.s.store.TouchSession(ctx, a.tokenHash, now); err != nil {
				return err
			}
			a.stored = now
		}
	}
	return nil
}

// day and hour coarsen times before they reach storage.
func day(t time.Time) time.Time  { return t.UTC().Truncate(24 * time.Hour) }
func hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
