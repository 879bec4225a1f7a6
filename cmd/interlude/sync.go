package main

import (
	"encoding/json"
	"fmt"
	"io"

	"interlude/client"
)

type syncJSON struct {
	Pushed         int           `json:"pushed"`
	Pulled         int           `json:"pulled"`
	Pending        int           `json:"pending"`
	Cursor         uint64        `json:"cursor"`
	Conflicts      []string      `json:"conflicts"`
	Refused        []refusalJSON `json:"refused"`
	Invalid        []invalidJSON `json:"invalid"`
	DigestChecked  bool          `json:"digest_checked"`
	DigestMismatch string        `json:"digest_mismatch,omitempty"`
	Pairings       []pairingJSON `json:"pairings"`
	Ended          []contactJSON `json:"ended"`
	KeyChanges     []contactJSON `json:"key_changes"`
	Learned        []contactJSON `json:"learned"` // contacts paired, renamed or ended on another device
}

type pairingJSON struct {
	Contact  contactJSON `json:"contact"`
	Accepted bool        `json:"accepted"`
	Reason   string      `json:"reason,omitempty"`
}

type refusalJSON struct {
	ID       string `json:"id"`
	Revision uint64 `json:"revision"`
	Code     string `json:"code"`
}

type invalidJSON struct {
	ID       string `json:"id"`
	Revision uint64 `json:"revision"`
	Reason   string `json:"reason"`
}

func reportJSON(r *client.SyncReport) syncJSON {
	j := syncJSON{Pushed: r.Pushed, Pulled: r.Pulled, Pending: r.Pending, Cursor: r.Cursor,
		Conflicts: []string{}, Refused: []refusalJSON{}, Invalid: []invalidJSON{},
		DigestChecked: r.DigestChecked, DigestMismatch: r.DigestMismatch}
	for _, id := range r.Conflicts {
		j.Conflicts = append(j.Conflicts, id.String())
	}
	for _, x := range r.Refused {
		j.Refused = append(j.Refused, refusalJSON{x.Record.String(), x.Revision, x.Code.String()})
	}
	for _, x := range r.Invalid {
		j.Invalid = append(j.Invalid, invalidJSON{x.Record.String(), x.Revision, x.Reason})
	}
	j.Pairings, j.Ended, j.KeyChanges, j.Learned = []pairingJSON{}, []contactJSON{}, []contactJSON{}, []contactJSON{}
	for _, ct := range r.Learned {
		j.Learned = append(j.Learned, contactOut(ct))
	}
	for _, p := range r.Pairings {
		j.Pairings = append(j.Pairings, pairingJSON{contactOut(p.Contact), p.Accepted, p.Reason})
	}
	for _, e := range r.Ended {
		j.Ended = append(j.Ended, contactOut(e.Contact))
	}
	for _, k := range r.KeyChanges {
		j.KeyChanges = append(j.KeyChanges, contactOut(k.Contact))
	}
	return j
}

func printReport(w io.Writer, r *client.SyncReport) {
	fmt.Fprintf(w, "Synced: sent %s, received %s.", plural(r.Pushed, "change", "changes"), plural(r.Pulled, "change", "changes"))
	if r.Pending > 0 {
		fmt.Fprintf(w, " %s still waiting.", plural(r.Pending, "change is", "changes are"))
	}
	fmt.Fprintln(w)
	if n := len(r.Conflicts); n > 0 {
		fmt.Fprintf(w, "%s also changed on another device: both versions are kept. See `interlude conflicts`.\n", plural(n, "entry was", "entries were"))
	}
	for _, x := range r.Refused {
		fmt.Fprintf(w, "The server refused %s revision %d (%s); it is kept here and will be retried.\n", x.Record, x.Revision, x.Code)
	}
	for _, x := range r.Invalid {
		fmt.Fprintf(w, "REJECTED %s revision %d from the server: it failed verification and was not applied (%s). It may have been tampered with; tell your provider.\n", x.Record, x.Revision, x.Reason)
	}
	if r.DigestMismatch != "" {
		fmt.Fprintf(w, "Check failed: %s. Something this device should hold is missing or different.\n", r.DigestMismatch)
	}
	for _, p := range r.Pairings {
		who := displayName(p.Contact)
		switch {
		case p.Accepted && p.Contact.Role == client.RoleClient:
			fmt.Fprintf(w, "Paired with your client %s. Read the safety code aloud together; both devices must show:\n    %s\n", who, p.Contact.SafetyCode)
		case p.Accepted:
			fmt.Fprintf(w, "Paired with your clinician %s. Read the safety code aloud together; both devices must show:\n    %s\n", who, p.Contact.SafetyCode)
		case p.Contact.Role == client.RoleClient:
			fmt.Fprintf(w, "Refused a pairing request (%s): nothing was paired. If it was your client, give them a new code.\n", p.Reason)
		default:
			fmt.Fprintf(w, "Your clinician's device refused the pairing: %s.\n", reasonText(p.Reason))
		}
	}
	for _, e := range r.Ended {
		fmt.Fprintf(w, "%s ended your pairing: nothing is shared between you any more (your own journal is untouched).\n", displayName(e.Contact))
	}
	for _, ct := range r.Learned {
		if ct.State == client.ContactEnded {
			fmt.Fprintf(w, "Your pairing with %s was ended on another of your devices: this one no longer shows what they shared.\n", displayName(ct))
		} else {
			fmt.Fprintf(w, "From another of your devices: %s, your %s, keys verified in person there (safety code %s).\n",
				displayName(ct), ct.Role, ct.SafetyCode)
		}
	}
	for _, k := range r.KeyChanges {
		fmt.Fprintf(w, "WARNING: the server now shows different keys for %s than the ones you verified in person.\n"+
			"Nothing new is shared with them until you pair again in person (`interlude pair ...`). Tell them.\n", displayName(k.Contact))
	}
}

func attention(r *client.SyncReport) bool {
	refused := false
	for _, p := range r.Pairings {
		refused = refused || !p.Accepted
	}
	return len(r.Invalid) > 0 || len(r.Refused) > 0 || r.DigestMismatch != "" || len(r.KeyChanges) > 0 || refused
}

func cmdSync(c *cli, args []string) error {
	fs := c.flags("sync")
	watch := fs.Bool("watch", false, "stay connected: apply changes as they happen, until interrupted")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	if *watch {
		defer c.remindWhileWatching()() // due reminders, as they come (reminders.go)
		problems := false
		err := cl.Watch(c.ctx, func(r *client.SyncReport) {
			problems = problems || attention(r)
			if c.json {
				json.NewEncoder(c.stdout).Encode(reportJSON(r))
				return
			}
			printReport(c.stdout, r)
		})
		if err != nil {
			return err
		}
		if problems {
			return &exitErr{code: exitAttention, msg: "some changes need your attention (see above)"}
		}
		return nil
	}
	rep, err := cl.Sync(c.ctx)
	if err != nil {
		return err
	}
	if err := c.out(reportJSON(rep), func(w io.Writer) { printReport(w, rep) }); err != nil {
		return err
	}
	if attention(rep) {
		return &exitErr{code: exitAttention, msg: "sync finished, but some changes need your attention (see above)"}
	}
	return nil
}
