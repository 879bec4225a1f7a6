package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// SyncReport says what one sync (or one round of Watch) did, and what needs attention.
type SyncReport struct {
	Pushed    int                  // changes the server accepted
	Pulled    int                  // changes from the server applied here
	Conflicts []syncproto.RecordID // entries that became conflicted (see Conflicts)
	Refused   []Refusal            // outbox changes the server refused; kept, retried next sync
	Invalid   []InvalidChange      // incoming changes that failed verification; not applied
	Pending   int                  // changes still in the outbox afterwards
	Cursor    uint64               // feed position reached

	// DigestChecked says the server's digest was compared with this device's records;
	// DigestMismatch, when not empty, says how they differ (something is missing or extra
	// here even after a full re-pull: report it).
	DigestChecked  bool
	DigestMismatch string

	// Pairings completed or refused during this sync (on either side).
	Pairings []Pairing
	// Ended lists the contacts who ended their pairing with this account.
	Ended []Ended
	// KeyChanges lists every contact whose published keys differ from the ones verified
	// in person (checked on every full sync): sharing with them is blocked.
	KeyChanges []KeyChange
	// Learned lists the contacts another device of this account paired with, renamed or
	// ended, as this device now has them.
	Learned []Contact

	refetch []syncproto.RecordID // shared by a contact learned meanwhile, dropped here before
}

// Refusal is an outbox change the server refused.
type Refusal struct {
	Record   syncproto.RecordID
	Revision uint64
	Code     syncproto.ErrorCode
}

// refuse records a refusal once, however many pushes of the sync met it.
func (r *SyncReport) refuse(x Refusal) {
	for _, y := range r.Refused {
		if y == x {
			return
		}
	}
	r.Refused = append(r.Refused, x)
}

// InvalidChange is an incoming change that failed verification.
type InvalidChange struct {
	Record   syncproto.RecordID
	Revision uint64
	Reason   string
}

// Problems reports whether anything in the report needs the person's attention.
func (r *SyncReport) Problems() bool {
	return len(r.Conflicts) > 0 || len(r.Refused) > 0 || len(r.Invalid) > 0 || r.DigestMismatch != "" ||
		len(r.KeyChanges) > 0 || len(r.Pairings) > 0 || len(r.Ended) > 0
}

// Sync runs one full sync: connect and authenticate, push the outbox in batches, pull the
// feed from the cursor until the server has nothing more, then compare the server's
// digest with the local records. Every step commits locally before the next, so a sync
// killed at any point resumes with nothing lost and nothing doubled (docs/client.md).
func (c *Client) Sync(ctx context.Context) (*SyncReport, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	if err := c.publishContacts(ctx, k); err != nil {
		return nil, err
	}
	rep := &SyncReport{}
	for attempt := 0; ; attempt++ {
		cn, _, err := c.connect(ctx)
		if err != nil {
			return rep, err
		}
		err = c.round(ctx, cn, k, rep, true)
		cn.Close()
		if err == nil {
			break
		}
		// A session that ends mid-sync (idle or absolute limit) closes the connection;
		// everything done so far is committed, so sign in again and carry on, once.
		if serverCode(err) != syncproto.CodeSessionExpired || attempt > 0 {
			return rep, err
		}
	}
	if _, err := c.db.ExecContext(ctx, `UPDATE profile SET last_sync = ? WHERE id = 1`, c.opts.Now().Unix()); err != nil {
		return rep, err
	}
	return rep, nil
}

// round pushes, pulls and (optionally) checks the digest over an open connection.
//
// Between pull and digest it decides what accounts that are not contacts shared (link
// requests; processInbox), drops shares past their expiry, and pushes again what that
// produced (answers to link requests, deletions of read requests). A full round (digest
// set) also checks every contact's published keys.
func (c *Client) round(ctx context.Context, cn *conn, k *keys, rep *SyncReport, digest bool) error {
	if err := c.expireShares(ctx, k); err != nil {
		return err
	}
	if err := c.push(ctx, cn, k, rep); err != nil {
		return err
	}
	if err := c.pull(ctx, cn, k, rep, false); err != nil {
		return err
	}
	if err := c.settle(ctx, cn, k, rep); err != nil {
		return err
	}
	var fresh int // queued meanwhile (answers, deletions of read requests), never sent
	if err := c.db.GetContext(ctx, &fresh, `SELECT (SELECT count(*) FROM outbox WHERE attempts = 0) +
		(SELECT count(*) FROM share_outbox WHERE attempts = 0)`); err != nil {
		return err
	}
	if fresh > 0 {
		if err := c.push(ctx, cn, k, rep); err != nil {
			return err
		}
	}
	if digest {
		if err := c.checkContactKeys(ctx, cn, k, rep); err != nil {
			return err
		}
		if err := c.checkDigest(ctx, cn, k, rep); err != nil {
			return err
		}
		if err := c.settle(ctx, cn, k, rep); err != nil { // the digest check may have pulled
			return err
		}
	}
	n, err := c.pendingCount(ctx)
	if err != nil {
		return err
	}
	rep.Pending = n
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return err
	}
	rep.Cursor = p.Cursor
	return nil
}

