package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"interlude/storage"
	"interlude/syncproto"
)

// Push applies a batch from owner, as storage.Store documents, in one durable transaction
// that it may share with other callers' batches (group commit). An error (the owner does
// not exist, the store is closed, I/O) means nothing of the batch was written.
//
// Where the interface leaves a choice, this backend answers:
//   - a malformed item (zero ID, Revision != BaseRevision+1, a deletion carrying bytes, a
//     live push without an envelope, a grant that names another record or revision,
//     expires in the past, names the owner or a recipient twice) is StatusRejected,
//     CodeBadRequest, whatever the record's state, so the answer says nothing about it;
//   - a grant to an account that does not exist is StatusRejected, CodeNotFound;
//   - a deletion of a record the server never had is CodeBadRequest;
//   - a standalone grant for a revision other than the current one is StatusRejected,
//     CodeConflict, with the current Revision (re-wrap and grant again);
//   - grants and revokes of a record that does not exist or that another account owns are
//     CodeForbidden, alike;
//   - replaying a grant identical to the stored one, or revoking a grant that does not
//     exist, is accepted and writes nothing; Seq is then the record's position in the
//     owner's feed.
func (s *Store) Push(ctx context.Context, owner syncproto.AccountID, p syncproto.Push, now time.Time) (storage.PushOutcome, error) {
	var out storage.PushOutcome
	err := s.write(ctx, func(w *writer) error {
		var err error
		out, err = s.push(w, owner, p, now)
		return err
	})
	if err != nil {
		return storage.PushOutcome{}, fmt.Errorf("push from %s: %w", owner, err)
	}
	return out, nil
}

// pusher applies one batch inside the writer's transaction.
type pusher struct {
	w        *writer
	owner    syncproto.AccountID
	now      time.Time
	hour     int64
	max      int64
	fed      map[syncproto.AccountID]uint64
	accounts map[syncproto.AccountID]bool // recipient existence, cached for the batch
}

func (s *Store) push(w *writer, owner syncproto.AccountID, p syncproto.Push, now time.Time) (storage.PushOutcome, error) {
	b := &pusher{
		w:     w,
		owner: owner,
		now:   now,
		hour:  coarse(now, hour),
		max:   int64(s.maxRecords),
		fed:   make(map[syncproto.AccountID]uint64),
	}
	if _, err := w.liveCount(owner); err != nil {
		return storage.PushOutcome{}, fmt.Errorf("account: %w", err)
	}
	results := make([]syncproto.ItemResult, 0, len(p.Records)+len(p.Grants)+len(p.Revokes))
	for _, rp := range p.Records {
		r, err := b.record(rp)
		if err != nil {
			return storage.PushOutcome{}, fmt.Errorf("record %s: %w", rp.Record, err)
		}
		results = append(results, r)
	}
	for _, g := range p.Grants {
		r, err := b.grant(g)
		if err != nil {
			return storage.PushOutcome{}, fmt.Errorf("grant of %s: %w", g.Record, err)
		}
		results = append(results, r)
	}
	for _, rv := range p.Revokes {
		r, err := b.revoke(rv)
		if err != nil {
			return storage.PushOutcome{}, fmt.Errorf("revoke of %s: %w", rv.Record, err)
		}
		results = append(results, r)
	}
	return storage.PushOutcome{Results: results, Fed: b.fed}, nil
}

// current is what a push needs to know of a stored record.
type current struct {
	owner    syncproto.AccountID
	revision uint64
	deleted  bool
	hash     [32]byte
	seq      uint64
}

func (b *pusher) lookup(id syncproto.RecordID) (current, bool, error) {
	var c current
	err := b.w.get(`SELECT owner, revision, deleted, envelope_hash, seq FROM records WHERE id = ?`, []any{id[:]},
		fixed(c.owner[:]), &c.revision, &c.deleted, fixed(c.hash[:]), &c.seq)
	if errors.Is(err, sql.ErrNoRows) {
		return current{}, false, nil
	}
	return c, err == nil, err
}

