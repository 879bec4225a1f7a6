// Package sqlite is the embedded default backend of storage.Store: one SQLite file in WAL
// mode, opened with modernc.org/sqlite (pure Go, no cgo) through sqlx.
//
// # Connections
//
// A Store holds one writer connection and a pool of read-only reader connections. WAL
// lets readers run beside the writer, each on a consistent snapshot. Every connection is
// opened with these pragmas (as _pragma DSN parameters, so that a connection the pool
// opens later gets them too):
//
//	journal_mode=WAL     readers do not block the writer, nor it them
//	synchronous=FULL     the WAL is fsynced at every commit: an acknowledgement is a promise
//	secure_delete=ON     deleted envelopes are overwritten, not left in free pages
//	foreign_keys=ON      rows cannot point at accounts or records that do not exist
//	busy_timeout=5000    wait up to 5 s for a lock held by another process
//	temp_store=MEMORY    savepoint and statement journals stay in memory: group commit's
//	                     savepoints cost no temporary-file writes, and no temporary file
//	                     ever holds a copy of a page
//
// Readers also open with mode=ro and query_only=1.
//
// # Group commit
//
// Every write (Push, and the account, device and session methods) is a job for one writer
// goroutine. It takes the jobs waiting in its queue, up to Options.GroupCommitMax, runs
// them in one transaction so that a failing job is rolled back alone (the first job of
// the transaction by rolling the transaction back, each later one inside its own
// SAVEPOINT), commits once (one fsync for the whole group), and only then answers the
// callers. Under load many callers share one fsync; alone, a caller waits for one commit.
//
// The writer goroutine also issues feed sequence numbers (one counter per account) and
// counts each account's live records (the quota) in memory: it is the only writer, so
// neither needs a read or a write of a shared row per push. Neither is stored; the first
// push of an account after Open counts its records and finds its feed position in
// indexes. One server process may write a database at a time; a second would not corrupt
// it, but feeds would get duplicate seqs and the quota would drift.
//
// # Read-only mode
//
// With Options.ReadOnly (for interlude-audit), Open opens the file with
// file:PATH?mode=ro&immutable=1: no locks, no writes, and nothing created. immutable tells
// SQLite the file cannot change, so it also ignores any -wal file; Open therefore refuses a
// database whose -wal file is not empty, since committed data in it would be invisible.
// A Store the server closed cleanly has no -wal file (Close checkpoints). To audit a live
// server, copy the database and its -wal file together, open the copy once read-write
// and Close it (which folds the log into the file), then open it read-only.
//
// # Schema
//
// The schema is in migrations/*.sql, embedded and applied in order at Open, all pending
// migrations in one transaction, and recorded in schema_migrations. A database whose
// schema is newer than this code is refused (ErrSchemaTooNew). The migration files say
// what class each column is (random id, public key, wrapped key, opaque blob, hash, seq,
// flag, coarse time) for the auditor's allow-list.
package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"interlude/storage"
	"interlude/syncproto"
)

// Errors of this backend, beyond storage's sentinels.
var (
	// ErrSchemaTooNew means the database was migrated by a newer version of Interlude.
	ErrSchemaTooNew = errors.New("schema too new")
	// ErrReadOnly is returned by every write to a Store opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store is open read-only")
)

// Defaults for Options.
const (
	DefaultGroupCommitMax = 64
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Logger receives operational messages (never payloads or keys). Nil discards them.
	Logger *slog.Logger
	// GroupCommitMax is the most write jobs (Push batches, account or session changes)
	// committed in one transaction. 0 means DefaultGroupCommitMax; 1 turns grouping off.
	GroupCommitMax int
	// MaxRecords is the most live records one account may own; a push that would create
	// one more answers CodeQuotaExceeded. 0 means syncproto.DefaultMaxRecordsAccount.
	MaxRecords int
	// Readers is the size of the reader connection pool. 0 means max(4, GOMAXPROCS).
	Readers int
	// ReadOnly opens an existing database without locking, writing or migrating it (see
	// the package documentation). Every write then returns ErrReadOnly.
	ReadOnly bool
}

// Store is a storage.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	path       string
	log        *slog.Logger
	maxGroup   int
	maxRecords int

	readers *sqlx.DB
	rq      readStmts // prepared on readers
	wdb     *sqlx.DB  // nil when read-only
	w       *writer   // used only by the writer goroutine (and Open, before it starts)

	mu     sync.RWMutex // guards closed, and sends on queue
	closed bool
	queue  chan *job
	done   chan struct{} // closed when the writer goroutine has drained the queue

	// groups and jobs count committed groups and the jobs in them (for benchmarks).
	groups, jobs atomic.Int64

	// groupHook, when set by a test, runs in the writer goroutine before each group with
	// the number of jobs in it.
	groupHook func(n int)
}

var _ storage.Store = (*Store)(nil)

