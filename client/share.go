package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/journal"
	"interlude/syncproto"
)

// Sharing, entry by entry (docs/sharing.md). Every grant wraps one revision's entry key
// to a contact's pinned share key and is signed by this account (crypto.SignGrant).
// Nothing is shared by default: only Share, ShareScoresOnly, ShareStatus and AddShared
// make grants. Grants travel through the outbox like entries, so sharing works offline.
//
// The grants table holds the current grantees of this account's records (and, for
// records others share with it, the grant that lets it read them). A new revision of a
// shared record (Edit, Resolve) is sealed under a fresh entry key and re-wrapped for the
// current grantees only, in the same RecordPush: the server then replaces the record's
// grants, so a revoked contact's old key opens nothing new.

// ErrNotShareable means the record is not an entry of this account that can be shared.
var ErrNotShareable = errors.New("only your own journal entries can be shared")

// ShareOptions tune a share.
type ShareOptions struct {
	// Expires ends the share (zero: never). The server drops the grant at that time and
	// the recipient's device deletes its copy. Kept to the second.
	Expires time.Time
}

func (o ShareOptions) expiry(now time.Time) (time.Time, error) {
	if o.Expires.IsZero() {
		return time.Time{}, nil
	}
	e := time.Unix(o.Expires.Unix(), 0)
	if !e.After(now) {
		return time.Time{}, fmt.Errorf("the share would expire at %s, which is not in the future", e.Format(time.RFC3339))
	}
	return e, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// grantRow is one row of grants.
type grantRow struct {
	Record    []byte `db:"record"`
	Recipient []byte `db:"recipient"`
	Revision  uint64 `db:"revision"`
	Expires   int64  `db:"expires"`
	Blob      []byte `db:"blob"`
}

// shareOp is one row of share_outbox: a standalone grant or a revoke.
type shareOp struct {
	ID        int64  `db:"id"`
	Record    []byte `db:"record"`
	Recipient []byte `db:"recipient"`
	Revoke    bool   `db:"revoke"`
	Revision  uint64 `db:"revision"`
	Expires   int64  `db:"expires"`
	Blob      []byte `db:"blob"`
	Created   int64  `db:"created"`
	Attempts  int    `db:"attempts"`
	LastCode  uint16 `db:"last_code"`
}

const shareOpCols = `id, record, recipient, revoke, revision, expires, blob, created, attempts, last_code`

// sealKeyed seals one revision and returns its entry key too (for grants).
func sealKeyed(k *keys, id syncproto.RecordID, revision uint64, plaintext []byte) (env, wrapped []byte, ek crypto.EntryKey, err error) {
	env, ek, err = crypto.SealEntry(k.id, crypto.RecordID(id), revision, plaintext)
	if err != nil {
		return nil, nil, crypto.EntryKey{}, fmt.Errorf("seal entry: %w", err)
	}
	wrapped, err = crypto.WrapForVault(k.id.Vault, crypto.RecordID(id), revision, ek)
	if err != nil {
		return nil, nil, crypto.EntryKey{}, fmt.Errorf("wrap entry key: %w", err)
	}
	return env, wrapped, ek, nil
}

// signGrantFor wraps ek (of id at revision) to the contact's pinned share key.
func signGrantFor(k *keys, ct *contact, id syncproto.RecordID, revision uint64, expires time.Time, ek crypto.EntryKey) ([]byte, error) {
	return crypto.SignGrant(k.id, crypto.GrantTerms{
		Record: crypto.RecordID(id), Revision: revision, Recipient: crypto.AccountID(ct.account),
		RecipientKey: ct.bundle.Share, Expires: expires,
	}, ek)
}

func putGrant(ctx context.Context, tx *sqlx.Tx, id syncproto.RecordID, to syncproto.AccountID, revision uint64, expires int64, blob []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (record, recipient) DO UPDATE SET revision = excluded.revision, expires = excluded.expires, blob = excluded.blob`,
		id[:], to[:], revision, expires, blob)
	return err
}

// queueShareOp records the latest intent for (record, recipient), replacing any pending
// one. It deletes and inserts (a new id) rather than updating, so that the answer to an
// older attempt can never remove the newer intent.
func (c *Client) queueShareOp(ctx context.Context, tx *sqlx.Tx, id syncproto.RecordID, to syncproto.AccountID, revoke bool, revision uint64, expires int64, blob []byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM share_outbox WHERE record = ? AND recipient = ?`, id[:], to[:]); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO share_outbox (record, recipient, revoke, revision, expires, blob, created)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id[:], to[:], revoke, revision, expires, blob, c.opts.Now().Unix())
	return err
}