// settle decides what the pull left waiting: changes from accounts that are not contacts
// (processInbox), and shares this device dropped before it learned, during the pull,
// that their author is a contact (adoptContact). Should the re-fetch fail, the digest
// check finds them missing and a full pull brings them.
func (c *Client) settle(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	if err := c.processInbox(ctx, cn, k, rep); err != nil {
		return err
	}
	if ids := rep.refetch; len(ids) > 0 {
		rep.refetch = nil
		return c.fetchAndApply(ctx, cn, k, ids, rep)
	}
	return nil
}

// pendingCount counts the changes waiting to be sent: record revisions, and
// standalone grants and revokes.
func (c *Client) pendingCount(ctx context.Context) (int, error) {
	var n int
	err := c.db.GetContext(ctx, &n, `SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM share_outbox)`)
	return n, err
}

// push sends the outbox, oldest first, in batches no larger than the server allows, and
// records each item's result before sending the next batch.
//
// Within one push, once an item of a record is refused or conflicts, the later items of
// that record are held back: each builds on the one before.
func (c *Client) push(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	if err := c.pushRecords(ctx, cn, k, rep); err != nil {
		return err
	}
	return c.pushShares(ctx, cn, k, rep)
}

// pushRecords sends the record revisions of the outbox (with their nested grants).
func (c *Client) pushRecords(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	size := int(cn.limits.MaxBatch)
	if c.opts.BatchSize > 0 && c.opts.BatchSize < size {
		size = c.opts.BatchSize
	}
	held := map[syncproto.RecordID]bool{}
	var after int64
	for batch := 1; ; batch++ {
		var rows []outboxRow
		if err := c.db.SelectContext(ctx, &rows, `SELECT `+outboxCols+` FROM outbox WHERE id > ? ORDER BY id LIMIT ?`, after, size); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		// Take rows in order, skipping held records, while the batch fits in one frame
		// (at least one row: a lone oversized item is refused by the server, per item).
		budget := int(cn.limits.MaxFrame) - frameMargin
		var items []outboxRow
		for _, r := range rows {
			if held[syncproto.RecordID(r.Record)] {
				after = r.ID
				continue
			}
			if err := c.loadNested(ctx, &r); err != nil {
				return err
			}
			cost := len(r.Envelope) + len(r.OwnerKey) + itemOverhead
			for _, g := range r.grants {
				cost += len(g.Blob) + itemOverhead
			}
			if len(items) > 0 && cost > budget {
				break
			}
			budget -= cost
			items = append(items, r)
			after = r.ID
		}
		if len(items) == 0 {
			continue
		}
		// Count the attempt durably before the server can see the item: Delete relies on
		// "never attempted" meaning "the server has never seen it". An item another process
		// dropped meanwhile (Delete of a never-sent entry) is not sent.
		var live []outboxRow
		err := inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			live = live[:0]
			for _, it := range items {
				res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1 WHERE id = ?`, it.ID)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					live = append(live, it)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if items = live; len(items) == 0 {
			continue
		}
		results, err := c.sendBatch(ctx, cn, items)
		if err != nil {
			return err
		}
		if c.opts.AfterPush != nil {
			c.opts.AfterPush(batch)
		}
		var refetch []syncproto.RecordID
		err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			for i, r := range results {
				it := items[i]
				id := syncproto.RecordID(it.Record)
				if r.Record != id {
					return fmt.Errorf("push: result %d names record %s, not %s", i, r.Record, id)
				}
				switch {
				case r.Status == syncproto.StatusAccepted:
					if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, it.ID); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `UPDATE records SET synced_revision = ?, seq = ?
						WHERE id = ? AND synced_revision < ?`, it.Revision, r.Seq, id[:], it.Revision); err != nil {
						return err
					}
					rep.Pushed++
				case r.Status == syncproto.StatusConflict,
					r.Status == syncproto.StatusRejected && r.Code == syncproto.CodeDeleted:
					// Another device got there first (or deleted it): fetch the server's
					// version and keep both.
					held[id] = true
					refetch = append(refetch, id)
				default:
					held[id] = true
					if _, err := tx.ExecContext(ctx, `UPDATE outbox SET last_code = ?, last_error = ? WHERE id = ?`,
						uint16(r.Code), r.Code.String(), it.ID); err != nil {
						return err
					}
					rep.refuse(Refusal{Record: id, Revision: it.Revision, Code: r.Code})
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record push results: %w", err)
		}
		if err := c.fetchAndApply(ctx, cn, k, refetch, rep); err != nil {
			return err
		}
	}
}

// Frame budget of a push: what an item costs beyond its envelope and owner key (IDs,
// revisions, length prefixes), and what the frame needs beyond its items.
const (
	itemOverhead = 64
	frameMargin  = 64 << 10
)

// sendBatch pushes items and returns one result per item. When the server refuses the
// whole batch for its content (an envelope over its limit, say), it retries the items one
// by one, so that one bad item is refused alone instead of blocking the outbox.
func (c *Client) sendBatch(ctx context.Context, cn *conn, items []outboxRow) ([]syncproto.ItemResult, error) {
	p := syncproto.Push{Records: make([]syncproto.RecordPush, len(items))}
	for i, it := range items {
		p.Records[i] = syncproto.RecordPush{
			Record: syncproto.RecordID(it.Record), BaseRevision: it.BaseRevision, Revision: it.Revision,
			Delete: it.Deleted, Envelope: it.Envelope, OwnerKey: it.OwnerKey, Grants: it.grants,
		}
	}
	res, err := expect[syncproto.PushResult](ctx, cn, p)
	switch code := serverCode(err); {
	case err == nil:
		if len(res.Results) != len(items) {
			return nil, fmt.Errorf("push: the server answered %d results for %d items", len(res.Results), len(items))
		}
		return res.Results, nil
	case code == syncproto.CodeTooLarge || code == syncproto.CodeBadRequest || code == syncproto.CodeBatchTooLarge:
		if len(items) == 1 {
			c.log.Warn("push refused", "record", syncproto.RecordID(items[0].Record), "err", err)
			return []syncproto.ItemResult{{Record: syncproto.RecordID(items[0].Record), Status: syncproto.StatusRejected, Code: code}}, nil
		}
		var out []syncproto.ItemResult
		for i := range items {
			r, err := c.sendBatch(ctx, cn, items[i:i+1])
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("push: %w", err)
	}
}

// fetchAndApply brings the server's current state of records whose push conflicted, and
// applies it (which keeps the local version as a conflict).
func (c *Client) fetchAndApply(ctx context.Context, cn *conn, k *keys, ids []syncproto.RecordID, rep *SyncReport) error {
	for len(ids) > 0 {
		n := min(len(ids), int(cn.limits.MaxFetch))
		recs, err := expect[syncproto.Records](ctx, cn, syncproto.Fetch{Records: ids[:n]})
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		ids = ids[n:]
		err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			for _, ch := range recs.Items {
				if _, err := c.apply(ctx, tx, k, ch, rep); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("apply fetched records: %w", err)
		}
	}
	return nil
}

// pull applies the feed after the cursor, one page per local transaction that also moves
// the cursor, until the server says there is no more. With full set it starts from 0
// (a repair pass) and never moves the cursor backwards.
func (c *Client) pull(ctx context.Context, cn *conn, k *keys, rep *SyncReport, full bool) error {
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return err
	}
	cursor := p.Cursor
	if full {
		cursor = 0
	}
	for {
		page, err := expect[syncproto.Changes](ctx, cn, syncproto.Pull{Cursor: cursor, Limit: cn.limits.MaxPullPage})
		if err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			for _, ch := range page.Items {
				changed, err := c.apply(ctx, tx, k, ch, rep)
				if err != nil {
					return err
				}
				if changed {
					rep.Pulled++
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE profile SET cursor = ? WHERE id = 1 AND cursor < ?`, page.Cursor, page.Cursor)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
		if page.Cursor > cursor {
			cursor = page.Cursor
		}
		if !page.More || len(page.Items) == 0 {
			return nil
		}
	}
}

