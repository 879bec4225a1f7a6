package client

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// Records other accounts share with this one. Each is kept as the server holds it (the
// envelope, and the grant that opens it for this account) and checked on every read, as
// it was when it arrived, against the author's bundle pinned at pairing: the grant's
// signature and addressee, then the envelope's signature, record, revision and author.
// A change from an account that is not a contact is never shown: it waits in the inbox
// until the sync has fetched its author's bundle, and is then either a link request
// (pairing.go) or dropped and reported.

// errExpired marks a grant past its expiry.
var errExpired = errors.New("the share has expired")

// openShared verifies and decrypts a record that owner shared with this account,
// against owner's pinned bundle b. It returns the plaintext and the parsed grant.
func openShared(k *keys, b *crypto.PublicBundle, id syncproto.RecordID, revision uint64, owner syncproto.AccountID,
	env, grantBlob []byte, now time.Time) ([]byte, *crypto.Grant, error) {
	if syncproto.AccountID(b.Account) != owner {
		return nil, nil, fmt.Errorf("the author's keys belong to another account: %w", crypto.ErrBadSignature)
	}
	g, err := crypto.ParseGrant(grantBlob)
	if err != nil {
		return nil, nil, fmt.Errorf("grant: %w", err)
	}
	if g.Record != crypto.RecordID(id) || g.Revision != revision || g.Grantor != crypto.AccountID(owner) {
		return nil, nil, fmt.Errorf("the grant names another record, revision or author than the change carrying it: %w", crypto.ErrBadSignature)
	}
	if err := g.Verify(b.Signing); err != nil {
		return nil, nil, fmt.Errorf("grant: %w", err)
	}
	if g.Expired(now) {
		return nil, g, errExpired
	}
	ek, err := g.Open(k.id.Share, k.id.Account)
	if err != nil {
		return nil, nil, fmt.Errorf("grant: %w", err)
	}
	o, err := crypto.OpenEntry(env, ek, b.Signing)
	if err != nil {
		return nil, nil, err
	}
	if o.Record != crypto.RecordID(id) || o.Revision != revision || o.Author != crypto.AccountID(owner) {
		return nil, nil, fmt.Errorf("the envelope names another record, revision or author: %w", crypto.ErrBadSignature)
	}
	return o.Plaintext, g, nil
}

// receivedGrant returns the blob of the grant that lets this account read a record.
func receivedGrant(ctx context.Context, q sqlx.QueryerContext, me syncproto.AccountID, id syncproto.RecordID) ([]byte, error) {
	var blob []byte
	err := sqlx.GetContext(ctx, q, &blob, `SELECT blob FROM grants WHERE record = ? AND recipient = ?`, id[:], me[:])
	if err != nil {
		return nil, fmt.Errorf("entry %s: no grant to read it here: %w", id, err)
	}
	return blob, nil
}

