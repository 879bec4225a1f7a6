package main

// Pairing in person and contacts (docs/sharing.md): pair invite / accept, contacts,
// clients. The commands people share with (share, unshare, assign, homework, messages,
// availability) are in share.go, homework.go and messages.go.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"interlude/client"
	"interlude/crypto"
)

func sharingCommands() []command {
	return []command{
		{"pair", "invite [--expires 30m] [--name N] | accept CODE [--name N]", "pair with your clinician or client, in person", cmdPair},
		{"contacts", "[safety-code|rename|remove NAME]", "the people you paired with", cmdContacts},
		{"clients", "", "clinicians: your clients, and how much each shares with you", cmdClients},
		{"share", "ENTRY... --with NAME [--expires DAY] [--scores-only]", "share entries with a contact (or --kind K [--since DAY])", cmdShare},
		{"unshare", "ENTRY... --with NAME", "stop sharing entries with a contact", cmdUnshare},
		{"assign", "--to CLIENT --title T --type TYPE [...]", "clinicians: give a client homework", cmdAssign},
		{"homework", "[start ASSIGNMENT] [--client NAME]", "assignments and their status", cmdHomework},
		{"respond", "ASSIGNMENT [field flags]", "fill in homework (saved here, not shared)", cmdRespond},
		{"submit", "RESPONSE", "hand in homework: shares that one response with your clinician", cmdSubmit},
		{"message", "send NAME TEXT [--reply-to ID]", "send a message to your clinician or client", cmdMessage},
		{"messages", "NAME", "your message thread with a contact", cmdMessages},
		{"availability", "[set --hours H [--reply-only] [--note N]]", "when a clinician reads messages", cmdAvailability},
	}
}

