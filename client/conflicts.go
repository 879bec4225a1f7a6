package client

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"interlude/syncproto"
)

// Version is one side of a conflict, decrypted.
type Version struct {
	Revision  uint64
	Deleted   bool   // this side deleted the entry
	Plaintext []byte // nil when Deleted
}

// Conflict is an entry changed on this device and on another one from the same revision.
// Neither version is lost: the server's is the entry as it stands, this device's waits
// here until Resolve.
type Conflict struct {
	ID           syncproto.RecordID
	BaseRevision uint64 // where the two versions parted
	Local        Version
	Remote       Version
}

// Keep says which version Resolve keeps.
type Keep int

const (
	KeepLocal  Keep = iota + 1 // this device's version
	KeepRemote                 // the server's version
	KeepMerged                 // new text given to Resolve
)

// Conflicts lists the unresolved conflicts, decrypted.
func (c *Client) Conflicts(ctx context.Context) ([]Conflict, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	var rows []conflictRow
	if err := c.db.SelectContext(ctx, &rows, `SELECT `+conflictCols+` FROM conflicts ORDER BY record`); err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	out := make([]Conflict, 0, len(rows))
	for _, r := range rows {
		cf, err := c.conflict(ctx, c.db, k, &r)
		if err != nil {
			return nil, err
		}
		out = append(out, *cf)
	}
	return out, nil
}

func (c *Client) conflict(ctx context.Context, q sqlx.QueryerContext, k *keys, r *conflictRow) (*Conflict, error) {
	id := syncproto.RecordID(r.Record)
	cf := &Conflict{ID: id, BaseRevision: r.BaseRevision,
		Local: Version{Revision: r.LocalRevision, Deleted: r.LocalDeleted}}
	if !r.LocalDeleted {
		pt, err := open(k, id, r.LocalRevision, r.LocalEnvelope, r.LocalOwnerKey)
		if err != nil {
			return nil, fmt.Errorf("conflict %s: local version does not open: %w", id, err)
		}
		cf.Local.Plaintext = pt
	}
	rec, err := getRecord(ctx, q, id[:])
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("conflict %s: the server's version is missing here", id)
	}
	cf.Remote = Version{Revision: rec.Revision, Deleted: rec.Deleted}
	if !rec.Deleted {
		pt, err := open(k, id, rec.Revision, rec.Envelope, rec.OwnerKey)
		if err != nil {
			return nil, fmt.Errorf("conflict %s: server's version does not open: %w", id, err)
		}
		cf.Remote.Plaintext = pt
	}
	return cf, nil
}

// Resolve settles a conflict. KeepRemote drops this device's version. KeepLocal and
// KeepMerged write a new revision on top of the server's version (which then syncs like
// any edit); if the server's side is a deletion, the kept text becomes a new entry,
// because a deleted record cannot come back. It returns the ID of the entry that holds
// the result (id itself, or the new entry's).
func (c *Client) Resolve(ctx context.Context, id syncproto.RecordID, keep Keep, merged []byte) (syncproto.RecordID, error) {
	k, err := c.unlocked()
	if err != nil {
		return id, err
	}
	me := syncproto.AccountID(k.id.Account)
	result := id
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		row, err := getConflict(ctx, tx, id[:])
		if err != nil {
			return err
		}
		if row == nil {
			return fmt.Errorf("%w: no conflict on %s", ErrNotFound, id)
		}
		cf, err := c.conflict(ctx, tx, k, row)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM conflicts WHERE record = ?`, id[:]); err != nil {
			return err
		}
		var text []byte
		var del bool
		switch keep {
		case KeepRemote:
			return nil
		case KeepLocal:
			text, del = cf.Local.Plaintext, cf.Local.Deleted
		case KeepMerged:
			if merged == nil {
				return fmt.Errorf("resolve %s: no merged text given", id)
			}
			text = merged
		default:
			return fmt.Errorf("resolve %s: choose local, remote or merged", id)
		}
		rec, err := getRecord(ctx, tx, id[:])
		if err != nil {
			return err
		}
		switch {
		case del && cf.Remote.Deleted:
			return nil
		case cf.Remote.Deleted:
			nid := syncproto.NewRecordID(c.opts.Now())
			env, wrapped, err := seal(k, nid, 1, text)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, owner, revision, envelope, owner_key) VALUES (?, ?, 1, ?, ?)`,
				nid[:], me[:], env, wrapped); err != nil {
				return err
			}
			result = nid
			return c.enqueue(ctx, tx, nid, 0, 1, false, env, wrapped)
		case del:
			// Like Delete: its shares and the copies made for sharing go too.
			return c.deleteTx(ctx, tx, k, id)
		default:
			// Like Edit: re-wrapped for the current grantees only.
			return c.writeRevision(ctx, tx, k, id, rec.Revision, text)
		}
	})
	if err != nil {
		return id, fmt.Errorf("resolve %s: %w", id, err)
	}
	return result, nil
}
