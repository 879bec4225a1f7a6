package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/syncproto"
)

// What an account may see of a record (the same rule for Changes and Records):
//
//   - its owner sees it all: the envelope, its owner key and every live grant, or
//     StateDeleted once deleted;
//   - an account with a live grant (no expiry, or expiry after now) sees the envelope and
//     that one grant;
//   - an account that once had a grant (the record is in its feed) sees StateDeleted once
//     the owner deletes it, and StateGone otherwise;
//   - anyone else sees StateGone with no owner, revision or seq: a record it may not see
//     and a record that does not exist look the same.
//
// The queries return the envelope and owner key only when the rule lets the account see
// them (the CASE expressions), so bytes an account may not see never leave SQLite.

// An account's feed has two parts numbered by the account's one counter, so that their
// seqs never collide: its own records (records_feed, at owner_seq) and its entries as a
// recipient (changes_feed). Changes reads both in seq order, each from its index, and
// merges them. Two queries rather than one UNION: the owner's part, nearly all of a
// catch-up, then reads six columns rather than ten.

// ownFeedQuery is the account's own records after a seq: ?1 account, ?2 after, ?3 limit.
const ownFeedQuery = `
SELECT owner_seq, id, revision, deleted, envelope, owner_key
FROM records
WHERE owner = ?1 AND owner_seq > ?2
ORDER BY owner_seq
LIMIT ?3`

// recipientFeedQuery is the account's entries as a recipient after a seq, with its live
// grant if any: ?1 account, ?2 after, ?3 limit, ?4 now.
const recipientFeedQuery = `
SELECT c.seq, c.record, r.owner, r.revision, r.deleted,
       g.revision, g.expires, g.blob,
       CASE WHEN g.record IS NOT NULL OR r.deleted = 1 THEN r.envelope END
FROM changes c
JOIN records r ON r.id = c.record
LEFT JOIN grants g ON g.record = c.record AND g.recipient = c.account AND (g.expires = 0 OR g.expires > ?4)
WHERE c.account = ?1 AND c.seq > ?2
ORDER BY c.seq
LIMIT ?3`

// feedGrantsQuery is every live grant of the account's own records in its feed range
// (?2, ?3]: ?1 account, ?4 now. It reads records_shared, which lists only the records
// that have a grant, so a page with none costs one index probe. Its ORDER BY follows
// that index to the rowid, which makes each record's place distinct, so the grants come
// in (seq, recipient) order with no sort.
const feedGrantsQuery = `
SELECT r.owner_seq, g.record, g.recipient, g.revision, g.expires, g.blob
FROM records r INDEXED BY records_shared
JOIN grants g ON g.record = r.id
WHERE r.owner = ?1 AND r.owner_seq > ?2 AND r.owner_seq <= ?3 AND r.shared = 1 AND (g.expires = 0 OR g.expires > ?4)
ORDER BY r.owner_seq, r.id, r.rowid, g.recipient`

// digestQuery lists the live records visible to ?1 at ?2: its own (records_feed, in seq
// order) and those granted to it. Digest sorts them by record ID.
const digestQuery = `
SELECT id, revision FROM records
WHERE owner = ?1 AND deleted = 0
UNION ALL
SELECT g.record, r.revision FROM grants g JOIN records r ON r.id = g.record
WHERE g.recipient = ?1 AND (g.expires = 0 OR g.expires > ?2) AND r.deleted = 0`

// cursorQuery is the account's feed position (the writer loads its counter the same way).
const cursorQuery = feedHighQuery

// readStmts are the reader pool's prepared statements.
type readStmts struct {
	ownFeed, recipientFeed, feedGrants, digest, cursor *sqlx.Stmt
}

