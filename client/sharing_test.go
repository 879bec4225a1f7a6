package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/journal"
	"interlude/syncproto"
)

// pairUp pairs a clinician and a client through the server and returns each one's
// contact for the other.
func pairUp(t *testing.T, clinician, client *Client) (forClinician, forClient *Contact) {
	t.Helper()
	ctx := context.Background()
	inv, err := clinician.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
	if err != nil {
		t.Fatal(err)
	}
	ct, _, err := client.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Sam"})
	if err != nil {
		t.Fatal(err)
	}
	if ct.State != ContactPending || ct.Verified {
		t.Fatalf("after accept: %+v", ct)
	}
	rep := mustSync(t, clinician)
	if len(rep.Pairings) != 1 || !rep.Pairings[0].Accepted || rep.Pairings[0].Contact.Name != "Sam" {
		t.Fatalf("clinician's sync: %+v", rep.Pairings)
	}
	rep = mustSync(t, client)
	if len(rep.Pairings) != 1 || !rep.Pairings[0].Accepted || rep.Pairings[0].Contact.Name != "Dr Lee" {
		t.Fatalf("client's sync: %+v", rep.Pairings)
	}
	a, err := clinician.Contact(ctx, "Sam")
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.Contact(ctx, "dr")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Verified || !b.Verified || a.Role != RoleClient || b.Role != RoleClinician || a.SafetyCode != b.SafetyCode {
		t.Fatalf("contacts:\n%+v\n%+v", a, b)
	}
	// The handshake cleans up after itself: the request and the answer are deleted.
	mustSync(t, clinician)
	mustSync(t, client)
	return a, b
}