// grantee is a recipient of a new record: a contact and the share's expiry.
type grantee struct {
	ct      *contact
	expires time.Time
}

// addTx writes a new own record (revision 1) with its outbox row and, nested in it, a
// grant for each grantee.
func (c *Client) addTx(ctx context.Context, tx *sqlx.Tx, k *keys, plaintext []byte, role string, link *syncproto.RecordID, to []grantee) (syncproto.RecordID, error) {
	id := syncproto.NewRecordID(c.opts.Now())
	return id, c.addWithID(ctx, tx, k, id, plaintext, role, link, to)
}

func nestGrant(ctx context.Context, tx *sqlx.Tx, outbox int64, id syncproto.RecordID, to syncproto.AccountID, revision uint64, expires int64, blob []byte) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_grants (outbox, recipient, expires, blob) VALUES (?, ?, ?, ?)`,
		outbox, to[:], expires, blob); err != nil {
		return err
	}
	return putGrant(ctx, tx, id, to, revision, expires, blob)
}

// writeRevision seals a new revision of an own record, re-wraps its entry key for the
// record's current grantees (expired shares and contacts no longer paired drop out),
// and commits the record and its outbox row with those grants nested.
//
// Grantees whose keys changed since pairing keep receiving wraps to the keys verified
// in person: that exposes nothing to a substituted key. Pending standalone grants of the
// record are superseded by the nested set.
func (c *Client) writeRevision(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID, base uint64, plaintext []byte) error {
	rev := base + 1
	env, wrapped, ek, err := sealKeyed(k, id, rev, plaintext)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE records SET revision = ?, envelope = ?, owner_key = ? WHERE id = ?`,
		rev, env, wrapped, id[:]); err != nil {
		return err
	}
	ob, err := c.enqueueID(ctx, tx, id, base, rev, false, env, wrapped)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM share_outbox WHERE record = ? AND revoke = 0`, id[:]); err != nil {
		return err
	}
	me := syncproto.AccountID(k.id.Account)
	var rows []grantRow
	if err := tx.SelectContext(ctx, &rows, `SELECT record, recipient, revision, expires, blob FROM grants
		WHERE record = ? AND recipient != ?`, id[:], me[:]); err != nil {
		return err
	}
	now := c.opts.Now()
	for _, g := range rows {
		to := syncproto.AccountID(g.Recipient)
		ct, err := getContact(ctx, tx, k, to)
		if err != nil {
			return err
		}
		exp := timeOrZero(g.Expires)
		if ct == nil || ct.state != ContactPaired || (!exp.IsZero() && !exp.After(now)) {
			if ct == nil {
				// Shared from another device of this account whose contact document has not
				// reached this one yet (contacts.go): no pinned key to wrap to, so the new
				// revision is not shared with them.
				c.log.Warn("an edited entry stops being shared with a contact this device has not paired with", "record", id, "contact", to)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient = ?`, id[:], to[:]); err != nil {
				return err
			}
			continue
		}
		blob, err := signGrantFor(k, ct, id, rev, exp, ek)
		if err != nil {
			return err
		}
		if err := nestGrant(ctx, tx, ob, id, to, rev, g.Expires, blob); err != nil {
			return err
		}
	}
	return nil
}

