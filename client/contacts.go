package client

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// ContactRole is what a contact is to this account. It follows from how the pairing was
// made: the person who made the code (`pair invite`) is the clinician, the person who
// typed it in (`pair accept`) is the client.
type ContactRole string

const (
	RoleClient    ContactRole = "client"    // I invited them: they share their entries with me
	RoleClinician ContactRole = "clinician" // I accepted their code: I share my entries with them
)

// ContactState is where a pairing stands.
type ContactState string

const (
	// ContactPending: this device sent a link request and waits for the clinician's
	// device to answer. The bundle is already pinned (it matched the code), but nothing
	// can be shared yet.
	ContactPending ContactState = "pending"
	// ContactPaired: both devices verified each other; sharing works both ways.
	ContactPaired ContactState = "paired"
	// ContactRejected: the clinician's device refused the link request (Reason says why).
	ContactRejected ContactState = "rejected"
	// ContactEnded: one side ended the pairing (contacts remove). Kept only to recognise
	// what the other side still sends; not listed.
	ContactEnded ContactState = "ended"
)

// Errors of contacts and sharing (test with errors.Is).
var (
	// ErrNoContact means no contact has that name or account ID.
	ErrNoContact = errors.New("no such contact: see `interlude contacts`")
	// ErrAmbiguousContact means a name that matches more than one contact.
	ErrAmbiguousContact = errors.New("more than one contact matches: use more of the name, or the account ID")
	// ErrKeyChanged means the server now publishes different keys for the contact than
	// the ones verified in person. Sharing with them is blocked until they are paired again.
	ErrKeyChanged = errors.New("this contact's keys changed since you paired in person: nothing new is shared with them until you pair again (a new `pair invite` / `pair accept`, in person)")
	// ErrNotPaired means the pairing with the contact is not complete (pending, refused or ended).
	ErrNotPaired = errors.New("not paired with this contact (yet): the pairing must be completed first")
)

// Contact is someone this account paired with in person.
type Contact struct {
	Account     syncproto.AccountID
	Name        string       // the name shown on this device (empty while a pairing is pending)
	Role        ContactRole  // what they are to me
	State       ContactState // pending, paired or rejected (ended contacts are not listed)
	Reason      string       // for a refused pairing: ReasonExpired, ReasonUsed, ReasonUnknownCode
	Fingerprint crypto.Fingerprint
	// SafetyCode is crypto.PairSafetyCode of both fingerprints: the same 30 digits on both
	// devices. Reading it aloud at pairing proves no one sits in between.
	SafetyCode string
	// Verified: the contact's keys were verified in person (their bundle matched the
	// code) and the pairing is complete.
	Verified bool
	// KeyChanged: the server has since published different keys for them. Sharing is
	// blocked until they are paired again; what they share is still checked against the
	// keys verified in person.
	KeyChanged bool
	Paired     time.Time // when the pairing completed (zero until then)
}

// contactRow is one row of contacts.
type contactRow struct {
	Account     []byte `db:"account"`
	Bundle      []byte `db:"bundle"`
	Fingerprint []byte `db:"fingerprint"`
	Name        []byte `db:"name"`
	Role        string `db:"role"`
	State       string `db:"state"`
	Reason      string `db:"reason"`
	Pairing     []byte `db:"pairing"`
	SeenBundle  []byte `db:"seen_bundle"`
	Verified    int64  `db:"verified"`
	Created     int64  `db:"created"`
	Ended       int64  `db:"ended"`
}

const contactCols = `account, bundle, fingerprint, name, role, state, reason, pairing, seen_bundle, verified, created, ended`

// contact is a contact row, decoded and checked.
type contact struct {
	account syncproto.AccountID
	bundle  *crypto.PublicBundle // pinned
	name    string
	role    ContactRole
	state   ContactState
	reason  string
	pairing syncproto.RecordID
	seen    []byte    // a different bundle the server published
	paired  time.Time // when the pairing completed, by the clinician's clock (pair_reply)
	ended   time.Time // when it ended (state ended)
	created time.Time
}

