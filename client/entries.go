package client

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// Entry is one decrypted entry. Plaintext exists only in memory: the store keeps the
// envelope and decrypts on every read.
type Entry struct {
	ID        syncproto.RecordID
	Owner     syncproto.AccountID
	Revision  uint64
	Plaintext []byte
	Synced    bool // this revision is on the server
	Conflict  bool // another device's version won; this device's waits in Conflicts

	// Derived is LevelScores or LevelStatus for a partial copy made for sharing (then
	// Plaintext is the copy's journal document and Source the entry it was made from),
	// "" for an entry as written.
	Derived string
	Source  syncproto.RecordID
	// SharedWith lists the contacts an own entry is shared with (grants this device
	// knows, pending ones included).
	SharedWith []syncproto.AccountID
	// Expires is, for an entry shared with this account, when the share ends (zero:
	// never).
	Expires time.Time
}

// Day is the UTC day the entry was created, from its record ID.
func (e *Entry) Day() time.Time { return e.ID.Day() }

// Add seals plaintext as a new entry and commits it locally, with its outbox row, in one
// transaction. It never touches the network: Sync sends it later.
func (c *Client) Add(ctx context.Context, plaintext []byte) (syncproto.RecordID, error) {
	k, err := c.unlocked()
	if err != nil {
		return syncproto.RecordID{}, err
	}
	id := syncproto.NewRecordID(c.opts.Now())
	env, wrapped, err := seal(k, id, 1, plaintext)
	if err != nil {
		return syncproto.RecordID{}, err
	}
	me := syncproto.AccountID(k.id.Account)
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, owner, revision, envelope, owner_key)
			VALUES (?, ?, 1, ?, ?)`, id[:], me[:], env, wrapped); err != nil {
			return err
		}
		return c.enqueue(ctx, tx, id, 0, 1, false, env, wrapped)
	})
	if err != nil {
		return syncproto.RecordID{}, fmt.Errorf("add entry: %w", err)
	}
	return id, nil
}

// seal makes the envelope of one revision with a fresh entry key, and wraps that key with
// the vault key.
func seal(k *keys, id syncproto.RecordID, revision uint64, plaintext []byte) (env, wrapped []byte, err error) {
	env, ek, err := crypto.SealEntry(k.id, crypto.RecordID(id), revision, plaintext)
	if err != nil {
		return nil, nil, fmt.Errorf("seal entry: %w", err)
	}
	wrapped, err = crypto.WrapForVault(k.id.Vault, crypto.RecordID(id), revision, ek)
	if err != nil {
		return nil, nil, fmt.Errorf("wrap entry key: %w", err)
	}
	return env, wrapped, nil
}

// open verifies and decrypts one of the account's own envelopes.
func open(k *keys, id syncproto.RecordID, revision uint64, env, wrapped []byte) ([]byte, error) {
	ek, err := crypto.UnwrapWithVault(k.id.Vault, crypto.RecordID(id), revision, wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap entry key: %w", err)
	}
	o, err := crypto.OpenEntry(env, ek, k.id.Signing.Public())
	if err != nil {
		return nil, err
	}
	if o.Record != crypto.RecordID(id) || o.Revision != revision || o.Author != k.id.Account {
		return nil, fmt.Errorf("envelope is for another record, revision or author: %w", crypto.ErrBadSignature)
	}
	return o.Plaintext, nil
}

func (c *Client) enqueue(ctx context.Context, tx *sqlx.Tx, id syncproto.RecordID, base, rev uint64, deleted bool, env, wrapped []byte) error {
	_, err := c.enqueueID(ctx, tx, id, base, rev, deleted, env, wrapped)
	return err
}

// enqueueID is enqueue, returning the outbox row's ID (for its nested grants).
func (c *Client) enqueueID(ctx context.Context, tx *sqlx.Tx, id syncproto.RecordID, base, rev uint64, deleted bool, env, wrapped []byte) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (record, base_revision, revision, deleted, envelope, owner_key, created)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id[:], base, rev, deleted, env, wrapped, c.opts.Now().Unix())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// editable loads an own, live, unconflicted record for a change.
func editable(ctx context.Context, tx *sqlx.Tx, me syncproto.AccountID, id syncproto.RecordID) (*recordRow, error) {
	r, err := getRecord(ctx, tx, id[:])
	if err != nil {
		return nil, err
	}
	if r == nil || r.Deleted {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if syncproto.AccountID(r.Owner) != me {
		return nil, fmt.Errorf("entry %s belongs to another account; only its author can change it", id)
	}
	conf, err := getConflict(ctx, tx, id[:])
	if err != nil {
		return nil, err
	}
	if conf != nil {
		return nil, fmt.Errorf("%w (%s)", ErrConflicted, id)
	}
	return r, nil
}

// Edit replaces an entry's plaintext with a new revision sealed under a fresh entry key,
// committed locally with its outbox row. If the entry is shared, the new key is wrapped
// for the current grantees only, nested in the same push (so a revoked contact gets
// nothing new). It never touches the network.
func (c *Client) Edit(ctx context.Context, id syncproto.RecordID, plaintext []byte) error {
	k, err := c.unlocked()
	if err != nil {
		return err
	}
	me := syncproto.AccountID(k.id.Account)
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		r, err := editable(ctx, tx, me, id)
		if err != nil {
			return err
		}
		return c.writeRevision(ctx, tx, k, id, r.Revision, plaintext)
	})
	if err != nil {
		return fmt.Errorf("edit %s: %w", id, err)
	}
	return nil
}

// Delete deletes an entry here at once and, through the outbox, everywhere it was synced
// (a deletion also ends every share of it, and deletes the copies derived from it for
// sharing). An entry the server has never seen (no push was ever attempted) is simply
// dropped.
func (c *Client) Delete(ctx context.Context, id syncproto.RecordID) error {
	k, err := c.unlocked()
	if err != nil {
		return err
	}
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error { return c.deleteTx(ctx, tx, k, id) })
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// deleteTx is Delete inside tx.
func (c *Client) deleteTx(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID) error {
	me := syncproto.AccountID(k.id.Account)
	r, err := editable(ctx, tx, me, id)
	if err != nil {
		return err
	}
	// Copies derived from it go too; so do its grants and pending grants and revokes (the
	// server drops every grant of a deleted record, and its grantees drop their copies).
	copies, err := c.derivedFor(ctx, tx, k, id, syncproto.AccountID{})
	if err != nil {
		return err
	}
	for _, d := range copies {
		if err := c.deleteTx(ctx, tx, k, d.id); err != nil {
			return err
		}
	}
	for _, q := range []string{`DELETE FROM grants WHERE record = ?`, `DELETE FROM share_outbox WHERE record = ?`} {
		if _, err := tx.ExecContext(ctx, q, id[:]); err != nil {
			return err
		}
	}
	if r.SyncedRevision == 0 {
		var attempted int
		if err := tx.GetContext(ctx, &attempted, `SELECT count(*) FROM outbox WHERE record = ? AND attempts > 0`, id[:]); err != nil {
			return err
		}
		if attempted == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE record = ?`, id[:]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM records WHERE id = ?`, id[:])
			return err
		}
	}
	rev := r.Revision + 1
	// The deletion carries this account's signed statement (protocol: a deletion's
	// Envelope), so that no one else can make a device drop an entry.
	stmt, err := crypto.SignDeletion(k.id, crypto.RecordID(id), rev)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE records SET revision = ?, deleted = 1, envelope = NULL, owner_key = NULL
		WHERE id = ?`, rev, id[:]); err != nil {
		return err
	}
	return c.enqueue(ctx, tx, id, r.Revision, rev, true, stmt, nil)
}