// feed appends a change of record to a recipient's feed (account is not the record's
// owner), replacing the account's previous change of that record, and returns its seq.
func (b *pusher) feed(account syncproto.AccountID, record syncproto.RecordID) (uint64, error) {
	seq, err := b.w.nextSeq(account)
	if err != nil {
		return 0, err
	}
	if _, err := b.w.exec(`INSERT INTO changes (account, record, seq) VALUES (?, ?, ?)
		ON CONFLICT (account, record) DO UPDATE SET seq = excluded.seq`, account[:], record[:], seq); err != nil {
		return 0, err
	}
	b.fed[account] = uint64(seq)
	return uint64(seq), nil
}

// feedOwner appends a change of record (its grants changed) to its owner's feed: the
// record moves to the owner's next seq.
func (b *pusher) feedOwner(owner syncproto.AccountID, record syncproto.RecordID) (uint64, error) {
	seq, err := b.w.nextSeq(owner)
	if err != nil {
		return 0, err
	}
	if _, err := b.w.exec(`UPDATE records SET owner_seq = ? WHERE id = ?`, seq, record[:]); err != nil {
		return 0, err
	}
	b.fed[owner] = uint64(seq)
	return uint64(seq), nil
}

// ownerSeq is the record's position in the owner's feed (for answers that write nothing).
func (b *pusher) ownerSeq(record syncproto.RecordID) (uint64, error) {
	var seq uint64
	err := b.w.get(`SELECT owner_seq FROM records WHERE id = ?`, []any{record[:]}, &seq)
	return seq, err
}

func (b *pusher) accountExists(id syncproto.AccountID) (bool, error) {
	if ok, seen := b.accounts[id]; seen {
		return ok, nil
	}
	if _, ok := b.w.live[id]; ok { // accounts are never deleted
		return true, nil
	}
	ok, err := b.w.exists(`SELECT 1 FROM accounts WHERE id = ?`, id[:])
	if err != nil {
		return false, err
	}
	if b.accounts == nil {
		b.accounts = make(map[syncproto.AccountID]bool)
	}
	b.accounts[id] = ok
	return ok, nil
}