func (s *Store) prepareReads(ctx context.Context) error {
	for _, p := range []struct {
		dst **sqlx.Stmt
		q   string
	}{{&s.rq.ownFeed, ownFeedQuery}, {&s.rq.recipientFeed, recipientFeedQuery}, {&s.rq.feedGrants, feedGrantsQuery},
		{&s.rq.digest, digestQuery}, {&s.rq.cursor, cursorQuery}} {
		st, err := s.readers.PreparexContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (q *readStmts) close() {
	for _, st := range []*sqlx.Stmt{q.ownFeed, q.recipientFeed, q.feedGrants, q.digest, q.cursor} {
		if st != nil {
			st.Close()
		}
	}
}

// readTx runs f in a read transaction: one snapshot for all its queries.
func (s *Store) readTx(ctx context.Context, f func(tx *sqlx.Tx) error) error {
	return s.read(func() error {
		tx, err := s.readers.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		return f(tx)
	})
}

// seqArg bounds a client's cursor to what SQLite's signed integers hold.
func seqArg(after uint64) int64 {
	if after > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(after)
}

// Changes returns a page of the account's feed after cursor after, at most limit items
// (limit <= 0 means syncproto.DefaultMaxPullPage), each record once in its latest state
// as the account may see it at now. The page's Cursor is the seq of its last item, or
// after when the page is empty. Each byte field of the items is its own allocation, made
// by the driver as it read the row (ownedBlob).
func (s *Store) Changes(ctx context.Context, account syncproto.AccountID, after uint64, limit int, now time.Time) (syncproto.Changes, error) {
	if limit <= 0 {
		limit = syncproto.DefaultMaxPullPage
	}
	limit = min(limit, 1<<20) // the server enforces its own, smaller, page size
	page := syncproto.Changes{Cursor: after}
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		// Each part returns at most limit+1 rows (one more than the page, to tell whether
		// more follow); the merge takes the lowest seqs of both.
		own := &feedPart{account: account, own: true}
		rcp := &feedPart{account: account}
		var err error
		if own.rows, err = tx.StmtxContext(ctx, s.rq.ownFeed).QueryContext(ctx, account[:], seqArg(after), limit+1); err != nil {
			return err
		}
		defer own.rows.Close()
		if rcp.rows, err = tx.StmtxContext(ctx, s.rq.recipientFeed).QueryContext(ctx, account[:], seqArg(after), limit+1, now.Unix()); err != nil {
			return err
		}
		defer rcp.rows.Close()
		if err := own.next(); err != nil {
			return err
		}
		if err := rcp.next(); err != nil {
			return err
		}
		items := make([]syncproto.Change, 0, min(limit+1, maxPreallocItems))
		owned := false // a live record of the account's own is in the page: fetch its grants
		for len(items) <= limit {
			part := rcp // the part with the lower seq next (seqs never tie)
			if own.ok && (!rcp.ok || own.seq < rcp.seq) {
				part = own
			}
			if !part.ok {
				break // both parts are exhausted
			}
			c := part.change()
			owned = owned || (c.Owner == account && c.State == syncproto.StateLive)
			items = append(items, c)
			if err := part.next(); err != nil {
				return err
			}
		}
		own.rows.Close()
		rcp.rows.Close()
		if len(items) > limit {
			items, page.More = items[:limit], true
		}
		if len(items) == 0 {
			return nil
		}
		page.Items, page.Cursor = items, items[len(items)-1].Seq
		if !owned {
			return nil
		}
		return s.ownerGrants(ctx, tx, account, after, page.Cursor, now, items)
	})
	if err != nil {
		return syncproto.Changes{}, fmt.Errorf("changes of %s: %w", account, err)
	}
	return page, nil
}

// feedPart is one part of an account's feed (its own records, or its entries as a
// recipient), read one row ahead: while ok, the fields hold the next row. Its byte fields
// are the driver's own slices for that row (ownedBlob), so they outlive the row.
type feedPart struct {
	account syncproto.AccountID
	own     bool
	rows    *sql.Rows
	ok      bool
	dest    []any // Scan's arguments, pointing at the fields below, made once

	seq                     seqScan
	record                  syncproto.RecordID
	owner                   syncproto.AccountID
	revision                seqScan
	deleted                 bool
	gRevision, gExpiry      sql.NullInt64
	gBlob, envelope, ownKey ownedBlob
}

// next reads the part's next row.
func (f *feedPart) next() error {
	if f.ok = f.rows.Next(); !f.ok {
		return f.rows.Err()
	}
	if f.dest == nil {
		if f.own {
			f.owner = f.account
			f.dest = []any{&f.seq, (*idScan)(&f.record), &f.revision, &f.deleted, &f.envelope, &f.ownKey}
		} else {
			f.dest = []any{&f.seq, (*idScan)(&f.record), (*idScan)(&f.owner), &f.revision, &f.deleted,
				&f.gRevision, &f.gExpiry, &f.gBlob, &f.envelope}
		}
	}
	return f.rows.Scan(f.dest...)
}

// change is the current row as the account may see it.
func (f *feedPart) change() syncproto.Change {
	c := syncproto.Change{Seq: uint64(f.seq), Record: f.record, Owner: f.owner, Revision: uint64(f.revision), Envelope: f.envelope}
	if f.own {
		c.OwnerKey = f.ownKey
		visible(f.account, &c, f.deleted, sql.NullInt64{}, sql.NullInt64{}, nil, true)
	} else {
		visible(f.account, &c, f.deleted, f.gRevision, f.gExpiry, f.gBlob, true)
	}
	return c
}

