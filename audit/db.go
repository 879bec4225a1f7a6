package audit

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// database is one SQLite file of the snapshot, opened read-only.
type database struct {
	name string // path relative to the data directory
	work string // the working copy that was opened
	db   *sql.DB
}

// openDatabase makes a working copy of a snapshot database and opens it. If the snapshot
// holds a non-empty write-ahead log (NAME-wal) or rollback journal (NAME-journal) for it,
// they are copied too and folded into the working copy first, by opening the copy read-write
// and running PRAGMA wal_checkpoint(TRUNCATE) (a hot journal is rolled back by the open).
// That is the only write this tool makes, and it is to its own third copy: the originals
// were only read, and the snapshot copies that the byte scans read are left as they were.
// The folded copy is then opened with mode=ro&immutable=1: no locks, no writes, no -shm.
func openDatabase(ctx context.Context, snap *snapFile, all []*snapFile, workDir string) (*database, error) {
	dir, err := os.MkdirTemp(workDir, "db-")
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, filepath.Base(snap.copy))
	if err := copyPlain(snap.copy, work); err != nil {
		return nil, err
	}
	side := false
	for _, f := range all {
		for _, suffix := range []string{"-wal", "-journal"} {
			if f.copy == snap.copy+suffix && f.Size > 0 {
				if err := copyPlain(f.copy, work+suffix); err != nil {
					return nil, err
				}
				side = true
			}
		}
	}
	if side {
		rw, err := sql.Open("sqlite", "file:"+uriPath(work)+"?mode=rw")
		if err != nil {
			return nil, err
		}
		rw.SetMaxOpenConns(1)
		var busy, logPages, done int
		err = rw.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
		if cerr := rw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: folding its write-ahead log into a private copy: %w", snap.Path, err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+uriPath(work)+"?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", snap.Path, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s is not a readable SQLite database: %w", snap.Path, err)
	}
	return &database{name: snap.Path, work: work, db: db}, nil
}

func (d *database) close() error { return d.db.Close() }

func copyPlain(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// uriPath escapes what would end the path part of a file: URI.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// row is one row read by scanTable, with access by column name.
type row struct {
	cols  map[string]int
	vals  []any
	rowid int64
}

// has reports whether the column was read.
func (r *row) has(col string) bool { _, ok := r.cols[col]; return ok }

// value returns a column's value (nil for NULL or a column not read).
func (r *row) value(col string) any {
	i, ok := r.cols[col]
	if !ok {
		return nil
	}
	return r.vals[i]
}

// blob returns a BLOB value, or nil (NULL, missing, or another type).
func (r *row) blob(col string) []byte {
	b, _ := r.value(col).([]byte)
	return b
}

// isNull reports whether the column was read and is NULL.
func (r *row) isNull(col string) bool {
	i, ok := r.cols[col]
	return ok && r.vals[i] == nil
}

// int returns an INTEGER value and whether it was one.
func (r *row) int(col string) (int64, bool) {
	v, ok := r.value(col).(int64)
	return v, ok
}

// scanTable calls fn for every row of table, with the given columns (those that exist) and,
// for rowid tables, the rowid.
func (d *database) scanTable(ctx context.Context, table string, cols []string, withRowid bool, fn func(*row) error) error {
	sel := make([]string, 0, len(cols)+1)
	r := &row{cols: map[string]int{}}
	for i, c := range cols {
		sel = append(sel, quoteIdent(c))
		r.cols[c] = i
	}
	if withRowid {
		sel = append(sel, "rowid")
	}
	if len(sel) == 0 {
		return nil
	}
	rows, err := d.db.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+quoteIdent(table))
	if err != nil {
		return fmt.Errorf("%s: read %s: %w", d.name, table, err)
	}
	defer rows.Close()
	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("%s: read %s: %w", d.name, table, err)
		}
		r.vals = vals[:len(cols)]
		if withRowid {
			r.rowid, _ = vals[len(cols)].(int64)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: read %s: %w", d.name, table, err)
	}
	return nil
}

// schemaObject is one row of sqlite_schema.
type schemaObject struct {
	Type, Name, Table, SQL string
}

func (d *database) schemaObjects(ctx context.Context) ([]schemaObject, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("%s: read sqlite_schema: %w", d.name, err)
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// tableInfo is what PRAGMA table_list and table_xinfo say about one table.
type tableInfo struct {
	Name         string
	Type         string // table, view, virtual, shadow
	Strict       bool
	WithoutRowid bool
	Columns      []columnInfo
}

type columnInfo struct {
	Name    string
	Type    string
	NotNull bool
	Default *string
	PK      int
	Hidden  int // 0 normal; 1 hidden (virtual tables); 2, 3 generated
}

func (d *database) tables(ctx context.Context) ([]*tableInfo, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("%s: PRAGMA table_list: %w", d.name, err)
	}
	var ts []*tableInfo
	for rows.Next() {
		t := &tableInfo{}
		var wr, strict int
		if err := rows.Scan(&t.Name, &t.Type, &wr, &strict); err != nil {
			rows.Close()
			return nil, err
		}
		t.WithoutRowid, t.Strict = wr != 0, strict != 0
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range ts {
		cr, err := d.db.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, t.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: PRAGMA table_xinfo(%s): %w", d.name, t.Name, err)
		}
		for cr.Next() {
			var c columnInfo
			var nn int
			var def sql.NullString
			if err := cr.Scan(&c.Name, &c.Type, &nn, &def, &c.PK, &c.Hidden); err != nil {
				cr.Close()
				return nil, err
			}
			c.NotNull = nn != 0
			if def.Valid {
				c.Default = &def.String
			}
			t.Columns = append(t.Columns, c)
		}
		cr.Close()
		if err := cr.Err(); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// indexInfo is what PRAGMA index_list and index_xinfo say about one index.
type indexInfo struct {
	Unique  bool
	Partial bool
	Columns []string // key columns; "<expression>" for an expression
}

func (d *database) index(ctx context.Context, table, name string) (*indexInfo, error) {
	var x indexInfo
	var unique, partial int
	err := d.db.QueryRowContext(ctx, `SELECT "unique", partial FROM pragma_index_list(?) WHERE name = ?`, table, name).Scan(&unique, &partial)
	if err != nil {
		return nil, fmt.Errorf("%s: PRAGMA index_list(%s): %w", d.name, table, err)
	}
	x.Unique, x.Partial = unique != 0, partial != 0
	rows, err := d.db.QueryContext(ctx, `SELECT cid, name, key FROM pragma_index_xinfo(?) ORDER BY seqno`, name)
	if err != nil {
		return nil, fmt.Errorf("%s: PRAGMA index_xinfo(%s): %w", d.name, name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, key int
		var col sql.NullString
		if err := rows.Scan(&cid, &col, &key); err != nil {
			return nil, err
		}
		if key == 0 {
			continue
		}
		if cid == -2 || !col.Valid {
			x.Columns = append(x.Columns, "<expression>")
		} else {
			x.Columns = append(x.Columns, col.String)
		}
	}
	return &x, rows.Err()
}