// pragmas are applied to every connection. See the package documentation for why.
var pragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"secure_delete(ON)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
}

// writerParams are the writer connection's own:
//   - a 32 MiB page cache (instead of 2 MiB), so that inserts at random places in the
//     record and feed indexes find their pages in memory;
//   - a checkpoint every checkpointPages pages of log (instead of 1,000). Record IDs are
//     random within their day, so nearly every commit rewrites pages of the ID index that
//     earlier commits rewrote too; a checkpoint copies each page once, its latest version,
//     so a longer log between checkpoints copies fewer pages per record.
var writerParams = []string{"_pragma=cache_size(-32768)", fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", checkpointPages)}

// checkpointPages is how many pages the log grows by before the writer copies it into the
// database file: 32 MiB of 4 KiB pages, the most the -wal file then holds. Each
// checkpoint runs in the commit that crosses the line, so that commit's callers wait for
// it (tens of milliseconds; docs/performance.md).
const checkpointPages = 8192

// Open opens (creating if needed, with a 0700 directory and a 0600 file) the database at
// path, applies pending migrations and starts the writer. Close it when done.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{
		path:       abs,
		log:        opts.Logger,
		maxGroup:   opts.GroupCommitMax,
		maxRecords: opts.MaxRecords,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "storage")
	if s.maxGroup <= 0 {
		s.maxGroup = DefaultGroupCommitMax
	}
	if s.maxRecords <= 0 {
		s.maxRecords = syncproto.DefaultMaxRecordsAccount
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.ReadOnly {
		return s.openReadOnly(ctx, readers)
	}

	if err := createFile(abs, s.log); err != nil {
		return nil, err
	}
	s.wdb, err = sqlx.Open("sqlite", dsn(abs, writerParams))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	conn, err := s.wdb.Connx(ctx)
	if err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.w = &writer{conn: conn, stmts: make(map[string]*sqlx.Stmt), live: make(map[syncproto.AccountID]int64), seqs: make(map[syncproto.AccountID]int64)}
	version, applied, err := migrate(ctx, s.w)
	if err != nil {
		s.w.close()
		s.wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}

	// Readers open after the writer has put the file in WAL mode: a mode=ro connection
	// cannot change the journal mode.
	s.readers, err = sqlx.Open("sqlite", dsn(abs, []string{"mode=ro", "_pragma=query_only(1)"}))
	if err != nil {
		s.w.close()
		s.wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.readers.SetMaxOpenConns(readers)
	s.readers.SetMaxIdleConns(readers)
	if err := s.prepareReads(ctx); err != nil {
		s.rq.close()
		s.readers.Close()
		s.w.close()
		s.wdb.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", abs, err)
	}

	s.queue = make(chan *job, 4*s.maxGroup)
	s.done = make(chan struct{})
	go s.run()
	s.log.Info("database open", "path", abs, "schema_version", version, "migrations_applied", applied,
		"group_commit_max", s.maxGroup, "max_records", s.maxRecords, "readers", readers)
	return s, nil
}

func (s *Store) openReadOnly(ctx context.Context, readers int) (*Store, error) {
	if _, err := os.Stat(s.path); err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", s.path, err)
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("open database %s read-only: its write-ahead log %s-wal holds %d bytes that an "+
			"immutable open would not see; stop the server (Close checkpoints the log) or audit a copy taken after a checkpoint",
			s.path, s.path, fi.Size())
	}
	var err error
	s.readers, err = sqlx.Open("sqlite", dsnReadOnly(s.path))
	if err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", s.path, err)
	}
	s.readers.SetMaxOpenConns(readers)
	s.readers.SetMaxIdleConns(readers)
	version, err := schemaVersion(ctx, s.readers)
	if err != nil {
		s.readers.Close()
		return nil, fmt.Errorf("open database %s read-only: %w", s.path, err)
	}
	if latest := len(migrations); version != latest {
		s.readers.Close()
		if version > latest {
			return nil, fmt.Errorf("open database %s read-only: schema version %d is newer than this program's %d; "+
				"use the Interlude that wrote it, or a newer one: %w", s.path, version, latest, ErrSchemaTooNew)
		}
		return nil, fmt.Errorf("open database %s read-only: schema version %d is older than this program's %d; "+
			"open it once read-write to migrate it", s.path, version, latest)
	}
	if err := s.prepareReads(ctx); err != nil {
		s.rq.close()
		s.readers.Close()
		return nil, fmt.Errorf("open database %s read-only: %w", s.path, err)
	}
	s.done = make(chan struct{})
	close(s.done)
	s.log.Info("database open read-only", "path", s.path, "schema_version", version)
	return s, nil
}