// shareTarget loads a contact that new keys may be wrapped to.
func (c *Client) shareTarget(ctx context.Context, q sqlx.QueryerContext, k *keys, to syncproto.AccountID) (*contact, error) {
	ct, err := getContact(ctx, q, k, to)
	if err != nil {
		return nil, err
	}
	if ct == nil || ct.state == ContactEnded {
		return nil, fmt.Errorf("%w: account %s", ErrNoContact, to)
	}
	if err := ct.shareable(); err != nil {
		return nil, err
	}
	return ct, nil
}

// shareableRecord loads an own, live, unconflicted journal entry.
func shareableRecord(ctx context.Context, tx *sqlx.Tx, me syncproto.AccountID, id syncproto.RecordID) (*recordRow, error) {
	r, err := getRecord(ctx, tx, id[:])
	if err != nil {
		return nil, err
	}
	if r != nil && !r.Deleted && syncproto.AccountID(r.Owner) != me {
		return nil, fmt.Errorf("%w: %s was shared with you by someone else", ErrNotShareable, id)
	}
	r, err = editable(ctx, tx, me, id)
	if err != nil {
		return nil, err
	}
	if r.Role != roleEntry {
		return nil, fmt.Errorf("%w: %s is a %s record", ErrNotShareable, id, r.Role)
	}
	return r, nil
}

// Share shares the current revision of an own entry with a contact: it wraps the
// entry's key to the contact's pinned share key, signs the grant, and queues it (the
// next sync sends it). Sharing the same entry again changes only the expiry. Later
// revisions stay shared (see Edit) until Unshare.
func (c *Client) Share(ctx context.Context, id syncproto.RecordID, to syncproto.AccountID, opts ShareOptions) error {
	k, err := c.unlocked()
	if err != nil {
		return err
	}
	exp, err := opts.expiry(c.opts.Now())
	if err != nil {
		return err
	}
	me := syncproto.AccountID(k.id.Account)
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		ct, err := c.shareTarget(ctx, tx, k, to)
		if err != nil {
			return err
		}
		r, err := shareableRecord(ctx, tx, me, id)
		if err != nil {
			return err
		}
		return c.grantCurrent(ctx, tx, k, r, ct, exp)
	})
	if err != nil {
		return fmt.Errorf("share %s: %w", id, err)
	}
	return nil
}

// grantCurrent grants the record's current revision to ct (a standalone grant).
func (c *Client) grantCurrent(ctx context.Context, tx *sqlx.Tx, k *keys, r *recordRow, ct *contact, exp time.Time) error {
	id := syncproto.RecordID(r.ID)
	var have []grantRow
	if err := tx.SelectContext(ctx, &have, `SELECT record, recipient, revision, expires, blob FROM grants WHERE record = ? AND recipient = ?`,
		id[:], ct.account[:]); err != nil {
		return err
	}
	if len(have) == 1 && have[0].Revision == r.Revision && have[0].Expires == unixOrZero(exp) {
		return nil // shared already, on the same terms
	}
	ek, err := crypto.UnwrapWithVault(k.id.Vault, crypto.RecordID(id), r.Revision, r.OwnerKey)
	if err != nil {
		return fmt.Errorf("unwrap entry key: %w", err)
	}
	blob, err := signGrantFor(k, ct, id, r.Revision, exp, ek)
	if err != nil {
		return err
	}
	if err := putGrant(ctx, tx, id, ct.account, r.Revision, unixOrZero(exp), blob); err != nil {
		return err
	}
	if err := c.queueShareOp(ctx, tx, id, ct.account, false, r.Revision, unixOrZero(exp), blob); err != nil {
		return err
	}
	// The whole entry supersedes any partial copy made for them.
	copies, err := c.derivedFor(ctx, tx, k, id, ct.account)
	if err != nil {
		return err
	}
	for _, d := range copies {
		if err := c.deleteTx(ctx, tx, k, d.id); err != nil {
			return err
		}
	}
	return nil
}