// verify checks an incoming live change of one of the account's own records: the
// envelope parses, names this record, revision and author, its signature verifies under
// the account's own signing key, the owner key unwraps, and the entry opens under it.
// It returns the plaintext.
func verify(k *keys, ch syncproto.Change) ([]byte, error) {
	env, err := crypto.ParseEnvelope(ch.Envelope)
	if err != nil {
		return nil, err
	}
	if env.Record != crypto.RecordID(ch.Record) || env.Revision != ch.Revision || env.Author != crypto.AccountID(ch.Owner) {
		return nil, errors.New("the envelope names another record, revision or author than the change carrying it")
	}
	return open(k, ch.Record, ch.Revision, ch.Envelope, ch.OwnerKey)
}

// verifyDeletion checks the statement that comes with a deletion of one of the account's
// own records: signed by the account's own key, for this record and revision. Without
// it, the server could make every device of the account drop an entry.
//
// A deletion without a statement is refused: the local copy stays, and the sync reports it.
//
// A grantee's copy needs no such check: the server can always withhold a shared entry
// (StateGone) and the owner can always revoke, so a forged deletion there costs nothing a
// forged revocation would not.
func verifyDeletion(k *keys, ch syncproto.Change) error {
	if len(ch.Envelope) == 0 {
		return errors.New("no signed deletion statement came with it; the entry is kept")
	}
	d, err := crypto.ParseDeletion(ch.Envelope)
	if err != nil {
		return err
	}
	if d.Record != crypto.RecordID(ch.Record) || d.Author != k.id.Account || d.Revision != ch.Revision {
		return errors.New("the statement names another record, author or revision")
	}
	return d.Verify(k.id.Signing.Public())
}

