package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"interlude/client"
	"interlude/journal"
	"interlude/syncproto"
)

func cmdAdd(c *cli, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		w := c.stderr
		fmt.Fprintf(w, "usage: interlude add <kind> [field flags]   (interlude add <kind> --help lists a kind's fields)\n\nkinds:\n")
		for _, k := range journal.Kinds() {
			fmt.Fprintf(w, "  %-15s %s\n", k.Name, k.Description)
		}
		return &exitErr{code: exitUsage}
	}
	kind, rest := args[0], args[1:]
	specs, err := specsFor(kind, answerKindArg(rest))
	if err != nil {
		return usageErr("%v", err)
	}
	fs := c.flags("add " + kind)
	fields := addFieldFlags(fs, specs...)
	if _, err := parse(fs, rest); err != nil {
		return err
	}
	values := fields.given()
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := c.fillText(specs, values, true); err != nil {
		return err
	}
	if err := c.promptMissing(specs, values); err != nil {
		return err
	}
	e, pt, err := c.buildEntry(kind, values)
	if err != nil {
		return err
	}
	safety := c.safetyCheck(e) // at once, before saving
	id, err := cl.Add(c.ctx, pt)
	if err != nil {
		return err
	}
	out := map[string]any{"id": id.String(), "kind": e.Kind}
	if safety {
		out["safety_flag"] = true
	}
	return c.out(out, func(w io.Writer) {
		fmt.Fprintf(w, "Added %s %s (saved on this device; `interlude sync` sends it).\n", e.Kind, id)
	})
}

// buildEntry builds a journal entry of kind from field values, dated now, and
// marshals it.
func (c *cli) buildEntry(kind string, values map[string]string) (*journal.Entry, []byte, error) {
	e, err := journal.Build(kind, values)
	if err != nil {
		return nil, nil, buildErr(err)
	}
	e.Touch(c.now())
	pt, err := journal.Marshal(e)
	if err != nil {
		return nil, nil, err
	}
	return e, pt, nil
}

// safetyCheck shows crisis resources at once, offline, when a measure's safety item was
// answered above "not at all" (journal sets the flag; this device sends nothing).
func (c *cli) safetyCheck(e *journal.Entry) bool {
	m := measureIn(e) // a measure, or one answered as homework (safety.go)
	if m == nil || !journal.SafetyFlagged(m.MeasureID, m.Answers) {
		return false
	}
	fmt.Fprintf(c.stderr, "\n%s\n", c.crisisResources().Lookup(c.locale()).Text())
	return true
}

// entryFilter is list's (and share's) --kind, --since and --until.
type entryFilter struct {
	kind, since, until *string
}

// checkDays refuses a --since or --until that is not a day.
func (f entryFilter) checkDays() error {
	for _, d := range []*string{f.since, f.until} {
		if *d != "" {
			if _, err := journal.ParseDay(*d); err != nil {
				return usageErr("%v", err)
			}
		}
	}
	return nil
}

// match reports whether an entry passes the filter; --kind names a measure, too.
func (f entryFilter) match(v *entryView) bool {
	if *f.kind != "" && v.Kind != *f.kind && !(v.Kind == journal.KindMeasure && measureID(v) == *f.kind) {
		return false
	}
	return (*f.since == "" || v.Day >= *f.since) && (*f.until == "" || v.Day <= *f.until)
}

func cmdList(c *cli, args []string) error {
	fs := c.flags("list")
	filter := entryFilter{
		kind:  fs.String("kind", "", "only entries of this kind"),
		since: fs.String("since", "", "only entries of this day (YYYY-MM-DD) or later"),
		until: fs.String("until", "", "only entries of this day (YYYY-MM-DD) or earlier"),
	}
	shared := fs.Bool("shared", false, "what you share, and with whom")
	from := fs.String("from", "", "the entries this contact shares with you (clinicians: a client)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := filter.checkDays(); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	if *shared {
		return c.listShared(cl)
	}
	names, err := contactNames(c, cl)
	if err != nil {
		return err
	}
	var entries []*client.Entry
	if *from != "" {
		ct, err := contactArg(c, cl, *from)
		if err != nil {
			return err
		}
		entries, err = cl.ListFrom(c.ctx, ct.Account, client.ListFilter{})
		if err != nil {
			return err
		}
	} else if entries, err = cl.List(c.ctx, client.ListFilter{}); err != nil {
		return err
	}
	views := []*entryView{}
	for _, e := range entries {
		v := view(e.ID, e.Revision, e.Synced, e.Conflict, e.Plaintext)
		v.sharing(e, names)
		if filter.match(v) {
			views = append(views, v)
		}
	}
	sort.SliceStable(views, func(i, j int) bool {
		if !views[i].created.Equal(views[j].created) {
			return views[i].created.Before(views[j].created)
		}
		return views[i].ID < views[j].ID
	})
	return c.out(views, func(w io.Writer) {
		for _, v := range views {
			fmt.Fprintf(w, "%s  %s  %-14s %s%s\n", v.ID, v.Day, v.Kind, v.preview(), v.flags())
		}
		if len(views) == 0 {
			fmt.Fprintln(w, "No entries.")
		}
	})
}

