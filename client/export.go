package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"interlude/syncproto"
)

// ExportFormat names the layout Export writes; it changes only with a new name.
const ExportFormat = "interlude-export/1"

// Export is the document Export writes.
type Export struct {
	Format    string           `json:"format"`
	Exported  time.Time        `json:"exported"`
	Account   string           `json:"account"`
	Server    string           `json:"server"`
	Entries   []ExportEntry    `json:"entries"`
	Conflicts []ExportConflict `json:"conflicts"`
}

// ExportEntry is one entry, decrypted. Document holds the entry as the journal stored it
// (a JSON document); anything that is not JSON is given as Text instead.
type ExportEntry struct {
	ID       string          `json:"id"`
	Day      string          `json:"day"` // UTC day the entry was created (from its ID)
	Revision uint64          `json:"revision"`
	Synced   bool            `json:"synced"`
	Document json.RawMessage `json:"document,omitempty"`
	Text     *string         `json:"text,omitempty"`
}

// ExportConflict is a conflict's version from this device, which is not among the entries.
type ExportConflict struct {
	ID       string          `json:"id"`
	Revision uint64          `json:"revision"`
	Deleted  bool            `json:"deleted"`
	Document json.RawMessage `json:"document,omitempty"`
	Text     *string         `json:"text,omitempty"`
}

func body(pt []byte) (json.RawMessage, *string) {
	if pt == nil {
		return nil, nil
	}
	if json.Valid(pt) {
		return json.RawMessage(pt), nil
	}
	s := string(pt)
	return nil, &s
}

// Export writes all of the account's own data on this device, decrypted, as one JSON
// document: every live entry (synced or not) and this device's side of every conflict.
// It is the person's right to take their journal with them; the output is plaintext, so
// the caller decides where it goes.
func (c *Client) Export(ctx context.Context, w io.Writer) error {
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return err
	}
	entries, err := c.List(ctx, ListFilter{})
	if err != nil {
		return err
	}
	conflicts, err := c.Conflicts(ctx)
	if err != nil {
		return err
	}
	doc := Export{
		Format: ExportFormat, Exported: c.opts.Now().UTC().Truncate(time.Second),
		Account: syncproto.AccountID(p.Account).String(), Server: p.Server,
		Entries: []ExportEntry{}, Conflicts: []ExportConflict{},
	}
	for _, e := range entries {
		d, t := body(e.Plaintext)
		doc.Entries = append(doc.Entries, ExportEntry{ID: e.ID.String(), Day: e.Day().Format("2006-01-02"),
			Revision: e.Revision, Synced: e.Synced, Document: d, Text: t})
	}
	for _, cf := range conflicts {
		d, t := body(cf.Local.Plaintext)
		doc.Conflicts = append(doc.Conflicts, ExportConflict{ID: cf.ID.String(), Revision: cf.Local.Revision,
			Deleted: cf.Local.Deleted, Document: d, Text: t})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
