package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/gorilla/websocket"

	"interlude/storage"
	"interlude/syncproto"
)

// dispatch routes one decoded message by connection state. The first message must be
// Hello; a signed-out connection may only sign in (and ask for challenges, login
// parameters and pongs); a signed-in one has its session checked before anything else.
func (c *conn) dispatch(msg syncproto.Message) (syncproto.Message, error) {
	ctx, cancel := c.s.storeCtx()
	defer cancel()
	t := msg.Type()
	if c.state == stateNew {
		if h, ok := msg.(*syncproto.Hello); ok {
			return c.hello(h)
		}
		return nil, fatal(syncproto.CodeUnexpectedMessage, websocket.CloseProtocolError, "send Hello first (got %s)", t)
	}
	a := c.auth.Load()
	if a == nil {
		switch m := msg.(type) {
		case *syncproto.ChallengeRequest:
			return c.newChallenge()
		case *syncproto.LoginParamsRequest:
			return c.loginParams(ctx, m)
		case *syncproto.SignUp:
			return c.signUp(ctx, m)
		case *syncproto.Login:
			return c.login(ctx, m)
		case *syncproto.Resume:
			return c.resume(ctx, m)
		case *syncproto.Ping:
			return &syncproto.Pong{}, nil
		case *syncproto.Push, *syncproto.Pull, *syncproto.Subscribe, *syncproto.DevicesRequest,
			*syncproto.RevokeDevice, *syncproto.BundleRequest, *syncproto.UpdateLogin,
			*syncproto.DigestRequest, *syncproto.Logout, *syncproto.Fetch:
			return nil, fail(syncproto.CodeUnauthenticated, msgUnauthenticated)
		}
		return nil, unexpected(t)
	}

	// Signed in: every message, even one refused below, first proves the session is
	// alive. Ping keeps the connection open but is not activity (the idle timeout is an
	// automatic logoff, and clients ping on a timer).
	_, isPing := msg.(*syncproto.Ping)
	if err := c.checkSession(ctx, a, c.s.now(), !isPing); err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *syncproto.Push:
		return c.push(ctx, a, m)
	case *syncproto.Pull:
		return c.pull(ctx, a, m)
	case *syncproto.Fetch:
		return c.fetch(ctx, a, m)
	case *syncproto.Subscribe:
		return c.subscribe(ctx, a)
	case *syncproto.Ping:
		return &syncproto.Pong{}, nil
	case *syncproto.ChallengeRequest:
		return c.newChallenge()
	case *syncproto.DevicesRequest:
		return c.devices(ctx, a)
	case *syncproto.RevokeDevice:
		return c.revokeDevice(ctx, a, m)
	case *syncproto.BundleRequest:
		return c.bundle(ctx, m)
	case *syncproto.UpdateLogin:
		return c.updateLogin(ctx, a, m)
	case *syncproto.DigestRequest:
		d, err := c.s.store.Digest(ctx, a.account, c.s.now())
		if err != nil {
			return nil, err
		}
		return &d, nil
	case *syncproto.Logout:
		return c.logout(ctx, a)
	case *syncproto.Hello, *syncproto.SignUp, *syncproto.LoginParamsRequest, *syncproto.Login, *syncproto.Resume:
		return nil, fail(syncproto.CodeUnexpectedMessage, "this connection is already signed in: send Logout first, or open another connection (got %s)", t)
	}
	return nil, unexpected(t)
}

func unexpected(t syncproto.Type) error {
	if t&0x80 != 0 {
		return fail(syncproto.CodeUnexpectedMessage, "%s is a server message: a client may not send it", t)
	}
	return fail(syncproto.CodeUnexpectedMessage, "%s is not accepted now", t)
}