// maxPreallocItems bounds the items slice Changes allocates before it knows how many
// rows the page has (the server's page size is far smaller).
const maxPreallocItems = 1024

// visible applies the visibility rule to a row: c holds the record's stored state, the
// g* values the account's own live grant if any, inFeed whether the record is in the
// account's feed. The query has already withheld the envelope and owner key.
func visible(account syncproto.AccountID, c *syncproto.Change, deleted bool, gRevision, gExpiry sql.NullInt64, gBlob []byte, inFeed bool) {
	switch {
	case c.Owner == account && deleted, c.Owner != account && deleted && inFeed:
		// Envelope is the signed deletion statement: not secret, and the proof a
		// client needs before it drops a copy.
		c.State, c.OwnerKey = syncproto.StateDeleted, nil
	case c.Owner == account:
		c.State = syncproto.StateLive
	case gRevision.Valid:
		c.State, c.OwnerKey = syncproto.StateLive, nil
		c.Grants = []syncproto.GrantPush{{
			Record:    c.Record,
			Revision:  uint64(gRevision.Int64),
			Recipient: account,
			Expires:   timeOrZero(gExpiry.Int64),
			Blob:      gBlob,
		}}
	default:
		*c = syncproto.Change{Seq: c.Seq, Record: c.Record, State: syncproto.StateGone}
	}
}

// ownerGrants fills in the grants of the account's own live records among items, which
// are the feed range (after, last] in seq order. The grants come in seq order too, so one
// pass over both matches them. Other items keep what visible gave them.
func (s *Store) ownerGrants(ctx context.Context, tx *sqlx.Tx, account syncproto.AccountID, after, last uint64, now time.Time, items []syncproto.Change) error {
	rows, err := tx.StmtxContext(ctx, s.rq.feedGrants).QueryContext(ctx, account[:], seqArg(after), seqArg(last), now.Unix())
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var seq seqScan
		g, err := scanGrant(rows, &seq)
		if err != nil {
			return err
		}
		for i < len(items) && items[i].Seq < uint64(seq) {
			i++
		}
		if i < len(items) && items[i].Seq == uint64(seq) && items[i].Record == g.Record &&
			items[i].Owner == account && items[i].State == syncproto.StateLive {
			items[i].Grants = append(items[i].Grants, g)
		}
	}
	return rows.Err()
}

// scanGrant scans a grant: record, recipient, revision, expiry, blob, after the columns
// in first if any.
func scanGrant(rows *sql.Rows, first ...any) (syncproto.GrantPush, error) {
	var (
		g       syncproto.GrantPush
		expires int64
	)
	err := rows.Scan(append(first, fixed(g.Record[:]), fixed(g.Recipient[:]), &g.Revision, &expires, &g.Blob)...)
	g.Expires = timeOrZero(expires)
	return g, err
}

