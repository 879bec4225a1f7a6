package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"interlude/storage"
	"interlude/syncproto"
)

// A job is one write: fn runs on the writer connection, inside a transaction it may share
// with other jobs, within its own savepoint. done receives nil only once the transaction
// holding fn's changes has committed durably.
type job struct {
	ctx  context.Context
	fn   func(w *writer) error
	raw  bool // run alone, outside any transaction (PRAGMA wal_checkpoint needs that)
	done chan error
}

// writer is the one connection that writes. Only the writer goroutine uses it once Open
// has returned, so it needs no lock.
type writer struct {
	conn  *sqlx.Conn
	stmts map[string]*sqlx.Stmt // prepared once per query text

	// live counts the live records of each account that has pushed since Open, as of
	// the open transaction (the quota). The writer is the only one to change records, so
	// once loaded the count is kept here rather than read and rewritten on every push.
	// undo lists the changes the running job made, to restore if it is rolled back.
	live map[syncproto.AccountID]int64
	undo []liveUndo

	// seqs holds the highest feed seq issued to each account that has been fed since
	// Open, as of the open transaction. Every account has its own counter; it is loaded
	// once (the maximum over the account's records.owner_seq and changes.seq) and kept
	// here, like live. seqUndo lists the running job's changes.
	seqs    map[syncproto.AccountID]int64
	seqUndo []liveUndo
}

type liveUndo struct {
	account syncproto.AccountID
	n       int64
}

// writeCtx is the context of every statement the writer runs. A caller's context does not
// reach SQL: cancelling one caller must not abort a transaction it shares with others.
var writeCtx = context.Background()