// decryptShared opens a record a contact shared with this account.
func (c *Client) decryptShared(ctx context.Context, q sqlx.QueryerContext, k *keys, ct *contact, r *recordRow) (*Entry, error) {
	me := syncproto.AccountID(k.id.Account)
	id := syncproto.RecordID(r.ID)
	blob, err := receivedGrant(ctx, q, me, id)
	if err != nil {
		return nil, err
	}
	pt, g, err := openShared(k, ct.bundle, id, r.Revision, ct.account, r.Envelope, blob, c.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("entry %s from %s does not verify: %w", id, ct.display(), err)
	}
	e := &Entry{ID: id, Owner: ct.account, Revision: r.Revision, Plaintext: pt, Synced: true, Expires: g.Expires}
	if r.Role == roleDerived {
		if err := e.unwrapDerived(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// ListFrom returns the live entries owner shared with this account, oldest day first,
// each verified against owner's keys pinned at pairing. Expired shares are left out (the
// next sync deletes them). A copy that no longer verifies is left out and logged: the
// sync that brought it verified it, so the local store was altered.
func (c *Client) ListFrom(ctx context.Context, owner syncproto.AccountID, f ListFilter) ([]*Entry, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	ct, err := getContact(ctx, c.db, k, owner)
	if err != nil {
		return nil, err
	}
	if ct == nil || ct.state == ContactEnded {
		return nil, fmt.Errorf("%w: account %s", ErrNoContact, owner)
	}
	var rows []recordRow
	if err := c.db.SelectContext(ctx, &rows, `SELECT `+recordCols+` FROM records WHERE owner = ? AND deleted = 0 AND role IN (?, ?) ORDER BY id`,
		owner[:], roleEntry, roleDerived); err != nil {
		return nil, fmt.Errorf("list from %s: %w", ct.display(), err)
	}
	var out []*Entry
	for i := range rows {
		id := syncproto.RecordID(rows[i].ID)
		if !f.days(id) {
			continue
		}
		e, err := c.decryptShared(ctx, c.db, k, ct, &rows[i])
		if err != nil {
			if !errors.Is(err, errExpired) {
				c.log.Warn("a shared entry does not verify", "record", id, "err", err)
			}
			continue
		}
		if f.Match != nil && !f.Match(e) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// Received lists, for every contact, how many entries they share with this account.
func (c *Client) Received(ctx context.Context) (map[syncproto.AccountID]int, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	me := syncproto.AccountID(k.id.Account)
	var rows []struct {
		Owner []byte `db:"owner"`
		N     int    `db:"n"`
	}
	if err := c.db.SelectContext(ctx, &rows, `SELECT owner, count(*) AS n FROM records WHERE owner != ? AND deleted = 0 AND role IN (?, ?) GROUP BY owner`,
		me[:], roleEntry, roleDerived); err != nil {
		return nil, err
	}
	out := map[syncproto.AccountID]int{}
	for _, r := range rows {
		out[syncproto.AccountID(r.Owner)] = r.N
	}
	return out, nil
}

// RemoteState asks the server what this account may see of the given records, without
// changing anything here: StateLive, StateDeleted, or StateGone for a record it may not
// see (a missing record answers the same). Tests and support use it to check that the
// server withholds what was not shared.
func (c *Client) RemoteState(ctx context.Context, ids []syncproto.RecordID) ([]syncproto.RecordState, error) {
	cn, _, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	out := make([]syncproto.RecordState, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), int(cn.limits.MaxFetch))
		recs, err := expect[syncproto.Records](ctx, cn, syncproto.Fetch{Records: ids[:n]})
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		for _, ch := range recs.Items {
			out = append(out, ch.State)
		}
		ids = ids[n:]
	}
	return out, nil
}

// applyOther applies a change of another account's record (inside the page's
// transaction). It reports whether anything visible changed here.
func (c *Client) applyOther(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change, rep *SyncReport) (bool, error) {
	me := syncproto.AccountID(k.id.Account)
	if ch.State != syncproto.StateLive {
		return c.dropReceived(ctx, tx, k, ch.Record)
	}
	rec, err := getRecord(ctx, tx, ch.Record[:])
	if err != nil {
		return false, err
	}
	if rec != nil && syncproto.AccountID(rec.Owner) == me {
		return false, c.reject(ctx, tx, ch, "the server names another author for one of this account's own records", rep)
	}
	if rec != nil && !rec.Deleted && ch.Revision < rec.Revision {
		return false, nil // an older revision than the one held: ignore (no rollback)
	}
	if len(ch.Grants) != 1 || ch.Grants[0].Recipient != me || ch.Grants[0].Record != ch.Record {
		return false, c.reject(ctx, tx, ch, "shared without a grant for this account", rep)
	}
	// Seen before exactly so (a re-pull, a digest repair): nothing to decide again. A
	// record kept at the same revision but with another grant (a new expiry) is checked
	// again and stored, but its pairing message is not acted on twice.
	seen := false
	if rec != nil && !rec.Deleted && rec.Revision == ch.Revision && bytes.Equal(rec.Envelope, ch.Envelope) {
		blob, err := receivedGrant(ctx, tx, me, ch.Record)
		if err == nil && bytes.Equal(blob, ch.Grants[0].Blob) {
			_, err := tx.ExecContext(ctx, `UPDATE records SET seq = ? WHERE id = ?`, ch.Seq, ch.Record[:])
			return false, err
		}
		seen = true
	}
	var ig struct {
		Revision uint64 `db:"revision"`
		Grant    []byte `db:"grant_blob"`
	}
	switch err := tx.GetContext(ctx, &ig, `SELECT revision, grant_blob FROM ignored WHERE record = ?`, ch.Record[:]); {
	case err == nil && ig.Revision == ch.Revision && bytes.Equal(ig.Grant, ch.Grants[0].Blob):
		return false, nil // decided already
	case err == nil && ch.Revision < ig.Revision:
		return false, nil // older than the revision dropped here (an expiry, an ending): no rollback
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	ct, err := getContact(ctx, tx, k, ch.Owner)
	if err != nil {
		return false, err
	}
	if ct == nil {
		// Not a contact: decide once the author's bundle is fetched (processInbox).
		_, err := tx.ExecContext(ctx, `INSERT INTO inbox (record, owner, revision, seq, envelope, grant_blob, received)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record) DO UPDATE SET owner = excluded.owner, revision = excluded.revision,
			seq = excluded.seq, envelope = excluded.envelope, grant_blob = excluded.grant_blob, received = excluded.received`,
			ch.Record[:], ch.Owner[:], ch.Revision, ch.Seq, ch.Envelope, ch.Grants[0].Blob, c.opts.Now().Unix())
		return false, err
	}
	pt, g, err := openShared(k, ct.bundle, ch.Record, ch.Revision, ch.Owner, ch.Envelope, ch.Grants[0].Blob, c.opts.Now())
	if errors.Is(err, errExpired) {
		_, err := c.dropReceived(ctx, tx, k, ch.Record)
		if err != nil {
			return false, err
		}
		return true, c.ignore(ctx, tx, ch)
	}
	if err != nil {
		return false, c.reject(ctx, tx, ch, fmt.Sprintf("from %s: %v", ct.display(), err), rep)
	}
	d, err := parseControl(pt)
	if err != nil {
		return false, c.reject(ctx, tx, ch, fmt.Sprintf("from %s: %v", ct.display(), err), rep)
	}
	role, link := roleEntry, []byte(nil)
	if d != nil {
		role = d.Interlude
		switch role {
		case rolePairRequest:
			if seen || (ct.pairing == ch.Record && ct.state != ContactPending) {
				// Decided already: here, or (the request that made this pairing) on the
				// device of this account that answered it, which this one learned it from.
				return false, c.storeReceived(ctx, tx, me, ch, g, role, nil)
			}
			return c.handlePairRequest(ctx, tx, k, ch, ct.bundle, g, d, rep)
		case rolePairReply:
			ref, err := recordRef(d.Request)
			if err != nil {
				return false, c.reject(ctx, tx, ch, "a pairing reply naming no request", rep)
			}
			link = ref[:]
		case rolePairEnd:
			if ref, err := recordRef(d.Pairing); err == nil {
				link = ref[:]
			}
		case roleDerived:
			ref, err := recordRef(d.Source)
			if err != nil {
				return false, c.reject(ctx, tx, ch, "a derived copy naming no source", rep)
			}
			link = ref[:]
		}
	}
	if ct.state == ContactEnded && (role == roleEntry || role == roleDerived) {
		// Leftovers of an ended pairing: not kept, only counted until the author revokes.
		return false, c.ignore(ctx, tx, ch)
	}
	if err := c.storeReceived(ctx, tx, me, ch, g, role, link); err != nil {
		return false, err
	}
	if seen {
		return false, nil
	}
	switch role {
	case rolePairReply:
		return true, c.handlePairReply(ctx, tx, k, ct, d, rep)
	case rolePairEnd:
		return true, c.handlePairEnd(ctx, tx, k, ct, d, rep)
	}
	return true, nil
}

// storeReceived keeps a verified record shared with this account, and its grant.
func (c *Client) storeReceived(ctx context.Context, tx *sqlx.Tx, me syncproto.AccountID, ch syncproto.Change, g *crypto.Grant, role string, link []byte) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, owner, revision, synced_revision, seq, deleted, envelope, owner_key, role, link)
		VALUES (?, ?, ?, ?, ?, 0, ?, NULL, ?, ?) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, revision = excluded.revision,
		synced_revision = excluded.synced_revision, seq = excluded.seq, deleted = 0, envelope = excluded.envelope, owner_key = NULL,
		role = excluded.role, link = excluded.link`,
		ch.Record[:], ch.Owner[:], ch.Revision, ch.Revision, ch.Seq, ch.Envelope, role, link); err != nil {
		return err
	}
	if err := putGrant(ctx, tx, ch.Record, me, g.Revision, unixOrZero(g.Expires), ch.Grants[0].Blob); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM rejected WHERE record = ?`, `DELETE FROM ignored WHERE record = ?`, `DELETE FROM inbox WHERE record = ?`} {
		if _, err := tx.ExecContext(ctx, q, ch.Record[:]); err != nil {
			return err
		}
	}
	return nil
}

// ignore counts a record others share that this device deliberately does not keep, so
// that the digest still matches the server's.
func (c *Client) ignore(ctx context.Context, tx *sqlx.Tx, ch syncproto.Change) error {
	var blob []byte
	if len(ch.Grants) == 1 {
		blob = ch.Grants[0].Blob
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ignored (record, owner, revision, grant_blob) VALUES (?, ?, ?, ?)
		ON CONFLICT (record) DO UPDATE SET owner = excluded.owner, revision = excluded.revision, grant_blob = excluded.grant_blob`,
		ch.Record[:], ch.Owner[:], ch.Revision, blob); err != nil {
		return err
	}
	// ch.Owner is not this account (apply sends its own records elsewhere), so every
	// local grant of the record is the one that shared it with this account.
	if _, err := tx.ExecContext(ctx, `DELETE FROM records WHERE id = ? AND owner = ?`, ch.Record[:], ch.Owner[:]); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM grants WHERE record = ?`, `DELETE FROM inbox WHERE record = ?`} {
		if _, err := tx.ExecContext(ctx, q, ch.Record[:]); err != nil {
			return err
		}
	}
	return nil
}

// aboutOwnRequest reports whether d is a pair_reply or a pair_end naming a link request
// this account made (one this device holds, live or deleted).
func (c *Client) aboutOwnRequest(ctx context.Context, tx *sqlx.Tx, k *keys, d *control) (bool, error) {
	var ref string
	switch d.Interlude {
	case rolePairReply:
		ref = d.Request
	case rolePairEnd:
		ref = d.Pairing
	default:
		return false, nil
	}
	id, err := recordRef(ref)
	if err != nil {
		return false, nil
	}
	r, err := getRecord(ctx, tx, id[:])
	if err != nil || r == nil {
		return false, err
	}
	return syncproto.AccountID(r.Owner) == syncproto.AccountID(k.id.Account) && (r.Deleted || r.Role == rolePairRequest), nil
}

// drop refuses a record others share: it is counted (ignored), not kept, and reported.
func (c *Client) drop(ctx context.Context, tx *sqlx.Tx, ch syncproto.Change, reason string, rep *SyncReport) error {
	if err := c.ignore(ctx, tx, ch); err != nil {
		return err
	}
	return c.reject(ctx, tx, ch, reason, rep)
}

// dropReceived deletes this device's copy of a record another account shared with it
// (it was deleted, its grant revoked or expired). When it was a client's link request,
// the answer this device sent is deleted too: the client has read it.
func (c *Client) dropReceived(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID) (bool, error) {
	me := syncproto.AccountID(k.id.Account)
	rec, err := getRecord(ctx, tx, id[:])
	if err != nil {
		return false, err
	}
	if rec != nil && syncproto.AccountID(rec.Owner) == me {
		return false, nil
	}
	existed := rec != nil && !rec.Deleted
	// A link request (kept or refused) that its client deleted has been answered and
	// read: the answer goes too.
	{
		var replies [][]byte
		if err := tx.SelectContext(ctx, &replies, `SELECT id FROM records WHERE owner = ? AND role = ? AND link = ? AND deleted = 0`,
			me[:], rolePairReply, id[:]); err != nil {
			return false, err
		}
		for _, r := range replies {
			if err := c.deleteTx(ctx, tx, k, syncproto.RecordID(r)); err != nil {
				return false, err
			}
		}
	}
	for _, q := range []string{`DELETE FROM records WHERE id = ?`, `DELETE FROM grants WHERE record = ?`, `DELETE FROM inbox WHERE record = ?`,
		`DELETE FROM ignored WHERE record = ?`, `DELETE FROM rejected WHERE record = ?`} {
		if _, err := tx.ExecContext(ctx, q, id[:]); err != nil {
			return false, err
		}
	}
	return existed && (rec.Role == roleEntry || rec.Role == roleDerived), nil
}

// expireShares drops what has passed its expiry: copies of records shared with this
// account (their IDs stay counted, see ignore), and this account's own grants (the
// server drops those too).
func (c *Client) expireShares(ctx context.Context, k *keys) error {
	me := syncproto.AccountID(k.id.Account)
	now := c.opts.Now().Unix()
	return inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		var rows []recordRow
		if err := tx.SelectContext(ctx, &rows, `SELECT `+recordCols+` FROM records WHERE owner != ? AND id IN
			(SELECT record FROM grants WHERE recipient = ? AND expires > 0 AND expires <= ?)`, me[:], me[:], now); err != nil {
			return err
		}
		for _, r := range rows {
			// The copy goes; its ID stays counted until the server, whose clock may be
			// behind this one, says it is gone too.
			ch := syncproto.Change{Record: syncproto.RecordID(r.ID), Owner: syncproto.AccountID(r.Owner), Revision: r.Revision}
			if err := c.ignore(ctx, tx, ch); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE recipient != ? AND expires > 0 AND expires <= ?`, me[:], now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM share_outbox WHERE expires > 0 AND expires <= ?`, now)
		return err
	})
}