// ShareScoresOnly shares the numbers of a check-in or measure (journal.Entry.ScoresOnly)
// with a contact, never the free text: it writes a derived record holding only the
// scores, owned by this account and linked to the entry, and shares that. The copy is
// a snapshot: share again after an edit to update it (the old copy is replaced). It
// returns the derived record's ID.
func (c *Client) ShareScoresOnly(ctx context.Context, id syncproto.RecordID, to syncproto.AccountID, opts ShareOptions) (syncproto.RecordID, error) {
	return c.shareDerived(ctx, id, to, opts, LevelScores, func(e *journal.Entry) (*journal.Entry, error) {
		so, ok := e.ScoresOnly()
		if !ok {
			return nil, fmt.Errorf("%w as scores only: a %s has no scores (check-ins, measures and responses holding them do)", ErrNotShareable, e.Kind)
		}
		return so, nil
	})
}

// ShareStatus shares only the status of a homework response (in progress or submitted)
// with a contact, never the answer: a derived record holding a response with the same
// assignment link and status and no answer. It returns the derived record's ID.
func (c *Client) ShareStatus(ctx context.Context, response syncproto.RecordID, to syncproto.AccountID, opts ShareOptions) (syncproto.RecordID, error) {
	return c.shareDerived(ctx, response, to, opts, LevelStatus, func(e *journal.Entry) (*journal.Entry, error) {
		r, ok := e.Body.(*journal.Response)
		if !ok {
			return nil, fmt.Errorf("%w as a status: a %s is not a homework response", ErrNotShareable, e.Kind)
		}
		return &journal.Entry{Kind: journal.KindResponse, Created: e.Created, Updated: e.Updated,
			Links: journal.Links{Assignment: e.Links.Assignment}, Body: &journal.Response{Status: r.Status}}, nil
	})
}

func (c *Client) shareDerived(ctx context.Context, id syncproto.RecordID, to syncproto.AccountID, opts ShareOptions, level string,
	derive func(*journal.Entry) (*journal.Entry, error)) (syncproto.RecordID, error) {
	k, err := c.unlocked()
	if err != nil {
		return syncproto.RecordID{}, err
	}
	exp, err := opts.expiry(c.opts.Now())
	if err != nil {
		return syncproto.RecordID{}, err
	}
	me := syncproto.AccountID(k.id.Account)
	var out syncproto.RecordID
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		ct, err := c.shareTarget(ctx, tx, k, to)
		if err != nil {
			return err
		}
		r, err := shareableRecord(ctx, tx, me, id)
		if err != nil {
			return err
		}
		var full int
		if err := tx.GetContext(ctx, &full, `SELECT count(*) FROM grants WHERE record = ? AND recipient = ?`, id[:], ct.account[:]); err != nil {
			return err
		}
		if full > 0 {
			return fmt.Errorf("%s already has the whole entry: unshare it first to share less", ct.display())
		}
		pt, err := open(k, id, r.Revision, r.Envelope, r.OwnerKey)
		if err != nil {
			return err
		}
		e, err := journal.Unmarshal(pt)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotShareable, err)
		}
		d, err := derive(e)
		if err != nil {
			return err
		}
		inner, err := journal.Marshal(d)
		if err != nil {
			return err
		}
		doc := (&control{Interlude: roleDerived, Source: id.String(), Level: level, Entry: inner}).marshal()
		// An existing copy of this level for this contact: keep it if it is the same,
		// else replace it.
		olds, err := c.derivedFor(ctx, tx, k, id, ct.account)
		if err != nil {
			return err
		}
		for _, o := range olds {
			if o.level != level {
				continue
			}
			if bytes.Equal(o.plaintext, doc) && o.expires == unixOrZero(exp) {
				out = o.id
				return nil
			}
			if err := c.deleteTx(ctx, tx, k, o.id); err != nil {
				return err
			}
		}
		out, err = c.addTx(ctx, tx, k, doc, roleDerived, &id, []grantee{{ct, exp}})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("share %s: %w", id, err)
	}
	return out, nil
}

// derivedCopy is an own derived record.
type derivedCopy struct {
	id        syncproto.RecordID
	level     string
	plaintext []byte
	expires   int64
}