// push refuses an oversized batch outright, refuses malformed items one by one before
// any work (Rejected with a code, like the store's own per-item refusals), applies the
// rest in one durable transaction, answers, and then notifies every subscribed
// connection of every account whose feed grew.
func (c *conn) push(ctx context.Context, a *authState, p *syncproto.Push) (syncproto.Message, error) {
	n := len(p.Records) + len(p.Grants) + len(p.Revokes)
	if n > c.s.limits.MaxBatch {
		return nil, fail(syncproto.CodeBatchTooLarge, "split the batch: at most %d items (records, grants and revokes) in one push; this one has %d", c.s.limits.MaxBatch, n)
	}
	if n == 0 {
		return &syncproto.PushResult{}, nil
	}
	start := time.Now()
	refused := c.s.checkPush(a.account, p)
	results := make([]syncproto.ItemResult, 0, n)
	if len(refused) < n {
		valid := p
		if len(refused) > 0 {
			valid = without(p, refused)
		}
		out, err := c.s.store.Push(ctx, a.account, *valid, c.s.now())
		if err != nil {
			return nil, err
		}
		if len(out.Results) != n-len(refused) {
			return nil, fmt.Errorf("push: the store answered %d results for %d items", len(out.Results), n-len(refused))
		}
		results = out.Results
		if len(out.Fed) > 0 {
			c.then = func() {
				for acct, cur := range out.Fed {
					c.s.hub.notify(acct, cur)
				}
			}
		}
	}
	if len(refused) > 0 {
		results = merge(p, refused, results)
	}
	if c.s.log.Enabled(ctx, slog.LevelDebug) {
		c.s.log.Debug("push", "event", "push", "account", a.account.String(), "items", n, "refused", len(refused), "duration", time.Since(start))
	}
	return &syncproto.PushResult{Results: results}, nil
}

// checkPush returns the items (by their index in results order: records, then grants,
// then revokes) that are malformed or over a limit, with the code each is refused with.
// A revision that is not BaseRevision+1 (or does not fit 63 bits) is malformed whatever
// the record's state, so it is refused here, as the store would refuse it; how a
// well-formed revision compares with the stored record (conflict, deleted, replay) is
// the store's to answer, with the record's current revision.
func (s *Server) checkPush(owner syncproto.AccountID, p *syncproto.Push) map[int]syncproto.ErrorCode {
	var refused map[int]syncproto.ErrorCode
	refuse := func(i int, code syncproto.ErrorCode) {
		if refused == nil {
			refused = make(map[int]syncproto.ErrorCode)
		}
		refused[i] = code
	}
	for i := range p.Records {
		r := &p.Records[i]
		switch {
		case r.Record.IsZero():
			refuse(i, syncproto.CodeBadRequest)
		case !validRevision(r.Revision) || r.Revision != r.BaseRevision+1:
			refuse(i, syncproto.CodeBadRequest)
		case r.Delete && (len(r.Envelope) == 0 || len(r.Envelope) > syncproto.MaxDeletionStatement ||
			len(r.OwnerKey) != 0 || len(r.Grants) != 0):
			refuse(i, syncproto.CodeBadRequest)
		case !r.Delete && len(r.Envelope) == 0:
			refuse(i, syncproto.CodeBadRequest)
		case len(r.Envelope) > s.limits.MaxEnvelope:
			refuse(i, syncproto.CodeTooLarge)
		default:
			for j := range r.Grants {
				g := &r.Grants[j]
				dup := false
				for k := range j {
					dup = dup || r.Grants[k].Recipient == g.Recipient
				}
				if g.Record != r.Record || g.Revision != r.Revision || !grantOK(owner, g) || dup {
					refuse(i, syncproto.CodeBadRequest)
					break
				}
			}
		}
	}
	base := len(p.Records)
	for i := range p.Grants {
		if g := &p.Grants[i]; g.Record.IsZero() || !validRevision(g.Revision) || !grantOK(owner, g) {
			refuse(base+i, syncproto.CodeBadRequest)
		}
	}
	base += len(p.Grants)
	for i := range p.Revokes {
		if r := &p.Revokes[i]; r.Record.IsZero() || r.Recipient.IsZero() || r.Recipient == owner {
			refuse(base+i, syncproto.CodeBadRequest)
		}
	}
	return refused
}

