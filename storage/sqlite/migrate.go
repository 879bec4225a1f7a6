package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/: NNNN_name.sql, applied as version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded migrations in version order, numbered 1, 2, 3, ... without
// gaps. Loading them at init makes a malformed file fail every test at once.
var migrations = mustLoadMigrations(migrationFiles)

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for i, name := range names { // fs.Glob returns names sorted
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name like %04d_what.sql", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// schemaMigrationsSQL creates the table that records which migrations have run. It is
// part of the audited schema: version is a seq, applied_day a coarse time (day).
const schemaMigrationsSQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER NOT NULL PRIMARY KEY, -- seq
    applied_day INTEGER NOT NULL              -- coarse-time (day)
) STRICT, WITHOUT ROWID`

// migrate brings the database to the newest schema in one transaction on the writer
// connection: either every pending migration is applied and recorded, or none is. It
// returns the resulting version and how many migrations it applied.
func migrate(ctx context.Context, w *writer) (version, applied int, err error) {
	c := w.conn
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if err != nil {
			c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := c.ExecContext(ctx, schemaMigrationsSQL); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := c.GetContext(ctx, &version, "SELECT coalesce(max(version), 0) FROM schema_migrations"); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if latest := len(migrations); version > latest {
		return 0, 0, fmt.Errorf("schema version %d is newer than this program's %d; use the Interlude that wrote it, "+
			"or a newer one: %w", version, latest, ErrSchemaTooNew)
	}
	today := coarse(time.Now(), day)
	for _, m := range migrations[version:] {
		if _, err := c.ExecContext(ctx, m.sql); err != nil {
			return 0, 0, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_day) VALUES (?, ?)", m.version, today); err != nil {
			return 0, 0, fmt.Errorf("migration %s: %w", m.name, err)
		}
		version = m.version
		applied++
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return version, applied, nil
}

// schemaVersion reads the newest applied migration without changing anything.
func schemaVersion(ctx context.Context, db *sqlx.DB) (int, error) {
	var n int
	if err := db.GetContext(ctx, &n, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("not an Interlude database (no schema_migrations table)")
	}
	var v int
	err := db.GetContext(ctx, &v, "SELECT coalesce(max(version), 0) FROM schema_migrations")
	return v, err
}
