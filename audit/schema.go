package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// checkSchema compares the database's schema with the allow-list: every table, column,
// index, trigger and view in sqlite_schema must be listed, with the listed type, constraints
// and options; virtual tables (FTS and the like) are never allowed; and PRAGMA
// integrity_check must answer ok. It returns the allow-listed tables present, with the
// allow-listed columns each has, for the other checks to read.
func checkSchema(ctx context.Context, d *database, al *Allowlist, c *Check) (map[string][]string, error) {
	objs, err := d.schemaObjects(ctx)
	if err != nil {
		return nil, err
	}
	tables, err := d.tables(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*tableInfo{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	counts := map[string]int{}
	reported := map[string]bool{}
	for _, o := range objs {
		counts[o.Type]++
		sqlUpper := strings.ToUpper(normalizeSQL(o.SQL))
		switch o.Type {
		case "table":
			if strings.HasPrefix(sqlUpper, "CREATE VIRTUAL TABLE") {
				counts["virtual"]++
				c.failf(o.Name, "virtual table (%s): not allowed; a full-text or other virtual table would index plaintext", preview([]byte(o.SQL), 60))
				reported[o.Name] = true
				continue
			}
			if al.Table(o.Name) == nil {
				c.failf(o.Name, "table %s is not on the allow-list", o.Name)
				reported[o.Name] = true
			}
		case "index":
			x := al.Index(o.Name)
			if x == nil {
				c.failf(o.Name, "index %s on %s is not on the allow-list (%s)", o.Name, o.Table, orNone(o.SQL))
				continue
			}
			checkIndex(ctx, d, o, x, c)
		case "trigger":
			c.failf(o.Name, "trigger %s on %s: triggers are not allowed (one could copy data anywhere): %s", o.Name, o.Table, preview([]byte(o.SQL), 80))
		case "view":
			c.failf(o.Name, "view %s: views are not allowed: %s", o.Name, preview([]byte(o.SQL), 80))
		default:
			c.failf(o.Name, "unknown schema object of type %q", o.Type)
		}
	}

	present := map[string][]string{}
	ncols := 0
	classCount := map[string]int{}
	for _, t := range tables {
		if t.Name == "sqlite_schema" || t.Name == "sqlite_temp_schema" {
			continue
		}
		spec := al.Table(t.Name)
		if spec == nil {
			if !reported[t.Name] {
				c.failf(t.Name, "%s %s is not on the allow-list", t.Type, t.Name)
			}
			continue
		}
		if t.Type != "table" {
			c.failf(t.Name, "%s is a %s, the allow-list has a table", t.Name, t.Type)
			continue
		}
		if t.Strict != spec.Strict {
			c.failf(t.Name, "table %s: STRICT is %v, the allow-list says %v", t.Name, t.Strict, spec.Strict)
		}
		if t.WithoutRowid != spec.WithoutRowid {
			c.failf(t.Name, "table %s: WITHOUT ROWID is %v, the allow-list says %v", t.Name, t.WithoutRowid, spec.WithoutRowid)
		}
		var cols []string
		for _, col := range t.Columns {
			ncols++
			where := t.Name + "." + col.Name
			cs := spec.Column(col.Name)
			if cs == nil {
				c.failf(where, "column %s (%s) is not on the allow-list: the server may not keep it", where, orNone(col.Type))
				continue
			}
			classCount[cs.Class]++
			cols = append(cols, col.Name)
			var diffs []string
			if !strings.EqualFold(col.Type, cs.Type) {
				diffs = append(diffs, fmt.Sprintf("type %q, want %q", col.Type, cs.Type))
			}
			if col.NotNull != cs.NotNull {
				diffs = append(diffs, fmt.Sprintf("NOT NULL %v, want %v", col.NotNull, cs.NotNull))
			}
			if col.PK != cs.PK {
				diffs = append(diffs, fmt.Sprintf("primary key position %d, want %d", col.PK, cs.PK))
			}
			if (col.Default == nil) != (cs.Default == nil) || (col.Default != nil && *col.Default != *cs.Default) {
				diffs = append(diffs, fmt.Sprintf("default %s, want %s", optText(col.Default), optText(cs.Default)))
			}
			if col.Hidden != 0 {
				diffs = append(diffs, fmt.Sprintf("hidden or generated (hidden=%d): a generated column can compute anything", col.Hidden))
			}
			if len(diffs) > 0 {
				c.failf(where, "column %s differs from the allow-list: %s", where, strings.Join(diffs, "; "))
			}
		}
		for _, cs := range spec.Columns {
			if !slices.ContainsFunc(t.Columns, func(ci columnInfo) bool { return ci.Name == cs.Name }) {
				c.failf(t.Name+"."+cs.Name, "allow-listed column %s.%s is missing: this is not the schema the allow-list describes", t.Name, cs.Name)
			}
		}
		present[t.Name] = cols
	}
	for _, spec := range al.Tables {
		if byName[spec.Name] == nil {
			c.failf(spec.Name, "allow-listed table %s is missing: this is not the schema the allow-list describes", spec.Name)
		}
	}
	haveIndex := map[string]bool{}
	for _, o := range objs {
		if o.Type == "index" {
			haveIndex[o.Name] = true
		}
	}
	for _, x := range al.Indexes {
		if !haveIndex[x.Name] && byName[x.Table] != nil {
			c.failf(x.Name, "allow-listed index %s is missing: this is not the schema the allow-list describes", x.Name)
		}
	}

	var integrity []string
	rows, err := d.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("%s: integrity_check: %w", d.name, err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		integrity = append(integrity, s)
	}
	rows.Close()
	if len(integrity) != 1 || integrity[0] != "ok" {
		c.failf("integrity_check", "the database is damaged, so what it holds cannot be vouched for: %s", preview([]byte(strings.Join(integrity, "; ")), 200))
	}
	var pageSize, pageCount, freelist int64
	d.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize)
	d.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pageCount)
	d.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&freelist)
	var version int64 = -1
	if present["schema_migrations"] != nil {
		d.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version)
	}

	c.Figures.Set("tables", counts["table"])
	c.Figures.Set("columns", ncols)
	c.Figures.Set("indexes", counts["index"])
	c.Figures.Set("triggers", counts["trigger"])
	c.Figures.Set("views", counts["view"])
	c.Figures.Set("virtual_tables", counts["virtual"])
	c.Figures.Set("allow_listed_columns_by_class", classCount)
	c.Figures.Set("schema_version", version)
	c.Figures.Set("integrity_check", strings.Join(integrity, "; "))
	c.Figures.Set("page_size", pageSize)
	c.Figures.Set("pages", pageCount)
	c.Figures.Set("free_pages", freelist)
	if c.Status == StatusPass {
		c.Summary = fmt.Sprintf("%d tables, %d columns, %d indexes, no triggers, views or virtual tables: all on the allow-list", counts["table"], ncols, counts["index"])
	} else {
		c.Summary = fmt.Sprintf("%d schema objects differ from the allow-list", c.FindingCount)
	}
	return present, nil
}

