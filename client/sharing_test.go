package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