// inboxRow is a change from an account that is not a contact, waiting for a decision.
type inboxRow struct {
	Record   []byte `db:"record"`
	Owner    []byte `db:"owner"`
	Revision uint64 `db:"revision"`
	Seq      uint64 `db:"seq"`
	Envelope []byte `db:"envelope"`
	Grant    []byte `db:"grant_blob"`
}

// processInbox decides every change waiting in the inbox: it fetches the author's
// bundle, checks its self-signature, then the grant's and the envelope's signatures
// under it, and opens the record. Only a link request goes on (handlePairRequest);
// anything else is dropped and reported, never shown.
func (c *Client) processInbox(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	var rows []inboxRow
	if err := c.db.SelectContext(ctx, &rows, `SELECT record, owner, revision, seq, envelope, grant_blob FROM inbox ORDER BY received, record`); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Seq < rows[j].Seq })
	for _, r := range rows {
		owner := syncproto.AccountID(r.Owner)
		ch := syncproto.Change{Seq: r.Seq, Record: syncproto.RecordID(r.Record), Owner: owner, Revision: r.Revision,
			State: syncproto.StateLive, Envelope: r.Envelope,
			Grants: []syncproto.GrantPush{{Record: syncproto.RecordID(r.Record), Revision: r.Revision, Recipient: syncproto.AccountID(k.id.Account), Blob: r.Grant}}}
		if ct, err := getContact(ctx, c.db, k, owner); err != nil {
			return fmt.Errorf("inbox: %w", err)
		} else if ct != nil {
			// A contact now: another device of this account paired with them, and this one
			// learned it later in the same pull (adoptContact). Apply it as any change of theirs.
			err := inTx(ctx, c.db, func(tx *sqlx.Tx) error {
				if _, err := tx.ExecContext(ctx, `DELETE FROM inbox WHERE record = ?`, r.Record); err != nil {
					return err
				}
				_, err := c.applyOther(ctx, tx, k, ch, rep)
				return err
			})
			if err != nil {
				return fmt.Errorf("inbox: %w", err)
			}
			continue
		}
		var bundle *crypto.PublicBundle
		reason := ""
		b, err := expect[syncproto.Bundle](ctx, cn, syncproto.BundleRequest{Account: owner})
		switch {
		case serverCode(err) == syncproto.CodeNotFound:
			reason = "shared by an account the server does not know"
		case err != nil:
			return fmt.Errorf("fetch the keys of %s: %w", owner, err)
		default:
			bundle, err = crypto.ParsePublicBundle(b.Bundle)
			if err != nil || b.Account != owner || syncproto.AccountID(bundle.Account) != owner {
				reason = "shared by an account whose published keys are not valid"
			}
		}
		err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			// Another process may have decided it meanwhile.
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM inbox WHERE record = ? AND revision = ?`, r.Record, r.Revision); err != nil || n == 0 {
				return err
			}
			if reason != "" {
				return c.drop(ctx, tx, ch, reason, rep)
			}
			pt, g, err := openShared(k, bundle, ch.Record, ch.Revision, owner, ch.Envelope, r.Grant, c.opts.Now())
			if err != nil {
				return c.drop(ctx, tx, ch, "shared by an account you have not paired with, and it does not verify: "+err.Error(), rep)
			}
			d, err := parseControl(pt)
			if err == nil && d != nil {
				if ours, err := c.aboutOwnRequest(ctx, tx, k, d); err != nil {
					return err
				} else if ours {
					// The answer to a request another device of this account made, or the
					// end of the pairing it made: that device applies it and tells this one
					// (contact document). Set aside quietly: fetched again if this device
					// learns the contact (adoptContact).
					return c.ignore(ctx, tx, ch)
				}
			}
			if err != nil || d == nil || d.Interlude != rolePairRequest {
				return c.drop(ctx, tx, ch, "shared by an account you have not paired with; not shown (pair in person first)", rep)
			}
			if _, err := c.handlePairRequest(ctx, tx, k, ch, bundle, g, d, rep); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM inbox WHERE record = ?`, r.Record)
			return err
		})
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	}
	return nil
}