// Get returns one entry, decrypted: an own entry (or a copy derived from one for
// sharing), or an entry a contact shared with this account, verified against the
// contact's pinned keys.
func (c *Client) Get(ctx context.Context, id syncproto.RecordID) (*Entry, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	r, err := getRecord(ctx, c.db, id[:])
	if err != nil {
		return nil, err
	}
	if r == nil || r.Deleted || (r.Role != roleEntry && r.Role != roleDerived) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if owner := syncproto.AccountID(r.Owner); owner != syncproto.AccountID(k.id.Account) {
		ct, err := getContact(ctx, c.db, k, owner)
		if err != nil {
			return nil, err
		}
		if ct == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return c.decryptShared(ctx, c.db, k, ct, r)
	}
	var conflicted int
	if err := c.db.GetContext(ctx, &conflicted, `SELECT count(*) FROM conflicts WHERE record = ?`, id[:]); err != nil {
		return nil, err
	}
	e, err := c.decrypt(k, r, conflicted > 0)
	if err != nil {
		return nil, err
	}
	shared, err := c.sharedWith(ctx, k)
	if err != nil {
		return nil, err
	}
	e.SharedWith = shared[id]
	return e, nil
}

// decrypt opens one of the account's own records.
func (c *Client) decrypt(k *keys, r *recordRow, conflict bool) (*Entry, error) {
	id := syncproto.RecordID(r.ID)
	if syncproto.AccountID(r.Owner) != syncproto.AccountID(k.id.Account) {
		return nil, fmt.Errorf("entry %s is shared by another account; see ListFrom", id)
	}
	pt, err := open(k, id, r.Revision, r.Envelope, r.OwnerKey)
	if err != nil {
		return nil, fmt.Errorf("entry %s does not open (local copy damaged?): %w", id, err)
	}
	e := &Entry{
		ID: id, Owner: syncproto.AccountID(r.Owner), Revision: r.Revision, Plaintext: pt,
		Synced: r.SyncedRevision == r.Revision, Conflict: conflict,
	}
	if r.Role == roleDerived {
		if err := e.unwrapDerived(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// unwrapDerived replaces a derived copy's document by the journal entry inside it.
func (e *Entry) unwrapDerived() error {
	d, err := parseControl(e.Plaintext)
	if err != nil {
		return fmt.Errorf("entry %s: %w", e.ID, err)
	}
	if d == nil || d.Interlude != roleDerived {
		return fmt.Errorf("entry %s is not a derived copy", e.ID)
	}
	src, err := recordRef(d.Source)
	if err != nil {
		return fmt.Errorf("entry %s: source: %w", e.ID, err)
	}
	e.Plaintext, e.Derived, e.Source = []byte(d.Entry), d.Level, src
	return nil
}

// sharedWith maps each own record to the contacts it is shared with.
func (c *Client) sharedWith(ctx context.Context, k *keys) (map[syncproto.RecordID][]syncproto.AccountID, error) {
	me := syncproto.AccountID(k.id.Account)
	var rows []grantRow
	if err := c.db.SelectContext(ctx, &rows, `SELECT g.record, g.recipient, g.revision, g.expires, g.blob FROM grants g
		JOIN records r ON r.id = g.record WHERE r.owner = ? AND g.recipient != ? ORDER BY g.record, g.recipient`, me[:], me[:]); err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	out := map[syncproto.RecordID][]syncproto.AccountID{}
	for _, g := range rows {
		id := syncproto.RecordID(g.Record)
		out[id] = append(out[id], syncproto.AccountID(g.Recipient))
	}
	return out, nil
}

// ListFilter narrows List and ListFrom. Zero fields do not filter.
type ListFilter struct {
	Since, Until time.Time         // by the UTC day in the record ID, inclusive
	Match        func(*Entry) bool // on the decrypted entry (kind, dates written in it, …)
}

func (f ListFilter) days(id syncproto.RecordID) bool {
	day := id.Day()
	if !f.Since.IsZero() && day.Before(f.Since.UTC().Truncate(24*time.Hour)) {
		return false
	}
	if !f.Until.IsZero() && day.After(f.Until.UTC()) {
		return false
	}
	return true
}

// List returns the account's own live journal entries, oldest day first, decrypted.
// Entries others shared with this account are not included (see ListFrom), nor are the
// copies made for sharing or the pairing messages.
func (c *Client) List(ctx context.Context, f ListFilter) ([]*Entry, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	me := syncproto.AccountID(k.id.Account)
	var rows []recordRow
	if err := c.db.SelectContext(ctx, &rows, `SELECT `+recordCols+` FROM records WHERE deleted = 0 AND owner = ? AND role = ? ORDER BY id`,
		me[:], roleEntry); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var conflicted [][]byte
	if err := c.db.SelectContext(ctx, &conflicted, `SELECT record FROM conflicts`); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	inConflict := map[syncproto.RecordID]bool{}
	for _, id := range conflicted {
		inConflict[syncproto.RecordID(id)] = true
	}
	shared, err := c.sharedWith(ctx, k)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for i := range rows {
		id := syncproto.RecordID(rows[i].ID)
		if !f.days(id) {
			continue
		}
		e, err := c.decrypt(k, &rows[i], inConflict[id])
		if err != nil {
			return nil, err
		}
		e.SharedWith = shared[id]
		if f.Match != nil && !f.Match(e) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}