// roleOf classifies an own record's plaintext (records.role and link).
func roleOf(pt []byte) (string, []byte, error) {
	d, err := parseControl(pt)
	if err != nil || d == nil {
		return roleEntry, nil, err
	}
	ref := d.Source
	switch d.Interlude {
	case rolePairReply:
		ref = d.Request
	case rolePairEnd:
		ref = d.Pairing
	case roleContact:
		a, err := syncproto.ParseAccountID(d.Account) // parseControl checked it
		return d.Interlude, a[:], err
	}
	if id, err := recordRef(ref); err == nil {
		return d.Interlude, id[:], nil
	}
	return d.Interlude, nil, nil
}

// apply merges one change from the server into the local store, inside tx. It returns
// whether anything changed here. The rules (docs/client.md, "Applying a change"):
//
//   - a change that fails verification is recorded in rejected and not applied;
//   - with no pending local change, a newer revision replaces the local copy;
//   - with pending local changes based on revision b, a change at or below b is old news;
//     one that is byte-identical to a pending item is that item, accepted earlier (its
//     result was lost to a crash); anything else is a conflict: the server's version
//     becomes the record and the local one is kept in conflicts.
func (c *Client) apply(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change, rep *SyncReport) (bool, error) {
	me := syncproto.AccountID(k.id.Account)
	if ch.Owner != me && ch.State == syncproto.StateGone {
		// A gone record comes with no owner: it may be one shared with this account.
		if rec, err := getRecord(ctx, tx, ch.Record[:]); err != nil || rec == nil || syncproto.AccountID(rec.Owner) != me {
			if err != nil {
				return false, err
			}
			return c.applyOther(ctx, tx, k, ch, rep)
		}
		ch.Owner = me
	}
	if ch.Owner != me {
		// Another account's record: shared with this one (received.go).
		return c.applyOther(ctx, tx, k, ch, rep)
	}
	var cls *classified
	changed, err := c.applyOwn(ctx, tx, k, ch, rep, &cls)
	if err != nil {
		return changed, err
	}
	if changed && ch.State == syncproto.StateDeleted {
		if err := c.requestDeleted(ctx, tx, k, ch.Record, rep); err != nil {
			return changed, err
		}
	}
	if cls != nil {
		// What the record is follows the server's version when that became the record.
		if _, err := tx.ExecContext(ctx, `UPDATE records SET role = ?, link = ? WHERE id = ? AND revision = ? AND owner = ?`,
			cls.role, cls.link, ch.Record[:], ch.Revision, me[:]); err != nil {
			return changed, err
		}
		if changed && cls.contact != nil {
			// Another device of this account paired, renamed or ended a contact.
			if err := c.adoptContact(ctx, tx, k, ch, cls.contact, rep); err != nil {
				return changed, err
			}
		}
	}
	return changed, c.refreshOwnGrants(ctx, tx, k, ch)
}