// createFile makes the parent directory (0700) and an empty database file (0600) if they
// are missing, so that SQLite does not create them with its own, wider, permissions. The
// -wal and -shm files SQLite makes later copy the database file's permissions.
func createFile(path string, log *slog.Logger) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("database file is readable by others; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// dsn is the file: URI of a read-write (writer) or mode=ro (reader) connection.
func dsn(path string, extra []string) string {
	q := make([]string, 0, len(pragmas)+len(extra))
	q = append(q, extra...)
	for _, p := range pragmas {
		q = append(q, "_pragma="+p)
	}
	return "file:" + escapePath(path) + "?" + strings.Join(q, "&")
}

// dsnReadOnly is the URI of a read-only, immutable connection (see the package doc).
func dsnReadOnly(path string) string {
	return "file:" + escapePath(path) + "?mode=ro&immutable=1&_pragma=query_only(1)&_pragma=busy_timeout(5000)"
}

// escapePath escapes what would end the path part of a file: URI. SQLite decodes %HH.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(func() error {
		var one int
		if err := s.readers.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("ping database: %w", err)
		}
		return nil
	})
}

// Checkpoint copies the write-ahead log into the database file and truncates the log
// (PRAGMA wal_checkpoint(TRUNCATE)), so that overwritten and deleted bytes no longer
// linger in the -wal file. It waits for readers in flight (up to the busy timeout).
func (s *Store) Checkpoint(ctx context.Context) error {
	return s.submit(&job{ctx: ctx, raw: true, fn: func(w *writer) error {
		var busy, logPages, done int
		if err := w.conn.QueryRowxContext(writeCtx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy != 0 {
			return fmt.Errorf("checkpoint: a reader kept the log busy (%d of %d pages copied)", done, logPages)
		}
		return nil
	}})
}

// Close waits for queued writes to commit, then closes the database; the last connection
// to close checkpoints the log and removes the -wal file. Every later call returns
// storage.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.queue != nil {
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done

	var errs []error
	s.rq.close()
	if err := s.readers.Close(); err != nil {
		errs = append(errs, err)
	}
	if s.w != nil {
		if err := s.w.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.wdb != nil {
		if err := s.wdb.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	s.log.Info("database closed", "path", s.path)
	return nil
}

// read runs f unless the store is closed. It holds the read lock so that Close waits for
// reads in flight before closing the reader pool.
func (s *Store) read(f func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return f()
}

// Coarse times. Every time the server stores is unix seconds rounded down to one of these.
const (
	minute = 60
	hour   = 60 * minute
	day    = 24 * hour
)

// coarse returns t as unix seconds rounded down to a multiple of unit.
func coarse(t time.Time, unit int64) int64 {
	u := t.Unix()
	r := u % unit
	if r < 0 {
		r += unit
	}
	return u - r
}

// unixTime is the inverse of coarse (and of t.Unix()), in UTC.
func unixTime(u int64) time.Time { return time.Unix(u, 0).UTC() }

// unixOrZero stores the zero time as 0 (grant expiry "never").
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return unixTime(u)
}

// nonNil turns a nil slice into an empty one, for NOT NULL blob columns: the driver binds
// a nil []byte as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// fixed scans a blob into a fixed-size array (an ID, a key, a hash), refusing a blob of
// the wrong length rather than truncating or padding it.
type fixed []byte

func (f fixed) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("scan %T into a %d-byte value", src, len(f))
	}
	if len(b) != len(f) {
		return fmt.Errorf("stored value is %d bytes, want %d", len(b), len(f))
	}
	copy(f, b)
	return nil
}

// The scanners below serve the feed's hot loop (Changes, several hundred rows a page).
// They are pointer types, so that passing one to Scan allocates nothing, and each takes
// the driver's value as it is, without database/sql's conversions.

// idScan scans a 16-byte ID (an account or record ID) into the array it points to.
type idScan [16]byte

func (p *idScan) Scan(src any) error { return fixed(p[:]).Scan(src) }

// seqScan scans a non-negative integer (a seq or revision) into a uint64.
type seqScan uint64

func (p *seqScan) Scan(src any) error {
	v, ok := src.(int64)
	if !ok || v < 0 {
		return fmt.Errorf("scan %T %v into a seq: want a non-negative integer", src, src)
	}
	*p = seqScan(v)
	return nil
}

// ownedBlob scans a blob (or NULL, as nil) by keeping the slice the driver returned
// rather than copying it.
//
// database/sql's contract lets a driver reuse that memory at the next row; this driver
// (modernc.org/sqlite, rows.Next) makes a new slice for every blob of every row, so the
// slice is the caller's to keep, and a page of envelopes is copied once, out of SQLite,
// instead of twice. TestOwnedBlobsAreFresh checks that property of the driver, and fails
// if an upgrade changes it: then this must copy.
type ownedBlob []byte

func (p *ownedBlob) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*p = nil
	case []byte:
		*p = v[:len(v):len(v)]
	default:
		return fmt.Errorf("scan %T into a blob", src)
	}
	return nil
}