// recipientsExist reports whether every grant names an existing account.
func (b *pusher) recipientsExist(gs []syncproto.GrantPush) (bool, error) {
	for _, g := range gs {
		if ok, err := b.accountExists(g.Recipient); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// envelopeHash identifies the bytes of a pushed revision, so that a replay can be told
// from a different push at the same revision. Grants are not part of it: they may change
// at the same revision through grants and revokes.
func envelopeHash(envelope, ownerKey []byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(envelope)))
	h.Write(n[:])
	h.Write(envelope)
	h.Write(ownerKey)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func rejected(id syncproto.RecordID, code syncproto.ErrorCode) syncproto.ItemResult {
	return syncproto.ItemResult{Record: id, Status: syncproto.StatusRejected, Code: code}
}

// validRevision reports whether r fits a stored revision (1 to MaxInt64: SQLite integers
// are signed).
func validRevision(r uint64) bool { return r >= 1 && r <= math.MaxInt64 }

// validGrant checks what a grant must be whatever the record's state.
func (b *pusher) validGrant(g syncproto.GrantPush) bool {
	return !g.Record.IsZero() && !g.Recipient.IsZero() && g.Recipient != b.owner && len(g.Blob) > 0 &&
		validRevision(g.Revision) && (g.Expires.IsZero() || g.Expires.After(b.now))
}

// validRecord checks what a record push must be whatever the record's state.
func (b *pusher) validRecord(rp syncproto.RecordPush) bool {
	if rp.Record.IsZero() || !validRevision(rp.Revision) || rp.Revision != rp.BaseRevision+1 {
		return false
	}
	if rp.Delete { // Envelope is the author's signed deletion statement, opaque here
		return len(rp.Envelope) > 0 && len(rp.Envelope) <= syncproto.MaxDeletionStatement &&
			len(rp.OwnerKey) == 0 && len(rp.Grants) == 0
	}
	if len(rp.Envelope) == 0 {
		return false
	}
	seen := make(map[syncproto.AccountID]bool, len(rp.Grants))
	for _, g := range rp.Grants {
		if !b.validGrant(g) || g.Record != rp.Record || g.Revision != rp.Revision || seen[g.Recipient] {
			return false
		}
		seen[g.Recipient] = true
	}
	return true
}

func (b *pusher) record(rp syncproto.RecordPush) (syncproto.ItemResult, error) {
	id := rp.Record
	if !b.validRecord(rp) {
		return rejected(id, syncproto.CodeBadRequest), nil
	}
	if ok, err := b.recipientsExist(rp.Grants); err != nil || !ok {
		return rejected(id, syncproto.CodeNotFound), err
	}
	hash := envelopeHash(rp.Envelope, rp.OwnerKey)
	if rp.BaseRevision == 0 && !rp.Delete && b.w.live[b.owner] < b.max {
		// Most pushes create records: try that first, and look the record up only if it
		// exists.
		if r, created, err := b.create(rp, hash); err != nil || created {
			return r, err
		}
	}
	cur, found, err := b.lookup(id)
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	if !found {
		switch {
		case rp.BaseRevision != 0:
			return syncproto.ItemResult{Record: id, Status: syncproto.StatusConflict}, nil
		case rp.Delete:
			return rejected(id, syncproto.CodeBadRequest), nil // nothing to delete
		case b.w.live[b.owner] >= b.max:
			return rejected(id, syncproto.CodeQuotaExceeded), nil
		}
		// Unreachable: create above would have made it.
		return syncproto.ItemResult{}, fmt.Errorf("record neither created nor found")
	}
	switch {
	case cur.owner != b.owner:
		return rejected(id, syncproto.CodeForbidden), nil
	case cur.revision == rp.Revision && cur.hash == hash:
		// A replay of what was accepted: the same answer, nothing written.
		return syncproto.ItemResult{Record: id, Status: syncproto.StatusAccepted, Seq: cur.seq, Revision: cur.revision}, nil
	case cur.deleted:
		r := rejected(id, syncproto.CodeDeleted)
		r.Revision = cur.revision
		return r, nil
	case cur.revision != rp.BaseRevision: // also different bytes at an accepted revision
		return syncproto.ItemResult{Record: id, Status: syncproto.StatusConflict, Revision: cur.revision}, nil
	}
	return b.update(rp, hash)
}

// create inserts a new record (revision 1) unless a record with its ID exists, in which
// case it writes nothing and reports false.
func (b *pusher) create(rp syncproto.RecordPush, hash [32]byte) (syncproto.ItemResult, bool, error) {
	id := rp.Record
	last, err := b.w.lastSeq(b.owner)
	if err != nil {
		return syncproto.ItemResult{}, false, err
	}
	seq := last + 1 // issued only if the record is new
	n, err := b.w.execN(`INSERT INTO records (id, owner, revision, deleted, seq, owner_seq, received_hour, envelope_hash, owner_key, envelope, shared)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		id[:], b.owner[:], rp.Revision, seq, seq, b.hour, hash[:], nonNil(rp.OwnerKey), rp.Envelope, len(rp.Grants) > 0)
	if err != nil || n == 0 {
		return syncproto.ItemResult{}, false, err
	}
	if _, err := b.w.nextSeq(b.owner); err != nil {
		return syncproto.ItemResult{}, false, err
	}
	b.fed[b.owner] = uint64(seq)
	b.w.addLive(b.owner, 1)
	if err := b.insertGrants(rp.Grants); err != nil {
		return syncproto.ItemResult{}, false, err
	}
	return syncproto.ItemResult{Record: id, Status: syncproto.StatusAccepted, Seq: uint64(seq), Revision: rp.Revision}, true, nil
}

func (b *pusher) update(rp syncproto.RecordPush, hash [32]byte) (syncproto.ItemResult, error) {
	id := rp.Record
	lost, err := b.deleteGrants(id)
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	seq, err := b.w.nextSeq(b.owner)
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	// A deletion keeps the author's signed statement in place of the envelope (so every
	// device and former grantee can check it before dropping a copy) and no owner key.
	envelope, ownerKey := rp.Envelope, nonNil(rp.OwnerKey)
	if rp.Delete {
		ownerKey = nil
	}
	// A new revision replaces every grant (deleteGrants above, insertGrants below).
	if _, err := b.w.exec(`UPDATE records SET revision = ?, deleted = ?, seq = ?, owner_seq = ?, received_hour = ?, envelope_hash = ?, owner_key = ?, envelope = ?, shared = ?
		WHERE id = ?`, rp.Revision, rp.Delete, seq, seq, b.hour, hash[:], ownerKey, envelope, len(rp.Grants) > 0, id[:]); err != nil {
		return syncproto.ItemResult{}, err
	}
	b.fed[b.owner] = uint64(seq)
	if rp.Delete {
		b.w.addLive(b.owner, -1)
	}
	if err := b.insertGrants(rp.Grants); err != nil {
		return syncproto.ItemResult{}, err
	}
	// Recipients that lost their grant see StateGone in their feed. A deletion reaches
	// every account whose feed lists the record, former grantees included: each sees
	// StateDeleted, with the statement, at a new position.
	if rp.Delete {
		if lost, err = b.listedBy(id); err != nil {
			return syncproto.ItemResult{}, err
		}
	}
	for _, r := range lost {
		kept := false
		for _, g := range rp.Grants {
			kept = kept || g.Recipient == r
		}
		if !kept {
			if _, err := b.feed(r, id); err != nil {
				return syncproto.ItemResult{}, err
			}
		}
	}
	return syncproto.ItemResult{Record: id, Status: syncproto.StatusAccepted, Seq: uint64(seq), Revision: rp.Revision}, nil
}

// insertGrants stores a record push's grants and feeds their recipients.
func (b *pusher) insertGrants(gs []syncproto.GrantPush) error {
	for _, g := range gs {
		if _, err := b.w.exec(`INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, ?, ?)`,
			g.Record[:], g.Recipient[:], g.Revision, unixOrZero(g.Expires), g.Blob); err != nil {
			return err
		}
		if _, err := b.feed(g.Recipient, g.Record); err != nil {
			return err
		}
	}
	return nil
}

// listedByQuery lists the accounts whose feeds list a record as recipients
// (changes_record).
const listedByQuery = `SELECT account FROM changes WHERE record = ?`

// listedBy returns the accounts whose feeds list a record as recipients.
func (b *pusher) listedBy(id syncproto.RecordID) ([]syncproto.AccountID, error) {
	return b.accountIDs(listedByQuery, id[:])
}

// deleteGrants deletes every grant of a record and returns their recipients.
func (b *pusher) deleteGrants(id syncproto.RecordID) ([]syncproto.AccountID, error) {
	return b.accountIDs(`DELETE FROM grants WHERE record = ? RETURNING recipient`, id[:])
}

// accountIDs runs q, whose rows are one account ID each, and returns them.
func (b *pusher) accountIDs(q string, args ...any) ([]syncproto.AccountID, error) {
	rows, err := b.w.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syncproto.AccountID
	for rows.Next() {
		var a syncproto.AccountID
		if err := rows.Scan(fixed(a[:])); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (b *pusher) grant(g syncproto.GrantPush) (syncproto.ItemResult, error) {
	id := g.Record
	if !b.validGrant(g) {
		return rejected(id, syncproto.CodeBadRequest), nil
	}
	if ok, err := b.accountExists(g.Recipient); err != nil || !ok {
		return rejected(id, syncproto.CodeNotFound), err
	}
	cur, found, err := b.lookup(id)
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	switch {
	case !found || cur.owner != b.owner:
		return rejected(id, syncproto.CodeForbidden), nil
	case cur.deleted:
		r := rejected(id, syncproto.CodeDeleted)
		r.Revision = cur.revision
		return r, nil
	case g.Revision != cur.revision:
		r := rejected(id, syncproto.CodeConflict)
		r.Revision = cur.revision
		return r, nil
	}
	accepted := syncproto.ItemResult{Record: id, Status: syncproto.StatusAccepted, Revision: cur.revision}
	var (
		revision uint64
		expires  int64
		blob     []byte
	)
	err = b.w.get(`SELECT revision, expires, blob FROM grants WHERE record = ? AND recipient = ?`,
		[]any{id[:], g.Recipient[:]}, &revision, &expires, &blob)
	switch {
	case err == nil && revision == g.Revision && expires == unixOrZero(g.Expires) && string(blob) == string(g.Blob):
		accepted.Seq, err = b.ownerSeq(id) // a replay: nothing to write
		return accepted, err
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return syncproto.ItemResult{}, err
	}
	if _, err := b.w.exec(`INSERT OR REPLACE INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, ?, ?)`,
		id[:], g.Recipient[:], g.Revision, unixOrZero(g.Expires), g.Blob); err != nil {
		return syncproto.ItemResult{}, err
	}
	if accepted.Seq, err = b.feedOwner(b.owner, id); err != nil {
		return syncproto.ItemResult{}, err
	}
	if err := b.markShared(id); err != nil {
		return syncproto.ItemResult{}, err
	}
	_, err = b.feed(g.Recipient, id)
	return accepted, err
}

func (b *pusher) revoke(rv syncproto.Revoke) (syncproto.ItemResult, error) {
	id := rv.Record
	if id.IsZero() || rv.Recipient.IsZero() || rv.Recipient == b.owner {
		return rejected(id, syncproto.CodeBadRequest), nil
	}
	cur, found, err := b.lookup(id)
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	if !found || cur.owner != b.owner {
		return rejected(id, syncproto.CodeForbidden), nil
	}
	accepted := syncproto.ItemResult{Record: id, Status: syncproto.StatusAccepted, Revision: cur.revision}
	n, err := b.w.execN(`DELETE FROM grants WHERE record = ? AND recipient = ?`, id[:], rv.Recipient[:])
	if err != nil {
		return syncproto.ItemResult{}, err
	}
	if n == 0 { // nothing to revoke: already so
		accepted.Seq, err = b.ownerSeq(id)
		return accepted, err
	}
	if accepted.Seq, err = b.feedOwner(b.owner, id); err != nil {
		return syncproto.ItemResult{}, err
	}
	if err := b.markShared(id); err != nil {
		return syncproto.ItemResult{}, err
	}
	_, err = b.feed(rv.Recipient, id)
	return accepted, err
}

// markShared sets a record's shared flag to whether it has a grant now. Changes reads the
// grants of shared records only (records_shared), so the flag must follow every grant
// and revocation; a new revision sets it in its own UPDATE.
func (b *pusher) markShared(record syncproto.RecordID) error {
	_, err := b.w.exec(`UPDATE records SET shared = EXISTS (SELECT 1 FROM grants WHERE record = ?1) WHERE id = ?1`, record[:])
	return err
}

// ExpireGrants deletes the grants whose expiry is at or before now, appends the change to
// the feeds of each recipient (which then sees StateGone) and of the record's owner (whose
// grant list shrank), and returns the accounts whose feeds grew.
func (s *Store) ExpireGrants(ctx context.Context, now time.Time) (map[syncproto.AccountID]uint64, error) {
	var fed map[syncproto.AccountID]uint64
	err := s.write(ctx, func(w *writer) error {
		type expired struct {
			record           syncproto.RecordID
			recipient, owner syncproto.AccountID
		}
		var xs []expired
		rows, err := w.query(`SELECT g.record, g.recipient, r.owner FROM grants g JOIN records r ON r.id = g.record
			WHERE g.expires > 0 AND g.expires <= ? ORDER BY g.record, g.recipient`, now.Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var x expired
			if err := rows.Scan(fixed(x.record[:]), fixed(x.recipient[:]), fixed(x.owner[:])); err != nil {
				rows.Close()
				return err
			}
			xs = append(xs, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		b := &pusher{w: w, fed: make(map[syncproto.AccountID]uint64)}
		fed = b.fed
		for i, x := range xs {
			if _, err := w.exec(`DELETE FROM grants WHERE record = ? AND recipient = ?`, x.record[:], x.recipient[:]); err != nil {
				return err
			}
			if _, err := b.feed(x.recipient, x.record); err != nil {
				return err
			}
			if i+1 == len(xs) || xs[i+1].record != x.record { // the owner once per record
				if _, err := b.feedOwner(x.owner, x.record); err != nil {
					return err
				}
				if err := b.markShared(x.record); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire grants: %w", err)
	}
	return fed, nil
}