func (ct *contact) keyChanged() bool { return len(ct.seen) > 0 }

// shareable reports whether new keys may be wrapped to the contact.
func (ct *contact) shareable() error {
	switch {
	case ct.state != ContactPaired:
		return fmt.Errorf("%w (%s is %s)", ErrNotPaired, ct.display(), ct.state)
	case ct.keyChanged():
		return fmt.Errorf("%s: %w", ct.display(), ErrKeyChanged)
	}
	return nil
}

func (ct *contact) display() string {
	if ct.name != "" {
		return ct.name
	}
	return "contact " + ct.account.String()[:8]
}

func (ct *contact) public(mine crypto.Fingerprint) Contact {
	fp := ct.bundle.Fingerprint()
	return Contact{
		Account: ct.account, Name: ct.name, Role: ct.role, State: ct.state, Reason: ct.reason,
		Fingerprint: fp, SafetyCode: crypto.PairSafetyCode(mine, fp),
		Verified: ct.state == ContactPaired, KeyChanged: ct.keyChanged(), Paired: ct.paired,
	}
}

// nameLabel is the SealLocal label of a contact's name: bound to the account, so that a
// name cannot be moved to another contact's row.
func nameLabel(a syncproto.AccountID) string { return "contact-name/" + a.String() }

func decodeContact(k *keys, r *contactRow) (*contact, error) {
	a := syncproto.AccountID(r.Account)
	b, err := crypto.ParsePublicBundle(r.Bundle)
	if err != nil {
		return nil, fmt.Errorf("contact %s: pinned bundle is damaged: %w", a, err)
	}
	if syncproto.AccountID(b.Account) != a {
		return nil, fmt.Errorf("contact %s: pinned bundle is another account's", a)
	}
	ct := &contact{account: a, bundle: b, role: ContactRole(r.Role), state: ContactState(r.State), reason: r.Reason,
		seen: r.SeenBundle, created: time.Unix(r.Created, 0)}
	if len(r.Pairing) == 16 {
		ct.pairing = syncproto.RecordID(r.Pairing)
	}
	if r.Verified != 0 {
		ct.paired = time.Unix(r.Verified, 0)
	}
	if r.Ended != 0 {
		ct.ended = time.Unix(r.Ended, 0)
	}
	if len(r.Name) > 0 {
		name, err := crypto.OpenLocal(k.profile, nameLabel(a), r.Name)
		if err == nil {
			ct.name = string(name)
		}
		// A name sealed under another profile key (a recovery on this device) does not
		// open: the contact stays usable under its account ID; rename it.
	}
	return ct, nil
}

func loadContacts(ctx context.Context, q sqlx.QueryerContext, k *keys, withEnded bool) ([]*contact, error) {
	var rows []contactRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+contactCols+` FROM contacts`); err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	out := make([]*contact, 0, len(rows))
	for i := range rows {
		if !withEnded && rows[i].State == string(ContactEnded) {
			continue
		}
		ct, err := decodeContact(k, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, ct)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := strings.ToLower(out[i].display()), strings.ToLower(out[j].display()); a != b {
			return a < b
		}
		return string(out[i].account[:]) < string(out[j].account[:])
	})
	return out, nil
}

// getContact returns the contact with the account, ended or not, or nil.
func getContact(ctx context.Context, q sqlx.QueryerContext, k *keys, a syncproto.AccountID) (*contact, error) {
	var r contactRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+contactCols+` FROM contacts WHERE account = ?`, a[:])
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("contact %s: %w", a, err)
	}
	return decodeContact(k, &r)
}

// saveContact stores the contact's row and publishes it to the account's other devices
// (publishContact): every change made on this device goes through here.
func (c *Client) saveContact(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact) error {
	if err := c.storeContact(ctx, tx, k, ct); err != nil {
		return err
	}
	return c.publishContact(ctx, tx, k, ct)
}

