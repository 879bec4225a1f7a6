package client

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // the embedded SQLite driver, registered as "sqlite"

	"interlude/syncproto"
)

// DBFile is the name of the local store inside a profile directory.
const DBFile = "interlude.db"

//go:embed migrations/*.sql
var migrations embed.FS

// openStore opens (creating if needed) the profile directory and its SQLite file, and
// brings the schema up to date.
//
// The directory is made 0700 and the database 0600: the file holds the Secret Key next to
// the passphrase keybag, which together still need the passphrase (see docs/client.md).
// SQLite gives the -wal and -shm files the database file's mode.
func openStore(dir string) (*sqlx.DB, error) {
	if dir == "" {
		return nil, errors.New("no profile directory given")
	}
	if strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("profile directory %q: '?' and '#' are not allowed in its path", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create profile directory: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open local store: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("restrict local store: %w", err)
	}
	// WAL so that a `sync --watch` process and CLI commands share the file; synchronous=FULL
	// because an entry the user was told is saved must survive a power cut; secure_delete so
	// that deleted envelopes and wiped keys do not linger in free pages; _txlock=immediate so
	// that writers queue on busy_timeout instead of failing on a lock upgrade.
	dsn := path + "?_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_txlock=immediate"
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open local store: %w", err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies the embedded migrations above PRAGMA user_version, each in its own
// transaction with the version bump.
func migrate(ctx context.Context, db *sqlx.DB) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := db.GetContext(ctx, &current, "PRAGMA user_version"); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, name := range names {
		base := filepath.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", base)
		}
		if n <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = inTx(ctx, db, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate local store to version %d: %w", n, err)
		}
		current = n
	}
	return nil
}

// inTx runs fn in a transaction and commits it, or rolls back if fn fails.
func inTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// profileRow is the one row of the profile table.
type profileRow struct {
	Account   []byte `db:"account"`
	Server    string `db:"server"`
	Device    []byte `db:"device"`
	SecretKey string `db:"secret_key"`
	KDFParams []byte `db:"kdf_params"`
	Keybag    []byte `db:"keybag"`
	Session   []byte `db:"session"`
	Cursor    uint64 `db:"cursor"`
	LastSync  int64  `db:"last_sync"`
	Created   int64  `db:"created"`
}

func loadProfile(ctx context.Context, q sqlx.QueryerContext) (*profileRow, error) {
	var p profileRow
	err := sqlx.GetContext(ctx, q, &p, `SELECT account, server, device, secret_key, kdf_params, keybag,
		session, cursor, last_sync, created FROM profile WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoProfile
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return &p, nil
}

// recordRow is one row of the records table.
type recordRow struct {
	ID             []byte `db:"id"`
	Owner          []byte `db:"owner"`
	Revision       uint64 `db:"revision"`
	SyncedRevision uint64 `db:"synced_revision"`
	Seq            uint64 `db:"seq"`
	Deleted        bool   `db:"deleted"`
	Envelope       []byte `db:"envelope"`
	OwnerKey       []byte `db:"owner_key"`
	Role           string `db:"role"` // what the record is: see the role* constants
	Link           []byte `db:"link"` // for a derived copy, its source; for a pairing message, the link request
}

const recordCols = `id, owner, revision, synced_revision, seq, deleted, envelope, owner_key, role, link`

// outboxRow is one pending change.
type outboxRow struct {
	ID           int64  `db:"id"`
	Record       []byte `db:"record"`
	BaseRevision uint64 `db:"base_revision"`
	Revision     uint64 `db:"revision"`
	Deleted      bool   `db:"deleted"`
	Envelope     []byte `db:"envelope"`
	OwnerKey     []byte `db:"owner_key"`
	Created      int64  `db:"created"`
	Attempts     int    `db:"attempts"`
	LastCode     uint16 `db:"last_code"`
	LastError    string `db:"last_error"`

	grants []syncproto.GrantPush // nested grants (outbox_grants), loaded before a push
}

const outboxCols = `id, record, base_revision, revision, deleted, envelope, owner_key, created, attempts, last_code, last_error`

// conflictRow is a local version kept beside the server's.
type conflictRow struct {
	Record        []byte `db:"record"`
	BaseRevision  uint64 `db:"base_revision"`
	LocalRevision uint64 `db:"local_revision"`
	LocalDeleted  bool   `db:"local_deleted"`
	LocalEnvelope []byte `db:"local_envelope"`
	LocalOwnerKey []byte `db:"local_owner_key"`
	Created       int64  `db:"created"`
}

const conflictCols = `record, base_revision, local_revision, local_deleted, local_envelope, local_owner_key, created`

func getRecord(ctx context.Context, q sqlx.QueryerContext, id []byte) (*recordRow, error) {
	var r recordRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+recordCols+` FROM records WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func getConflict(ctx context.Context, q sqlx.QueryerContext, id []byte) (*conflictRow, error) {
	var r conflictRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+conflictCols+` FROM conflicts WHERE record = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func pendingFor(ctx context.Context, q sqlx.QueryerContext, id []byte) ([]outboxRow, error) {
	var rows []outboxRow
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+outboxCols+` FROM outbox WHERE record = ? ORDER BY revision`, id)
	return rows, err
}