// classified is what a verified own record is (records.role and link), and for a
// contact document the document.
type classified struct {
	role    string
	link    []byte
	contact *control
}

// applyOwn applies a change of one of the account's own records.
func (c *Client) applyOwn(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change, rep *SyncReport, cls **classified) (bool, error) {
	me := syncproto.AccountID(k.id.Account)
	id := ch.Record
	deleted := false
	role, link := roleEntry, []byte(nil)
	switch ch.State {
	case syncproto.StateLive:
		pt, err := verify(k, ch)
		if err != nil {
			return false, c.reject(ctx, tx, ch, err.Error(), rep)
		}
		if role, link, err = roleOf(pt); err != nil {
			return false, c.reject(ctx, tx, ch, err.Error(), rep)
		}
		*cls = &classified{role: role, link: link}
		if role == roleContact {
			(*cls).contact, _ = parseControl(pt) // parsed once already by roleOf
		}
		clear(pt)
	case syncproto.StateDeleted:
		if err := verifyDeletion(k, ch); err != nil {
			return false, c.reject(ctx, tx, ch, "deletion: "+err.Error(), rep)
		}
		deleted = true
	default:
		// StateGone for one's own record: nothing the owner can act on.
		c.log.Warn("server says an own record is gone", "record", id)
		return false, nil
	}
	// A verified revision supersedes an earlier rejection of the same record.
	if _, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE record = ? AND revision <= ?`, id[:], ch.Revision); err != nil {
		return false, err
	}
	rec, err := getRecord(ctx, tx, id[:])
	if err != nil {
		return false, err
	}
	if rec == nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO records (id, owner, revision, synced_revision, seq, deleted, envelope, owner_key, role, link)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id[:], me[:], ch.Revision, ch.Revision, ch.Seq, deleted, nilIf(deleted, ch.Envelope),
			nilIf(deleted, ch.OwnerKey), role, link)
		return !deleted, err
	}

	pend, err := pendingFor(ctx, tx, id[:])
	if err != nil {
		return false, err
	}
	if len(pend) == 0 {
		if ch.Revision < rec.Revision {
			return false, nil
		}
		if ch.Revision == rec.Revision {
			// Already here (our own change coming back, or a re-pull).
			_, err := tx.ExecContext(ctx, `UPDATE records SET synced_revision = ?, seq = ? WHERE id = ? AND synced_revision < ?`,
				ch.Revision, ch.Seq, id[:], ch.Revision)
			return false, err
		}
		return true, replaceRecord(ctx, tx, id, ch, deleted)
	}
	base := pend[0].BaseRevision
	if ch.Revision <= base {
		return false, nil
	}
	for i, p := range pend {
		if p.Revision == ch.Revision && p.Deleted == deleted && bytes.Equal(p.Envelope, ch.Envelope) {
			// Our own pending item, already on the server.
			for _, q := range pend[:i+1] {
				if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, q.ID); err != nil {
					return false, err
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE records SET synced_revision = ?, seq = ? WHERE id = ? AND synced_revision < ?`,
				ch.Revision, ch.Seq, id[:], ch.Revision)
			return false, err
		}
	}
	for _, q := range pend {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, q.ID); err != nil {
			return false, err
		}
	}
	if deleted && rec.Deleted {
		// Deleted here and there: nothing to choose between.
		return true, replaceRecord(ctx, tx, id, ch, deleted)
	}
	if role == roleContact && rec.Role == roleContact {
		// Contact documents are merged, not kept as conflicts: the server's revision
		// becomes the record, and adoptContact decides which state holds (and publishes
		// this device's again if it is the newer).
		return true, replaceRecord(ctx, tx, id, ch, deleted)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO conflicts (record, base_revision, local_revision, local_deleted, local_envelope,
		local_owner_key, created) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (record) DO UPDATE SET base_revision = excluded.base_revision, local_revision = excluded.local_revision,
		local_deleted = excluded.local_deleted, local_envelope = excluded.local_envelope, local_owner_key = excluded.local_owner_key`,
		id[:], base, rec.Revision, rec.Deleted, rec.Envelope, rec.OwnerKey, c.opts.Now().Unix())
	if err != nil {
		return false, err
	}
	rep.Conflicts = append(rep.Conflicts, id)
	c.log.Info("conflict", "record", id, "local_revision", rec.Revision, "server_revision", ch.Revision)
	return true, replaceRecord(ctx, tx, id, ch, deleted)
}

func replaceRecord(ctx context.Context, tx *sqlx.Tx, id syncproto.RecordID, ch syncproto.Change, deleted bool) error {
	_, err := tx.ExecContext(ctx, `UPDATE records SET revision = ?, synced_revision = ?, seq = ?, deleted = ?, envelope = ?,
		owner_key = ? WHERE id = ?`, ch.Revision, ch.Revision, ch.Seq, deleted, nilIf(deleted, ch.Envelope), nilIf(deleted, ch.OwnerKey), id[:])
	return err
}

func nilIf(cond bool, b []byte) []byte {
	if cond {
		return nil
	}
	return b
}

// reject records an incoming change that failed verification.
func (c *Client) reject(ctx context.Context, tx *sqlx.Tx, ch syncproto.Change, reason string, rep *SyncReport) error {
	c.log.Warn("rejected a change from the server", "record", ch.Record, "revision", ch.Revision, "reason", reason)
	seen := false
	for _, x := range rep.Invalid {
		seen = seen || (x.Record == ch.Record && x.Revision == ch.Revision)
	}
	if !seen {
		rep.Invalid = append(rep.Invalid, InvalidChange{Record: ch.Record, Revision: ch.Revision, Reason: reason})
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO rejected (record, revision, seq, reason, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (record, revision) DO UPDATE SET seq = excluded.seq, reason = excluded.reason, at = excluded.at`,
		ch.Record[:], ch.Revision, ch.Seq, reason, c.opts.Now().Unix())
	return err
}