// storeContact inserts or replaces the contact's row.
func (c *Client) storeContact(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact) error {
	name, err := crypto.SealLocal(k.profile, nameLabel(ct.account), []byte(ct.name))
	if err != nil {
		return err
	}
	var pairing, seen []byte
	if !ct.pairing.IsZero() {
		pairing = ct.pairing[:]
	}
	if len(ct.seen) > 0 {
		seen = ct.seen
	}
	var verified int64
	if !ct.paired.IsZero() {
		verified = ct.paired.Unix()
	}
	if ct.created.IsZero() {
		ct.created = c.opts.Now()
	}
	fp := ct.bundle.Fingerprint()
	var ended int64
	if ct.state == ContactEnded && !ct.ended.IsZero() {
		ended = ct.ended.Unix()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO contacts (`+contactCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET bundle = excluded.bundle, fingerprint = excluded.fingerprint, name = excluded.name,
		role = excluded.role, state = excluded.state, reason = excluded.reason, pairing = excluded.pairing,
		seen_bundle = excluded.seen_bundle, verified = excluded.verified, ended = excluded.ended`,
		ct.account[:], ct.bundle.Bytes(), fp[:], name, string(ct.role), string(ct.state), ct.reason, pairing, seen,
		verified, ct.created.Unix(), ended)
	return err
}

// Contacts are kept per device (the contacts table) and told to the account's other
// devices through one own record per contact, a contact document (control.go) that is
// never shared: sealed and signed by the account like any entry, so the server can
// neither read nor alter it, and it carries the in-person verification (the pinned
// bundle) to devices that were not there. A device writes it whenever a contact's
// account-wide state changes (paired, renamed, ended; saveContact), and applies the
// other devices' (adoptContact). Pending and refused pairings, and key changes seen, stay
// with the device that has them.

// publishContacts publishes the contacts that have no contact document here at all:
// contacts paired before contact documents existed. (Every later change publishes
// itself, in saveContact, and a device whose contact is newer than an arriving document
// publishes it again, in adoptContact; so this reads no document.)
func (c *Client) publishContacts(ctx context.Context, k *keys) error {
	me := syncproto.AccountID(k.id.Account)
	return inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		var missing int
		if err := tx.GetContext(ctx, &missing, `SELECT count(*) FROM contacts c WHERE c.state IN (?, ?) AND NOT EXISTS
			(SELECT 1 FROM records r WHERE r.owner = ? AND r.role = ? AND r.link = c.account AND r.deleted = 0)`,
			string(ContactPaired), string(ContactEnded), me[:], roleContact); err != nil || missing == 0 {
			return err
		}
		cts, err := loadContacts(ctx, tx, k, true)
		if err != nil {
			return err
		}
		for _, ct := range cts {
			if err := c.publishContact(ctx, tx, k, ct); err != nil {
				return fmt.Errorf("contact %s: %w", ct.display(), err)
			}
		}
		return nil
	})
}

// contactDoc is the contact document for ct.
func contactDoc(ct *contact) *control {
	d := &control{Interlude: roleContact, Account: ct.account.String(), Bundle: ct.bundle.Bytes(),
		Role: string(ct.role), State: string(ct.state), Name: ct.name}
	if !ct.pairing.IsZero() {
		d.Pairing = ct.pairing.String()
	}
	if !ct.paired.IsZero() {
		d.PairedAt = ct.paired.Unix()
	}
	if ct.state == ContactEnded && !ct.ended.IsZero() {
		d.EndedAt = ct.ended.Unix()
	}
	return d
}

// publishContact brings the account's contact document for ct in step with ct: it
// writes the document, or a new revision of it, unless it already says the same. Only
// paired and ended contacts are published.
func (c *Client) publishContact(ctx context.Context, tx *sqlx.Tx, k *keys, ct *contact) error {
	if ct.state != ContactPaired && ct.state != ContactEnded {
		return nil
	}
	doc := contactDoc(ct).marshal()
	r, err := docRecord(ctx, tx, k, ct.account)
	if err != nil {
		return err
	}
	if r == nil {
		link := syncproto.RecordID(ct.account) // records.link holds the contact's account ID
		_, err := c.addTx(ctx, tx, k, doc, roleContact, &link, nil)
		return err
	}
	id := syncproto.RecordID(r.ID)
	if pt, err := open(k, id, r.Revision, r.Envelope, r.OwnerKey); err == nil && bytes.Equal(pt, doc) {
		return nil
	}
	return c.writeRevision(ctx, tx, k, id, r.Revision, doc)
}

