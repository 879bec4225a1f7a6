package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"interlude/syncproto"
)

// bumpFeed makes the server announce a record again in account's feed (a malicious
// server can replay anything it ever held).
func bumpFeed(t *testing.T, s *testServer, account syncproto.AccountID, id syncproto.RecordID) {
	t.Helper()
	// The account's feed is its own records (records.owner_seq) and its entries as a
	// recipient (changes), numbered by one counter: move the record past both.
	const next = `max(coalesce((SELECT max(owner_seq) FROM records WHERE owner = ?2), 0),
		coalesce((SELECT max(seq) FROM changes WHERE account = ?2), 0)) + 1`
	for _, q := range []string{
		`UPDATE records SET owner_seq = ` + next + ` WHERE id = ?1 AND owner = ?2`,
		`UPDATE changes SET seq = ` + next + ` WHERE record = ?1 AND account = ?2`,
	} {
		if _, err := s.db().Exec(q, id[:], account[:]); err != nil {
			t.Fatal(err)
		}
	}
}

// A server that re-serves a grant the owner revoked must not make the owner's device
// share the entry again: the next edit would wrap the new revision to the revoked
// contact.
func TestRevokedGrantReplayedToOwnerIsNotReinstated(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	doc, _ := signUp(t, s)
	pat, _ := signUp(t, s)
	sam, lee := pairUp(t, doc, pat)
	id := mustAdd(t, pat, string(checkin(t, 4, "shared for now")))
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	var revision uint64
	var expires int64
	var blob []byte
	if err := s.db().QueryRow(`SELECT revision, expires, blob FROM grants WHERE record = ? AND recipient = ?`, id[:], lee.Account[:]).
		Scan(&revision, &expires, &blob); err != nil {
		t.Fatal(err)
	}
	if _, err := pat.Unshare(ctx, id, lee.Account); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if n := s.count(`SELECT count(*) FROM grants WHERE record = ?`, id[:]); n != 0 {
		t.Fatalf("%d grants left after the revoke", n)
	}

	// The server puts the revoked grant back and replays the record to its owner.
	if _, err := s.db().Exec(`INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, ?, ?, ?)`,
		id[:], lee.Account[:], revision, expires, blob); err != nil {
		t.Fatal(err)
	}
	me := must(pat.Account(ctx))
	bumpFeed(t, s, me, id)
	if _, err := pat.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if shares, _ := pat.Shares(ctx); len(shares) != 0 {
		t.Fatalf("a replayed revoked grant is listed as a share: %+v", shares)
	}
	// The server drops it again (it is honest from here on); the owner edits.
	if _, err := s.db().Exec(`DELETE FROM grants WHERE record = ?`, id[:]); err != nil {
		t.Fatal(err)
	}
	if err := pat.Edit(ctx, id, checkin(t, 1, "written after the revoke")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if n := s.count(`SELECT count(*) FROM grants WHERE record = ? AND recipient = ?`, id[:], lee.Account[:]); n != 0 {
		t.Fatal("the edit after the revoke was wrapped to the revoked contact")
	}
	if es, _ := doc.ListFrom(ctx, sam.Account, ListFilter{}); len(es) != 0 {
		t.Fatalf("the revoked contact reads %d entries", len(es))
	}
}

// A share that expired at the recipient cannot be brought back by the server replaying
// an older revision whose grant had no expiry (rollback below the revision dropped).
func TestExpiredShareNotRolledBackToOlderRevision(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t)
	clk := &clock{}
	doc := newClient(t, Options{Now: clk.Now})
	if _, err := doc.SignUp(ctx, s.url, []byte(pass), SignUpOptions{}); err != nil {
		t.Fatal(err)
	}
	pat, _ := signUp(t, s)
	sam, lee := pairUp(t, doc, pat)
	id := mustAdd(t, pat, string(checkin(t, 3, "revision one")))
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	// The server keeps revision 1 and its grant (no expiry).
	var env, ownerKey, blob []byte
	var seq uint64
	if err := s.db().QueryRow(`SELECT envelope, owner_key, seq FROM records WHERE id = ?`, id[:]).Scan(&env, &ownerKey, &seq); err != nil {
		t.Fatal(err)
	}
	if err := s.db().QueryRow(`SELECT blob FROM grants WHERE record = ? AND recipient = ?`, id[:], lee.Account[:]).Scan(&blob); err != nil {
		t.Fatal(err)
	}
	// Revision 2, now shared for an hour only.
	if err := pat.Edit(ctx, id, checkin(t, 2, "revision two")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	if err := pat.Share(ctx, id, lee.Account, ShareOptions{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, pat)
	mustSync(t, doc)
	if e, err := doc.Get(ctx, id); err != nil || e.Revision != 2 || e.Expires.IsZero() {
		t.Fatalf("before expiry: %v %+v", err, e)
	}
	clk.Advance(2 * time.Hour)
	mustSync(t, doc)
	if _, err := doc.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired share still readable: %v", err)
	}

	// The server rolls the record back to revision 1 with its never-expiring grant.
	db := s.db()
	if _, err := db.Exec(`UPDATE records SET revision = 1, envelope = ?, owner_key = ? WHERE id = ?`, env, ownerKey, id[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO grants (record, recipient, revision, expires, blob) VALUES (?, ?, 1, 0, ?)
		ON CONFLICT (record, recipient) DO UPDATE SET revision = 1, expires = 0, blob = excluded.blob`, id[:], lee.Account[:], blob); err != nil {
		t.Fatal(err)
	}
	bumpFeed(t, s, must(doc.Account(ctx)), id)
	if _, err := doc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if e, err := doc.Get(ctx, id); err == nil {
		t.Fatalf("rolled back to revision %d after the share expired: %q", e.Revision, e.Plaintext)
	}
	for _, e := range must(doc.ListFrom(ctx, sam.Account, ListFilter{})) {
		if strings.Contains(string(e.Plaintext), "revision one") {
			t.Fatal("the old revision is listed")
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
