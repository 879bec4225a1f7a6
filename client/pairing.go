package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/journal"
	"interlude/syncproto"
)

// Pairing, in person (docs/sharing.md):
//
//  1. The clinician's device makes a one-time code (Invite): the first 10 bytes of its
//     bundle's fingerprint and an 8-byte secret (crypto.PairCode), kept here, sealed.
//  2. The client types the code in (AcceptPairCode). Its device asks the server for the
//     bundle by fingerprint prefix, checks the bundle's self-signature and refuses it
//     unless its fingerprint starts with the code's 10 bytes. It pins that bundle and
//     sends a link request: a record shared with the clinician (a signed grant, HPKE to
//     the pinned share key) holding the client's bundle, the name the client chose, and
//     MAC = HMAC(HKDF(secret), client fingerprint ‖ clinician fingerprint ‖ record ID).
//  3. The clinician's device sees a grant from an unknown author: it fetches that
//     account's bundle, checks the bundle's, the grant's and the envelope's signatures,
//     opens the request and checks the MAC against its codes (constant time), then the
//     code's expiry and single use. It pins the client's bundle and answers with a
//     pair_reply record shared back (accepted, or refused with the reason), which the
//     client's device checks against the bundle it pinned from the code.
//  4. Both show the same 30-digit safety code (crypto.PairSafetyCode) to compare aloud.
//
// The client then deletes its request (the clinician's device then deletes its reply).

// DefaultInviteExpiry is how long a pairing code works unless told otherwise.
const DefaultInviteExpiry = 30 * time.Minute

// inviteKeep is how long a used or expired code is remembered, to answer a late or
// repeated request precisely.
const inviteKeep = 7 * 24 * time.Hour

// inviteLabel names an invitation's SealLocal box.
const inviteLabel = "pair-invite"

// Invite is a pairing code this device made.
type Invite struct {
	Code    string    // the code to read out or show (crypto.PairCode.Text)
	Name    string    // the name the client's device will be told
	Expires time.Time // the code works until then, once
}

// InviteOptions tune NewInvite.
type InviteOptions struct {
	Expires time.Duration // how long the code works; 0 means DefaultInviteExpiry
	Name    string        // how this account wants to be called by the client (e.g. "Dr Lee")
}

// invite is a decoded row of invites.
type invite struct {
	id      int64
	code    crypto.PairCode
	name    string
	expires time.Time
	used    time.Time
}

type inviteSecret struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// NewInvite makes a one-time pairing code, valid for opts.Expires, and keeps it here
// (sealed under the profile key) to check the client's link request against. It needs
// no network: the code works once this account's bundle is on the server (sign-up put
// it there).
func (c *Client) NewInvite(ctx context.Context, opts InviteOptions) (*Invite, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	d := opts.Expires
	if d == 0 {
		d = DefaultInviteExpiry
	}
	if d < 0 || d > 7*24*time.Hour {
		return nil, fmt.Errorf("a pairing code lasts between a second and a week, not %s", d)
	}
	code := crypto.NewPairCode(k.id.Fingerprint())
	name := strings.Join(strings.Fields(opts.Name), " ")
	sec, _ := json.Marshal(inviteSecret{Code: code.Text(), Name: name})
	sealed, err := crypto.SealLocal(k.profile, inviteLabel, sec)
	clear(sec)
	if err != nil {
		return nil, err
	}
	now := c.opts.Now()
	exp := now.Add(d)
	if _, err := c.db.ExecContext(ctx, `INSERT INTO invites (secret, expires, created) VALUES (?, ?, ?)`,
		sealed, exp.Unix(), now.Unix()); err != nil {
		return nil, fmt.Errorf("keep the pairing code: %w", err)
	}
	return &Invite{Code: code.Text(), Name: name, Expires: time.Unix(exp.Unix(), 0)}, nil
}

