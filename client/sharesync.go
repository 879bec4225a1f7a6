package client

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// The sync engine's side of sharing: nested grants go with their record revision,
// standalone grants and revokes in pushes of their own, after the records.

// loadNested fills r.grants from outbox_grants.
func (c *Client) loadNested(ctx context.Context, r *outboxRow) error {
	var rows []struct {
		Recipient []byte `db:"recipient"`
		Expires   int64  `db:"expires"`
		Blob      []byte `db:"blob"`
	}
	if err := c.db.SelectContext(ctx, &rows, `SELECT recipient, expires, blob FROM outbox_grants WHERE outbox = ? ORDER BY recipient`, r.ID); err != nil {
		return fmt.Errorf("read outbox grants: %w", err)
	}
	r.grants = nil
	if r.Deleted {
		return nil
	}
	for _, g := range rows {
		r.grants = append(r.grants, syncproto.GrantPush{
			Record: syncproto.RecordID(r.Record), Revision: r.Revision, Recipient: syncproto.AccountID(g.Recipient),
			Expires: timeOrZero(g.Expires), Blob: g.Blob,
		})
	}
	return nil
}

// pushShares sends the standalone grants and revokes, in batches, once the records they
// name have no revision waiting (a grant names the record's revision on the server).
// A grant made for a revision that is no longer current (another device edited the
// entry) is re-wrapped for the current one first.
func (c *Client) pushShares(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	size := int(cn.limits.MaxBatch)
	if c.opts.BatchSize > 0 && c.opts.BatchSize < size {
		size = c.opts.BatchSize
	}
	var after int64
	for {
		var ops []shareOp
		if err := c.db.SelectContext(ctx, &ops, `SELECT `+shareOpCols+` FROM share_outbox WHERE id > ?
			AND record NOT IN (SELECT record FROM outbox) ORDER BY id LIMIT ?`, after, size); err != nil {
			return fmt.Errorf("read share outbox: %w", err)
		}
		if len(ops) == 0 {
			return nil
		}
		after = ops[len(ops)-1].ID
		var batch []shareOp
		err := inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			batch = batch[:0]
			for _, op := range ops {
				if !op.Revoke {
					fresh, keep, err := c.currentGrant(ctx, tx, k, op)
					if err != nil {
						return err
					}
					if !keep {
						continue
					}
					op = fresh
				}
				res, err := tx.ExecContext(ctx, `UPDATE share_outbox SET attempts = attempts + 1 WHERE id = ?`, op.ID)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					batch = append(batch, op)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("share outbox: %w", err)
		}
		if len(batch) == 0 {
			continue
		}
		var p syncproto.Push
		var order []shareOp // grants first, then revokes: the order of the results
		for _, op := range batch {
			if !op.Revoke {
				p.Grants = append(p.Grants, syncproto.GrantPush{Record: syncproto.RecordID(op.Record), Revision: op.Revision,
					Recipient: syncproto.AccountID(op.Recipient), Expires: timeOrZero(op.Expires), Blob: op.Blob})
				order = append(order, op)
			}
		}
		for _, op := range batch {
			if op.Revoke {
				p.Revokes = append(p.Revokes, syncproto.Revoke{Record: syncproto.RecordID(op.Record), Recipient: syncproto.AccountID(op.Recipient)})
				order = append(order, op)
			}
		}
		res, err := expect[syncproto.PushResult](ctx, cn, p)
		if err != nil {
			return fmt.Errorf("push shares: %w", err)
		}
		if len(res.Results) != len(order) {
			return fmt.Errorf("push shares: the server answered %d results for %d items", len(res.Results), len(order))
		}
		err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
			for i, r := range res.Results {
				op := order[i]
				id := syncproto.RecordID(op.Record)
				switch {
				case r.Status == syncproto.StatusAccepted:
					_, err := tx.ExecContext(ctx, `DELETE FROM share_outbox WHERE id = ?`, op.ID)
					if err != nil {
						return err
					}
					rep.Pushed++
				case r.Code == syncproto.CodeConflict:
					// The server holds another revision: the next sync, after pulling it,
					// re-wraps the grant for it (currentGrant).
					if _, err := tx.ExecContext(ctx, `UPDATE share_outbox SET last_code = ? WHERE id = ?`, r.Code, op.ID); err != nil {
						return err
					}
				case r.Code == syncproto.CodeForbidden || r.Code == syncproto.CodeDeleted || r.Code == syncproto.CodeBadRequest:
					// The record is gone (or the share expired): nothing to share any more.
					c.log.Warn("share refused; dropped", "record", id, "code", r.Code)
					if _, err := tx.ExecContext(ctx, `DELETE FROM share_outbox WHERE id = ?`, op.ID); err != nil {
						return err
					}
					if !op.Revoke {
						if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient = ?`, op.Record, op.Recipient); err != nil {
							return err
						}
					}
					rep.refuse(Refusal{Record: id, Revision: op.Revision, Code: r.Code})
				default:
					if _, err := tx.ExecContext(ctx, `UPDATE share_outbox SET last_code = ? WHERE id = ?`, r.Code, op.ID); err != nil {
						return err
					}
					rep.refuse(Refusal{Record: id, Revision: op.Revision, Code: r.Code})
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record share results: %w", err)
		}
	}
}

// currentGrant returns op ready to send: as it is when it names the record's current
// revision, else re-wrapped for it (and stored). keep is false when there is nothing to
// send any more (the record or the contact is gone, or the share expired).
func (c *Client) currentGrant(ctx context.Context, tx *sqlx.Tx, k *keys, op shareOp) (shareOp, bool, error) {
	id := syncproto.RecordID(op.Record)
	to := syncproto.AccountID(op.Recipient)
	drop := func() (shareOp, bool, error) {
		for _, q := range []string{`DELETE FROM share_outbox WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, op.ID); err != nil {
				return op, false, err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient = ?`, id[:], to[:])
		return op, false, err
	}
	if op.Expires != 0 && op.Expires <= c.opts.Now().Unix() {
		return drop()
	}
	r, err := getRecord(ctx, tx, id[:])
	if err != nil {
		return op, false, err
	}
	if r == nil || r.Deleted || syncproto.AccountID(r.Owner) != syncproto.AccountID(k.id.Account) {
		return drop()
	}
	if r.Revision == op.Revision {
		return op, true, nil
	}
	ct, err := getContact(ctx, tx, k, to)
	if err != nil {
		return op, false, err
	}
	if ct == nil || ct.shareable() != nil {
		return drop()
	}
	ek, err := crypto.UnwrapWithVault(k.id.Vault, crypto.RecordID(id), r.Revision, r.OwnerKey)
	if err != nil {
		return op, false, fmt.Errorf("unwrap entry key: %w", err)
	}
	blob, err := signGrantFor(k, ct, id, r.Revision, timeOrZero(op.Expires), ek)
	if err != nil {
		return op, false, err
	}
	if err := putGrant(ctx, tx, id, to, r.Revision, op.Expires, blob); err != nil {
		return op, false, err
	}
	op.Revision, op.Blob, op.LastCode = r.Revision, blob, 0
	_, err = tx.ExecContext(ctx, `UPDATE share_outbox SET revision = ?, blob = ?, last_code = 0 WHERE id = ?`, op.Revision, op.Blob, op.ID)
	return op, true, err
}

// refreshOwnGrants makes the local grants of an own record those the server holds
// (each checked: signed by this account, for this record and revision), then applies
// the shares and revokes still waiting to be sent. It leaves a record with pending
// revisions alone: their grants are this device's newer intent.
func (c *Client) refreshOwnGrants(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change) error {
	id := ch.Record
	me := syncproto.AccountID(k.id.Account)
	if ch.State == syncproto.StateDeleted {
		for _, q := range []string{`DELETE FROM grants WHERE record = ?`, `DELETE FROM share_outbox WHERE record = ?`} {
			if _, err := tx.ExecContext(ctx, q, id[:]); err != nil {
				return err
			}
		}
		return nil
	}
	pend, err := pendingFor(ctx, tx, id[:])
	if err != nil || len(pend) > 0 {
		return err
	}
	rec, err := getRecord(ctx, tx, id[:])
	if err != nil || rec == nil || rec.Revision != ch.Revision {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient != ?`, id[:], me[:]); err != nil {
		return err
	}
	signer := k.id.Signing.Public()
	for _, gp := range ch.Grants {
		g, err := crypto.ParseGrant(gp.Blob)
		if err == nil {
			err = g.Verify(signer)
		}
		if err == nil && (g.Record != crypto.RecordID(id) || g.Revision != ch.Revision || g.Grantor != crypto.AccountID(me) ||
			g.Recipient != crypto.AccountID(gp.Recipient) || syncproto.AccountID(g.Recipient) == me) {
			err = fmt.Errorf("names another record, revision, grantor or recipient")
		}
		if err != nil {
			c.log.Warn("ignoring a grant of an own record that does not verify", "record", id, "err", err)
			continue
		}
		if g.Expired(c.opts.Now()) {
			continue
		}
		h := sha256.Sum256(gp.Blob)
		var revoked int
		if err := tx.GetContext(ctx, &revoked, `SELECT count(*) FROM revoked_grants WHERE record = ? AND recipient = ? AND blob_hash = ?`,
			id[:], gp.Recipient[:], h[:]); err != nil {
			return err
		}
		if revoked > 0 {
			c.log.Warn("the server serves a grant this device revoked; ignored", "record", id, "recipient", gp.Recipient)
			continue
		}
		if err := putGrant(ctx, tx, id, gp.Recipient, g.Revision, unixOrZero(g.Expires), gp.Blob); err != nil {
			return err
		}
	}
	var ops []shareOp
	if err := tx.SelectContext(ctx, &ops, `SELECT `+shareOpCols+` FROM share_outbox WHERE record = ?`, id[:]); err != nil {
		return err
	}
	for _, op := range ops {
		if op.Revoke {
			if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE record = ? AND recipient = ?`, id[:], op.Recipient); err != nil {
				return err
			}
			continue
		}
		if err := putGrant(ctx, tx, id, syncproto.AccountID(op.Recipient), op.Revision, op.Expires, op.Blob); err != nil {
			return err
		}
	}
	return nil
}