// docContact is the contact a document d says, with b its parsed bundle.
func docContact(a syncproto.AccountID, b *crypto.PublicBundle, d *control) *contact {
	ct := &contact{account: a, bundle: b, role: ContactRole(d.Role), state: ContactState(d.State), name: d.Name}
	if d.PairedAt > 0 {
		ct.paired = time.Unix(d.PairedAt, 0)
	}
	if d.EndedAt > 0 {
		ct.ended = time.Unix(d.EndedAt, 0)
	}
	if id, err := recordRef(d.Pairing); err == nil {
		ct.pairing = id
	}
	return ct
}

// adoptContact applies a contact document that another device of this account wrote
// (ch, its record, became the local copy). Which of the two, the document or this
// device's contact, holds is decided by one order that every device applies alike
// (newerThan): a pairing is named by its link request; a later pairing beats an earlier
// one, and within one pairing an ending beats the pairing. A pairing this device has
// under way (pending) is kept: it is the newest. When the document wins, its pairing,
// pinned bundle, role and name become this device's; when this device's contact wins, it
// is published again, so the document catches up. Adopting never writes anything else
// back, so two devices cannot pass a document to and fro.
//
// When the contact becomes paired here, what they shared and this device dropped (not
// knowing them) is fetched again; when the pairing ended, this device's copies of what
// they shared go, as on the device that ended it. A key change this device saw stands
// while the bundle is the same.
func (c *Client) adoptContact(ctx context.Context, tx *sqlx.Tx, k *keys, ch syncproto.Change, d *control, rep *SyncReport) error {
	me := syncproto.AccountID(k.id.Account)
	a, err := syncproto.ParseAccountID(d.Account)
	if err != nil {
		return err // parseControl checked it
	}
	b, err := crypto.ParsePublicBundle(d.Bundle)
	if err == nil && (syncproto.AccountID(b.Account) != a || a == me) {
		err = errors.New("the keys are another account's")
	}
	if err != nil {
		rep.Invalid = append(rep.Invalid, InvalidChange{Record: ch.Record, Revision: ch.Revision,
			Reason: "a contact written by another device of this account does not hold valid keys (" + err.Error() + "): not adopted"})
		return nil
	}
	old, err := getContact(ctx, tx, k, a)
	if err != nil {
		return err
	}
	ct := docContact(a, b, d)
	wasPaired := false
	if old != nil {
		switch {
		case old.state == ContactPending && !c.requestLive(ctx, tx, me, old.pairing):
			// Pairing again here, but the request is gone (deleted by the device that sent
			// it, or never here): nothing will answer it; the document holds.
			old.state = ContactRejected
		case old.state == ContactPending && ct.state == ContactEnded:
			// Pairing again here, and the account ended it with them elsewhere after the
			// attempt began (AcceptPairCode learns the account's state before it sends the
			// request): the removal covers the attempt too. It ends, and they are told; so
			// does every other request of the account's still open to them (withdrawn
			// below), since one of their devices may accept it yet.
			reqs, err := ownRequests(ctx, tx, me, a)
			if err != nil {
				return err
			}
			for _, r := range reqs {
				end := *old
				end.pairing = r
				if err := c.notifyEnd(ctx, tx, k, &end, ct.eventTime()); err != nil {
					return err
				}
			}
			old.state = ContactRejected // adopted below, as after a refusal
		case old.state == ContactPending:
			return nil // pairing again in person here: that attempt stays under way
		case old.state != ContactRejected && old.newerThan(ct):
			return c.publishContact(ctx, tx, k, old) // this device's is newer: the document catches up
		}
		wasPaired = old.state == ContactPaired
		ct.created = old.created
		if bytes.Equal(old.bundle.Bytes(), b.Bytes()) {
			ct.seen = old.seen
		}
		if ct.name == "" {
			ct.name = old.name
		}
	}
	switch {
	case ct.state == ContactEnded && (old == nil || old.state != ContactEnded):
		// As on the device that ended it: withdraw every grant to them this device knows
		// of (its own, and those of other devices the ending device had not seen yet),
		// drop its copies of what they shared, and, if this device held another pairing
		// with them than the one the document ends, tell them that it ends too.
		ct.reason = "ended on another device"
		// A request of this device's refused as unknown_code may still be answered by the
		// clinician's device that holds the code; unless the attempt itself was ended
		// (above), it stays under way.
		var keep []syncproto.RecordID
		if old != nil && old.state == ContactRejected && old.reason == ReasonUnknownCode {
			if keep, err = ownRequests(ctx, tx, me, a); err != nil {
				return err
			}
		}
		if err := c.withdrawFrom(ctx, tx, k, ct, keep...); err != nil {
			return err
		}
		if err := c.forgetShared(ctx, tx, ct); err != nil {
			return err
		}
		if wasPaired && old.pairing != ct.pairing {
			if err := c.notifyEnd(ctx, tx, k, old, ct.eventTime()); err != nil {
				return err
			}
		}
	case ct.state == ContactPaired && !wasPaired:
		// A notice of an earlier ending that this device sent is moot now.
		if err := c.deleteOwn(ctx, tx, k, rolePairEnd, a); err != nil {
			return err
		}
		var ids [][]byte
		if err := tx.SelectContext(ctx, &ids, `DELETE FROM ignored WHERE owner = ? RETURNING record`, a[:]); err != nil {
			return err
		}
		for _, id := range ids {
			rep.refetch = append(rep.refetch, syncproto.RecordID(id))
		}
	}
	if err := c.storeContact(ctx, tx, k, ct); err != nil {
		return err
	}
	if ct.state == ContactPaired || wasPaired {
		rep.Learned = append(rep.Learned, ct.public(k.id.Fingerprint()))
	}
	return nil
}