// validRevision reports whether r is a revision a record can have: 1 to 2^63-1 (stores
// keep revisions in signed 64-bit integers).
func validRevision(r uint64) bool { return r >= 1 && r <= math.MaxInt64 }

// grantOK reports whether a grant names another account and carries a blob.
func grantOK(owner syncproto.AccountID, g *syncproto.GrantPush) bool {
	return !g.Recipient.IsZero() && g.Recipient != owner && len(g.Blob) > 0
}

// without returns p less the refused items.
func without(p *syncproto.Push, refused map[int]syncproto.ErrorCode) *syncproto.Push {
	out := &syncproto.Push{}
	i := 0
	for _, r := range p.Records {
		if _, ok := refused[i]; !ok {
			out.Records = append(out.Records, r)
		}
		i++
	}
	for _, g := range p.Grants {
		if _, ok := refused[i]; !ok {
			out.Grants = append(out.Grants, g)
		}
		i++
	}
	for _, r := range p.Revokes {
		if _, ok := refused[i]; !ok {
			out.Revokes = append(out.Revokes, r)
		}
		i++
	}
	return out
}

// merge puts the refused items' results back among the store's, in request order.
func merge(p *syncproto.Push, refused map[int]syncproto.ErrorCode, stored []syncproto.ItemResult) []syncproto.ItemResult {
	n := len(p.Records) + len(p.Grants) + len(p.Revokes)
	out := make([]syncproto.ItemResult, 0, n)
	for i := range n {
		code, ok := refused[i]
		if !ok {
			out = append(out, stored[0])
			stored = stored[1:]
			continue
		}
		var rec syncproto.RecordID
		switch {
		case i < len(p.Records):
			rec = p.Records[i].Record
		case i < len(p.Records)+len(p.Grants):
			rec = p.Grants[i-len(p.Records)].Record
		default:
			rec = p.Revokes[i-len(p.Records)-len(p.Grants)].Record
		}
		out = append(out, syncproto.ItemResult{Record: rec, Status: syncproto.StatusRejected, Code: code})
	}
	return out
}

// pull answers one page of the account's feed; larger requests are capped. When more
// follow, the next page is read ahead once this one is queued (readahead.go).
func (c *conn) pull(ctx context.Context, a *authState, p *syncproto.Pull) (syncproto.Message, error) {
	limit := int(p.Limit)
	if limit <= 0 || limit > c.s.limits.MaxPullPage {
		limit = c.s.limits.MaxPullPage
	}
	now := c.s.now()
	ch, ok := c.aheadFor(a.account, p.Cursor, limit, now)
	if !ok {
		var err error
		if ch, err = c.s.store.Changes(ctx, a.account, p.Cursor, limit, now); err != nil {
			return nil, err
		}
	}
	// End the page early if the frame would pass MaxFrame. Items are in Seq order and
	// each record appears once, so the last item kept is a cursor the next page can
	// start from.
	budget, size := c.s.limits.MaxFrame-4096, 0
	for i := range ch.Items {
		size += changeSize(&ch.Items[i])
		if size > budget && i > 0 {
			ch.Items, ch.Cursor, ch.More = ch.Items[:i], ch.Items[i-1].Seq, true
			break
		}
	}
	if ch.More {
		account, after := a.account, ch.Cursor
		c.then = func() { c.readAhead(account, after, limit) }
	}
	return &ch, nil
}

// changeSize is a little more than the encoded size of a Change.
func changeSize(ch *syncproto.Change) int {
	n := 64 + len(ch.Envelope) + len(ch.OwnerKey)
	for _, g := range ch.Grants {
		n += 64 + len(g.Blob)
	}
	return n
}