func checkin(t *testing.T, mood int, note string) []byte {
	t.Helper()
	e, err := journal.Build("checkin", map[string]string{"mood": string(rune('0' + mood)), "note": note})
	if err != nil {
		t.Fatal(err)
	}
	e.Touch(time.Now())
	b, err := journal.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPairShareRevoke(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	sam, lee := pairUp(t, doc, pat)

	var ids []syncproto.RecordID
	for i := range 5 {
		ids = append(ids, mustAdd(t, pat, string(checkin(t, i+1, "private note "+string(rune('a'+i))))))
	}
	for _, id := range ids[:2] {
		if err := pat.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	so, err := pat.ShareScoresOnly(ctx, ids[2], lee.Account, ShareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	got, err := doc.ListFrom(ctx, sam.Account, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("clinician sees %d entries", len(got))
	}
	for _, e := range got {
		if e.ID == so {
			if e.Derived != LevelScores || e.Source != ids[2] || strings.Contains(string(e.Plaintext), "private") {
				t.Fatalf("scores-only copy: %+v %s", e, e.Plaintext)
			}
		} else if !strings.Contains(string(e.Plaintext), "private note") {
			t.Fatalf("shared entry: %s", e.Plaintext)
		}
	}
	// The others stay out of reach, even by ID.
	states, err := doc.RemoteState(ctx, ids[3:])
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st != syncproto.StateGone {
			t.Fatalf("unshared entry visible: %v", states)
		}
	}
	// Own lists leave the derived copy out; shares list it.
	own, _ := pat.List(ctx, ListFilter{})
	if len(own) != 5 {
		t.Fatalf("client lists %d own entries", len(own))
	}
	shares, err := pat.Shares(ctx)
	if err != nil || len(shares) != 3 {
		t.Fatalf("shares: %+v %v", shares, err)
	}

	// Edit a shared entry: the clinician gets the new revision.
	if err := pat.Edit(ctx, ids[0], checkin(t, 9, "edited")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	e, err := doc.Get(ctx, ids[0])
	if err != nil || !strings.Contains(string(e.Plaintext), "edited") || e.Revision != 2 {
		t.Fatalf("edited entry at the clinician: %v %+v", err, e)
	}

	// Revoke one: gone from the clinician; an edit after the revoke gives it nothing.
	if had, err := pat.Unshare(ctx, ids[1], lee.Account); err != nil || !had {
		t.Fatal(had, err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if _, err := doc.Get(ctx, ids[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked entry still at the clinician: %v", err)
	}
	if err := pat.Edit(ctx, ids[1], checkin(t, 2, "after the revoke")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if st, _ := doc.RemoteState(ctx, ids[1:2]); st[0] != syncproto.StateGone {
		t.Fatalf("revoked entry after edit: %v", st)
	}
	got, _ = doc.ListFrom(ctx, sam.Account, ListFilter{})
	if len(got) != 2 {
		t.Fatalf("clinician sees %d entries after the revoke", len(got))
	}

	// Ending the pairing from the client's side removes everything at the clinician's.
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	rep := mustSync(t, doc)
	if len(rep.Ended) != 1 {
		t.Fatalf("clinician was not told: %+v", rep)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if _, err := doc.ListFrom(ctx, sam.Account, ListFilter{}); !errors.Is(err, ErrNoContact) {
		t.Fatalf("list from an ended contact: %v", err)
	}
	// Only the notice of the ending is still shared with the clinician.
	for _, id := range append(ids, so) {
		if n := s.count(`SELECT count(*) FROM grants WHERE record = ?`, id[:]); n != 0 {
			t.Fatalf("entry %s still has %d grants on the server", id, n)
		}
	}
	if n := s.count(`SELECT count(*) FROM grants WHERE recipient = ?`, lee.Account[:]); n != 1 {
		t.Fatalf("%d grants to the clinician left on the server, want the notice only", n)
	}
	if own, _ := pat.List(ctx, ListFilter{}); len(own) != 5 {
		t.Fatalf("the client's journal lost entries: %d", len(own))
	}
}

// stranger makes from share a record with to although they never paired: the grant is
// signed and wrapped correctly, to to's published keys.
func stranger(t *testing.T, from, to *Client, plaintext []byte) syncproto.RecordID {
	t.Helper()
	ctx := context.Background()
	fk, _ := from.unlocked()
	tk, _ := to.unlocked()
	b, err := crypto.ParsePublicBundle(tk.id.PublicBundle())
	if err != nil {
		t.Fatal(err)
	}
	target := &contact{account: syncproto.AccountID(b.Account), bundle: b}
	var id syncproto.RecordID
	err = inTx(ctx, from.db, func(tx *sqlx.Tx) error {
		var err error
		id, err = from.addTx(ctx, tx, fk, plaintext, roleEntry, nil, []grantee{{ct: target}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestUnknownAuthorIsDroppedAndReported(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	a, _ := signUp(t, s)
	b, _ := signUp(t, s)
	mustSync(t, a)
	id := stranger(t, b, a, checkin(t, 5, "unsolicited"))
	mustSync(t, b)
	rep, err := a.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Invalid) != 1 || rep.Invalid[0].Record != id || !strings.Contains(rep.Invalid[0].Reason, "not paired") {
		t.Fatalf("report: %+v", rep.Invalid)
	}
	if rep.DigestMismatch != "" {
		t.Fatalf("a dropped record upsets the digest: %s", rep.DigestMismatch)
	}
	if _, err := a.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the stranger's entry is readable: %v", err)
	}
	if n, _ := a.Received(ctx); len(n) != 0 {
		t.Fatalf("received: %v", n)
	}
	// Reported once; later syncs are quiet.
	if rep := mustSync(t, a); len(rep.Invalid) != 0 {
		t.Fatalf("reported again: %+v", rep)
	}

	// A forged link request (right shape, no code behind it) is refused, not paired.
	inv, err := a.NewInvite(ctx, InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = inv
	bk, _ := b.unlocked()
	forged := (&control{Interlude: rolePairRequest, Bundle: bk.id.PublicBundle(), Name: "Mallory", MAC: make([]byte, 32)}).marshal()
	stranger(t, b, a, forged)
	mustSync(t, b)
	rep = mustSync(t, a)
	if len(rep.Pairings) != 1 || rep.Pairings[0].Accepted || rep.Pairings[0].Reason != ReasonUnknownCode {
		t.Fatalf("forged request: %+v", rep.Pairings)
	}
	if cts, _ := a.Contacts(ctx); len(cts) != 0 {
		t.Fatalf("a forged request made a contact: %+v", cts)
	}
}

func TestSharesExpire(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	doc := newClient(t, Options{Now: clk.Now})
	if _, err := doc.SignUp(ctx, s.url, []byte(pass), SignUpOptions{}); err != nil {
		t.Fatal(err)
	}
	pat, _ := signUp(t, s)
	_, lee := pairUp(t, doc, pat)
	id := mustAdd(t, pat, string(checkin(t, 3, "for a week")))
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{Expires: time.Now().Add(-time.Hour)}); err == nil {
		t.Fatal("a share that expired already was accepted")
	}
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if e, err := doc.Get(ctx, id); err != nil || e.Expires.IsZero() {
		t.Fatalf("shared entry: %v %+v", err, e)
	}
	// The clinician's clock passes the expiry (the server's has not yet): the copy goes at
	// once, and the digest still agrees with the server.
	clk.Advance(2 * time.Hour)
	mustSync(t, doc)
	if _, err := doc.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired share still readable: %v", err)
	}
	sam, _ := doc.Contact(ctx, "Sam")
	if es, _ := doc.ListFrom(ctx, sam.Account, ListFilter{}); len(es) != 0 {
		t.Fatalf("list from after expiry: %d", len(es))
	}
}

func TestPassphraseChangeKeepsContacts(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	pairUp(t, doc, pat)
	if _, err := doc.NewInvite(ctx, InviteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := doc.ChangePassphrase(ctx, []byte(pass), []byte("a different passphrase")); err != nil {
		t.Fatal(err)
	}
	if ct, err := doc.Contact(ctx, "Sam"); err != nil || !ct.Verified {
		t.Fatalf("contact after a passphrase change: %v %+v", err, ct)
	}
	k, _ := doc.unlocked()
	var invs []invite
	inTx(ctx, doc.db, func(tx *sqlx.Tx) error {
		var err error
		invs, err = loadInvites(ctx, tx, k, time.Now())
		return err
	})
	if len(invs) != 2 {
		t.Fatalf("invitations after a passphrase change: %d", len(invs))
	}
}

// TestRepullDecidesNothingTwice: pulling the whole feed again (a new cursor, a digest
// repair) re-verifies everything but answers no link request twice.
func TestRepullDecidesNothingTwice(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	stray, _ := signUp(t, s)
	inv, err := doc.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pat.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Sam"}); err != nil {
		t.Fatal(err)
	}
	stranger(t, stray, doc, checkin(t, 1, "unsolicited"))
	mustSync(t, stray)
	rep, err := doc.Sync(ctx)
	if err != nil || len(rep.Pairings) != 1 || len(rep.Invalid) != 1 {
		t.Fatalf("first sync: %v %+v", err, rep)
	}
	for range 2 {
		if _, err := doc.db.ExecContext(ctx, `UPDATE profile SET cursor = 0`); err != nil {
			t.Fatal(err)
		}
		rep := mustSync(t, doc)
		if len(rep.Pairings) != 0 || rep.Pushed != 0 {
			t.Fatalf("a re-pull acted again: %+v", rep)
		}
	}
	var replies int
	doc.db.GetContext(ctx, &replies, `SELECT count(*) FROM records WHERE role = ?`, rolePairReply)
	if replies != 1 {
		t.Fatalf("%d answers to one request", replies)
	}
	rep = mustSync(t, pat)
	if len(rep.Pairings) != 1 || !rep.Pairings[0].Accepted {
		t.Fatalf("client: %+v", rep.Pairings)
	}
}

// TestContactsReachOtherDevices: a pairing made on one device reaches the account's other
// devices through the contact document. A second device of the clinician, signed in
// after the client had already shared, lists the contact with the keys verified in
// person and shows what they shared; a second device of the client keeps a share when it
// edits the entry; renames travel; and so does the end of the pairing.
func TestContactsReachOtherDevices(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	pat, patKit := signUp(t, s)
	sam, lee := pairUp(t, doc, pat)

	shared := mustAdd(t, pat, string(checkin(t, 4, "for the clinician")))
	if err := pat.Share(ctx, shared, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)

	// A rename after the share puts the contact document after the share in the feed:
	// the clinician's second device, signed in now, meets the share before it knows the
	// contact (it waits in the inbox) and must still show it.
	if err := doc.RenameContact(ctx, "Sam", "Sam R"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	doc2 := login(t, docKit, pass)
	rep := mustSync(t, doc2)
	if len(rep.Learned) != 1 || rep.Learned[0].Account != sam.Account || rep.Learned[0].Name != "Sam R" {
		t.Fatalf("second device learned %+v", rep.Learned)
	}
	got, err := doc2.Contact(ctx, "Sam R")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Verified || got.Role != RoleClient || got.SafetyCode != sam.SafetyCode || got.Fingerprint != sam.Fingerprint {
		t.Fatalf("contact on the second device: %+v, want %+v", got, sam)
	}
	from, err := doc2.ListFrom(ctx, sam.Account, ListFilter{})
	if err != nil || len(from) != 1 || !strings.Contains(string(from[0].Plaintext), "for the clinician") {
		t.Fatalf("second device shows %d shared entries: %v", len(from), err)
	}
	// Learning writes nothing back: the devices do not pass the document to and fro.
	for range 2 {
		for _, d := range []*Client{doc, doc2} {
			if rep := mustSync(t, d); rep.Pushed != 0 || len(rep.Learned) != 0 {
				t.Fatalf("a quiet sync pushed %d changes and learned %+v", rep.Pushed, rep.Learned)
			}
		}
	}

	// The client's second device edits the shared entry: the share stays.
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)
	if err := pat2.Edit(ctx, shared, checkin(t, 5, "edited on the phone")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	mustSync(t, doc)
	if e, err := doc.Get(ctx, shared); err != nil || !strings.Contains(string(e.Plaintext), "edited on the phone") {
		t.Fatalf("the clinician lost the share after an edit on the client's second device: %v", err)
	}

	// A device that dropped a share before it knew the contact (its feed brought the
	// share first) fetches it again once it learns them. Simulated on doc2: it forgets the
	// contact and keeps only the share's ID, as it does with a share from a stranger; the
	// next revision of the contact document (a rename on doc) teaches it again.
	mustSync(t, doc2) // the edited revision is here: the feed will not bring it again
	for _, q := range []string{
		`INSERT INTO ignored (record, owner, revision) SELECT id, owner, revision FROM records WHERE owner = ?1`,
		`DELETE FROM grants WHERE record IN (SELECT id FROM records WHERE owner = ?1)`,
		`DELETE FROM records WHERE owner = ?1`,
		`DELETE FROM contacts WHERE account = ?1`,
	} {
		if _, err := doc2.db.ExecContext(ctx, q, sam.Account[:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := doc.RenameContact(ctx, "Sam R", "Sam K"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	// A round without the digest check, whose repair pass would bring the share back anyway.
	k, err := doc2.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	cn, _, err := doc2.connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep = &SyncReport{}
	err = doc2.round(ctx, cn, k, rep, false)
	cn.Close()
	if err != nil || len(rep.Learned) != 1 || rep.Learned[0].Name != "Sam K" || len(rep.Invalid) > 0 {
		t.Fatalf("second device learned %+v (%v, %+v)", rep.Learned, err, rep.Invalid)
	}
	from, err = doc2.ListFrom(ctx, sam.Account, ListFilter{})
	if err != nil || len(from) != 1 || !strings.Contains(string(from[0].Plaintext), "edited on the phone") {
		t.Fatalf("after learning the contact again the second device shows %d shared entries: %v", len(from), err)
	}

	// A rename on one device shows on the other.
	if err := doc2.RenameContact(ctx, "Sam K", "Samantha"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc2)
	mustSync(t, doc)
	if _, err := doc.Contact(ctx, "Samantha"); err != nil {
		t.Fatalf("rename did not reach the first device: %v", err)
	}

	// Ending the pairing on one device ends it on the other, and its copies go.
	if _, err := doc.RemoveContact(ctx, "Samantha"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	mustSync(t, doc2)
	if _, err := doc2.Contact(ctx, "Samantha"); !errors.Is(err, ErrNoContact) {
		t.Fatalf("ended contact still listed on the second device: %v", err)
	}
	if n := count(t, doc2, `SELECT count(*) FROM records WHERE owner = ?`, sam.Account[:]); n != 0 {
		t.Fatalf("second device keeps %d records of the ended contact", n)
	}
	// The contact documents are the account's own, shared with nobody.
	if n := s.count(`SELECT count(*) FROM grants WHERE record IN (SELECT id FROM records WHERE owner = ?) AND recipient = ?`,
		lee.Account[:], sam.Account[:]); n > 1 { // the notice of the ending
		t.Fatalf("%d of the clinician's records are shared with the client after the ending", n)
	}
}

func count(t *testing.T, c *Client, q string, args ...any) int {
	t.Helper()
	var n int
	if err := c.db.GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestContactWithoutDocumentIsPublished: a contact this device holds without a contact
// document (paired before documents existed) gets one at the next sync, and another
// device then learns it.
func TestContactWithoutDocumentIsPublished(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	pat, _ := signUp(t, s)
	sam, _ := pairUp(t, doc, pat)
	if _, err := doc.db.ExecContext(ctx, `DELETE FROM records WHERE role = ?`, roleContact); err != nil {
		t.Fatal(err)
	}
	if rep := mustSync(t, doc); rep.Pushed != 1 {
		t.Fatalf("sync pushed %d changes, want the contact document", rep.Pushed)
	}
	// The digest check brought the server's earlier document back too: two that agree.
	if n := count(t, doc, `SELECT count(*) FROM records WHERE role = ? AND link = ?`, roleContact, sam.Account[:]); n != 2 {
		t.Fatalf("%d contact documents for the client, want the new one and the server's", n)
	}
	if rep := mustSync(t, doc); rep.Pushed != 0 {
		t.Fatalf("the next sync pushed %d changes", rep.Pushed)
	}
	doc2 := login(t, docKit, pass)
	mustSync(t, doc2)
	if ct, err := doc2.Contact(ctx, sam.Account.String()); err != nil || !ct.Verified {
		t.Fatalf("the second device does not know the client: %+v %v", ct, err)
	}
}

// quiet syncs every device three times and fails if a sync of the last round pushes
// anything or reports a conflict or a learned contact: what the first two rounds
// propagate must settle, not pass to and fro.
func quiet(t *testing.T, devices ...*Client) {
	t.Helper()
	for round := range 3 {
		for i, d := range devices {
			rep := mustSync(t, d)
			if round == 2 && (rep.Pushed != 0 || len(rep.Learned) != 0 || len(rep.Conflicts) != 0) {
				t.Fatalf("device %d keeps changing: pushed %d, learned %+v, conflicts %v", i, rep.Pushed, rep.Learned, rep.Conflicts)
			}
		}
	}
}

// TestContactNamesMayClash: two devices give two different contacts the same name. Each
// keeps the name it is told (a name is for people; the account ID tells them apart), and
// nothing is written back and forth.
func TestContactNamesMayClash(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	pat, _ := signUp(t, s)
	kim, _ := signUp(t, s)
	sam, _ := pairUp(t, doc, pat)
	inv, err := doc.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kim.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Kim"}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	mustSync(t, kim)
	doc2 := login(t, docKit, pass)
	mustSync(t, doc2)

	if err := doc.RenameContact(ctx, "Sam", "Alex"); err != nil {
		t.Fatal(err)
	}
	if err := doc2.RenameContact(ctx, "Kim", "Alex"); err != nil {
		t.Fatal(err)
	}
	quiet(t, doc, doc2)
	for _, d := range []*Client{doc, doc2} {
		cts, err := d.Contacts(ctx)
		if err != nil || len(cts) != 2 || cts[0].Name != "Alex" || cts[1].Name != "Alex" {
			t.Fatalf("contacts: %+v %v", cts, err)
		}
		if _, err := d.Contact(ctx, "Alex"); !errors.Is(err, ErrAmbiguousContact) {
			t.Fatalf("two contacts called Alex: %v", err)
		}
		if _, err := d.Contact(ctx, sam.Account.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPairingAgainOnASecondDevice: the client's second device pairs in person again
// while the first is paired. The new pairing wins on every device, and the clinician's
// later ending reaches both of the client's devices, without a conflict.
func TestPairingAgainOnASecondDevice(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	_, lee := pairUp(t, doc, pat)
	// The second device's clock is a minute behind: pairings are ordered by the
	// clinician's time of acceptance, which the answer carries, not by the devices' clocks.
	clk := &clock{}
	clk.Advance(-time.Minute)
	pat2 := newClient(t, Options{Now: clk.Now})
	if err := pat2.Login(ctx, patKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}

	inv, err := doc.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
	if err != nil {
		t.Fatal(err)
	}
	ct, _, err := pat2.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Sam"})
	if err != nil {
		t.Fatal(err)
	}
	if ct.State != ContactPending { // its first pull brought the first pairing: the new one holds
		t.Fatalf("second device after accepting a new code: %+v", ct)
	}
	mustSync(t, doc)  // answers the new request
	mustSync(t, pat2) // paired again
	quiet(t, pat, pat2, doc)
	for i, d := range []*Client{pat, pat2} {
		c, err := d.Contact(ctx, "Dr Lee")
		if err != nil || c.State != ContactPaired {
			t.Fatalf("client device %d: %+v %v", i, c, err)
		}
	}
	// Both of the client's devices must act on the ending of the pairing that holds.
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	for i, d := range []*Client{pat, pat2, pat} {
		rep := mustSync(t, d)
		if len(rep.Conflicts) != 0 {
			t.Fatalf("client device %d reports conflicts %v after the ending", i, rep.Conflicts)
		}
	}
	endedOn(t, lee.Account, pat, pat2)
}

// TestEndingBeatsAConcurrentRename: one device ends a pairing while another renames the
// contact and pushes first. The ending holds on both, and neither shares with them again.
func TestEndingBeatsAConcurrentRename(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	_, lee := pairUp(t, doc, pat)
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)

	if err := pat2.RenameContact(ctx, "Dr Lee", "Dr L"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	// One sync each: the ending's push conflicts with the rename; the device that ended
	// the pairing must publish it again in the same sync.
	mustSync(t, pat)
	mustSync(t, pat2)
	if _, err := pat2.Contact(ctx, lee.Account.String()); !errors.Is(err, ErrNoContact) {
		t.Fatalf("the renaming device still lists the clinician after one sync of each: %v", err)
	}
	quiet(t, pat, pat2, doc)
	endedOn(t, lee.Account, pat, pat2)
}

// endedOn fails unless none of the devices lists the contact any more or will share a new
// entry with them.
func endedOn(t *testing.T, who syncproto.AccountID, devices ...*Client) {
	t.Helper()
	ctx := context.Background()
	for i, d := range devices {
		if _, err := d.Contact(ctx, who.String()); !errors.Is(err, ErrNoContact) {
			t.Fatalf("device %d still lists the ended contact: %v", i, err)
		}
		id := mustAdd(t, d, string(checkin(t, 3, "after the end")))
		if err := d.Share(ctx, id, who, ShareOptions{}); err == nil {
			t.Fatalf("device %d shared with an ended contact", i)
		}
	}
}

// TestSecondDeviceDoesNotRefuseTheRequestItLearned: the clinician's second device syncs
// after the first accepted a link request but before the client deleted it. It knows the
// pairing from the contact document and must not answer the request again (with a
// refusal: it holds no code).
func TestSecondDeviceDoesNotRefuseTheRequestItLearned(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	pat, _ := signUp(t, s)
	requestPairing(t, doc, pat)
	mustSync(t, doc)
	doc2 := login(t, docKit, pass)
	rep := mustSync(t, doc2)
	if len(rep.Pairings) != 0 || len(rep.Learned) != 1 {
		t.Fatalf("second device: pairings %+v, learned %+v", rep.Pairings, rep.Learned)
	}
	rep = mustSync(t, pat)
	if len(rep.Pairings) != 1 || !rep.Pairings[0].Accepted {
		t.Fatalf("client's pairing: %+v", rep.Pairings)
	}
	quiet(t, doc, doc2, pat)
	if c, err := pat.Contact(ctx, "Dr Lee"); err != nil || c.State != ContactPaired {
		t.Fatalf("client: %+v %v", c, err)
	}
}

// grantsTo counts the grants the server holds from owner's live records to who.
func grantsTo(t *testing.T, s *testServer, owner, who syncproto.AccountID) int {
	t.Helper()
	return s.count(`SELECT count(*) FROM grants g JOIN records r ON r.id = g.record WHERE r.owner = ? AND g.recipient = ? AND r.deleted = 0`,
		owner[:], who[:])
}

// TestEndingWithdrawsWhatAnotherDeviceShared: the client's phone shares an entry; the
// laptop, not synced since, ends the pairing. The share must not survive on the server.
func TestEndingWithdrawsWhatAnotherDeviceShared(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	sam, lee := pairUp(t, doc, pat)
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)
	id := mustAdd(t, pat2, string(checkin(t, 5, "from the phone")))
	if err := pat2.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, pat2, doc)
	if n := s.count(`SELECT count(*) FROM grants WHERE record = ?`, id[:]); n != 0 {
		t.Fatalf("the phone's share survives the ending on the server (%d grants)", n)
	}
	if st, _ := doc.RemoteState(ctx, []syncproto.RecordID{id}); st[0] != syncproto.StateGone {
		t.Fatalf("the clinician can still fetch the entry: %v", st)
	}
	endedOn(t, lee.Account, pat, pat2)
	if n := grantsTo(t, s, sam.Account, lee.Account); n != 1 {
		t.Fatalf("%d of the client's records shared with the clinician after the ending, want the notice of it only", n)
	}
}

// TestTwoRequestsAtOnce: both of the client's devices type in a code of their own before
// the clinician syncs. The clinician keeps the one it answered last; the client's devices
// settle on the same one, so the clinician's ending reaches them.
func TestTwoRequestsAtOnce(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	pat2 := login(t, patKit, pass)
	for _, d := range []*Client{pat, pat2} {
		inv, err := doc.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Sam"}); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, doc)
	quiet(t, pat, pat2, doc)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil || lee.State != ContactPaired {
		t.Fatalf("client: %+v %v", lee, err)
	}
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
		t.Fatal(err)
	}
	quiet(t, doc, pat, pat2)
	endedOn(t, lee.Account, pat, pat2)
	k, err := pat.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	if n := grantsTo(t, s, syncproto.AccountID(k.id.Account), lee.Account); n > 0 {
		t.Fatalf("%d of the client's records still shared with the clinician after the ending", n)
	}
}

// TestRemovingAPendingRepairing: the client's device is paired and pairs again (pending),
// the clinician answers, and then the client removes the contact on that device. The
// ending holds on all the client's devices; the old pairing does not come back.
func TestRemovingAPendingRepairing(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	_, lee := pairUp(t, doc, pat)
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)
	requestPairing(t, doc, pat)
	mustSync(t, doc)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, pat2, doc)
	endedOn(t, lee.Account, pat, pat2)
	noContactsOn(t, doc)
}

// TestRefusalByAnotherClinicianDevice: the clinician's second device sees the request
// before the device that made the code, and refuses it (it holds no code); the device
// with the code accepts. The client ends up paired.
func TestRefusalByAnotherClinicianDevice(t *testing.T) {
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	doc2 := login(t, docKit, pass)
	pat, _ := signUp(t, s)
	requestPairing(t, doc, pat)
	rep := mustSync(t, doc2) // refuses: unknown_code
	if len(rep.Pairings) != 1 || rep.Pairings[0].Accepted {
		t.Fatalf("second clinician device: %+v", rep.Pairings)
	}
	mustSync(t, pat) // reads the refusal first
	mustSync(t, doc) // accepts
	quiet(t, pat, doc, doc2)
	onePairedOn(t, pat, doc, doc2)
}

// TestRefusedRetryKeepsThePairing: a second device of the client tries an already used
// code and is refused; the account is still paired through the first, and so is it.
func TestRefusedRetryKeepsThePairing(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	code := requestPairing(t, doc, pat)
	mustSync(t, doc)
	mustSync(t, pat)
	pat2 := login(t, patKit, pass)
	if _, _, err := pat2.AcceptPairCode(ctx, code, AcceptOptions{Name: "Sam"}); err != nil {
		t.Fatal(err)
	}
	quiet(t, doc, pat2, pat)
	pairedOn(t, "Dr Lee", pat, pat2)
}

// TestEndingReachesADivergedPairing: a client device that holds another pairing than the
// clinician's (the clinician answered a later request this device never learned of) still
// acts on the clinician's ending, which is stamped after this device's pairing by the
// clinician's own clock.
func TestEndingReachesADivergedPairing(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	_, lee := pairUp(t, doc, pat)
	if _, err := pat.db.ExecContext(ctx, `UPDATE contacts SET pairing = randomblob(16), verified = verified - 60`); err != nil {
		t.Fatal(err)
	}
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc)
	if rep := mustSync(t, pat); len(rep.Ended) != 1 {
		t.Fatalf("the client was not told: %+v", rep.Ended)
	}
	endedOn(t, lee.Account, pat)
}

// TestEndingDuringARetry: the client's only device is paired, tries to pair again with a
// used code, and meanwhile the clinician ends the pairing and refuses the retry. The
// ending must hold: the refusal may not bring the old pairing back, and what the client
// shared is withdrawn.
func TestEndingDuringARetry(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	code := requestPairing(t, doc, pat)
	mustSync(t, doc)
	mustSync(t, pat)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil {
		t.Fatal(err)
	}
	id := mustAdd(t, pat, string(checkin(t, 5, "shared before the end")))
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pat.AcceptPairCode(ctx, code, AcceptOptions{Name: "Sam"}); err != nil { // used: to be refused
		t.Fatal(err)
	}
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
		t.Fatal(err)
	}
	quiet(t, doc, pat)
	endedOn(t, lee.Account, pat)
	if n := s.count(`SELECT count(*) FROM grants WHERE record = ?`, id[:]); n != 0 {
		t.Fatalf("the entry shared before the ending keeps %d grants", n)
	}
}

// TestRetryRefusedByBothClinicianDevices: the client's second device retries a used code;
// the clinician's device without the code refuses it first (unknown_code), the one with
// it second (used). The account is still paired, and so is that device.
func TestRetryRefusedByBothClinicianDevices(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	doc2 := login(t, docKit, pass)
	pat, patKit := signUp(t, s)
	code := requestPairing(t, doc, pat)
	mustSync(t, doc)
	mustSync(t, pat)
	mustSync(t, doc2)
	pat2 := login(t, patKit, pass)
	if _, _, err := pat2.AcceptPairCode(ctx, code, AcceptOptions{Name: "Sam"}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc2) // unknown_code
	mustSync(t, pat2)
	mustSync(t, doc) // used
	quiet(t, pat2, pat, doc, doc2)
	for i, d := range []*Client{pat, pat2} {
		ct, err := d.Contact(ctx, "Dr Lee")
		if err != nil || ct.State != ContactPaired {
			t.Fatalf("client device %d: %+v %v", i, ct, err)
		}
		// Refused for good: the request is answered, and goes.
		if n := count(t, d, `SELECT count(*) FROM records WHERE role = ? AND deleted = 0`, rolePairRequest); n != 0 {
			t.Fatalf("client device %d keeps %d live link requests", i, n)
		}
	}
}

// TestEndingAdoptedAfterARefusalWithdraws: the client's laptop shares an entry offline;
// the phone ends the pairing; the laptop, retrying a used code, learns of the ending only
// after the refusal. It must still withdraw its share.
func TestEndingAdoptedAfterARefusalWithdraws(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	code := requestPairing(t, doc, pat)
	mustSync(t, doc)
	mustSync(t, pat)
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil {
		t.Fatal(err)
	}
	id := mustAdd(t, pat, string(checkin(t, 5, "shared offline")))
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pat2.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	if _, _, err := pat.AcceptPairCode(ctx, code, AcceptOptions{Name: "Sam"}); err != nil { // used: to be refused
		t.Fatal(err)
	}
	quiet(t, doc, pat, pat2)
	endedOn(t, lee.Account, pat, pat2)
	if n := s.count(`SELECT count(*) FROM grants WHERE record = ?`, id[:]); n != 0 {
		t.Fatalf("the entry shared offline keeps %d grants after the ending", n)
	}
}

// TestLateEndingOfAnOldPairing: the clinician's laptop, offline, ends the pairing; five
// seconds later the client pairs again, in person, with the clinician's phone; then the
// laptop syncs. The old ending must not undo the new pairing on any device of either
// account: the laptop withdraws its notice once it learns of the newer pairing, and a
// device that sees the notice dates the ending when the clinician made it, not when it
// learns of it (either suffices here; both are kept).
func TestLateEndingOfAnOldPairing(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	device := func() *Client { return newClient(t, Options{Now: clk.Now}) }
	doc := device()
	docKit, err := doc.SignUp(ctx, s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pat := device()
	patKit, err := pat.SignUp(ctx, s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, lee := pairUp(t, doc, pat)
	doc2, pat2 := device(), device()
	if err := doc2.Login(ctx, docKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if err := pat2.Login(ctx, patKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	mustSync(t, doc2)
	mustSync(t, pat2)

	clk.Advance(2 * time.Second)
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil { // offline: not synced yet
		t.Fatal(err)
	}
	clk.Advance(5 * time.Second)
	requestPairing(t, doc2, pat2)
	mustSync(t, doc2)
	mustSync(t, pat2)
	clk.Advance(5 * time.Second)
	mustSync(t, doc) // the laptop's ending reaches the server now, after the new pairing
	if err := pat2.RenameContact(ctx, "Dr Lee", "Dr L"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	clk.Advance(5 * time.Second)
	quiet(t, pat, pat2, doc, doc2)
	for i, d := range []*Client{pat, pat2} {
		ct, err := d.Contact(ctx, lee.Account.String())
		if err != nil || ct.State != ContactPaired {
			t.Fatalf("client device %d: %+v %v", i, ct, err)
		}
	}
	for i, d := range []*Client{doc, doc2} {
		if cts, err := d.Contacts(ctx); err != nil || len(cts) != 1 || cts[0].State != ContactPaired {
			t.Fatalf("clinician device %d: %+v %v", i, cts, err)
		}
	}
}

// TestPairingAgainAfterAnEndingElsewhere: the client's phone ends the pairing; the laptop,
// not synced since, pairs again in person with a code of the clinician's laptop; the
// clinician's phone, which has no such code, refuses first, then the laptop accepts. The
// new pairing is the newest event and holds on every device of both accounts.
func TestPairingAgainAfterAnEndingElsewhere(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	device := func() *Client { return newClient(t, Options{Now: clk.Now}) }
	doc, pat, docKit, patKit := clockedAccounts(t, s, clk)
	pairUp(t, doc, pat)
	doc2, pat2 := device(), device()
	for _, x := range []struct {
		c   *Client
		kit *RecoveryKit
	}{{doc2, docKit}, {pat2, patKit}} {
		if err := x.c.Login(ctx, x.kit, []byte(pass)); err != nil {
			t.Fatal(err)
		}
		mustSync(t, x.c)
	}
	clk.Advance(2 * time.Second)
	if _, err := pat2.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	clk.Advance(2 * time.Second)
	requestPairing(t, doc, pat)
	mustSync(t, doc2) // no such code here: unknown_code
	clk.Advance(2 * time.Second)
	mustSync(t, doc) // accepts
	quiet(t, pat, pat2, doc, doc2)
	onePairedOn(t, pat, pat2, doc, doc2)
}

// requestPairing makes a pairing code on the clinician's device and types it in on the
// client's (the link request is sent), and returns the code.
// clockedAccounts signs up a clinician and a client on devices that read clk.
func clockedAccounts(t *testing.T, s *testServer, clk *clock) (doc, pat *Client, docKit, patKit *RecoveryKit) {
	t.Helper()
	ctx := context.Background()
	doc, pat = newClient(t, Options{Now: clk.Now}), newClient(t, Options{Now: clk.Now})
	var err error
	if docKit, err = doc.SignUp(ctx, s.url, []byte(pass), SignUpOptions{}); err != nil {
		t.Fatal(err)
	}
	if patKit, err = pat.SignUp(ctx, s.url, []byte(pass), SignUpOptions{}); err != nil {
		t.Fatal(err)
	}
	return doc, pat, docKit, patKit
}

func requestPairing(t *testing.T, clinician, client *Client) string {
	t.Helper()
	ctx := context.Background()
	inv, err := clinician.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.AcceptPairCode(ctx, inv.Code, AcceptOptions{Name: "Sam"}); err != nil {
		t.Fatal(err)
	}
	return inv.Code
}

// clockedDevices signs up a clinician and a client on devices that read the clocks given,
// pairs them, and signs a second device of each in (with the same clocks); all synced.
func clockedDevices(t *testing.T, s *testServer, docClock, patClock *clock) (doc, doc2, pat, pat2 *Client) {
	t.Helper()
	ctx := context.Background()
	doc, pat = newClient(t, Options{Now: docClock.Now}), newClient(t, Options{Now: patClock.Now})
	docKit, err := doc.SignUp(ctx, s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patKit, err := pat.SignUp(ctx, s.url, []byte(pass), SignUpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pairUp(t, doc, pat)
	doc2, pat2 = newClient(t, Options{Now: docClock.Now}), newClient(t, Options{Now: patClock.Now})
	if err := doc2.Login(ctx, docKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if err := pat2.Login(ctx, patKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Client{doc2, pat2} {
		mustSync(t, d)
	}
	return doc, doc2, pat, pat2
}

// TestRemovingWhilePairingAgainHolds: the clinician's clock is a minute ahead; the client's
// device pairs again and, before the clinician answers, removes the clinician. The removal
// is the newest event: it holds on both of the client's devices and on the clinician's.
func TestRemovingWhilePairingAgainHolds(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	docClock, patClock := &clock{}, &clock{}
	docClock.Advance(time.Minute)
	doc, doc2, pat, pat2 := clockedDevices(t, s, docClock, patClock)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil {
		t.Fatal(err)
	}
	requestPairing(t, doc, pat)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, pat2, doc, doc2)
	endedOn(t, lee.Account, pat, pat2)
	noContactsOn(t, doc)
}

// TestTwoDevicesPairingAgain: both of the client's devices pair again, one after the
// other; the clinician answers only the second. The first device's request must not be
// deleted by the second, and neither device may be left waiting while the account is
// paired.
func TestTwoDevicesPairingAgain(t *testing.T) {
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, patKit := signUp(t, s)
	pairUp(t, doc, pat)
	pat2 := login(t, patKit, pass)
	mustSync(t, pat2)
	requestPairing(t, doc, pat)
	mustSync(t, pat2)
	requestPairing(t, doc, pat2)
	quiet(t, doc, pat, pat2)
	pairedOn(t, "Dr Lee", pat, pat2)
}

// TestPairingAgainSoonAfterRemovingWithAFastClock: the client's devices run a minute fast;
// the client removes the clinician, everyone syncs, and a second later they pair again in
// person. The new pairing is the newest event and holds on every device.
func TestPairingAgainSoonAfterRemovingWithAFastClock(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	docClock, patClock := &clock{}, &clock{}
	patClock.Advance(time.Minute)
	doc, doc2, pat, pat2 := clockedDevices(t, s, docClock, patClock)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, pat2, doc, doc2)
	docClock.Advance(time.Second)
	patClock.Advance(time.Second)
	requestPairing(t, doc, pat)
	quiet(t, doc, pat, pat2, doc2)
	onePairedOn(t, pat, pat2, doc, doc2)
}

// TestRemovalBeforeTheAnswerHolds: the client's device pairs again and removes the
// clinician before the answer comes; the clinician then accepts, and the client's other
// device reads the acceptance. Within one pairing the ending is final: the removal holds
// everywhere, whatever the times.
func TestRemovalBeforeTheAnswerHolds(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	docClock, patClock := &clock{}, &clock{}
	doc, doc2, pat, pat2 := clockedDevices(t, s, docClock, patClock)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil {
		t.Fatal(err)
	}
	docClock.Advance(10 * time.Second)
	patClock.Advance(10 * time.Second)
	requestPairing(t, doc, pat)
	patClock.Advance(time.Second)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil { // not synced yet
		t.Fatal(err)
	}
	docClock.Advance(5 * time.Second)
	patClock.Advance(5 * time.Second)
	mustSync(t, doc)  // accepts the request
	mustSync(t, pat2) // reads the acceptance
	quiet(t, pat, pat2, doc, doc2)
	endedOn(t, lee.Account, pat, pat2)
	noContactsOn(t, doc, doc2)
}

// TestRemovalElsewhereEndsAnAttempt: the client's laptop types a new code; then the phone,
// not synced since, removes the clinician; then the clinician accepts the code. The
// removal came after the attempt began and covers it: nobody stays paired.
func TestRemovalElsewhereEndsAnAttempt(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	docClock, patClock := &clock{}, &clock{}
	doc, doc2, pat, pat2 := clockedDevices(t, s, docClock, patClock)
	lee, err := pat.Contact(ctx, "Dr Lee")
	if err != nil {
		t.Fatal(err)
	}
	docClock.Advance(5 * time.Second)
	patClock.Advance(5 * time.Second)
	requestPairing(t, doc, pat)
	patClock.Advance(5 * time.Second)
	if _, err := pat2.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat2)
	docClock.Advance(10 * time.Second)
	patClock.Advance(10 * time.Second)
	mustSync(t, doc) // accepts the laptop's code
	quiet(t, pat, pat2, doc, doc2)
	endedOn(t, lee.Account, pat, pat2)
	noContactsOn(t, doc, doc2)
}

// TestRemovalAfterARefusalReachesTheClinician: the client types a code; the clinician's
// device without it refuses (unknown_code); the device with it accepts after the client
// has read the refusal; then the client removes the clinician. The clinician's devices
// must learn that it ended.
func TestRemovalAfterARefusalReachesTheClinician(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, docKit := signUp(t, s)
	doc2 := login(t, docKit, pass)
	pat, _ := signUp(t, s)
	requestPairing(t, doc, pat)
	mustSync(t, doc2) // unknown_code
	mustSync(t, pat)  // refused, for now
	mustSync(t, doc)  // accepts
	cts, err := pat.Contacts(ctx)
	if err != nil || len(cts) != 1 {
		t.Fatalf("client: %+v %v", cts, err)
	}
	if _, err := pat.RemoveContact(ctx, cts[0].Account.String()); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, doc, doc2)
	noContactsOn(t, pat, doc, doc2)
}

// pairedOn fails unless every device lists the contact (a name or an account ID) as paired.
func pairedOn(t *testing.T, nameOrID string, devices ...*Client) {
	t.Helper()
	for i, d := range devices {
		ct, err := d.Contact(context.Background(), nameOrID)
		if err != nil || ct.State != ContactPaired {
			t.Fatalf("device %d: %+v %v", i, ct, err)
		}
	}
}

// onePairedOn fails unless every device lists exactly one contact, paired.
func onePairedOn(t *testing.T, devices ...*Client) {
	t.Helper()
	for i, d := range devices {
		cts, err := d.Contacts(context.Background())
		if err != nil || len(cts) != 1 || cts[0].State != ContactPaired {
			t.Fatalf("device %d: %+v %v", i, cts, err)
		}
	}
}

// noContactsOn fails unless no device lists any contact.
func noContactsOn(t *testing.T, devices ...*Client) {
	t.Helper()
	for i, d := range devices {
		if cts, _ := d.Contacts(context.Background()); len(cts) != 0 {
			t.Fatalf("device %d still lists %+v", i, cts)
		}
	}
}

// TestAnswerBeforeTheContactReachesASecondDevice: the client's second device syncs after
// the clinician answered the first device's request (and, in the second case, ended the
// pairing too) and before the first device read the answer. Both are the first device's to
// apply: the second reports nothing invalid (mustSync) and takes the first's word for
// the outcome once it has synced.
func TestAnswerBeforeTheContactReachesASecondDevice(t *testing.T) {
	for _, ended := range []bool{false, true} {
		t.Run(fmt.Sprintf("ended=%v", ended), func(t *testing.T) {
			ctx := context.Background()
			s := newTestServer(t)
			doc, _ := signUp(t, s)
			pat, patKit := signUp(t, s)
			pat2 := newClient(t, Options{})
			if err := pat2.Login(ctx, patKit, []byte(pass)); err != nil {
				t.Fatal(err)
			}
			requestPairing(t, doc, pat)
			cts, err := pat.Contacts(ctx)
			if err != nil || len(cts) != 1 {
				t.Fatalf("contacts after the request: %+v %v", cts, err)
			}
			lee := cts[0].Account
			mustSync(t, doc) // accepts
			if ended {
				if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
					t.Fatal(err)
				}
				mustSync(t, doc)
			}
			mustSync(t, pat2) // before pat has read the answer
			if n := count(t, pat2, `SELECT count(*) FROM rejected`); n != 0 {
				t.Errorf("the second device recorded %d rejected changes", n)
			}
			mustSync(t, pat)
			mustSync(t, pat2)
			quiet(t, doc, pat, pat2)
			if ended {
				endedOn(t, lee, pat, pat2)
			} else {
				pairedOn(t, "Dr Lee", pat, pat2)
			}
		})
	}
}

// TestAnotherDeviceReadsTheAnswerFirst: after an ending, the client's second device pairs
// again; the first device reads the clinician's acceptance first (the request is the
// account's), pairs, and deletes the request, and the clinician's device then deletes its
// answer. The second device, waiting on that request, gets the first's contact document
// before the request's deletion, and no answer: it pairs too rather than waiting for
// ever. (Found by TestPairingInterleavings, seed 6.)
func TestAnotherDeviceReadsTheAnswerFirst(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	doc, doc2, pat, pat2 := clockedDevices(t, s, clk, clk)
	clk.Advance(10 * time.Second)
	if _, err := pat.RemoveContact(ctx, "Dr Lee"); err != nil {
		t.Fatal(err)
	}
	quiet(t, pat, pat2, doc, doc2)
	noContactsOn(t, doc, doc2)
	clk.Advance(10 * time.Second)
	requestPairing(t, doc, pat2)
	clk.Advance(time.Second)
	mustSync(t, doc) // accepts
	mustSync(t, pat) // reads the acceptance first, and deletes the request
	mustSync(t, doc) // deletes its answer
	mustSync(t, pat2)
	quiet(t, doc, doc2, pat, pat2)
	onePairedOn(t, doc, doc2, pat, pat2)
}

// TestAnEndingLeavesANewerRequestOpen: the client's device pairs again with a code from
// the clinician's second device before it has read the first acceptance; the first
// clinician device, which holds no such code, refuses it and then removes the client. The
// client's device learns of that ending, but the newer request stays open, and the second
// clinician device's acceptance, later than the ending, pairs both accounts through it.
// (Found by TestPairingInterleavings, seed 15.)
func TestAnEndingLeavesANewerRequestOpen(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	doc, pat, docKit, patKit := clockedAccounts(t, s, clk)
	doc2, pat2 := newClient(t, Options{Now: clk.Now}), newClient(t, Options{Now: clk.Now})
	if err := doc2.Login(ctx, docKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if err := pat2.Login(ctx, patKit, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	requestPairing(t, doc, pat)
	mustSync(t, doc)  // accepts
	mustSync(t, doc2) // learns it
	clk.Advance(2 * time.Second)
	requestPairing(t, doc2, pat)
	clk.Advance(time.Second)
	mustSync(t, doc) // refuses the second request: not its code
	clk.Advance(time.Second)
	if _, err := doc.RemoveContact(ctx, "Sam"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	mustSync(t, pat)
	clk.Advance(time.Second)
	quiet(t, pat2, doc, doc2, pat)
	onePairedOn(t, doc, doc2, pat, pat2)
}