// Records returns, for each ID in order, the record's current state as the account may
// see it at now. Seq is the record's position in the account's feed (0 for StateGone).
func (s *Store) Records(ctx context.Context, account syncproto.AccountID, ids []syncproto.RecordID, now time.Time) ([]syncproto.Change, error) {
	out := make([]syncproto.Change, len(ids))
	for i, id := range ids {
		out[i] = syncproto.Change{Record: id, State: syncproto.StateGone}
	}
	if len(ids) == 0 {
		return out, nil
	}
	unique := make([]syncproto.RecordID, 0, len(ids))
	seen := make(map[syncproto.RecordID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	found := make(map[syncproto.RecordID]syncproto.Change, len(unique))
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		// One snapshot; IDs in chunks, to stay far below SQLite's limit on variables.
		for len(unique) > 0 {
			chunk := unique[:min(len(unique), recordsChunk)]
			unique = unique[len(chunk):]
			if err := recordsChunkQuery(ctx, tx, account, chunk, now, found); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("records for %s: %w", account, err)
	}
	for i, id := range ids {
		if c, ok := found[id]; ok {
			out[i] = c
		}
	}
	return out, nil
}

const recordsChunk = 500

// recordsChunkQuery adds to found the visible state of the records ids (distinct).
func recordsChunkQuery(ctx context.Context, tx *sqlx.Tx, account syncproto.AccountID, ids []syncproto.RecordID, now time.Time, found map[syncproto.RecordID]syncproto.Change) error {
	// ?1 account, ?2 now, ?3... the IDs.
	args := make([]any, 0, 2+len(ids))
	args = append(args, account[:], now.Unix())
	var in strings.Builder
	for i, id := range ids {
		if i > 0 {
			in.WriteString(", ")
		}
		args = append(args, id[:])
		fmt.Fprintf(&in, "?%d", len(args))
	}
	q := `
SELECT r.id, r.owner, r.revision, r.deleted,
       g.revision, g.expires, g.blob,
       CASE WHEN r.owner = ?1 OR g.record IS NOT NULL OR r.deleted = 1 THEN r.envelope END,
       CASE WHEN r.owner = ?1 THEN r.owner_key END,
       CASE WHEN r.owner = ?1 THEN r.owner_seq ELSE c.seq END
FROM records r
LEFT JOIN grants g ON g.record = r.id AND g.recipient = ?1 AND (g.expires = 0 OR g.expires > ?2)
LEFT JOIN changes c ON c.account = ?1 AND c.record = r.id
WHERE r.id IN (` + in.String() + `)`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var owned []any // the account's own live records: their grants follow
	for rows.Next() {
		var (
			c                  syncproto.Change
			deleted            bool
			gRevision, gExpiry sql.NullInt64
			gBlob              []byte
			seq                sql.NullInt64
		)
		if err := rows.Scan(fixed(c.Record[:]), fixed(c.Owner[:]), &c.Revision, &deleted,
			&gRevision, &gExpiry, &gBlob, &c.Envelope, &c.OwnerKey, &seq); err != nil {
			return err
		}
		visible(account, &c, deleted, gRevision, gExpiry, gBlob, seq.Valid)
		if c.State != syncproto.StateGone {
			c.Seq = uint64(seq.Int64)
		}
		if c.Owner == account && c.State == syncproto.StateLive {
			owned = append(owned, c.Record[:])
		}
		found[c.Record] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if len(owned) == 0 {
		return nil
	}
	gq := `SELECT record, recipient, revision, expires, blob FROM grants
WHERE (expires = 0 OR expires > ?) AND record IN (?` + strings.Repeat(", ?", len(owned)-1) + `) ORDER BY record, recipient`
	grows, err := tx.QueryContext(ctx, gq, append([]any{now.Unix()}, owned...)...)
	if err != nil {
		return err
	}
	defer grows.Close()
	for grows.Next() {
		g, err := scanGrant(grows)
		if err != nil {
			return err
		}
		c := found[g.Record]
		c.Grants = append(c.Grants, g)
		found[g.Record] = c
	}
	return grows.Err()
}

// Digest counts the live records visible to the account at now and hashes their
// (record ID ‖ revision, big-endian u64) in record ID order, as of the returned Cursor.
func (s *Store) Digest(ctx context.Context, account syncproto.AccountID, now time.Time) (syncproto.Digest, error) {
	var d syncproto.Digest
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.StmtxContext(ctx, s.rq.cursor).QueryRowxContext(ctx, account[:]).Scan(&d.Cursor); err != nil {
			return err
		}
		rows, err := tx.StmtxContext(ctx, s.rq.digest).QueryContext(ctx, account[:], now.Unix())
		if err != nil {
			return err
		}
		defer rows.Close()
		var items [][16 + 8]byte
		for rows.Next() {
			var (
				buf [16 + 8]byte
				rev uint64
			)
			if err := rows.Scan(fixed(buf[:16]), &rev); err != nil {
				return err
			}
			binary.BigEndian.PutUint64(buf[16:], rev)
			items = append(items, buf)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Record IDs are distinct (an account never holds a grant to its own record), so
		// sorting the whole item orders by ID.
		slices.SortFunc(items, func(a, b [16 + 8]byte) int { return bytes.Compare(a[:], b[:]) })
		h := sha256.New()
		for i := range items {
			h.Write(items[i][:])
		}
		d.Count = uint64(len(items))
		h.Sum(d.Hash[:0])
		return nil
	})
	if err != nil {
		return syncproto.Digest{}, fmt.Errorf("digest of %s: %w", account, err)
	}
	return d, nil
}

// Cursor returns the seq of the newest change in the account's feed (0 if none).
func (s *Store) Cursor(ctx context.Context, account syncproto.AccountID) (uint64, error) {
	var c uint64
	err := s.read(func() error {
		return s.rq.cursor.QueryRowxContext(ctx, account[:]).Scan(&c)
	})
	if err != nil {
		return 0, fmt.Errorf("cursor of %s: %w", account, err)
	}
	return c, nil
}