// contactJSON is how --json prints a contact.
type contactJSON struct {
	Account     string `json:"account"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Verified    bool   `json:"verified"`
	KeyChanged  bool   `json:"key_changed"`
	Fingerprint string `json:"fingerprint"`
	SafetyCode  string `json:"safety_code"`
	Paired      string `json:"paired,omitempty"`
	Shared      *int   `json:"shared_with_me,omitempty"`
}

func contactOut(ct client.Contact) contactJSON {
	j := contactJSON{Account: ct.Account.String(), Name: ct.Name, Role: string(ct.Role), State: string(ct.State), Reason: ct.Reason,
		Verified: ct.Verified, KeyChanged: ct.KeyChanged, Fingerprint: hex.EncodeToString(ct.Fingerprint[:]), SafetyCode: ct.SafetyCode}
	if !ct.Paired.IsZero() {
		j.Paired = ct.Paired.UTC().Format(time.RFC3339)
	}
	return j
}

func displayName(ct client.Contact) string {
	if ct.Name != "" {
		return ct.Name
	}
	return "your " + string(ct.Role) + " (pairing pending)"
}

// reasonText says why a clinician's device refused a pairing, and what to do.
func reasonText(reason string) string {
	switch reason {
	case client.ReasonExpired:
		return "the code had expired; ask for a new one (`interlude pair invite` on their device) and type it in while it is fresh"
	case client.ReasonUsed:
		return "the code had already been used; each code works once: ask for a new one"
	case client.ReasonUnknownCode:
		return "their device does not know this code (it may have been made on another device, or mistyped in a way the check cannot catch); ask for a new one"
	}
	return "reason: " + reason
}

func cmdPair(c *cli, args []string) error {
	if len(args) == 0 || (args[0] != "invite" && args[0] != "accept") {
		return usageErr("use `interlude pair invite` (clinician: make a one-time code) or `interlude pair accept CODE` (client: type the code in)")
	}
	sub, rest := args[0], args[1:]
	fs := c.flags("pair " + sub)
	name := fs.String("name", "", "the name the other side will see for you")
	expires := fs.Duration("expires", client.DefaultInviteExpiry, "invite: how long the code works (e.g. 30m, 2h)")
	contactName := fs.String("contact-name", "", "accept: what to call your clinician here (default: the name their device sends)")
	pos, err := parse(fs, rest)
	if err != nil {
		return err
	}
	if sub == "invite" {
		if len(pos) > 0 {
			return usageErr("unexpected argument %q", pos[0])
		}
		cl, err := c.openUnlocked()
		if err != nil {
			return err
		}
		defer cl.Close()
		inv, err := cl.NewInvite(c.ctx, client.InviteOptions{Expires: *expires, Name: *name})
		if err != nil {
			return err
		}
		return c.out(map[string]any{"code": inv.Code, "expires": inv.Expires.UTC().Format(time.RFC3339), "name": inv.Name}, func(w io.Writer) {
			fmt.Fprintf(w, "Pairing code (works once, until %s):\n\n    %s\n\n", inv.Expires.Local().Format("15:04 on 2006-01-02"), inv.Code)
			fmt.Fprintln(w, "Give it to your client in person; they run `interlude pair accept CODE`.")
			fmt.Fprintln(w, "Then run `interlude sync` here, and read the safety code aloud together")
			fmt.Fprintln(w, "(`interlude contacts safety-code NAME` on both devices): it must be the same.")
		})
	}
	if len(pos) == 0 {
		return usageErr("give the code your clinician's device shows: interlude pair accept XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
	}
	code := strings.Join(pos, "")
	if _, err := crypto.ParsePairCode(code); err != nil {
		var msg string
		switch {
		case strings.Contains(err.Error(), "check character"):
			msg = "the code's check character (the last one) does not match the others: a character is mistyped. Check each group with your clinician and try again"
		case strings.Contains(err.Error(), "characters, found"):
			msg = "a pairing code has 30 characters (six groups of five); check for a missing or extra character"
		default:
			msg = "that is not a pairing code: " + strings.TrimPrefix(err.Error(), "crypto: parse pairing code: ")
		}
		return &exitErr{code: exitError, msg: msg}
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	ct, rep, err := cl.AcceptPairCode(c.ctx, code, client.AcceptOptions{Name: *name, ContactName: *contactName})
	if err != nil {
		if errors.Is(err, client.ErrCodeMismatch) {
			return &exitErr{code: exitError, msg: "REFUSED: " + client.ErrCodeMismatch.Error() + ".\nThe server answered this code with keys that are not your clinician's. Nothing was sent."}
		}
		return err
	}
	j := map[string]any{"contact": contactOut(*ct)}
	if rep != nil {
		j["sync"] = reportJSON(rep)
	}
	return c.out(j, func(w io.Writer) {
		switch ct.State {
		case client.ContactPaired:
			fmt.Fprintf(w, "Paired with %s.\n", displayName(*ct))
		default:
			fmt.Fprintln(w, "The code matches your clinician's keys. Your link request is sent; the pairing completes")
			fmt.Fprintln(w, "when their device syncs (then run `interlude sync` here).")
		}
		fmt.Fprintf(w, "Safety code, to compare aloud with your clinician:\n\n    %s\n", ct.SafetyCode)
	})
}

func cmdContacts(c *cli, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := c.flags("contacts")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "", "list":
		if len(pos) > 0 {
			return usageErr("unexpected argument %q", pos[0])
		}
	case "safety-code", "remove":
		if len(pos) != 1 {
			return usageErr("interlude contacts %s NAME", sub)
		}
	case "rename":
		if len(pos) != 2 {
			return usageErr("interlude contacts rename NAME NEW-NAME")
		}
	default:
		return usageErr("unknown contacts command %q: use list, safety-code NAME, rename NAME NEW, or remove NAME", sub)
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	switch sub {
	case "safety-code":
		ct, err := cl.Contact(c.ctx, pos[0])
		if err != nil {
			return err
		}
		return c.out(map[string]any{"name": ct.Name, "account": ct.Account.String(), "safety_code": ct.SafetyCode}, func(w io.Writer) {
			fmt.Fprintf(w, "Safety code with %s:\n\n    %s\n\n", displayName(*ct), ct.SafetyCode)
			fmt.Fprintln(w, "Read it aloud together: both devices must show the same 30 digits.")
			if ct.KeyChanged {
				fmt.Fprintln(w, "WARNING: their keys have changed since you paired; pair again in person.")
			}
		})
	case "rename":
		if err := cl.RenameContact(c.ctx, pos[0], pos[1]); err != nil {
			return err
		}
		return c.out(map[string]any{"renamed": pos[0], "name": pos[1]}, func(w io.Writer) { fmt.Fprintf(w, "Renamed to %s.\n", pos[1]) })
	case "remove":
		ct, err := cl.RemoveContact(c.ctx, pos[0])
		if err != nil {
			return err
		}
		return c.out(map[string]any{"removed": contactOut(*ct)}, func(w io.Writer) {
			fmt.Fprintf(w, "Ended the pairing with %s: everything you shared with them is withdrawn, and they are told.\n", displayName(*ct))
			fmt.Fprintln(w, "Your own journal is untouched. `interlude sync` sends it.")
		})
	}
	cts, err := cl.Contacts(c.ctx)
	if err != nil {
		return err
	}
	js := []contactJSON{}
	for _, ct := range cts {
		js = append(js, contactOut(ct))
	}
	return c.out(js, func(w io.Writer) {
		if len(cts) == 0 {
			fmt.Fprintln(w, "No contacts yet. Pair in person: `interlude pair invite` (clinician) and `interlude pair accept CODE` (client).")
			return
		}
		for _, ct := range cts {
			fmt.Fprintf(w, "%-20s %-9s %s", displayName(ct), ct.Role, contactState(ct))
			fmt.Fprintln(w)
		}
		for _, ct := range cts {
			if ct.KeyChanged {
				fmt.Fprintf(w, "\nWARNING: %s's keys changed since you paired in person. Nothing new is shared with them until you pair again.\n", displayName(ct))
			}
		}
	})
}

func contactState(ct client.Contact) string {
	s := string(ct.State)
	switch ct.State {
	case client.ContactPaired:
		s = "paired " + ct.Paired.Local().Format("2006-01-02")
	case client.ContactRejected:
		s = "pairing refused: " + ct.Reason
	case client.ContactPending:
		s = "pairing pending (waiting for their device)"
	}
	if ct.KeyChanged {
		s += "  KEYS CHANGED"
	}
	return s
}

func cmdClients(c *cli, args []string) error {
	fs := c.flags("clients")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	cts, err := cl.Contacts(c.ctx)
	if err != nil {
		return err
	}
	counts, err := cl.Received(c.ctx)
	if err != nil {
		return err
	}
	js := []contactJSON{}
	for _, ct := range cts {
		if ct.Role != client.RoleClient {
			continue
		}
		j := contactOut(ct)
		n := counts[ct.Account]
		j.Shared = &n
		js = append(js, j)
	}
	return c.out(js, func(w io.Writer) {
		if len(js) == 0 {
			fmt.Fprintln(w, "No clients yet. Make a code with `interlude pair invite` and give it to your client in person.")
			return
		}
		for _, j := range js {
			fmt.Fprintf(w, "%-20s %s shared with you", j.Name, plural(*j.Shared, "entry", "entries"))
			if j.KeyChanged {
				fmt.Fprint(w, "  KEYS CHANGED: pair again")
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "See one client's entries with `interlude list --from NAME`.")
	})
}

// contactArg finds a contact for a command, with a message that says what to do.
func contactArg(c *cli, cl *client.Client, name string) (*client.Contact, error) {
	if strings.TrimSpace(name) == "" {
		return nil, usageErr("name the contact (see `interlude contacts`)")
	}
	return cl.Contact(c.ctx, name)
}