// stmt returns the prepared statement for q, preparing it on first use.
func (w *writer) stmt(q string) (*sqlx.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.conn.PreparexContext(writeCtx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(writeCtx, args...)
}

// execN runs q and returns the number of rows it changed.
func (w *writer) execN(q string, args ...any) (int64, error) {
	r, err := w.exec(q, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// get scans the one row q returns into dest (sql.ErrNoRows if none).
func (w *writer) get(q string, args []any, dest ...any) error {
	st, err := w.stmt(q)
	if err != nil {
		return err
	}
	return st.QueryRowContext(writeCtx, args...).Scan(dest...)
}

// exists reports whether q returns a row.
func (w *writer) exists(q string, args ...any) (bool, error) {
	var one int
	err := w.get(q, args, &one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (w *writer) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(writeCtx, args...)
}

// begin opens a write transaction.
func (w *writer) begin() error {
	if _, err := w.conn.ExecContext(writeCtx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return nil
}

// liveCount returns the number of live records account owns, or ErrNotFound if there is
// no such account. The first call for an account counts them (a range of records_live).
func (w *writer) liveCount(account syncproto.AccountID) (int64, error) {
	if n, ok := w.live[account]; ok {
		return n, nil
	}
	ok, err := w.exists(`SELECT 1 FROM accounts WHERE id = ?`, account[:])
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, storage.ErrNotFound
	}
	var n int64
	if err := w.get(liveCountQuery, []any{account[:]}, &n); err != nil {
		return 0, err
	}
	w.live[account] = n
	return n, nil
}

// liveCountQuery counts an account's live records with the partial index records_live.
const liveCountQuery = `SELECT count(*) FROM records WHERE owner = ? AND deleted = 0`

// addLive changes account's live count (loaded by liveCount) by delta.
func (w *writer) addLive(account syncproto.AccountID, delta int64) {
	w.undo = append(w.undo, liveUndo{account, w.live[account]})
	w.live[account] += delta
}

// rollBackLive restores the counts the failed job changed.
func (w *writer) rollBackLive() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		w.live[w.undo[i].account] = w.undo[i].n
	}
	w.undo = w.undo[:0]
}

// feedHighQuery is an account's feed position: the highest seq of its own records
// (records_feed) and of its entries as a recipient (changes_feed), one seek each.
const feedHighQuery = `SELECT max(
	coalesce((SELECT max(owner_seq) FROM records WHERE owner = ?1), 0),
	coalesce((SELECT max(seq) FROM changes WHERE account = ?1), 0))`

// lastSeq returns the highest feed seq issued to account, loading it on first use.
func (w *writer) lastSeq(account syncproto.AccountID) (int64, error) {
	if n, ok := w.seqs[account]; ok {
		return n, nil
	}
	var n int64
	if err := w.get(feedHighQuery, []any{account[:]}, &n); err != nil {
		return 0, fmt.Errorf("feed position: %w", err)
	}
	w.seqs[account] = n
	return n, nil
}

// nextSeq issues account's next feed seq.
func (w *writer) nextSeq(account syncproto.AccountID) (int64, error) {
	n, err := w.lastSeq(account)
	if err != nil {
		return 0, err
	}
	w.seqUndo = append(w.seqUndo, liveUndo{account, n})
	w.seqs[account] = n + 1
	return n + 1, nil
}

// rollBackSeqs restores the counters the failed job moved.
func (w *writer) rollBackSeqs() {
	for i := len(w.seqUndo) - 1; i >= 0; i-- {
		w.seqs[w.seqUndo[i].account] = w.seqUndo[i].n
	}
	w.seqUndo = w.seqUndo[:0]
}

// rollback ends the open transaction, undoing all it wrote. No transaction is no error:
// SQLite rolls back by itself after some failures (a full disk, an I/O error).
func (w *writer) rollback() error {
	_, err := w.conn.ExecContext(writeCtx, "ROLLBACK")
	if err != nil && strings.Contains(err.Error(), "no transaction is active") {
		return nil
	}
	return err
}

func (w *writer) close() error {
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// write queues fn for the writer goroutine and waits until it has committed (nil), failed
// (its error; nothing it wrote remains) or ctx ends (ctx.Err(); fn may still commit).
func (s *Store) write(ctx context.Context, fn func(w *writer) error) error {
	return s.submit(&job{ctx: ctx, fn: fn})
}

func (s *Store) submit(j *job) error {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	j.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	if s.queue == nil {
		s.mu.RUnlock()
		return ErrReadOnly
	}
	select {
	case s.queue <- j:
	case <-j.ctx.Done():
		s.mu.RUnlock()
		return j.ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case err := <-j.done:
		return err
	case <-j.ctx.Done():
		return j.ctx.Err()
	}
}

// run is the writer goroutine. It takes the jobs waiting in the queue, up to maxGroup,
// and commits them together. It returns when Close has closed the queue and every queued
// job has been answered.
func (s *Store) run() {
	defer close(s.done)
	group := make([]*job, 0, s.maxGroup)
	var next *job
	for {
		j := next
		next = nil
		if j == nil {
			var ok bool
			if j, ok = <-s.queue; !ok {
				return
			}
		}
		if j.raw {
			s.runRaw(j)
			continue
		}
		group = append(group[:0], j)
	collect:
		for len(group) < s.maxGroup {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break collect
				}
				if j.raw {
					next = j
					break collect
				}
				group = append(group, j)
			default:
				break collect
			}
		}
		s.commit(group)
		clear(group) // drop references to answered jobs
	}
}

func (s *Store) runRaw(j *job) {
	if err := j.ctx.Err(); err != nil {
		j.done <- err
		return
	}
	j.done <- j.fn(s.w)
}

// commit runs a group of jobs in one transaction, commits once and answers every job. A
// job whose fn fails is rolled back alone and gets its error; if the transaction itself
// fails (savepoint, commit, I/O), every job gets that error and nothing is acknowledged.
//
// The first job of a transaction runs without a savepoint: if it fails, the whole
// transaction, which holds nothing else, is rolled back and a new one begun for the jobs
// after it. Each later job runs in its own savepoint, which costs SQLite a copy of every
// page the job changes (its sub-journal); a connection pushing alone mostly fills
// transactions of one job, and so pays nothing for isolation it does not need.
func (s *Store) commit(group []*job) {
	if s.groupHook != nil {
		s.groupHook(len(group))
	}
	todo := make([]*job, 0, len(group))
	for _, j := range group {
		if err := j.ctx.Err(); err != nil {
			j.done <- err // given up before it ran: nothing written
			continue
		}
		todo = append(todo, j)
	}
	if len(todo) == 0 {
		return
	}
	w := s.w
	errs := make([]error, len(todo))
	broken := w.begin()
	empty := true // the open transaction holds no job's changes
	for i, j := range todo {
		if broken != nil {
			break
		}
		w.undo, w.seqUndo = w.undo[:0], w.seqUndo[:0]
		if empty {
			if errs[i] = j.fn(w); errs[i] == nil {
				empty = false
				continue
			}
			w.rollBackSeqs()
			w.rollBackLive()
			if err := w.rollback(); err != nil {
				broken = fmt.Errorf("roll back a failed write (%v): %w", errs[i], err)
				break
			}
			if i+1 < len(todo) {
				broken = w.begin()
			}
			continue
		}
		if _, err := w.exec("SAVEPOINT job"); err != nil {
			broken = fmt.Errorf("savepoint: %w", err)
			break
		}
		if errs[i] = j.fn(w); errs[i] != nil {
			w.rollBackSeqs()
			w.rollBackLive()
			if _, err := w.exec("ROLLBACK TO job"); err != nil {
				broken = fmt.Errorf("roll back a failed write (%v): %w", errs[i], err)
				break
			}
		}
		if _, err := w.exec("RELEASE job"); err != nil {
			broken = fmt.Errorf("release savepoint: %w", err)
			break
		}
	}
	// If every job failed, each was rolled back and no transaction is open.
	if broken == nil && !empty {
		if _, err := w.conn.ExecContext(writeCtx, "COMMIT"); err != nil {
			broken = fmt.Errorf("commit: %w", err)
		}
	}
	if broken == nil {
		s.groups.Add(1)
		s.jobs.Add(int64(len(todo)))
	} else {
		w.conn.ExecContext(writeCtx, "ROLLBACK") // fails harmlessly if SQLite already rolled back
		clear(w.live)                            // counts are reloaded from what committed
		clear(w.seqs)                            // and so are feed positions
		s.log.Error("write transaction failed; none of its writes was acknowledged", "jobs", len(todo), "err", broken)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("write not committed: %w", broken)
			}
		}
	}
	for i, j := range todo {
		j.done <- errs[i]
	}
}