// docRecord returns the record of the account's contact document for a, if this device
// holds one (the lowest ID, should two devices each have written a first one).
func docRecord(ctx context.Context, tx *sqlx.Tx, k *keys, a syncproto.AccountID) (*recordRow, error) {
	me := syncproto.AccountID(k.id.Account)
	var rows []recordRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+recordCols+` FROM records WHERE owner = ? AND role = ? AND link = ? AND deleted = 0
		ORDER BY id LIMIT 1`, me[:], roleContact, a[:]); err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// currentDoc returns the account's contact document for a, and its record, if this
// device holds one that opens.
func (c *Client) currentDoc(ctx context.Context, tx *sqlx.Tx, k *keys, a syncproto.AccountID) (*control, syncproto.Change, error) {
	r, err := docRecord(ctx, tx, k, a)
	if err != nil || r == nil {
		return nil, syncproto.Change{}, err
	}
	id := syncproto.RecordID(r.ID)
	pt, err := open(k, id, r.Revision, r.Envelope, r.OwnerKey)
	if err != nil {
		return nil, syncproto.Change{}, nil // verified when it arrived; one that no longer opens is left alone
	}
	d, err := parseControl(pt)
	clear(pt)
	if err != nil || d == nil || d.Interlude != roleContact {
		return nil, syncproto.Change{}, nil
	}
	return d, syncproto.Change{Record: id, Revision: r.Revision}, nil
}

// readoptContact applies the account's current contact document for a (if any) again,
// as if it had just arrived: after this device's own attempt to pair with them failed.
func (c *Client) readoptContact(ctx context.Context, tx *sqlx.Tx, k *keys, a syncproto.AccountID, rep *SyncReport) error {
	d, ch, err := c.currentDoc(ctx, tx, k, a)
	if err != nil || d == nil {
		return err
	}
	return c.adoptContact(ctx, tx, k, ch, d, rep)
}