// derivedFor lists the own live derived copies of source shared with to (or with anyone,
// when to is zero).
func (c *Client) derivedFor(ctx context.Context, tx sqlx.QueryerContext, k *keys, source syncproto.RecordID, to syncproto.AccountID) ([]derivedCopy, error) {
	me := syncproto.AccountID(k.id.Account)
	var rows []recordRow
	if err := sqlx.SelectContext(ctx, tx, &rows, `SELECT `+recordCols+` FROM records WHERE owner = ? AND role = ? AND link = ? AND deleted = 0`,
		me[:], roleDerived, source[:]); err != nil {
		return nil, err
	}
	var out []derivedCopy
	for i := range rows {
		id := syncproto.RecordID(rows[i].ID)
		var gs []grantRow
		if err := sqlx.SelectContext(ctx, tx, &gs, `SELECT record, recipient, revision, expires, blob FROM grants WHERE record = ?`, id[:]); err != nil {
			return nil, err
		}
		match := to.IsZero()
		var exp int64
		for _, g := range gs {
			if syncproto.AccountID(g.Recipient) == to {
				match, exp = true, g.Expires
			}
		}
		if !match {
			continue
		}
		pt, err := open(k, id, rows[i].Revision, rows[i].Envelope, rows[i].OwnerKey)
		if err != nil {
			return nil, fmt.Errorf("derived copy %s: %w", id, err)
		}
		d, err := parseControl(pt)
		if err != nil || d == nil {
			continue
		}
		out = append(out, derivedCopy{id: id, level: d.Level, plaintext: pt, expires: exp})
	}
	return out, nil
}

// AddShared writes a new entry, like Add, shared at once with the given contacts (an
// assignment to a client, a message, an availability note): one record, one grant per
// contact, nested in its first push.
func (c *Client) AddShared(ctx context.Context, plaintext []byte, to []syncproto.AccountID, opts ShareOptions) (syncproto.RecordID, error) {
	k, err := c.unlocked()
	if err != nil {
		return syncproto.RecordID{}, err
	}
	exp, err := opts.expiry(c.opts.Now())
	if err != nil {
		return syncproto.RecordID{}, err
	}
	var id syncproto.RecordID
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		var gs []grantee
		seen := map[syncproto.AccountID]bool{}
		for _, a := range to {
			if seen[a] {
				continue
			}
			seen[a] = true
			ct, err := c.shareTarget(ctx, tx, k, a)
			if err != nil {
				return err
			}
			gs = append(gs, grantee{ct, exp})
		}
		id, err = c.addTx(ctx, tx, k, plaintext, roleEntry, nil, gs)
		return err
	})
	if err != nil {
		return id, fmt.Errorf("add entry: %w", err)
	}
	return id, nil
}

// Unshare withdraws a contact's access to an own entry: it drops the grant here and
// queues a revoke (the contact's device deletes its copy on its next sync), and deletes
// every scores-only or status-only copy of the entry made for them. Given a derived
// copy's ID, it deletes that copy. It reports whether anything was shared.
func (c *Client) Unshare(ctx context.Context, id syncproto.RecordID, from syncproto.AccountID) (bool, error) {
	k, err := c.unlocked()
	if err != nil {
		return false, err
	}
	me := syncproto.AccountID(k.id.Account)
	had := false
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		r, err := getRecord(ctx, tx, id[:])
		if err != nil {
			return err
		}
		if r == nil || r.Deleted {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if syncproto.AccountID(r.Owner) != me {
			return fmt.Errorf("%w: %s was shared with you; only its author can unshare it", ErrNotShareable, id)
		}
		if r.Role == roleDerived {
			had = true
			return c.deleteTx(ctx, tx, k, id)
		}
		var err2 error
		had, err2 = c.revokeTx(ctx, tx, k, id, from)
		return err2
	})
	if err != nil {
		return had, fmt.Errorf("unshare %s: %w", id, err)
	}
	return had, nil
}