func checkIndex(ctx context.Context, d *database, o schemaObject, x *IndexSpec, c *Check) {
	if o.Table != x.Table {
		c.failf(o.Name, "index %s is on table %s, the allow-list has it on %s", o.Name, o.Table, x.Table)
		return
	}
	info, err := d.index(ctx, o.Table, o.Name)
	if err != nil {
		c.failf(o.Name, "could not read index %s: %v", o.Name, err)
		return
	}
	var diffs []string
	if info.Unique != x.Unique {
		diffs = append(diffs, fmt.Sprintf("unique %v, want %v", info.Unique, x.Unique))
	}
	if !slices.Equal(info.Columns, x.Columns) {
		diffs = append(diffs, fmt.Sprintf("columns (%s), want (%s)", strings.Join(info.Columns, ", "), strings.Join(x.Columns, ", ")))
	}
	where := ""
	if info.Partial {
		s := normalizeSQL(o.SQL)
		if i := strings.LastIndex(strings.ToUpper(s), " WHERE "); i >= 0 {
			where = s[i+len(" WHERE "):]
		} else {
			where = "?"
		}
	}
	if where != x.Where {
		diffs = append(diffs, fmt.Sprintf("condition %q, want %q", where, x.Where))
	}
	if len(diffs) > 0 {
		c.failf(o.Name, "index %s differs from the allow-list: %s", o.Name, strings.Join(diffs, "; "))
	}
}

func optText(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}