func measureID(v *entryView) string {
	if v.doc == nil {
		return ""
	}
	return v.doc.str(v.doc.body, "measure")
}

func cmdShow(c *cli, args []string) error {
	cl, e, err := c.openEntry(c.flags("show"), args)
	if err != nil {
		return err
	}
	defer cl.Close()
	v := view(e.ID, e.Revision, e.Synced, e.Conflict, e.Plaintext)
	names, err := contactNames(c, cl)
	if err != nil {
		return err
	}
	v.sharing(e, names)
	return c.out(v, func(w io.Writer) { showView(w, v) })
}

func showView(w io.Writer, v *entryView) {
	fmt.Fprintf(w, "%s %s  (revision %d%s)\n", v.Kind, v.ID, v.Revision, v.flags())
	if v.Created != "" {
		fmt.Fprintf(w, "  %-16s %s\n", "created", v.Created)
	}
	if v.Updated != "" && v.Updated != v.Created {
		fmt.Fprintf(w, "  %-16s %s\n", "updated", v.Updated)
	}
	if v.doc == nil {
		fmt.Fprintf(w, "%s\n", v.Text)
		return
	}
	for _, f := range v.fields() {
		val := f[1]
		if strings.Contains(val, "\n") {
			val = "\n    " + strings.ReplaceAll(val, "\n", "\n    ")
		}
		fmt.Fprintf(w, "  %-16s %s\n", f[0], val)
	}
	if e, err := journal.Unmarshal(v.Entry); err == nil {
		if m, ok := e.Body.(*journal.Measure); ok {
			if r, err := m.Score(); err == nil {
				fmt.Fprintf(w, "  %-16s %s\n", "score", r)
			}
		}
	}
	if v.Conflict {
		fmt.Fprintln(w, "This entry was also changed on another device: see `interlude conflicts`.")
	}
}

func cmdEdit(c *cli, args []string) error {
	fs := c.flags("edit")
	fields := allFieldFlags(fs)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	given := fields.given()
	if len(given) == 0 {
		return usageErr("name the fields to change, e.g. interlude edit %s --note \"...\"", id)
	}
	cl, e, err := c.openUnlockedEntry(id)
	if err != nil {
		return err
	}
	defer cl.Close()
	pt, err := c.editFields(e.Plaintext, given)
	if err != nil {
		return err
	}
	if edited, err := journal.Unmarshal(pt); err == nil {
		c.safetyCheck(edited)
	}
	if err := cl.Edit(c.ctx, id, pt); err != nil {
		return err
	}
	return c.out(map[string]any{"id": id.String(), "revision": e.Revision + 1}, func(w io.Writer) {
		fmt.Fprintf(w, "Edited %s (revision %d, saved on this device; `interlude sync` sends it).\n", id, e.Revision+1)
	})
}

// editFields is edit's (and resolve's merge): the entry document pt with the given
// fields changed, after reading any text field given as "-" from stdin.
func (c *cli) editFields(pt []byte, given map[string]string) ([]byte, error) {
	d, err := splitDoc(pt)
	if err != nil {
		return nil, err
	}
	specs, err := specsFor(d.kindOf())
	if err != nil {
		return nil, err
	}
	if err := c.fillText(specs, given, false); err != nil {
		return nil, err
	}
	return applyFields(pt, given, time.Now())
}

func cmdDelete(c *cli, args []string) error {
	cl, id, err := c.openID(c.flags("delete"), args)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Delete(c.ctx, id); err != nil {
		return err
	}
	return c.out(map[string]any{"deleted": id.String()}, func(w io.Writer) {
		fmt.Fprintf(w, "Deleted %s here; `interlude sync` deletes it everywhere.\n", id)
	})
}

type versionJSON struct {
	Revision uint64     `json:"revision"`
	Deleted  bool       `json:"deleted"`
	View     *entryView `json:"view,omitempty"`
}