// revokeTx withdraws from's grant to an own record: it drops the grant here (and from
// pending revisions of the record), queues a revoke, and deletes the copies derived
// from the record for them. It reports whether anything was shared with them.
func (c *Client) revokeTx(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID, from syncproto.AccountID) (bool, error) {
	// Remember every grant blob withdrawn here (current, nested in a pending revision, or
	// a pending standalone one the server may already hold), so that a server serving
	// one back cannot make it a current share again (refreshOwnGrants).
	var blobs [][]byte
	if err := tx.SelectContext(ctx, &blobs, `SELECT blob FROM grants WHERE record = ? AND recipient = ?
		UNION SELECT og.blob FROM outbox_grants og JOIN outbox o ON o.id = og.outbox WHERE o.record = ? AND og.recipient = ?
		UNION SELECT blob FROM share_outbox WHERE record = ? AND recipient = ? AND revoke = 0 AND blob IS NOT NULL`,
		id[:], from[:], id[:], from[:], id[:], from[:]); err != nil {
		return false, err
	}
	for _, b := range blobs {
		h := sha256.Sum256(b)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO revoked_grants (record, recipient, blob_hash) VALUES (?, ?, ?)`,
			id[:], from[:], h[:]); err != nil {
			return false, err
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient = ?`, id[:], from[:])
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	had := n > 0
	// A pending revision must not grant it again. (The server ignores nested grants when
	// it recognises a replay, so this is safe even for a revision it already has: the
	// revoke, sent after the revision, removes that grant.)
	if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_grants WHERE recipient = ? AND outbox IN (SELECT id FROM outbox WHERE record = ?)`,
		from[:], id[:]); err != nil {
		return false, err
	}
	if err := c.queueShareOp(ctx, tx, id, from, true, 0, 0, nil); err != nil {
		return false, err
	}
	copies, err := c.derivedFor(ctx, tx, k, id, from)
	if err != nil {
		return false, err
	}
	for _, d := range copies {
		had = true
		if err := c.deleteTx(ctx, tx, k, d.id); err != nil {
			return false, err
		}
	}
	return had, nil
}

// Share is one share this account made: an entry (or a copy derived from one) and a
// contact it is shared with.
type Share struct {
	Record    syncproto.RecordID  // the record shared: the entry, or the derived copy
	Source    syncproto.RecordID  // for a derived copy, the entry it was made from
	Level     string              // "full", LevelScores or LevelStatus
	Recipient syncproto.AccountID // the contact
	Revision  uint64              // the revision the grant opens
	Expires   time.Time           // zero: never
	Pending   bool                // not yet on the server
}

// Shares lists what this account shares, with whom: every current grant of its entries
// and of the copies derived from them (pairing messages left out), by record.
func (c *Client) Shares(ctx context.Context) ([]Share, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	me := syncproto.AccountID(k.id.Account)
	var rows []struct {
		grantRow
		Role    string `db:"role"`
		Link    []byte `db:"link"`
		Pending bool   `db:"pending"`
	}
	err = c.db.SelectContext(ctx, &rows, `SELECT g.record, g.recipient, g.revision, g.expires, g.blob, r.role, r.link,
		EXISTS (SELECT 1 FROM share_outbox s WHERE s.record = g.record AND s.recipient = g.recipient) OR
		EXISTS (SELECT 1 FROM outbox_grants og JOIN outbox o ON o.id = og.outbox WHERE o.record = g.record AND og.recipient = g.recipient) AS pending
		FROM grants g JOIN records r ON r.id = g.record
		WHERE r.owner = ? AND g.recipient != ? AND r.deleted = 0 AND r.role IN (?, ?)
		ORDER BY g.record, g.recipient`, me[:], me[:], roleEntry, roleDerived)
	if err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	out := make([]Share, 0, len(rows))
	for _, r := range rows {
		s := Share{Record: syncproto.RecordID(r.Record), Recipient: syncproto.AccountID(r.Recipient), Revision: r.Revision,
			Expires: timeOrZero(r.Expires), Pending: r.Pending, Level: "full"}
		if r.Role == roleDerived {
			e, err := c.Get(ctx, s.Record)
			if err != nil {
				return nil, err
			}
			s.Level, s.Source = e.Derived, e.Source
		}
		out = append(out, s)
	}
	return out, nil
}