// loadInvites returns the codes kept here, forgetting those long past.
func loadInvites(ctx context.Context, tx *sqlx.Tx, k *keys, now time.Time) ([]invite, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE expires < ?`, now.Add(-inviteKeep).Unix()); err != nil {
		return nil, err
	}
	var rows []struct {
		ID      int64  `db:"id"`
		Secret  []byte `db:"secret"`
		Expires int64  `db:"expires"`
		Used    int64  `db:"used"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, secret, expires, used FROM invites ORDER BY id`); err != nil {
		return nil, err
	}
	var out []invite
	for _, r := range rows {
		pt, err := crypto.OpenLocal(k.profile, inviteLabel, r.Secret)
		if err != nil {
			continue // sealed under an older profile key (a recovery here): unusable
		}
		var s inviteSecret
		err = json.Unmarshal(pt, &s)
		clear(pt)
		if err != nil {
			continue
		}
		code, err := crypto.ParsePairCode(s.Code)
		if err != nil {
			continue
		}
		out = append(out, invite{id: r.ID, code: code, name: s.Name, expires: time.Unix(r.Expires, 0), used: timeOrZero(r.Used)})
	}
	return out, nil
}

// Pairing is a pairing that completed or was refused during a sync (or by
// AcceptPairCode).
type Pairing struct {
	Contact  Contact
	Accepted bool
	Reason   string // when refused: ReasonExpired, ReasonUsed or ReasonUnknownCode
}

// Ended is a pairing the other side ended.
type Ended struct {
	Contact Contact
}

// Errors of AcceptPairCode.
var (
	// ErrCodeMismatch means the server answered the pairing code with keys whose
	// fingerprint does not match the code: it may be trying to put itself in between.
	ErrCodeMismatch = errors.New("the keys the server returned do not match the code — do not continue; tell your clinician")
	// ErrCodeUnknown means no account matches the code's fingerprint.
	ErrCodeUnknown = errors.New("no account matches this pairing code: check the code with the person who gave it (a character may be wrong)")
)

// AcceptOptions tune AcceptPairCode.
type AcceptOptions struct {
	Name        string // how this account wants to be called by the clinician
	ContactName string // what to call the clinician here (default: the name their device sends)
}

// AcceptPairCode pairs with the clinician whose device made code (the client's side;
// needs the network). It fetches the clinician's bundle by the code's fingerprint
// prefix, refuses it unless it verifies and its fingerprint starts with the code's
// (ErrCodeMismatch), pins it, sends the link request and syncs. The pairing completes
// when the clinician's device answers (a later sync reports it); until then the
// contact is pending.
func (c *Client) AcceptPairCode(ctx context.Context, code string, opts AcceptOptions) (*Contact, *SyncReport, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, nil, err
	}
	pc, err := crypto.ParsePairCode(code)
	if err != nil {
		return nil, nil, err
	}
	cn, _, err := c.connect(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("pairing needs the server: %w", err)
	}
	defer cn.Close()
	b, err := expect[syncproto.Bundle](ctx, cn, syncproto.BundleRequest{Fingerprint: pc.FingerprintPrefix()})
	if serverCode(err) == syncproto.CodeNotFound {
		return nil, nil, ErrCodeUnknown
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pair: %w", err)
	}
	bundle, err := crypto.ParsePublicBundle(b.Bundle)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%v)", ErrCodeMismatch, err)
	}
	fp := bundle.Fingerprint()
	if !pc.Matches(fp) || syncproto.AccountID(bundle.Account) != b.Account {
		return nil, nil, ErrCodeMismatch
	}
	me := syncproto.AccountID(k.id.Account)
	clinician := b.Account
	if clinician == me {
		return nil, nil, errors.New("this is your own pairing code: the other person types it in on their device")
	}
	// Learn first what the account's other devices did with them (a removal, say), so
	// that an ending learned while this attempt waits is one made after it (adoptContact).
	if err := c.pull(ctx, cn, k, &SyncReport{}, false); err != nil {
		return nil, nil, fmt.Errorf("pair: %w", err)
	}
	var out Contact
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		old, err := getContact(ctx, tx, k, clinician)
		if err != nil {
			return err
		}
		ct := &contact{account: clinician, bundle: bundle, role: RoleClinician, state: ContactPending}
		if old != nil {
			// Pairing again (after a key change, or after an ending): the new bundle is the
			// one verified now. A previous request of ours, if any, goes.
			ct.name, ct.created = old.name, old.created
			if old.role == RoleClient && old.state != ContactEnded {
				return fmt.Errorf("you invited %s yourself: they are your client, not your clinician", old.display())
			}
			// Only this device's own earlier request: another device's may be under way.
			if r, err := getRecord(ctx, tx, old.pairing[:]); err != nil {
				return err
			} else if !old.pairing.IsZero() && r != nil && !r.Deleted && r.Role == rolePairRequest && syncproto.AccountID(r.Owner) == me {
				if err := c.deleteTx(ctx, tx, k, old.pairing); err != nil {
					return err
				}
			}
		}
		if opts.ContactName != "" {
			if ct.name, err = uniqueName(ctx, tx, k, opts.ContactName, clinician); err != nil {
				return err
			}
		}
		id := syncproto.NewRecordID(c.opts.Now())
		mac := pc.MAC(k.id.Fingerprint(), fp, crypto.RecordID(id))
		name := strings.Join(strings.Fields(opts.Name), " ")
		doc := (&control{Interlude: rolePairRequest, Bundle: k.id.PublicBundle(), Name: name, MAC: mac[:]}).marshal()
		if err := c.addWithID(ctx, tx, k, id, doc, rolePairRequest, nil, []grantee{{ct: ct}}); err != nil {
			return err
		}
		ct.pairing = id
		if err := c.saveContact(ctx, tx, k, ct); err != nil {
			return err
		}
		out = ct.public(k.id.Fingerprint())
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pair: %w", err)
	}
	rep := &SyncReport{}
	if err := c.round(ctx, cn, k, rep, true); err != nil {
		return &out, rep, fmt.Errorf("the link request is saved here but not sent yet (run `interlude sync`): %w", err)
	}
	if ct, err := c.Contact(ctx, clinician.String()); err == nil {
		out = *ct
	}
	return &out, rep, nil
}

// addWithID is addTx with a record ID chosen by the caller (a link request's MAC names
// its record).
func (c *Client) addWithID(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID, plaintext []byte, role string, link *syncproto.RecordID, to []grantee) error {
	env, wrapped, ek, err := sealKeyed(k, id, 1, plaintext)
	if err != nil {
		return err
	}
	me := syncproto.AccountID(k.id.Account)
	var linkb []byte
	if link != nil {
		linkb = link[:]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, owner, revision, envelope, owner_key, role, link)
		VALUES (?, ?, 1, ?, ?, ?, ?)`, id[:], me[:], env, wrapped, role, linkb); err != nil {
		return err
	}
	ob, err := c.enqueueID(ctx, tx, id, 0, 1, false, env, wrapped)
	if err != nil {
		return err
	}
	for _, g := range to {
		blob, err := signGrantFor(k, g.ct, id, 1, g.expires, ek)
		if err != nil {
			return err
		}
		if err := nestGrant(ctx, tx, ob, id, g.ct.account, 1, unixOrZero(g.expires), blob); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwn deletes this account's live records of a role that are shared with to.
func (c *Client) deleteOwn(ctx context.Context, tx *sqlx.Tx, k *keys, role string, to syncproto.AccountID) error {
	me := syncproto.AccountID(k.id.Account)
	var ids [][]byte
	if err := tx.SelectContext(ctx, &ids, `SELECT r.id FROM records r JOIN grants g ON g.record = r.id
		WHERE r.owner = ? AND r.role = ? AND r.deleted = 0 AND g.recipient = ?`, me[:], role, to[:]); err != nil {
		return err
	}
	for _, id := range ids {
		if err := c.deleteTx(ctx, tx, k, syncproto.RecordID(id)); err != nil {
			return err
		}
	}
	return nil
}

// handlePairRequest decides a link request from the author of ch, whose bundle b has
// verified the request (a contact's pinned bundle, or one fetched for an unknown
// author), and answers it. It returns whether the pairing was made.
func (c *Client) handlePairRequest(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change, b *crypto.PublicBundle, g *crypto.Grant,
	req *control, rep *SyncReport) (bool, error) {
	me := syncproto.AccountID(k.id.Account)
	if ch.Owner == me {
		return false, c.drop(ctx, tx, ch, "a link request from this account itself", rep)
	}
	inner, err := crypto.ParsePublicBundle(req.Bundle)
	if err != nil || string(inner.Bytes()) != string(b.Bytes()) {
		return false, c.drop(ctx, tx, ch, "a link request whose keys are not those of its author", rep)
	}
	now := c.opts.Now()
	invs, err := loadInvites(ctx, tx, k, now)
	if err != nil {
		return false, err
	}
	clientFP, myFP := b.Fingerprint(), k.id.Fingerprint()
	var match *invite
	for i := range invs { // every code is tried, each in constant time
		if invs[i].code.VerifyMAC(clientFP, myFP, crypto.RecordID(ch.Record), req.MAC) == nil {
			match = &invs[i]
		}
	}
	reason := ""
	switch {
	case match == nil:
		reason = ReasonUnknownCode
	case !match.used.IsZero():
		reason = ReasonUsed
	case !now.Before(match.expires):
		reason = ReasonExpired
	}
	old, err := getContact(ctx, tx, k, ch.Owner)
	if err != nil {
		return false, err
	}
	requester := &contact{account: ch.Owner, bundle: b, role: RoleClient, name: strings.Join(strings.Fields(req.Name), " ")}
	answer := func(accepted bool, why, name string, paired time.Time) error {
		d := &control{Interlude: rolePairReply, Request: ch.Record.String(), Accepted: accepted, Reason: why, Name: name}
		if accepted {
			d.PairedAt = paired.Unix()
		}
		doc := d.marshal()
		_, err := c.addTx(ctx, tx, k, doc, rolePairReply, &ch.Record, []grantee{{ct: requester}})
		return err
	}
	if reason != "" {
		// Refused: say why (the answer is signed, and tells nothing but the reason), keep
		// the request out of sight.
		if err := answer(false, reason, "", time.Time{}); err != nil {
			return false, err
		}
		if err := c.ignore(ctx, tx, ch); err != nil {
			return false, err
		}
		c.log.Info("refused a link request", "from", ch.Owner, "reason", reason)
		rep.Pairings = append(rep.Pairings, Pairing{Contact: requester.public(myFP), Reason: reason})
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invites SET used = ?, used_by = ? WHERE id = ?`, now.Unix(), ch.Owner[:], match.id); err != nil {
		return false, err
	}
	ct := requester
	// The completion time orders this pairing against others with the same person on
	// every device of both accounts (the client records it from the answer): a later
	// request answered here is later, by a second at least.
	paired := time.Unix(now.Unix(), 0) // stored in whole seconds
	if old != nil && !old.eventTime().IsZero() && paired.Unix() <= old.eventTime().Unix() {
		paired = time.Unix(old.eventTime().Unix()+1, 0)
	}
	ct.state, ct.pairing, ct.paired = ContactPaired, ch.Record, paired
	want := ct.name
	if old != nil && old.name != "" {
		want = old.name // the name chosen here stays
		ct.created = old.created
	}
	if want == "" {
		want = "client"
	}
	if ct.name, err = uniqueName(ctx, tx, k, want, ct.account); err != nil {
		return false, err
	}
	if err := c.saveContact(ctx, tx, k, ct); err != nil {
		return false, err
	}
	if err := c.storeReceived(ctx, tx, me, ch, g, rolePairRequest, nil); err != nil {
		return false, err
	}
	// A notice of an earlier ending to them is moot now.
	if err := c.deleteOwn(ctx, tx, k, rolePairEnd, ct.account); err != nil {
		return false, err
	}
	if err := answer(true, "", match.name, ct.paired); err != nil {
		return false, err
	}
	if err := c.shareAvailability(ctx, tx, k, ct); err != nil {
		return false, err
	}
	c.log.Info("paired", "client", ct.account)
	rep.Pairings = append(rep.Pairings, Pairing{Contact: ct.public(myFP), Accepted: true})
	return true, nil
}

// handlePairReply applies the clinician's answer to this device's link request. The
// answer was verified against the bundle pinned from the code.
func (c *Client) handlePairReply(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact, reply *control, rep *SyncReport) error {
	req, err := recordRef(reply.Request)
	if err != nil {
		return nil
	}
	switch {
	case ct.pairing == req && (ct.state == ContactPending || (ct.state == ContactRejected && ct.reason == ReasonUnknownCode)):
		// Waiting for an answer; after unknown_code, from the device that holds the code.
	case reply.Accepted && reply.PairedAt > 0 && ct.state != ContactPending:
		// An acceptance of a request this device made, after a refusal by a clinician
		// device that held no matching code (this device then took the account's state
		// back): it stands if it is the newest event with them.
		r, err := getRecord(ctx, tx, req[:])
		if err != nil {
			return err
		}
		mine := r != nil && !r.Deleted && r.Role == rolePairRequest && syncproto.AccountID(r.Owner) == syncproto.AccountID(k.id.Account)
		if !mine || !time.Unix(reply.PairedAt, 0).After(ct.eventTime()) || (ct.state == ContactEnded && ct.pairing == req) {
			return nil // an ending is final within its pairing
		}
		ct.pairing = req
	case !reply.Accepted && reply.Reason != ReasonUnknownCode && ct.pairing != req:
		// A refusal of a request this device made and has moved past (it took the
		// account's state back after an earlier refusal): the request has its answer.
		r, err := getRecord(ctx, tx, req[:])
		if err != nil || r == nil || r.Deleted || r.Role != rolePairRequest || syncproto.AccountID(r.Owner) != syncproto.AccountID(k.id.Account) {
			return err
		}
		return c.deleteTx(ctx, tx, k, req)
	default:
		return nil // an answer to an earlier request, or one this device has moved past
	}
	if reply.Accepted {
		// The clinician's time of acceptance, which its devices record too: both accounts
		// order this pairing against others by it (newerThan).
		paired := c.opts.Now()
		if reply.PairedAt > 0 {
			paired = time.Unix(reply.PairedAt, 0)
		}
		ct.state, ct.reason, ct.paired, ct.seen = ContactPaired, "", paired, nil
		if ct.name == "" {
			want := reply.Name
			if strings.TrimSpace(want) == "" {
				want = "clinician"
			}
			if ct.name, err = uniqueName(ctx, tx, k, want, ct.account); err != nil {
				return err
			}
		}
		if err := c.deleteOwn(ctx, tx, k, rolePairEnd, ct.account); err != nil {
			return err
		}
	} else {
		ct.state, ct.reason = ContactRejected, reply.Reason
	}
	if err := c.saveContact(ctx, tx, k, ct); err != nil {
		return err
	}
	rep.Pairings = append(rep.Pairings, Pairing{Contact: ct.public(k.id.Fingerprint()), Accepted: reply.Accepted, Reason: reply.Reason})
	if !reply.Accepted {
		// The account may still be paired with them through another device: that
		// pairing, if any, holds here again.
		if err := c.readoptContact(ctx, tx, k, ct.account, rep); err != nil {
			return err
		}
		if reply.Reason == ReasonUnknownCode {
			// Another device of the clinician's may hold the code: the request stays for
			// it to answer, and its acceptance would stand (above).
			return nil
		}
	}
	// The request has been read: delete it (the clinician's device then deletes its answer).
	if r, err := getRecord(ctx, tx, req[:]); err != nil {
		return err
	} else if r != nil && !r.Deleted {
		if err := c.deleteTx(ctx, tx, k, req); err != nil {
			return err
		}
	}
	return nil
}

// handlePairEnd applies a contact's notice that they ended the pairing.
func (c *Client) handlePairEnd(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact, end *control, rep *SyncReport) error {
	ref, err := recordRef(end.Pairing)
	if ct.state == ContactPending || ct.state == ContactRejected {
		// Pairing (again) here: the notice may end the pairing the account holds through
		// its other devices, which must not come back when this attempt fails.
		if err := c.endAccountPairing(ctx, tx, k, ct, end); err != nil {
			return err
		}
		if err != nil || ref != ct.pairing {
			return nil
		}
		// It ends this very attempt: the clinician accepted it and ended it before this
		// device read the acceptance (which the ending withdrew). It ends here too.
	}
	if err != nil || ct.state == ContactEnded {
		return nil
	}
	// The ending of this pairing; or, from a clinician, an ending stamped after this
	// pairing completed (both times are the clinician's): the clinician holds one pairing
	// with this account, and this device may hold an older one than the one it ended
	// (another device of this account paired again).
	later := end.EndedAt > 0 && ct.role == RoleClinician && !ct.paired.IsZero() && time.Unix(end.EndedAt, 0).After(ct.paired)
	if !ct.pairing.IsZero() && ref != ct.pairing && !later {
		return nil // an ending of an earlier pairing
	}
	pub := ct.public(k.id.Fingerprint())
	// The ending is dated by the notice (the contact's clock, which for a clinician is the
	// one its pairing times come from), not by when this device learns of it: a device
	// that was offline must not make an old ending newer than a later pairing.
	if err := c.endPairing(ctx, tx, k, ct, "ended by "+ct.display(), false, noticeTime(end, c.opts.Now()), false); err != nil {
		return err
	}
	rep.Ended = append(rep.Ended, Ended{Contact: pub})
	return nil
}

// RemoveContact ends the pairing with a contact: every grant to them is revoked and
// every copy made for them deleted; this device deletes its copies of what they shared;
// and they are told (a pair_end record), so that their device does the same. Nothing of
// this account's own journal is deleted. It needs no network: the next sync sends it.
func (c *Client) RemoveContact(ctx context.Context, nameOrID string) (*Contact, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	var out Contact
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		ct, err := c.findContact(ctx, tx, k, nameOrID)
		if err != nil {
			return err
		}
		out = ct.public(k.id.Fingerprint())
		notify := ct.state == ContactPaired || ct.state == ContactPending || ct.state == ContactRejected
		return c.endPairing(ctx, tx, k, ct, "removed here", notify, c.opts.Now(), true)
	})
	if err != nil {
		return nil, fmt.Errorf("remove contact: %w", err)
	}
	return &out, nil
}

// noticeTime is when a pair_end says the pairing ended, or now if it does not say (or
// says a time more than a day to come).
func noticeTime(end *control, now time.Time) time.Time {
	// A time ahead of this device's clock is kept (the sender's clock may run ahead, and
	// the next pairing with them must be dated after it), up to a day.
	if end.EndedAt > 0 && end.EndedAt <= now.Add(24*time.Hour).Unix() {
		return time.Unix(end.EndedAt, 0)
	}
	return now
}

// endPairing revokes every grant to ct, deletes the copies and pairing records made for
// them, deletes this device's copies of what they shared (keeping only their IDs until
// they revoke), optionally tells them, and marks the contact ended at the time at; with
// newest (a removal made here), later than anything the account's document holds.
func (c *Client) endPairing(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact, reason string, notify bool, at time.Time, newest bool) error {
	if notify {
		// Requests of this account still open (refused by a clinician device without the
		// code, or sent by another device) may yet be accepted: they end too.
		reqs, err := ownRequests(ctx, tx, syncproto.AccountID(k.id.Account), ct.account)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			if r != ct.pairing || ct.state != ContactPending {
				end := *ct
				end.pairing = r
				if err := c.notifyEnd(ctx, tx, k, &end, at); err != nil {
					return err
				}
			}
		}
	}
	// An ending they sent ends the pairing it names. This account's other requests to them
	// stay open: another of their devices may accept one yet, and an acceptance dated after
	// this ending stands (handlePairReply), as it does on their side.
	var keep []syncproto.RecordID
	if !notify && !newest {
		reqs, err := ownRequests(ctx, tx, syncproto.AccountID(k.id.Account), ct.account)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			if r != ct.pairing {
				keep = append(keep, r)
			}
		}
	}
	if err := c.withdrawFrom(ctx, tx, k, ct, keep...); err != nil {
		return err
	}
	if err := c.forgetShared(ctx, tx, ct); err != nil {
		return err
	}
	if notify {
		if ct.state != ContactRejected { // a refused attempt's own request was told above
			if err := c.notifyEnd(ctx, tx, k, ct, at); err != nil {
				return err
			}
		}
		if ct.state == ContactPending || ct.state == ContactRejected {
			// Pairing again here: the pairing the account holds through its other devices,
			// if another, ends too, and they are told.
			acct, err := c.accountPairing(ctx, tx, k, ct.account)
			if err != nil {
				return err
			}
			if acct != nil && acct.pairing != ct.pairing {
				if err := c.notifyEnd(ctx, tx, k, acct, at); err != nil {
					return err
				}
			}
		}
	}
	ct.state, ct.reason = ContactEnded, reason
	// An ending is after the pairing it ends, by a second at least: contact documents are
	// ordered by these times (newerThan).
	ct.ended = endingTime(ct, at)
	// A removal made here is the newest event: after whatever the account's document
	// holds (a pairing through another device, when this device was pairing again).
	if d, _, err := c.currentDoc(ctx, tx, k, ct.account); err != nil {
		return err
	} else if d != nil && newest {
		if last := max(d.PairedAt, d.EndedAt); ct.ended.Unix() <= last {
			ct.ended = time.Unix(last+1, 0)
		}
	}
	return c.saveContact(ctx, tx, k, ct)
}

// endingTime is the time an ending of ct's pairing at at is recorded with: in whole
// seconds, and a second after the pairing at least.
func endingTime(ct *contact, at time.Time) time.Time {
	ended := time.Unix(at.Unix(), 0)
	if !ct.paired.IsZero() && ended.Unix() <= ct.paired.Unix() {
		ended = time.Unix(ct.paired.Unix()+1, 0)
	}
	return ended
}

// withdrawFrom revokes every grant this account holds to ct on its entries and deletes
// the other records made for them (scores-only and status-only copies, pairing messages)
// except the records in keep (a link request still under way).
func (c *Client) withdrawFrom(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact, keep ...syncproto.RecordID) error {
	me := syncproto.AccountID(k.id.Account)
	var mine []recordRow
	if err := tx.SelectContext(ctx, &mine, `SELECT `+recordCols+` FROM records WHERE owner = ? AND deleted = 0 AND id IN
		(SELECT record FROM grants WHERE recipient = ?)`, me[:], ct.account[:]); err != nil {
		return err
	}
	for i := range mine {
		id := syncproto.RecordID(mine[i].ID)
		if r, err := getRecord(ctx, tx, id[:]); err != nil {
			return err
		} else if r == nil || r.Deleted {
			continue // a copy deleted with its source above
		}
		if mine[i].Role == roleEntry {
			if _, err := c.revokeTx(ctx, tx, k, id, ct.account); err != nil {
				return err
			}
			continue
		}
		if mine[i].Role == rolePairEnd || slices.Contains(keep, id) {
			continue
		}
		if err := c.deleteTx(ctx, tx, k, id); err != nil {
			return err
		}
	}
	return nil
}

// notifyEnd tells ct that the pairing ended at the time at: a pair_end record naming it,
// shared with them.
func (c *Client) notifyEnd(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact, at time.Time) error {
	doc := (&control{Interlude: rolePairEnd, Pairing: ct.pairing.String(), EndedAt: endingTime(ct, at).Unix()}).marshal()
	_, err := c.addTx(ctx, tx, k, doc, rolePairEnd, &ct.pairing, []grantee{{ct: ct}})
	return err
}

// forgetShared deletes this device's copies of what ct shared with this account, keeping
// their IDs (ignored) until ct revokes, so that the digest still matches the server.
func (c *Client) forgetShared(ctx context.Context, tx *sqlx.Tx, ct *contact) error {
	var theirs []recordRow
	if err := tx.SelectContext(ctx, &theirs, `SELECT `+recordCols+` FROM records WHERE owner = ? AND deleted = 0`, ct.account[:]); err != nil {
		return err
	}
	for i := range theirs {
		if theirs[i].Role == rolePairEnd {
			continue // the notice itself stays as the server holds it
		}
		ch := syncproto.Change{Record: syncproto.RecordID(theirs[i].ID), Owner: ct.account, Revision: theirs[i].Revision}
		if err := c.ignore(ctx, tx, ch); err != nil {
			return err
		}
	}
	return nil
}

// shareAvailability shares this account's latest availability note (a journal
// "availability" entry: the hours a clinician reads messages) with a new client, so that
// they see it from the start. It is the clinician's own statement, meant for every
// client; `availability set` shares it with the clients paired at the time.
func (c *Client) shareAvailability(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact) error {
	me := syncproto.AccountID(k.id.Account)
	var rows []recordRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+recordCols+` FROM records WHERE owner = ? AND role = ? AND deleted = 0 ORDER BY id DESC`,
		me[:], roleEntry); err != nil {
		return err
	}
	for i := range rows {
		id := syncproto.RecordID(rows[i].ID)
		pt, err := open(k, id, rows[i].Revision, rows[i].Envelope, rows[i].OwnerKey)
		if err != nil {
			continue
		}
		e, err := journal.Unmarshal(pt)
		if err != nil || e.Kind != journal.KindAvailability {
			continue
		}
		return c.grantCurrent(ctx, tx, k, &rows[i], ct, time.Time{})
	}
	return nil
}