// localDigest computes, over the records this device holds as the server has them, what
// the server's Digest computes: the count, and SHA-256 over (record ID ‖ revision u64 BE)
// sorted by record ID.
func (c *Client) localDigest(ctx context.Context) (uint64, [32]byte, error) {
	var rows []struct {
		ID       []byte `db:"id"`
		Revision uint64 `db:"synced_revision"`
	}
	// Records shared with this account that it deliberately does not keep (ignored) are
	// visible to it on the server, so they count too.
	err := c.db.SelectContext(ctx, &rows, `SELECT id, synced_revision FROM records WHERE deleted = 0 AND synced_revision > 0
		UNION ALL SELECT record, revision FROM ignored WHERE record NOT IN (SELECT id FROM records WHERE deleted = 0)
		ORDER BY 1`)
	if err != nil {
		return 0, [32]byte{}, err
	}
	h := sha256.New()
	var b [8]byte
	for _, r := range rows {
		h.Write(r.ID)
		binary.BigEndian.PutUint64(b[:], r.Revision)
		h.Write(b[:])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return uint64(len(rows)), sum, nil
}

// checkDigest compares the server's digest with the local records, once the outbox is
// empty (before that, local records are ahead of the server by design). On a mismatch it
// re-pulls the whole feed once (verifying everything again) and compares again.
func (c *Client) checkDigest(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	var pending int
	if err := c.db.GetContext(ctx, &pending, `SELECT count(*) FROM outbox`); err != nil {
		return err
	}
	if pending > 0 {
		return nil
	}
	repaired := false
	for tries := 0; tries < 5; tries++ {
		d, err := expect[syncproto.Digest](ctx, cn, syncproto.DigestRequest{})
		if err != nil {
			return fmt.Errorf("digest: %w", err)
		}
		p, err := loadProfile(ctx, c.db)
		if err != nil {
			return err
		}
		if d.Cursor > p.Cursor {
			// The feed grew meanwhile: catch up and ask again.
			if err := c.pull(ctx, cn, k, rep, false); err != nil {
				return err
			}
			continue
		}
		n, sum, err := c.localDigest(ctx)
		if err != nil {
			return err
		}
		rep.DigestChecked = true
		if n == d.Count && sum == d.Hash {
			rep.DigestMismatch = ""
			return nil
		}
		rep.DigestMismatch = fmt.Sprintf("the server holds %d entries for this account, this device %d (or different revisions)", d.Count, n)
		if repaired {
			return nil
		}
		// Repair: re-pull (and re-verify) the whole feed once, then compare again.
		if err := c.pull(ctx, cn, k, rep, true); err != nil {
			return err
		}
		repaired = true
	}
	return nil
}

// Watch syncs, then stays connected and applies changes as the server announces them
// (Subscribe/Notify), pushing local changes (from this or another process) within a
// second of their commit. It reconnects with jittered exponential backoff when the
// connection drops, and returns when ctx ends (nil) or on an error that retrying cannot
// fix (locked, revoked device, refused sign-in). onRound, if set, gets each round's report.
func (c *Client) Watch(ctx context.Context, onRound func(*SyncReport)) error {
	k, err := c.unlocked()
	if err != nil {
		return err
	}
	const (
		minBackoff = 500 * time.Millisecond
		maxBackoff = time.Minute
	)
	backoff := minBackoff
	for {
		connected, err := c.watchOnce(ctx, k, onRound)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrDeviceRevoked) || errors.Is(err, ErrAuthFailed) || errors.Is(err, ErrLocked) || errors.Is(err, ErrNoProfile) {
			return err
		}
		if connected {
			backoff = minBackoff
		}
		// Full jitter: sleep a uniform time in [0, backoff), so that many devices that
		// lost the same server do not come back in step.
		wait := time.Duration(rand.Int64N(int64(backoff)))
		c.log.Info("sync connection lost; reconnecting", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// watchOnce runs one connection of Watch. connected reports whether it got as far as
// signing in (which resets the backoff).
func (c *Client) watchOnce(ctx context.Context, k *keys, onRound func(*SyncReport)) (connected bool, err error) {
	cn, _, err := c.connect(ctx)
	if err != nil {
		return false, err
	}
	defer cn.Close()
	report := func(rep *SyncReport) {
		if onRound != nil && (rep.Pushed > 0 || rep.Pulled > 0 || rep.Problems() || rep.DigestChecked) {
			onRound(rep)
		}
	}
	rep := &SyncReport{}
	if err := c.round(ctx, cn, k, rep, true); err != nil {
		return true, err
	}
	c.db.ExecContext(ctx, `UPDATE profile SET last_sync = ? WHERE id = 1`, c.opts.Now().Unix())
	report(rep)
	if _, err := expect[syncproto.Ack](ctx, cn, syncproto.Subscribe{}); err != nil {
		return true, fmt.Errorf("subscribe: %w", err)
	}
	outboxTick := time.NewTicker(time.Second)
	defer outboxTick.Stop()
	pingTick := time.NewTicker(30 * time.Second)
	defer pingTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-cn.done:
			cn.mu.Lock()
			err := cn.err
			cn.mu.Unlock()
			var se *syncproto.Error
			if errors.As(err, &se) && se.Code == syncproto.CodeDeviceRevoked {
				return true, ErrDeviceRevoked
			}
			return true, fmt.Errorf("%w: %v", ErrOffline, err)
		case cur := <-cn.notify:
			p, err := loadProfile(ctx, c.db)
			if err != nil {
				return true, err
			}
			if cur <= p.Cursor {
				continue
			}
			rep := &SyncReport{}
			if err := c.round(ctx, cn, k, rep, false); err != nil {
				return true, err
			}
			report(rep)
		case <-outboxTick.C:
			var pending int
			if err := c.db.GetContext(ctx, &pending, `SELECT (SELECT count(*) FROM outbox WHERE last_code = 0) +
				(SELECT count(*) FROM share_outbox WHERE last_code = 0)`); err != nil {
				return true, err
			}
			if pending == 0 {
				continue
			}
			rep := &SyncReport{}
			if err := c.round(ctx, cn, k, rep, false); err != nil {
				return true, err
			}
			report(rep)
		case <-pingTick.C:
			if _, err := expect[syncproto.Pong](ctx, cn, syncproto.Ping{}); err != nil {
				return true, err
			}
		}
	}
}