// fetch answers the current state of specific records; what the account may not see is
// StateGone, exactly like what does not exist.
func (c *conn) fetch(ctx context.Context, a *authState, f *syncproto.Fetch) (syncproto.Message, error) {
	if len(f.Records) > c.s.limits.MaxFetch {
		return nil, fail(syncproto.CodeBatchTooLarge, "ask for at most %d records in one Fetch; this one has %d", c.s.limits.MaxFetch, len(f.Records))
	}
	if len(f.Records) == 0 {
		return &syncproto.Records{}, nil
	}
	items, err := c.s.store.Records(ctx, a.account, f.Records, c.s.now())
	if err != nil {
		return nil, err
	}
	return &syncproto.Records{Items: items}, nil
}

// subscribe turns on notifications and announces the current cursor at once, so that a
// change made between the client's last pull and this subscription is not missed.
func (c *conn) subscribe(ctx context.Context, a *authState) (syncproto.Message, error) {
	cur, err := c.s.store.Cursor(ctx, a.account)
	if err != nil {
		return nil, err
	}
	c.subscribed.Store(true)
	c.then = func() {
		c.announce.Store(true)
		c.notify(cur)
	}
	return &syncproto.Ack{}, nil
}

// devices lists the account's devices.
func (c *conn) devices(ctx context.Context, a *authState) (syncproto.Message, error) {
	ds, err := c.s.store.Devices(ctx, a.account)
	if err != nil {
		return nil, err
	}
	out := &syncproto.Devices{Items: make([]syncproto.DeviceInfo, len(ds))}
	for i, d := range ds {
		out.Items[i] = syncproto.DeviceInfo{Device: d.ID, Label: d.Label, Created: d.Created, LastSeen: d.LastSeen, Revoked: d.Revoked, Current: d.ID == a.device}
	}
	return out, nil
}

// revokeDevice revokes one of the account's devices, ends its sessions and closes its
// live connections (after answering, so that a device revoking itself gets its Ack).
func (c *conn) revokeDevice(ctx context.Context, a *authState, r *syncproto.RevokeDevice) (syncproto.Message, error) {
	if r.Device.IsZero() {
		return nil, fail(syncproto.CodeBadRequest, "name the device to revoke")
	}
	if err := c.s.store.RevokeDevice(ctx, a.account, r.Device); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fail(syncproto.CodeNotFound, "this account has no such device: list them with DevicesRequest")
		}
		return nil, err
	}
	c.s.log.Debug("device revoked", "event", "revoke_device", "account", a.account.String(), "device", r.Device.String())
	c.then = func() {
		for _, x := range c.s.hub.deviceConns(a.account, r.Device) {
			if x == c {
				x.closeNormal("device revoked") // it asked: the Ack is its answer
			} else {
				x.closeWith(0, errDeviceRevoked)
			}
		}
	}
	return &syncproto.Ack{}, nil
}

// bundle answers an account's public key bundle, by account ID or by a fingerprint
// prefix from a pairing code.
func (c *conn) bundle(ctx context.Context, r *syncproto.BundleRequest) (syncproto.Message, error) {
	byAccount, byPrint := !r.Account.IsZero(), len(r.Fingerprint) > 0
	if byAccount == byPrint {
		return nil, fail(syncproto.CodeBadRequest, "name exactly one of an account or a fingerprint prefix")
	}
	var acct storage.Account
	var err error
	if byAccount {
		acct, err = c.s.store.Account(ctx, r.Account)
	} else {
		if len(r.Fingerprint) < minFingerprint {
			return nil, fail(syncproto.CodeBadRequest, "a fingerprint prefix needs at least %d bytes", minFingerprint)
		}
		acct, err = c.s.store.AccountByFingerprint(ctx, r.Fingerprint)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fail(syncproto.CodeNotFound, "no account with that ID or pairing code: check the code and try again")
	}
	if err != nil {
		return nil, err
	}
	return &syncproto.Bundle{Account: acct.ID, Bundle: acct.Bundle}, nil
}