type conflictJSON struct {
	ID           string      `json:"id"`
	BaseRevision uint64      `json:"base_revision"`
	Local        versionJSON `json:"local"`
	Remote       versionJSON `json:"remote"`
}

func versionOf(id syncproto.RecordID, v client.Version) versionJSON {
	j := versionJSON{Revision: v.Revision, Deleted: v.Deleted}
	if !v.Deleted {
		j.View = view(id, v.Revision, true, true, v.Plaintext)
	}
	return j
}

func cmdConflicts(c *cli, args []string) error {
	fs := c.flags("conflicts")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	cs, err := cl.Conflicts(c.ctx)
	if err != nil {
		return err
	}
	js := []conflictJSON{}
	for _, cf := range cs {
		js = append(js, conflictJSON{ID: cf.ID.String(), BaseRevision: cf.BaseRevision,
			Local: versionOf(cf.ID, cf.Local), Remote: versionOf(cf.ID, cf.Remote)})
	}
	return c.out(js, func(w io.Writer) {
		if len(js) == 0 {
			fmt.Fprintln(w, "No conflicts.")
			return
		}
		for _, j := range js {
			fmt.Fprintf(w, "%s was changed on this device and on another one. Both versions are kept:\n", j.ID)
			for _, side := range []struct {
				name string
				v    versionJSON
			}{{"this device (local)", j.Local}, {"the other device (remote)", j.Remote}} {
				if side.v.Deleted {
					fmt.Fprintf(w, "  %s: deleted it\n", side.name)
					continue
				}
				fmt.Fprintf(w, "  %s, revision %d:\n", side.name, side.v.Revision)
				for _, f := range side.v.View.fields() {
					fmt.Fprintf(w, "      %-14s %s\n", f[0], f[1])
				}
			}
			fmt.Fprintf(w, "  keep one: interlude resolve %s --keep local   (or --keep remote; add field flags to merge)\n\n", j.ID)
		}
	})
}

func cmdResolve(c *cli, args []string) error {
	fs := c.flags("resolve")
	keep := fs.String("keep", "", "which version to keep: local (this device's) or remote (the other device's)")
	fields := allFieldFlags(fs)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	if *keep != "local" && *keep != "remote" {
		return usageErr("give --keep local or --keep remote")
	}
	given := fields.given()
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	cs, err := cl.Conflicts(c.ctx)
	if err != nil {
		return err
	}
	var cf *client.Conflict
	for i := range cs {
		if cs[i].ID == id {
			cf = &cs[i]
		}
	}
	if cf == nil {
		return fmt.Errorf("%s has no conflict (see `interlude conflicts`)", id)
	}
	k, kept := client.KeepLocal, cf.Local
	if *keep == "remote" {
		k, kept = client.KeepRemote, cf.Remote
	}
	var merged []byte
	if len(given) > 0 {
		if kept.Deleted {
			return usageErr("the %s version is a deletion; there are no fields to merge into", *keep)
		}
		if merged, err = c.editFields(kept.Plaintext, given); err != nil {
			return err
		}
		k = client.KeepMerged
	}
	nid, err := cl.Resolve(c.ctx, id, k, merged)
	if err != nil {
		return err
	}
	return c.out(map[string]any{"id": id.String(), "result": nid.String(), "kept": *keep, "merged": merged != nil}, func(w io.Writer) {
		switch {
		case nid != id:
			fmt.Fprintf(w, "Resolved: the other device deleted %s, so your version is kept as a new entry %s.\n", id, nid)
		default:
			fmt.Fprintf(w, "Resolved %s: kept the %s version", id, *keep)
			if merged != nil {
				fmt.Fprint(w, " with your changes")
			}
			fmt.Fprintln(w, ". `interlude sync` sends the resolution.")
		}
	})
}

func cmdExport(c *cli, args []string) error {
	fs := c.flags("export")
	outPath := fs.String("out", "", "write to this file (0600) instead of stdout")
	reports := addReportFlags(fs) // --html, --csv (report.go)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	if reports.given() {
		if err := reports.write(c, cl); err != nil || *outPath == "" {
			return err
		}
	}
	if *outPath == "" {
		return cl.Export(c.ctx, c.stdout)
	}
	f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; choose another name", *outPath)
		}
		return err
	}
	if err := cl.Export(c.ctx, f); err != nil {
		f.Close()
		os.Remove(*outPath)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	c.note("Exported your entries to %s. It is NOT encrypted: keep it private, and delete it when you no longer need it.", *outPath)
	return nil
}