// requestDeleted is called when another device of this account deleted the record id.
// If it was the link request this device is waiting on (another device read the answer
// first, or gave the attempt up), nothing will answer it here: the account's contact
// document, which that device wrote, holds (adoptContact). The document may have come
// earlier in the same pull, while the request was still live here.
func (c *Client) requestDeleted(ctx context.Context, tx *sqlx.Tx, k *keys, id syncproto.RecordID, rep *SyncReport) error {
	var accounts [][]byte
	if err := tx.SelectContext(ctx, &accounts, `SELECT account FROM contacts WHERE state = ? AND pairing = ?`,
		string(ContactPending), id[:]); err != nil {
		return err
	}
	for _, a := range accounts {
		if err := c.readoptContact(ctx, tx, k, syncproto.AccountID(a), rep); err != nil {
			return err
		}
	}
	return nil
}

// accountPairing is the pairing with a that the account's contact document holds, if it
// says paired.
func (c *Client) accountPairing(ctx context.Context, tx *sqlx.Tx, k *keys, a syncproto.AccountID) (*contact, error) {
	d, _, err := c.currentDoc(ctx, tx, k, a)
	if err != nil || d == nil || ContactState(d.State) != ContactPaired {
		return nil, err
	}
	b, err := crypto.ParsePublicBundle(d.Bundle)
	if err != nil || syncproto.AccountID(b.Account) != a {
		return nil, nil
	}
	return docContact(a, b, d), nil
}

// requestLive reports whether the link request id of this account is still live here.
func (c *Client) requestLive(ctx context.Context, tx *sqlx.Tx, me syncproto.AccountID, id syncproto.RecordID) bool {
	r, err := getRecord(ctx, tx, id[:])
	return err == nil && r != nil && !r.Deleted && r.Role == rolePairRequest && syncproto.AccountID(r.Owner) == me
}

// ownRequests lists the link requests of this account (made on any of its devices) to a
// that are still live here, awaiting an answer.
func ownRequests(ctx context.Context, tx *sqlx.Tx, me, a syncproto.AccountID) ([]syncproto.RecordID, error) {
	var ids [][]byte
	if err := tx.SelectContext(ctx, &ids, `SELECT r.id FROM records r JOIN grants g ON g.record = r.id
		WHERE r.owner = ? AND r.role = ? AND r.deleted = 0 AND g.recipient = ?`, me[:], rolePairRequest, a[:]); err != nil {
		return nil, err
	}
	out := make([]syncproto.RecordID, len(ids))
	for i, id := range ids {
		out[i] = syncproto.RecordID(id)
	}
	return out, nil
}

// endAccountPairing applies a contact's pair_end that reaches this device while it is
// pairing with them again (pending): the pairing the account holds through its other
// devices, if the notice ends it, ends — its document says so, and this device withdraws
// what it shared with them — while this device's own attempt stays under way.
func (c *Client) endAccountPairing(ctx context.Context, tx *sqlx.Tx, k *keys, local *contact, end *control) error {
	acct, err := c.accountPairing(ctx, tx, k, local.account)
	if err != nil || acct == nil {
		return err
	}
	ref, err := recordRef(end.Pairing)
	later := end.EndedAt > 0 && acct.role == RoleClinician && !acct.paired.IsZero() && time.Unix(end.EndedAt, 0).After(acct.paired)
	if (err != nil || ref != acct.pairing) && !later {
		return nil
	}
	if err := c.withdrawFrom(ctx, tx, k, acct, local.pairing); err != nil {
		return err
	}
	if err := c.forgetShared(ctx, tx, acct); err != nil {
		return err
	}
	acct.state, acct.reason = ContactEnded, "ended by "+acct.display()
	acct.ended = endingTime(acct, noticeTime(end, c.opts.Now()))
	return c.publishContact(ctx, tx, k, acct)
}

// newerThan reports whether ct's state supersedes d's, by the order every device of the
// account applies to contact documents: within one pairing (the same link request) an
// ending beats the pairing, whatever the times (a removal made while the request was
// still unanswered is dated before its acceptance); otherwise by the time of the latest
// event (a pairing's completion, by the clinician's clock, which both accounts record; or
// an ending), then an ending before a pairing, then by the link request's ID. Two states that tie on all of
// these are not newer either way (the document, the server's latest revision, then wins).
func (ct *contact) newerThan(d *contact) bool {
	if !ct.pairing.IsZero() && ct.pairing == d.pairing {
		if a, b := ct.state == ContactEnded, d.state == ContactEnded; a != b {
			return a // within one pairing an ending is final, whatever the times
		}
	}
	if a, b := ct.eventTime(), d.eventTime(); !a.Equal(b) {
		return a.After(b)
	}
	if a, b := ct.state == ContactEnded, d.state == ContactEnded; a != b {
		return a
	}
	return bytes.Compare(ct.pairing[:], d.pairing[:]) > 0
}

// eventTime is when the contact's state last changed: its ending, or its pairing.
func (ct *contact) eventTime() time.Time {
	if ct.state == ContactEnded && ct.ended.After(ct.paired) {
		return ct.ended
	}
	return ct.paired
}

// uniqueName returns want, or want with " (2)", " (3)"… added, so that no other listed
// contact has the same name (ignoring case).
func uniqueName(ctx context.Context, q sqlx.QueryerContext, k *keys, want string, self syncproto.AccountID) (string, error) {
	want = strings.Join(strings.Fields(want), " ")
	if want == "" {
		return "", nil
	}
	cts, err := loadContacts(ctx, q, k, false)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, ct := range cts {
		if ct.account != self {
			taken[strings.ToLower(ct.name)] = true
		}
	}
	name := want
	for i := 2; taken[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s (%d)", want, i)
	}
	return name, nil
}

// Contacts lists the people this account paired with (pending and refused pairings
// included, ended ones not), by name.
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	cts, err := loadContacts(ctx, c.db, k, false)
	if err != nil {
		return nil, err
	}
	mine := k.id.Fingerprint()
	out := make([]Contact, 0, len(cts))
	for _, ct := range cts {
		out = append(out, ct.public(mine))
	}
	return out, nil
}

// Contact finds one contact by account ID, by name (ignoring case), or by the start of
// a name when only one contact's name starts so.
func (c *Client) Contact(ctx context.Context, nameOrID string) (*Contact, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	ct, err := c.findContact(ctx, c.db, k, nameOrID)
	if err != nil {
		return nil, err
	}
	p := ct.public(k.id.Fingerprint())
	return &p, nil
}

func (c *Client) findContact(ctx context.Context, q sqlx.QueryerContext, k *keys, nameOrID string) (*contact, error) {
	s := strings.Join(strings.Fields(nameOrID), " ")
	if s == "" {
		return nil, fmt.Errorf("%w: no name given", ErrNoContact)
	}
	cts, err := loadContacts(ctx, q, k, false)
	if err != nil {
		return nil, err
	}
	if a, err := syncproto.ParseAccountID(s); err == nil {
		for _, ct := range cts {
			if ct.account == a {
				return ct, nil
			}
		}
	}
	// Two contacts may share a name (each device names its contacts, and a name learned
	// from another device is taken as it is): then the name alone picks nobody.
	var exact, prefix []*contact
	for _, ct := range cts {
		if strings.EqualFold(ct.name, s) {
			exact = append(exact, ct)
		}
		if ct.name != "" && strings.HasPrefix(strings.ToLower(ct.name), strings.ToLower(s)) {
			prefix = append(prefix, ct)
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	if len(exact) > 1 {
		prefix = exact
	}
	switch len(prefix) {
	case 1:
		return prefix[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNoContact, s)
	}
	var names []string
	for _, ct := range prefix {
		if len(exact) > 1 { // same names: the account IDs tell them apart
			names = append(names, ct.name+" ("+ct.account.String()+")")
		} else {
			names = append(names, ct.name)
		}
	}
	return nil, fmt.Errorf("%w: %q matches %s", ErrAmbiguousContact, s, strings.Join(names, ", "))
}

// RenameContact changes the name a contact is shown by on this device.
func (c *Client) RenameContact(ctx context.Context, nameOrID, name string) error {
	k, err := c.unlocked()
	if err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return errors.New("give the new name")
	}
	return inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		ct, err := c.findContact(ctx, tx, k, nameOrID)
		if err != nil {
			return err
		}
		n, err := uniqueName(ctx, tx, k, name, ct.account)
		if err != nil {
			return err
		}
		if !strings.EqualFold(n, strings.Join(strings.Fields(name), " ")) {
			return fmt.Errorf("another contact is already called %q", name)
		}
		ct.name = n
		return c.saveContact(ctx, tx, k, ct)
	})
}

// KeyChange is a contact whose published keys differ from the ones verified in person.
// Every sync reports all of them, not only new ones, until they are paired again.
type KeyChange struct {
	Contact Contact
}

// checkContactKeys asks the server for every contact's bundle and flags the contacts
// whose bundle is not the pinned one. A flag stays until the contact is paired again:
// a server that changes its answer back proves nothing.
func (c *Client) checkContactKeys(ctx context.Context, cn *conn, k *keys, rep *SyncReport) error {
	cts, err := loadContacts(ctx, c.db, k, false)
	if err != nil {
		return err
	}
	mine := k.id.Fingerprint()
	for _, ct := range cts {
		b, err := expect[syncproto.Bundle](ctx, cn, syncproto.BundleRequest{Account: ct.account})
		if serverCode(err) == syncproto.CodeNotFound {
			c.log.Warn("the server no longer knows a contact's account", "contact", ct.account)
			continue
		}
		if err != nil {
			return fmt.Errorf("check contacts' keys: %w", err)
		}
		if string(b.Bundle) == string(ct.bundle.Bytes()) && b.Account == ct.account {
			if ct.keyChanged() {
				rep.KeyChanges = append(rep.KeyChanges, KeyChange{Contact: ct.public(mine)})
			}
			continue
		}
		if string(b.Bundle) != string(ct.seen) {
			ct.seen = b.Bundle
			if len(ct.seen) == 0 {
				ct.seen = []byte{0} // an empty answer is a change too
			}
			if _, err := c.db.ExecContext(ctx, `UPDATE contacts SET seen_bundle = ? WHERE account = ?`, ct.seen, ct.account[:]); err != nil {
				return err
			}
			c.log.Warn("a contact's published keys changed", "contact", ct.account)
		}
		rep.KeyChanges = append(rep.KeyChanges, KeyChange{Contact: ct.public(mine)})
	}
	return nil
}

// resealLocal re-seals what this device keeps under the profile key (contact names,
// pairing codes) when the profile key changes with the passphrase. A box that does not
// open under the old key is left as it is.
func resealLocal(ctx context.Context, tx *sqlx.Tx, old, new crypto.ProfileKey) error {
	var cts []struct {
		Account []byte `db:"account"`
		Name    []byte `db:"name"`
	}
	if err := tx.SelectContext(ctx, &cts, `SELECT account, name FROM contacts`); err != nil {
		return err
	}
	for _, ct := range cts {
		label := nameLabel(syncproto.AccountID(ct.Account))
		pt, err := crypto.OpenLocal(old, label, ct.Name)
		if err != nil {
			continue
		}
		sealed, err := crypto.SealLocal(new, label, pt)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ? WHERE account = ?`, sealed, ct.Account); err != nil {
			return err
		}
	}
	var invs []struct {
		ID     int64  `db:"id"`
		Secret []byte `db:"secret"`
	}
	if err := tx.SelectContext(ctx, &invs, `SELECT id, secret FROM invites`); err != nil {
		return err
	}
	for _, inv := range invs {
		pt, err := crypto.OpenLocal(old, inviteLabel, inv.Secret)
		if err != nil {
			continue
		}
		sealed, err := crypto.SealLocal(new, inviteLabel, pt)
		clear(pt)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invites SET secret = ? WHERE id = ?`, sealed, inv.ID); err != nil {
			return err
		}
	}
	return nil
}
