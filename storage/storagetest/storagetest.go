// Package storagetest is the conformance suite of storage.Store: every backend runs it
// against a fresh store of its own, in the style of golang.org/x/mod/sumdb's TestStorage.
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			s, err := mybackend.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//		storagetest.RunQuota(t, func(t *testing.T, maxRecords int) storage.Store { ... })
//	}
//
// Run covers accounts, devices, sessions, pushes, grants, the change feed, Records,
// Digest, concurrency and Close; RunQuota the per-account record quota, which needs a
// store opened with a small limit. A backend passes when both pass. The suite asserts
// what storage.Store's documentation promises, and nothing about timing.
//
// Every subtest opens its own store and may run in parallel with the others. Times are
// fixed (no wall clock), and the open function may be called many times.
package storagetest

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"interlude/storage"
	"interlude/syncproto"
)

// Now is the time the suite runs at: not on a whole hour, minute or second, so that
// rounding shows.
var Now = time.Date(2026, 11, 23, 14, 37, 21, 500_000_000, time.UTC)

// Run runs the conformance suite. open must return a new, empty store each call; the
// suite closes it (and the backend's own cleanup may close it again).
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s storage.Store)
	}{
		{"Account/CreateAndGet", testAccountCreateAndGet},
		{"Account/Duplicate", testAccountDuplicate},
		{"Account/Missing", testAccountMissing},
		{"Account/Fingerprint", testAccountFingerprint},
		{"Account/UpdateLogin", testAccountUpdateLogin},
		{"Device/AddAndList", testDeviceAddAndList},
		{"Device/Revoke", testDeviceRevoke},
		{"Device/Touch", testDeviceTouch},
		{"Session/Lifecycle", testSessionLifecycle},
		{"Session/Expiry", testSessionExpiry},
		{"Push/New", testPushNew},
		{"Push/Update", testPushUpdate},
		{"Push/StaleBase", testPushStaleBase},
		{"Push/Replay", testPushReplay},
		{"Push/Delete", testPushDelete},
		{"Push/NotOwner", testPushNotOwner},
		{"Push/Malformed", testPushMalformed},
		{"Push/UnknownOwner", testPushUnknownOwner},
		{"Push/ResultOrder", testPushResultOrder},
		{"Grant/Visibility", testGrantVisibility},
		{"Grant/Standalone", testGrantStandalone},
		{"Grant/Revoke", testGrantRevoke},
		{"Grant/ReplacedByPush", testGrantReplacedByPush},
		{"Grant/Expiry", testGrantExpiry},
		{"Changes/Paging", testChangesPaging},
		{"Changes/LatestOnce", testChangesLatestOnce},
		{"Changes/PerAccountSeq", testChangesPerAccountSeq},
		{"Changes/Interleaved", testChangesInterleaved},
		{"Records/Visibility", testRecordsVisibility},
		{"Digest", testDigest},
		{"Concurrency", testConcurrency},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.f(t, s)
		})
	}
}

// RunQuota checks the per-account record quota. open must return a new, empty store that
// lets one account own at most maxRecords live records.
func RunQuota(t *testing.T, open func(t *testing.T, maxRecords int) storage.Store) {
	t.Run("Quota", func(t *testing.T) {
		t.Parallel()
		const max = 3
		s := open(t, max)
		t.Cleanup(func() { s.Close() })
		testQuota(t, s, max)
	})
}

// ---- fixtures ----

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randomAccount() (storage.Account, storage.Device) {
	a := storage.Account{
		ID:             syncproto.NewAccountID(),
		KDFParams:      random(40),
		Keybag:         random(300),
		RecoveryKeybag: random(300),
		Bundle:         random(1500),
		Created:        Now,
	}
	rand.Read(a.LoginKey[:])
	rand.Read(a.RecoveryLoginKey[:])
	rand.Read(a.Fingerprint[:])
	d := storage.Device{ID: syncproto.NewDeviceID(), Account: a.ID, Label: random(48), Created: Now, LastSeen: Now}
	return a, d
}

func newAccount(t *testing.T, s storage.Store) syncproto.AccountID {
	t.Helper()
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a.ID
}

func newRecordID() syncproto.RecordID { return syncproto.NewRecordID(Now) }

// live is a push of revision base+1 of record id with fresh bytes and grants for the
// given recipients.
func live(id syncproto.RecordID, base uint64, recipients ...syncproto.AccountID) syncproto.RecordPush {
	rp := syncproto.RecordPush{Record: id, BaseRevision: base, Revision: base + 1, Envelope: random(1024), OwnerKey: random(72)}
	for _, r := range recipients {
		rp.Grants = append(rp.Grants, grantOf(id, base+1, r))
	}
	return rp
}

func grantOf(id syncproto.RecordID, revision uint64, recipient syncproto.AccountID) syncproto.GrantPush {
	return syncproto.GrantPush{Record: id, Revision: revision, Recipient: recipient, Blob: random(1168)}
}

func deletion(id syncproto.RecordID, base uint64) syncproto.RecordPush {
	return syncproto.RecordPush{Record: id, BaseRevision: base, Revision: base + 1, Delete: true,
		Envelope: deletionStatement(id, base+1)}
}

// deletionStatement stands in for an author's signed deletion statement: opaque bytes
// to a store, which keeps them and serves them with StateDeleted.
func deletionStatement(id syncproto.RecordID, revision uint64) []byte {
	b := make([]byte, 0, 105)
	b = append(b, 0x01)
	b = append(b, id[:]...)
	b = append(b, make([]byte, 16)...)
	b = binary.BigEndian.AppendUint64(b, revision)
	return append(b, bytes.Repeat([]byte{0xd1}, 64)...)
}

func push(t *testing.T, s storage.Store, owner syncproto.AccountID, p syncproto.Push) storage.PushOutcome {
	t.Helper()
	return pushAt(t, s, owner, p, Now)
}

func pushAt(t *testing.T, s storage.Store, owner syncproto.AccountID, p syncproto.Push, now time.Time) storage.PushOutcome {
	t.Helper()
	out, err := s.Push(t.Context(), owner, p, now)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if n := len(p.Records) + len(p.Grants) + len(p.Revokes); len(out.Results) != n {
		t.Fatalf("Push: %d results for %d items", len(out.Results), n)
	}
	return out
}

// pushRecords pushes records and requires every one to be accepted.
func pushRecords(t *testing.T, s storage.Store, owner syncproto.AccountID, rps ...syncproto.RecordPush) storage.PushOutcome {
	t.Helper()
	out := push(t, s, owner, syncproto.Push{Records: rps})
	for i, r := range out.Results {
		if r.Status != syncproto.StatusAccepted {
			t.Fatalf("push of record %d (%s): %s", i, rps[i].Record, describe(r))
		}
	}
	return out
}

func describe(r syncproto.ItemResult) string {
	status := map[syncproto.ItemStatus]string{syncproto.StatusAccepted: "accepted", syncproto.StatusConflict: "conflict", syncproto.StatusRejected: "rejected"}[r.Status]
	if status == "" {
		status = fmt.Sprintf("status %d", r.Status)
	}
	return fmt.Sprintf("%s (code %s, revision %d, seq %d)", status, r.Code, r.Revision, r.Seq)
}

// wantResult checks one item result's status, code and revision (and record ID).
func wantResult(t *testing.T, what string, got syncproto.ItemResult, id syncproto.RecordID, status syncproto.ItemStatus, code syncproto.ErrorCode, revision uint64) {
	t.Helper()
	if got.Record != id || got.Status != status || got.Code != code || got.Revision != revision {
		want := syncproto.ItemResult{Record: id, Status: status, Code: code, Revision: revision}
		t.Errorf("%s: got %s for %s, want %s for %s", what, describe(got), got.Record, describe(want), id)
	}
	if status == syncproto.StatusAccepted && got.Seq == 0 {
		t.Errorf("%s: accepted with seq 0", what)
	}
	if status != syncproto.StatusAccepted && got.Seq != 0 {
		t.Errorf("%s: not accepted but seq %d", what, got.Seq)
	}
}

// feed pulls an account's whole feed after cursor, in pages of limit.
func feed(t *testing.T, s storage.Store, account syncproto.AccountID, after uint64, now time.Time) []syncproto.Change {
	t.Helper()
	var all []syncproto.Change
	for {
		page, err := s.Changes(t.Context(), account, after, 100, now)
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		all = append(all, page.Items...)
		if !page.More {
			return all
		}
		if page.Cursor <= after {
			t.Fatalf("Changes: More with cursor %d not past %d", page.Cursor, after)
		}
		after = page.Cursor
	}
}

func cursor(t *testing.T, s storage.Store, account syncproto.AccountID) uint64 {
	t.Helper()
	c, err := s.Cursor(t.Context(), account)
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	return c
}

func records(t *testing.T, s storage.Store, account syncproto.AccountID, now time.Time, ids ...syncproto.RecordID) []syncproto.Change {
	t.Helper()
	cs, err := s.Records(t.Context(), account, ids, now)
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if len(cs) != len(ids) {
		t.Fatalf("Records: %d answers for %d IDs", len(cs), len(ids))
	}
	return cs
}

func record(t *testing.T, s storage.Store, account syncproto.AccountID, id syncproto.RecordID) syncproto.Change {
	t.Helper()
	return records(t, s, account, Now, id)[0]
}

// gone is the one answer for a record an account may not see, or that does not exist.
func gone(id syncproto.RecordID) syncproto.Change {
	return syncproto.Change{Record: id, State: syncproto.StateGone}
}

// isGone reports whether c is exactly the answer for a record the account may not see
// (apart from Seq, which a feed item carries).
func isGone(c syncproto.Change, id syncproto.RecordID) bool {
	return c.Record == id && c.State == syncproto.StateGone && c.Owner == (syncproto.AccountID{}) && c.Revision == 0 &&
		c.Envelope == nil && c.OwnerKey == nil && c.Grants == nil
}

// diffChange describes how got differs from want (empty if it does not). Grants compare
// as a set; nil and empty byte slices are equal. want.Seq 0 means "any", except for
// StateGone, which Records answers with seq 0.
func diffChange(got, want syncproto.Change) string {
	var d []string
	if got.Record != want.Record {
		d = append(d, fmt.Sprintf("record %s, want %s", got.Record, want.Record))
	}
	if (want.Seq != 0 || want.State == syncproto.StateGone) && got.Seq != want.Seq {
		d = append(d, fmt.Sprintf("seq %d, want %d", got.Seq, want.Seq))
	}
	if got.State != want.State {
		d = append(d, fmt.Sprintf("state %d, want %d", got.State, want.State))
	}
	if got.Owner != want.Owner {
		d = append(d, fmt.Sprintf("owner %s, want %s", got.Owner, want.Owner))
	}
	if got.Revision != want.Revision {
		d = append(d, fmt.Sprintf("revision %d, want %d", got.Revision, want.Revision))
	}
	if !bytes.Equal(got.Envelope, want.Envelope) {
		d = append(d, fmt.Sprintf("envelope of %d bytes, want %d bytes", len(got.Envelope), len(want.Envelope)))
	}
	if !bytes.Equal(got.OwnerKey, want.OwnerKey) {
		d = append(d, fmt.Sprintf("owner key of %d bytes, want %d bytes", len(got.OwnerKey), len(want.OwnerKey)))
	}
	if diff := diffGrants(got.Grants, want.Grants); diff != "" {
		d = append(d, diff)
	}
	return strings.Join(d, "; ")
}

func diffGrants(got, want []syncproto.GrantPush) string {
	byRecipient := func(a, b syncproto.GrantPush) int { return bytes.Compare(a.Recipient[:], b.Recipient[:]) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, byRecipient)
	slices.SortFunc(want, byRecipient)
	if len(got) != len(want) {
		return fmt.Sprintf("%d grants, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Record != w.Record || g.Revision != w.Revision || g.Recipient != w.Recipient || !g.Expires.Equal(w.Expires) || !bytes.Equal(g.Blob, w.Blob) {
			return fmt.Sprintf("grant to %s is {record %s, revision %d, expires %v, %d bytes}, want {record %s, revision %d, expires %v, %d bytes}",
				w.Recipient, g.Record, g.Revision, g.Expires, len(g.Blob), w.Record, w.Revision, w.Expires, len(w.Blob))
		}
	}
	return ""
}

func wantChange(t *testing.T, what string, got, want syncproto.Change) {
	t.Helper()
	if d := diffChange(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// ownerView is what the owner should see of a live record it pushed as rp.
func ownerView(owner syncproto.AccountID, rp syncproto.RecordPush) syncproto.Change {
	return syncproto.Change{Record: rp.Record, Owner: owner, Revision: rp.Revision, State: syncproto.StateLive,
		Envelope: rp.Envelope, OwnerKey: rp.OwnerKey, Grants: rp.Grants}
}

// granteeView is what recipient should see of a live record pushed as rp with grant g.
func granteeView(owner syncproto.AccountID, rp syncproto.RecordPush, g syncproto.GrantPush) syncproto.Change {
	return syncproto.Change{Record: rp.Record, Owner: owner, Revision: rp.Revision, State: syncproto.StateLive,
		Envelope: rp.Envelope, Grants: []syncproto.GrantPush{g}}
}

func deletedView(owner syncproto.AccountID, id syncproto.RecordID, revision uint64) syncproto.Change {
	return syncproto.Change{Record: id, Owner: owner, Revision: revision, State: syncproto.StateDeleted,
		Envelope: deletionStatement(id, revision)}
}

// day, hour and minute round t down in UTC.
func day(t time.Time) time.Time    { return t.UTC().Truncate(24 * time.Hour) }
func hour(t time.Time) time.Time   { return t.UTC().Truncate(time.Hour) }
func minute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

// ---- accounts ----

func sameAccount(got, want storage.Account) bool {
	return got.ID == want.ID && got.LoginKey == want.LoginKey && got.RecoveryLoginKey == want.RecoveryLoginKey &&
		bytes.Equal(got.KDFParams, want.KDFParams) && bytes.Equal(got.Keybag, want.Keybag) &&
		bytes.Equal(got.RecoveryKeybag, want.RecoveryKeybag) && bytes.Equal(got.Bundle, want.Bundle) &&
		got.Fingerprint == want.Fingerprint && got.Created.Equal(want.Created)
}

func testAccountCreateAndGet(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Created = day(Now)
	if !sameAccount(got, want) {
		t.Errorf("Account = %+v\nwant %+v (Created kept to the day)", got, want)
	}
	ds, err := s.Devices(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("Devices: %d devices, want the first one", len(ds))
	}
	if g := ds[0]; g.ID != d.ID || g.Account != a.ID || !bytes.Equal(g.Label, d.Label) || !g.Created.Equal(day(Now)) ||
		!g.LastSeen.Equal(hour(Now)) || g.Revoked {
		t.Errorf("first device = %+v, want ID %s, label, created %v, last seen %v, not revoked", g, d.ID, day(Now), hour(Now))
	}
}

func testAccountDuplicate(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	b, d2 := randomAccount()
	b.ID, d2.Account = a.ID, a.ID
	if err := s.CreateAccount(t.Context(), b, d2); !errors.Is(err, storage.ErrAccountExists) {
		t.Errorf("CreateAccount of a taken ID: %v, want ErrAccountExists", err)
	}
	got, err := s.Account(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LoginKey != a.LoginKey {
		t.Errorf("the refused sign-up changed the account")
	}
	if _, err := s.Device(t.Context(), a.ID, d2.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the refused sign-up's device: %v, want ErrNotFound", err)
	}
}

func testAccountMissing(t *testing.T, s storage.Store) {
	if _, err := s.Account(t.Context(), syncproto.NewAccountID()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Account of an unknown ID: %v, want ErrNotFound", err)
	}
}

func testAccountFingerprint(t *testing.T, s storage.Store) {
	mk := func(fp []byte) storage.Account {
		a, d := randomAccount()
		copy(a.Fingerprint[:], fp)
		if err := s.CreateAccount(t.Context(), a, d); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := mk([]byte{0x11, 0x22, 0x33})
	b := mk([]byte{0x11, 0x23})
	c := mk(bytes.Repeat([]byte{0xff}, 32))
	e := mk([]byte{0x11, 0x22, 0xff, 0xff})
	for _, tt := range []struct {
		prefix []byte
		want   *storage.Account // nil: ErrNotFound
	}{
		{a.Fingerprint[:], &a},
		{a.Fingerprint[:10], &a},
		{a.Fingerprint[:3], &a},
		{e.Fingerprint[:4], &e}, // the range ends at 11 23: b is outside
		{e.Fingerprint[:], &e},
		{c.Fingerprint[:], &c},
		{c.Fingerprint[:2], &c}, // all 0xff: a range with no upper end
		{b.Fingerprint[:10], &b},
		{[]byte{0x11}, nil},       // a, b and e: ambiguous
		{[]byte{0x11, 0x22}, nil}, // a and e: ambiguous
		{[]byte{0x12}, nil},
		{[]byte{}, nil},
	} {
		got, err := s.AccountByFingerprint(t.Context(), tt.prefix)
		switch {
		case tt.want == nil && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("AccountByFingerprint(%x): %v, %v; want ErrNotFound", tt.prefix, got.ID, err)
		case tt.want != nil && err != nil:
			t.Errorf("AccountByFingerprint(%x): %v; want %s", tt.prefix, err, tt.want.ID)
		case tt.want != nil && got.ID != tt.want.ID:
			t.Errorf("AccountByFingerprint(%x) = %s; want %s", tt.prefix, got.ID, tt.want.ID)
		case tt.want != nil && !bytes.Equal(got.Bundle, tt.want.Bundle):
			t.Errorf("AccountByFingerprint(%x): wrong bundle", tt.prefix)
		}
	}
}

func testAccountUpdateLogin(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	u := storage.LoginUpdate{KDFParams: random(40), Keybag: random(310)}
	rand.Read(u.LoginKey[:])
	if err := s.UpdateLogin(t.Context(), a.ID, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Created = day(Now)
	want.LoginKey, want.KDFParams, want.Keybag = u.LoginKey, u.KDFParams, u.Keybag
	if !sameAccount(got, want) {
		t.Errorf("after UpdateLogin: %+v\nwant %+v", got, want)
	}
	if err := s.UpdateLogin(t.Context(), syncproto.NewAccountID(), u); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateLogin of an unknown account: %v, want ErrNotFound", err)
	}
}

// ---- devices ----

func testDeviceAddAndList(t *testing.T, s storage.Store) {
	a, first := randomAccount()
	if err := s.CreateAccount(t.Context(), a, first); err != nil {
		t.Fatal(err)
	}
	later := Now.Add(50 * time.Hour)
	second := storage.Device{ID: syncproto.NewDeviceID(), Account: a.ID, Label: random(48), Created: later, LastSeen: later}
	if err := s.AddDevice(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	got, err := s.Device(t.Context(), a.ID, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != second.ID || got.Account != a.ID || !bytes.Equal(got.Label, second.Label) ||
		!got.Created.Equal(day(later)) || !got.LastSeen.Equal(hour(later)) || got.Revoked {
		t.Errorf("Device = %+v, want %+v with created to the day and last seen to the hour", got, second)
	}
	ds, err := s.Devices(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].ID != first.ID || ds[1].ID != second.ID {
		t.Errorf("Devices: %v, want first then second (oldest first)", ds)
	}
	stranger := storage.Device{ID: syncproto.NewDeviceID(), Account: syncproto.NewAccountID(), Created: Now, LastSeen: Now}
	if err := s.AddDevice(t.Context(), stranger); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AddDevice to an unknown account: %v, want ErrNotFound", err)
	}
	if _, err := s.Device(t.Context(), a.ID, syncproto.NewDeviceID()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Device of an unknown ID: %v, want ErrNotFound", err)
	}
	other := newAccount(t, s)
	if _, err := s.Device(t.Context(), other, second.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Device of another account's device: %v, want ErrNotFound", err)
	}
	if ds, err := s.Devices(t.Context(), syncproto.NewAccountID()); err != nil || len(ds) != 0 {
		t.Errorf("Devices of an unknown account: %v, %v; want none", ds, err)
	}
}

func newSession(a syncproto.AccountID, d syncproto.DeviceID, created time.Time) storage.Session {
	ss := storage.Session{Account: a, Device: d, Created: created, LastSeen: created, Expires: created.Add(12 * time.Hour)}
	rand.Read(ss.TokenHash[:])
	return ss
}

func testDeviceRevoke(t *testing.T, s storage.Store) {
	a, first := randomAccount()
	if err := s.CreateAccount(t.Context(), a, first); err != nil {
		t.Fatal(err)
	}
	second := storage.Device{ID: syncproto.NewDeviceID(), Account: a.ID, Label: random(48), Created: Now, LastSeen: Now}
	if err := s.AddDevice(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	keep := newSession(a.ID, first.ID, Now)
	drop1, drop2 := newSession(a.ID, second.ID, Now), newSession(a.ID, second.ID, Now)
	for _, ss := range []storage.Session{keep, drop1, drop2} {
		if err := s.CreateSession(t.Context(), ss); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeDevice(t.Context(), a.ID, second.ID); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Device(t.Context(), a.ID, second.ID); err != nil || !d.Revoked {
		t.Errorf("revoked device: %+v, %v; want Revoked", d, err)
	}
	if d, err := s.Device(t.Context(), a.ID, first.ID); err != nil || d.Revoked {
		t.Errorf("the other device: %+v, %v; want not revoked", d, err)
	}
	for _, ss := range []storage.Session{drop1, drop2} {
		if _, err := s.Session(t.Context(), ss.TokenHash); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("session of the revoked device: %v, want ErrNotFound", err)
		}
	}
	if _, err := s.Session(t.Context(), keep.TokenHash); err != nil {
		t.Errorf("session of the other device: %v", err)
	}
	if err := s.CreateSession(t.Context(), newSession(a.ID, second.ID, Now)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CreateSession for a revoked device: %v, want ErrNotFound", err)
	}
	if err := s.RevokeDevice(t.Context(), a.ID, second.ID); err != nil {
		t.Errorf("revoking a revoked device again: %v", err)
	}
	if err := s.RevokeDevice(t.Context(), a.ID, syncproto.NewDeviceID()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RevokeDevice of an unknown device: %v, want ErrNotFound", err)
	}
}

func testDeviceTouch(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	later := Now.Add(3*time.Hour + 17*time.Minute)
	if err := s.TouchDevice(t.Context(), a.ID, d.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchDevice(t.Context(), a.ID, d.ID, Now); err != nil { // never backwards
		t.Fatal(err)
	}
	got, err := s.Device(t.Context(), a.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeen.Equal(hour(later)) {
		t.Errorf("LastSeen = %v, want %v (to the hour, never moving back)", got.LastSeen, hour(later))
	}
	if err := s.TouchDevice(t.Context(), a.ID, syncproto.NewDeviceID(), Now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("TouchDevice of an unknown device: %v, want ErrNotFound", err)
	}
}

// ---- sessions ----

func sameSession(got, want storage.Session) bool {
	return got.TokenHash == want.TokenHash && got.Account == want.Account && got.Device == want.Device &&
		got.Created.Equal(want.Created) && got.LastSeen.Equal(want.LastSeen) && got.Expires.Equal(want.Expires)
}

func testSessionLifecycle(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	ss := newSession(a.ID, d.ID, Now)
	if err := s.CreateSession(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(t.Context(), ss.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Session{TokenHash: ss.TokenHash, Account: a.ID, Device: d.ID,
		Created: minute(ss.Created), LastSeen: minute(ss.LastSeen), Expires: minute(ss.Expires)}
	if !sameSession(got, want) {
		t.Errorf("Session = %+v, want %+v (to the minute)", got, want)
	}
	later := Now.Add(7*time.Minute + 30*time.Second)
	if err := s.TouchSession(t.Context(), ss.TokenHash, later); err != nil {
		t.Fatal(err)
	}
	got, err = s.Session(t.Context(), ss.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	want.LastSeen = minute(later)
	if !sameSession(got, want) {
		t.Errorf("after TouchSession: %+v, want %+v", got, want)
	}
	if err := s.TouchSession(t.Context(), [32]byte{1}, later); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("TouchSession of an unknown session: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(t.Context(), ss.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(t.Context(), ss.TokenHash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(t.Context(), ss.TokenHash); err != nil {
		t.Errorf("deleting a deleted session: %v, want nil", err)
	}
	if err := s.CreateSession(t.Context(), newSession(a.ID, syncproto.NewDeviceID(), Now)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CreateSession for an unknown device: %v, want ErrNotFound", err)
	}
}

func testSessionExpiry(t *testing.T, s storage.Store) {
	a, d := randomAccount()
	if err := s.CreateAccount(t.Context(), a, d); err != nil {
		t.Fatal(err)
	}
	base := minute(Now)
	const idle = 15 * time.Minute
	// absolute: created 12 h before the check; idle: last seen 16 min before; fresh: neither.
	absolute := newSession(a.ID, d.ID, base.Add(-12*time.Hour))
	absolute.LastSeen = base
	idleOne := newSession(a.ID, d.ID, base.Add(-time.Hour))
	idleOne.LastSeen = base.Add(-16 * time.Minute)
	fresh := newSession(a.ID, d.ID, base.Add(-time.Hour))
	fresh.LastSeen = base.Add(-14 * time.Minute)
	for _, ss := range []storage.Session{absolute, idleOne, fresh} {
		if err := s.CreateSession(t.Context(), ss); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSessions(t.Context(), base, idle)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, want 2 (one past its absolute limit, one idle)", n)
	}
	for _, gone := range []storage.Session{absolute, idleOne} {
		if _, err := s.Session(t.Context(), gone.TokenHash); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("expired session still there: %v", err)
		}
	}
	if _, err := s.Session(t.Context(), fresh.TokenHash); err != nil {
		t.Errorf("fresh session: %v", err)
	}
	if n, err := s.DeleteExpiredSessions(t.Context(), base, idle); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredSessions = %d, %v; want 0", n, err)
	}
}

// ---- pushes ----

func testPushNew(t *testing.T, s storage.Store) {
	a := newAccount(t, s)
	if c := cursor(t, s, a); c != 0 {
		t.Errorf("cursor of a new account = %d, want 0", c)
	}
	rp := live(newRecordID(), 0)
	out := pushRecords(t, s, a, rp)
	r := out.Results[0]
	wantResult(t, "new record", r, rp.Record, syncproto.StatusAccepted, 0, 1)
	if out.Fed[a] != r.Seq || len(out.Fed) != 1 {
		t.Errorf("Fed = %v, want {%s: %d}", out.Fed, a, r.Seq)
	}
	if c := cursor(t, s, a); c != r.Seq {
		t.Errorf("cursor = %d, want the accepted seq %d", c, r.Seq)
	}
	want := ownerView(a, rp)
	want.Seq = r.Seq
	wantChange(t, "Records", record(t, s, a, rp.Record), want)
	items := feed(t, s, a, 0, Now)
	if len(items) != 1 {
		t.Fatalf("feed has %d items, want 1", len(items))
	}
	wantChange(t, "feed", items[0], want)
}

func testPushUpdate(t *testing.T, s storage.Store) {
	a := newAccount(t, s)
	id := newRecordID()
	first := pushRecords(t, s, a, live(id, 0)).Results[0]
	rp := live(id, 1)
	second := pushRecords(t, s, a, rp).Results[0]
	wantResult(t, "update", second, id, syncproto.StatusAccepted, 0, 2)
	if second.Seq <= first.Seq {
		t.Errorf("update seq %d not after %d", second.Seq, first.Seq)
	}
	items := feed(t, s, a, 0, Now)
	if len(items) != 1 {
		t.Fatalf("feed has %d items, want the record once", len(items))
	}
	want := ownerView(a, rp)
	want.Seq = second.Seq
	wantChange(t, "feed", items[0], want)
}

func testPushStaleBase(t *testing.T, s storage.Store) {
	a := newAccount(t, s)
	id := newRecordID()
	pushRecords(t, s, a, live(id, 0))
	v2 := live(id, 1)
	pushRecords(t, s, a, v2)
	before := cursor(t, s, a)
	out := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{
		live(id, 0), // a new record that exists
		live(id, 1), // stale base
		live(id, 5), // base from the future
	}})
	for i, r := range out.Results {
		wantResult(t, fmt.Sprintf("stale push %d", i), r, id, syncproto.StatusConflict, 0, 2)
	}
	if len(out.Fed) != 0 || cursor(t, s, a) != before {
		t.Errorf("conflicts grew the feed")
	}
	missing := newRecordID()
	r := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{live(missing, 3)}}).Results[0]
	wantResult(t, "update of a record that does not exist", r, missing, syncproto.StatusConflict, 0, 0)
	want := ownerView(a, v2)
	wantChange(t, "after conflicts", record(t, s, a, id), want)
}

func testPushReplay(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	v1 := live(id, 0, b)
	first := pushRecords(t, s, a, v1).Results[0]
	ca, cb := cursor(t, s, a), cursor(t, s, b)
	again := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{v1}})
	wantResult(t, "replay", again.Results[0], id, syncproto.StatusAccepted, 0, 1)
	if again.Results[0].Seq != first.Seq {
		t.Errorf("replay answered seq %d, want the first answer's %d", again.Results[0].Seq, first.Seq)
	}
	if len(again.Fed) != 0 || cursor(t, s, a) != ca || cursor(t, s, b) != cb {
		t.Errorf("replay wrote to a feed (Fed %v)", again.Fed)
	}
	different := live(id, 0)
	r := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{different}}).Results[0]
	wantResult(t, "different bytes at an accepted revision", r, id, syncproto.StatusConflict, 0, 1)

	v2 := live(id, 1, b)
	second := pushRecords(t, s, a, v2).Results[0]
	again = push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{v2}})
	if r := again.Results[0]; r.Status != syncproto.StatusAccepted || r.Seq != second.Seq || r.Revision != 2 {
		t.Errorf("replay of revision 2: %s, want accepted at seq %d", describe(r), second.Seq)
	}
	again = push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{v1}})
	wantResult(t, "replay of a superseded revision", again.Results[0], id, syncproto.StatusConflict, 0, 2)
	wantChange(t, "after replays", record(t, s, a, id), ownerView(a, v2))
}

func testPushDelete(t *testing.T, s storage.Store) {
	a, b, c := newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	pushRecords(t, s, a, live(id, 0, b))
	del := deletion(id, 1)
	out := pushRecords(t, s, a, del)
	r := out.Results[0]
	wantResult(t, "delete", r, id, syncproto.StatusAccepted, 0, 2)
	if out.Fed[a] == 0 || out.Fed[b] == 0 {
		t.Errorf("Fed = %v, want the owner and the grantee", out.Fed)
	}
	wantChange(t, "owner's Records", record(t, s, a, id), deletedView(a, id, 2))
	wantChange(t, "grantee's Records", record(t, s, b, id), deletedView(a, id, 2))
	wantChange(t, "stranger's Records", record(t, s, c, id), gone(id))
	for _, acct := range []syncproto.AccountID{a, b} {
		items := feed(t, s, acct, 0, Now)
		if len(items) != 1 {
			t.Fatalf("feed has %d items, want the record once", len(items))
		}
		wantChange(t, "feed after delete", items[0], deletedView(a, id, 2))
	}
	if items := feed(t, s, c, 0, Now); len(items) != 0 {
		t.Errorf("stranger's feed has %d items", len(items))
	}

	before := cursor(t, s, a)
	res := push(t, s, a, syncproto.Push{
		Records: []syncproto.RecordPush{live(id, 2), live(id, 1)},
		Grants:  []syncproto.GrantPush{grantOf(id, 2, c)},
	}).Results
	wantResult(t, "push after delete", res[0], id, syncproto.StatusRejected, syncproto.CodeDeleted, 2)
	wantResult(t, "stale push after delete", res[1], id, syncproto.StatusRejected, syncproto.CodeDeleted, 2)
	wantResult(t, "grant after delete", res[2], id, syncproto.StatusRejected, syncproto.CodeDeleted, 2)
	again := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{del}})
	if r2 := again.Results[0]; r2.Status != syncproto.StatusAccepted || r2.Seq != r.Seq {
		t.Errorf("replayed delete: %s, want accepted at seq %d", describe(r2), r.Seq)
	}
	if cursor(t, s, a) != before {
		t.Errorf("refused pushes grew the feed")
	}
	never := newRecordID()
	res = push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{deletion(never, 0)}}).Results
	wantResult(t, "deleting a record never pushed", res[0], never, syncproto.StatusRejected, syncproto.CodeBadRequest, 0)
}

func testPushNotOwner(t *testing.T, s storage.Store) {
	a, b, c := newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	v1 := live(id, 0, b)
	pushRecords(t, s, a, v1)
	before := cursor(t, s, a)
	res := push(t, s, b, syncproto.Push{
		Records: []syncproto.RecordPush{live(id, 1), live(id, 0), deletion(id, 1)},
		Grants:  []syncproto.GrantPush{grantOf(id, 1, c)},
		Revokes: []syncproto.Revoke{{Record: id, Recipient: c}},
	}).Results
	for i, r := range res {
		wantResult(t, fmt.Sprintf("item %d by a grantee", i), r, id, syncproto.StatusRejected, syncproto.CodeForbidden, 0)
	}
	// A grant or revoke of a record that does not exist answers the same.
	missing := newRecordID()
	res = push(t, s, b, syncproto.Push{
		Grants:  []syncproto.GrantPush{grantOf(missing, 1, c)},
		Revokes: []syncproto.Revoke{{Record: missing, Recipient: c}},
	}).Results
	for i, r := range res {
		wantResult(t, fmt.Sprintf("item %d on a missing record", i), r, missing, syncproto.StatusRejected, syncproto.CodeForbidden, 0)
	}
	if cursor(t, s, a) != before {
		t.Errorf("refused pushes grew the owner's feed")
	}
	wantChange(t, "owner's view", record(t, s, a, id), ownerView(a, v1))
}

func testPushMalformed(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	existing := newRecordID()
	pushRecords(t, s, a, live(existing, 0))
	id := newRecordID()
	withGrant := func(mod func(g *syncproto.GrantPush)) syncproto.RecordPush {
		rp := live(id, 0, b)
		mod(&rp.Grants[0])
		return rp
	}
	for _, tt := range []struct {
		name string
		rp   syncproto.RecordPush
		code syncproto.ErrorCode
	}{
		{"zero record ID", live(syncproto.RecordID{}, 0), syncproto.CodeBadRequest},
		{"revision skips", syncproto.RecordPush{Record: id, BaseRevision: 0, Revision: 2, Envelope: random(10)}, syncproto.CodeBadRequest},
		{"revision zero", syncproto.RecordPush{Record: id, Envelope: random(10)}, syncproto.CodeBadRequest},
		{"revision skips on an existing record", syncproto.RecordPush{Record: existing, BaseRevision: 1, Revision: 3, Envelope: random(10)}, syncproto.CodeBadRequest},
		{"no envelope", syncproto.RecordPush{Record: id, Revision: 1}, syncproto.CodeBadRequest},
		{"deletion without statement", syncproto.RecordPush{Record: existing, BaseRevision: 1, Revision: 2, Delete: true}, syncproto.CodeBadRequest},
		{"deletion statement too long", syncproto.RecordPush{Record: existing, BaseRevision: 1, Revision: 2, Delete: true, Envelope: random(syncproto.MaxDeletionStatement + 1)}, syncproto.CodeBadRequest},
		{"deletion with owner key", syncproto.RecordPush{Record: existing, BaseRevision: 1, Revision: 2, Delete: true, Envelope: random(105), OwnerKey: random(73)}, syncproto.CodeBadRequest},
		{"grant to self", withGrant(func(g *syncproto.GrantPush) { g.Recipient = a }), syncproto.CodeBadRequest},
		{"grant of another record", withGrant(func(g *syncproto.GrantPush) { g.Record = existing }), syncproto.CodeBadRequest},
		{"grant of another revision", withGrant(func(g *syncproto.GrantPush) { g.Revision = 2 }), syncproto.CodeBadRequest},
		{"grant without blob", withGrant(func(g *syncproto.GrantPush) { g.Blob = nil }), syncproto.CodeBadRequest},
		{"grant already expired", withGrant(func(g *syncproto.GrantPush) { g.Expires = Now.Add(-time.Second) }), syncproto.CodeBadRequest},
		{"grant to nobody", withGrant(func(g *syncproto.GrantPush) { g.Recipient = syncproto.AccountID{} }), syncproto.CodeBadRequest},
		{"grant to an unknown account", withGrant(func(g *syncproto.GrantPush) { g.Recipient = syncproto.NewAccountID() }), syncproto.CodeNotFound},
		{"two grants to one recipient", func() syncproto.RecordPush { rp := live(id, 0, b, b); return rp }(), syncproto.CodeBadRequest},
	} {
		before := cursor(t, s, a)
		r := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{tt.rp}}).Results[0]
		wantResult(t, tt.name, r, tt.rp.Record, syncproto.StatusRejected, tt.code, 0)
		if cursor(t, s, a) != before {
			t.Errorf("%s: the feed grew", tt.name)
		}
	}
	wantChange(t, "refused new record", record(t, s, a, id), gone(id))
	res := push(t, s, a, syncproto.Push{
		Grants: []syncproto.GrantPush{
			grantOf(existing, 1, a),
			grantOf(existing, 1, syncproto.NewAccountID()),
			{Record: existing, Revision: 1, Recipient: b},
		},
		Revokes: []syncproto.Revoke{{Record: existing, Recipient: a}},
	}).Results
	wantResult(t, "standalone grant to self", res[0], existing, syncproto.StatusRejected, syncproto.CodeBadRequest, 0)
	wantResult(t, "standalone grant to an unknown account", res[1], existing, syncproto.StatusRejected, syncproto.CodeNotFound, 0)
	wantResult(t, "standalone grant without blob", res[2], existing, syncproto.StatusRejected, syncproto.CodeBadRequest, 0)
	wantResult(t, "revoke of self", res[3], existing, syncproto.StatusRejected, syncproto.CodeBadRequest, 0)
}

func testPushUnknownOwner(t *testing.T, s storage.Store) {
	_, err := s.Push(t.Context(), syncproto.NewAccountID(), syncproto.Push{Records: []syncproto.RecordPush{live(newRecordID(), 0)}}, Now)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Push from an unknown account: %v, want ErrNotFound", err)
	}
}

func testPushResultOrder(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	r1, r2, r3 := newRecordID(), newRecordID(), newRecordID()
	pushRecords(t, s, a, live(r3, 0, b))
	out := push(t, s, a, syncproto.Push{
		Records: []syncproto.RecordPush{live(r1, 0), live(r2, 4), live(r1, 1)},
		Grants:  []syncproto.GrantPush{grantOf(r1, 2, b), grantOf(r2, 1, b)},
		Revokes: []syncproto.Revoke{{Record: r3, Recipient: b}},
	})
	res := out.Results
	wantResult(t, "record r1 v1", res[0], r1, syncproto.StatusAccepted, 0, 1)
	wantResult(t, "record r2 (not there)", res[1], r2, syncproto.StatusConflict, 0, 0)
	wantResult(t, "record r1 v2 in the same batch", res[2], r1, syncproto.StatusAccepted, 0, 2)
	wantResult(t, "grant of r1 at the revision the batch made", res[3], r1, syncproto.StatusAccepted, 0, 2)
	wantResult(t, "grant of r2", res[4], r2, syncproto.StatusRejected, syncproto.CodeForbidden, 0)
	wantResult(t, "revoke of r3", res[5], r3, syncproto.StatusAccepted, 0, 1)
	if !(res[0].Seq < res[2].Seq && res[2].Seq < res[3].Seq && res[3].Seq < res[5].Seq) {
		t.Errorf("seqs %d, %d, %d, %d not in item order", res[0].Seq, res[2].Seq, res[3].Seq, res[5].Seq)
	}
	if out.Fed[a] != cursor(t, s, a) || out.Fed[b] != cursor(t, s, b) || len(out.Fed) != 2 {
		t.Errorf("Fed = %v, want the owner's and the grantee's cursors (%d, %d)", out.Fed, cursor(t, s, a), cursor(t, s, b))
	}
	items := feed(t, s, b, 0, Now)
	if len(items) != 2 || items[0].Record != r1 || items[0].State != syncproto.StateLive || items[1].Record != r3 || items[1].State != syncproto.StateGone {
		t.Errorf("grantee's feed: %v, want r1 live then r3 gone", items)
	}
}

// ---- grants ----

func testGrantVisibility(t *testing.T, s storage.Store) {
	a, b, c, d := newAccount(t, s), newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	rp := live(id, 0, b, c)
	rp.Grants[1].Expires = Now.Add(24 * time.Hour).Truncate(time.Second) // expiry is kept to the second
	out := pushRecords(t, s, a, rp)
	for _, acct := range []syncproto.AccountID{a, b, c} {
		if out.Fed[acct] == 0 || out.Fed[acct] != cursor(t, s, acct) {
			t.Errorf("Fed = %v, want every affected account at its cursor", out.Fed)
		}
	}
	if _, ok := out.Fed[d]; ok {
		t.Errorf("Fed names a stranger")
	}
	wantChange(t, "owner's Records", record(t, s, a, id), ownerView(a, rp))
	wantChange(t, "grantee b's Records", record(t, s, b, id), granteeView(a, rp, rp.Grants[0]))
	wantChange(t, "grantee c's Records", record(t, s, c, id), granteeView(a, rp, rp.Grants[1]))
	wantChange(t, "stranger's Records", record(t, s, d, id), gone(id))
	for _, acct := range []struct {
		id   syncproto.AccountID
		want syncproto.Change
	}{{a, ownerView(a, rp)}, {b, granteeView(a, rp, rp.Grants[0])}, {c, granteeView(a, rp, rp.Grants[1])}} {
		items := feed(t, s, acct.id, 0, Now)
		if len(items) != 1 {
			t.Fatalf("feed has %d items, want 1", len(items))
		}
		wantChange(t, "feed", items[0], acct.want)
	}
	if items := feed(t, s, d, 0, Now); len(items) != 0 {
		t.Errorf("stranger's feed has %d items", len(items))
	}
}

func testGrantStandalone(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	rp := live(id, 0)
	pushRecords(t, s, a, rp)
	g := grantOf(id, 1, b)
	g.Expires = Now.Add(48 * time.Hour).Truncate(time.Second)
	out := push(t, s, a, syncproto.Push{Grants: []syncproto.GrantPush{g}})
	r := out.Results[0]
	wantResult(t, "grant", r, id, syncproto.StatusAccepted, 0, 1)
	if out.Fed[a] != r.Seq || out.Fed[b] == 0 {
		t.Errorf("Fed = %v, want the owner at %d and the grantee", out.Fed, r.Seq)
	}
	wantChange(t, "grantee's view", record(t, s, b, id), granteeView(a, rp, g))
	want := ownerView(a, rp)
	want.Grants = []syncproto.GrantPush{g}
	wantChange(t, "owner's view", record(t, s, a, id), want)

	ca, cb := cursor(t, s, a), cursor(t, s, b)
	again := push(t, s, a, syncproto.Push{Grants: []syncproto.GrantPush{g}})
	wantResult(t, "replayed grant", again.Results[0], id, syncproto.StatusAccepted, 0, 1)
	if again.Results[0].Seq != r.Seq || len(again.Fed) != 0 || cursor(t, s, a) != ca || cursor(t, s, b) != cb {
		t.Errorf("replayed grant: seq %d (want %d), Fed %v: it should write nothing", again.Results[0].Seq, r.Seq, again.Fed)
	}
	g2 := grantOf(id, 1, b) // new bytes for the same recipient replace the grant
	r2 := push(t, s, a, syncproto.Push{Grants: []syncproto.GrantPush{g2}}).Results[0]
	wantResult(t, "replacing grant", r2, id, syncproto.StatusAccepted, 0, 1)
	wantChange(t, "grantee's view after replacing", record(t, s, b, id), granteeView(a, rp, g2))

	v2 := live(id, 1) // carries no grants: b loses its grant
	pushRecords(t, s, a, v2)
	stale := push(t, s, a, syncproto.Push{Grants: []syncproto.GrantPush{grantOf(id, 1, b)}}).Results[0]
	wantResult(t, "grant of a superseded revision", stale, id, syncproto.StatusRejected, syncproto.CodeConflict, 2)
	wantChange(t, "grantee after the stale grant", record(t, s, b, id), gone(id))
}

func testGrantRevoke(t *testing.T, s storage.Store) {
	a, b, c := newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	rp := live(id, 0, b, c)
	pushRecords(t, s, a, rp)
	cb := cursor(t, s, b)
	out := push(t, s, a, syncproto.Push{Revokes: []syncproto.Revoke{{Record: id, Recipient: b}}})
	r := out.Results[0]
	wantResult(t, "revoke", r, id, syncproto.StatusAccepted, 0, 1)
	if out.Fed[a] != r.Seq || out.Fed[b] <= cb {
		t.Errorf("Fed = %v, want the owner at %d and the former grantee past %d", out.Fed, r.Seq, cb)
	}
	items := feed(t, s, b, cb, Now)
	if len(items) != 1 {
		t.Fatalf("former grantee's feed after revoke has %d items, want 1", len(items))
	}
	if !isGone(items[0], id) || items[0].Seq != out.Fed[b] {
		t.Errorf("former grantee's feed: %+v, want StateGone at seq %d and nothing else", items[0], out.Fed[b])
	}
	unknown := newRecordID()
	cs := records(t, s, b, Now, id, unknown)
	if !isGone(cs[0], id) || !isGone(cs[1], unknown) || cs[0].Seq != 0 || cs[1].Seq != 0 {
		t.Errorf("Records for a revoked and an unknown record: %+v, want both exactly {Record, StateGone}", cs)
	}
	want := ownerView(a, rp)
	want.Grants = rp.Grants[1:]
	wantChange(t, "owner after revoke", record(t, s, a, id), want)
	wantChange(t, "other grantee", record(t, s, c, id), granteeView(a, rp, rp.Grants[1]))

	ca, cb := cursor(t, s, a), cursor(t, s, b)
	again := push(t, s, a, syncproto.Push{Revokes: []syncproto.Revoke{{Record: id, Recipient: b}}})
	wantResult(t, "revoking again", again.Results[0], id, syncproto.StatusAccepted, 0, 1)
	if len(again.Fed) != 0 || cursor(t, s, a) != ca || cursor(t, s, b) != cb {
		t.Errorf("revoking a missing grant wrote to a feed (Fed %v)", again.Fed)
	}
}

func testGrantReplacedByPush(t *testing.T, s storage.Store) {
	a, b, c := newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	pushRecords(t, s, a, live(id, 0, b))
	cb := cursor(t, s, b)
	v2 := live(id, 1, c)
	out := pushRecords(t, s, a, v2)
	if out.Fed[b] <= cb || out.Fed[c] == 0 {
		t.Errorf("Fed = %v, want the lost grantee and the new one", out.Fed)
	}
	wantChange(t, "lost grantee", record(t, s, b, id), gone(id))
	if items := feed(t, s, b, cb, Now); len(items) != 1 || items[0].State != syncproto.StateGone {
		t.Errorf("lost grantee's feed: %+v, want one StateGone", items)
	}
	wantChange(t, "new grantee", record(t, s, c, id), granteeView(a, v2, v2.Grants[0]))
	v3 := live(id, 2, c) // the kept grantee sees the new revision
	cc := cursor(t, s, c)
	out = pushRecords(t, s, a, v3)
	if out.Fed[c] <= cc {
		t.Errorf("kept grantee's feed did not grow")
	}
	if _, ok := out.Fed[b]; ok {
		t.Errorf("an account that had already lost its grant was fed again")
	}
	items := feed(t, s, c, cc, Now)
	if len(items) != 1 {
		t.Fatalf("kept grantee's feed has %d new items, want 1", len(items))
	}
	wantChange(t, "kept grantee", items[0], granteeView(a, v3, v3.Grants[0]))
	wantChange(t, "owner", record(t, s, a, id), ownerView(a, v3))
}

func testGrantExpiry(t *testing.T, s storage.Store) {
	a, b, c := newAccount(t, s), newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	rp := live(id, 0, b, c)
	rp.Grants[0].Expires = Now.Add(time.Hour).Truncate(time.Second)
	pushRecords(t, s, a, rp)
	late := Now.Add(2 * time.Hour)

	// Past expiry the grant is absent, before ExpireGrants runs.
	if got := records(t, s, b, late, id)[0]; !isGone(got, id) || got.Seq != 0 {
		t.Errorf("Records after expiry: %+v, want gone", got)
	}
	items := feed(t, s, b, 0, late)
	if len(items) != 1 || !isGone(items[0], id) {
		t.Errorf("feed after expiry: %+v, want one StateGone without bytes", items)
	}
	owner := ownerView(a, rp)
	owner.Grants = rp.Grants[1:]
	wantChange(t, "owner after expiry", records(t, s, a, late, id)[0], owner)
	if d, err := s.Digest(t.Context(), b, late); err != nil || d.Count != 0 {
		t.Errorf("Digest after expiry: %+v, %v; want count 0", d, err)
	}

	fed, err := s.ExpireGrants(t.Context(), Now.Add(30*time.Minute))
	if err != nil || len(fed) != 0 {
		t.Errorf("ExpireGrants before expiry: %v, %v; want nothing", fed, err)
	}
	ca, cb := cursor(t, s, a), cursor(t, s, b)
	fed, err = s.ExpireGrants(t.Context(), late)
	if err != nil {
		t.Fatal(err)
	}
	if fed[b] <= cb || fed[b] != cursor(t, s, b) || fed[a] <= ca || len(fed) != 2 {
		t.Errorf("ExpireGrants fed %v, want the recipient and the owner at their new cursors", fed)
	}
	items = feed(t, s, b, cb, late)
	if len(items) != 1 || !isGone(items[0], id) || items[0].Seq != fed[b] {
		t.Errorf("recipient's new feed items: %+v, want one StateGone at %d", items, fed[b])
	}
	// The grant is deleted: gone even at a time before its expiry.
	if got := record(t, s, b, id); !isGone(got, id) || got.Seq != 0 {
		t.Errorf("Records after ExpireGrants: %+v, want gone", got)
	}
	wantChange(t, "grantee without expiry", record(t, s, c, id), granteeView(a, rp, rp.Grants[1]))
	if fed, err := s.ExpireGrants(t.Context(), late); err != nil || len(fed) != 0 {
		t.Errorf("ExpireGrants again: %v, %v; want nothing", fed, err)
	}
}

// ---- the change feed ----

func testChangesPaging(t *testing.T, s storage.Store) {
	a := newAccount(t, s)
	var rps []syncproto.RecordPush
	for range 25 {
		rps = append(rps, live(newRecordID(), 0))
	}
	pushRecords(t, s, a, rps[:10]...)
	pushRecords(t, s, a, rps[10:]...)
	var all []syncproto.Change
	after := uint64(0)
	for i, want := range []struct {
		n    int
		more bool
	}{{10, true}, {10, true}, {5, false}} {
		page, err := s.Changes(t.Context(), a, after, 10, Now)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != want.n || page.More != want.more {
			t.Fatalf("page %d: %d items, more %v; want %d, %v", i, len(page.Items), page.More, want.n, want.more)
		}
		for j, c := range page.Items {
			if c.Seq <= after {
				t.Errorf("page %d item %d: seq %d not after %d", i, j, c.Seq, after)
			}
			after = c.Seq
		}
		if page.Cursor != after {
			t.Errorf("page %d: cursor %d, want its last seq %d", i, page.Cursor, after)
		}
		all = append(all, page.Items...)
	}
	for i := range rps {
		wantChange(t, fmt.Sprintf("item %d", i), all[i], ownerView(a, rps[i]))
	}
	page, err := s.Changes(t.Context(), a, after, 10, Now)
	if err != nil || len(page.Items) != 0 || page.More || page.Cursor != after {
		t.Errorf("page past the end: %+v, %v; want empty at cursor %d", page, err, after)
	}
	page, err = s.Changes(t.Context(), a, 0, 0, Now)
	if err != nil || len(page.Items) != 25 || page.More {
		t.Errorf("limit 0: %d items, more %v, %v; want all 25 (the default page)", len(page.Items), page.More, err)
	}

	// An update moves the record to the end of the feed; it is never listed twice.
	v2 := live(rps[3].Record, 1)
	r := pushRecords(t, s, a, v2).Results[0]
	items := feed(t, s, a, 0, Now)
	if len(items) != 25 {
		t.Fatalf("feed has %d items after an update, want 25", len(items))
	}
	want := ownerView(a, v2)
	want.Seq = r.Seq
	wantChange(t, "updated record, last", items[24], want)
	for _, c := range items[:24] {
		if c.Record == v2.Record {
			t.Errorf("updated record still at its old position (seq %d)", c.Seq)
		}
	}
	items = feed(t, s, a, after, Now)
	if len(items) != 1 || items[0].Record != v2.Record {
		t.Errorf("feed after the last page: %d items, want the updated record", len(items))
	}
}

// testChangesInterleaved pages through a feed whose entries alternate between the
// account's own records and records shared with it, at every page size from 1 up: each
// page is the next slice of the whole feed, in seq order, whatever the page boundaries.
func testChangesInterleaved(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	const pairs = 8
	var wantIDs []syncproto.RecordID
	for range pairs {
		own, shared := live(newRecordID(), 0), live(newRecordID(), 0, a)
		pushRecords(t, s, a, own)
		pushRecords(t, s, b, shared)
		wantIDs = append(wantIDs, own.Record, shared.Record)
	}
	whole, err := s.Changes(t.Context(), a, 0, 1000, Now)
	if err != nil || whole.More || len(whole.Items) != 2*pairs {
		t.Fatalf("whole feed: %d items, more %v, %v; want %d", len(whole.Items), whole.More, err, 2*pairs)
	}
	for i, c := range whole.Items {
		if c.Record != wantIDs[i] || c.State != syncproto.StateLive {
			t.Fatalf("item %d: %v %v, want %v live (own and shared records in push order)", i, c.Record, c.State, wantIDs[i])
		}
	}
	for limit := 1; limit <= 2*pairs+1; limit++ {
		var got []syncproto.Change
		after := uint64(0)
		for page := 0; ; page++ {
			if page > 2*pairs {
				t.Fatalf("limit %d: paging never ends", limit)
			}
			p, err := s.Changes(t.Context(), a, after, limit, Now)
			if err != nil {
				t.Fatal(err)
			}
			rest := len(whole.Items) - len(got)
			if wantN := min(limit, rest); len(p.Items) != wantN || p.More != (rest > limit) {
				t.Fatalf("limit %d, page %d: %d items, more %v; want %d, %v", limit, page, len(p.Items), p.More, wantN, rest > limit)
			}
			got = append(got, p.Items...)
			if !p.More {
				break
			}
			after = p.Cursor
		}
		for i := range whole.Items {
			wantChange(t, fmt.Sprintf("limit %d, item %d", limit, i), got[i], whole.Items[i])
		}
	}
}

func testChangesLatestOnce(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	id := newRecordID()
	pushRecords(t, s, a, live(id, 0, b))
	for rev := uint64(1); rev < 5; rev++ {
		pushRecords(t, s, a, live(id, rev, b))
	}
	push(t, s, a, syncproto.Push{Revokes: []syncproto.Revoke{{Record: id, Recipient: b}}})
	revoked := cursor(t, s, b)
	pushRecords(t, s, a, deletion(id, 5))
	for _, acct := range []syncproto.AccountID{a, b} {
		items := feed(t, s, acct, 0, Now)
		if len(items) != 1 {
			t.Fatalf("feed has %d items, want the record once", len(items))
		}
	}
	wantChange(t, "owner", feed(t, s, a, 0, Now)[0], deletedView(a, id, 6))
	// b lost its grant before the deletion, then the record was deleted: the deletion is
	// a change to what b may see, so it moves to b's next position (b's cursor advances,
	// and a device of b's that had pulled past the revocation learns of it) as
	// StateDeleted with the deletion statement, never the envelope.
	if got := cursor(t, s, b); got <= revoked {
		t.Errorf("former grantee's cursor %d did not advance past %d with the deletion", got, revoked)
	}
	after := feed(t, s, b, revoked, Now)
	if len(after) != 1 || after[0].Record != id || after[0].State != syncproto.StateDeleted ||
		after[0].Grants != nil || !bytes.Equal(after[0].Envelope, deletionStatement(id, 6)) {
		t.Errorf("former grantee's feed after the revocation: %+v; want the deletion", after)
	}
}

// testChangesPerAccountSeq checks that each account's feed is numbered on its own: other
// accounts' pushes never move an account's cursor nor leave gaps in its seqs, so a client
// learns nothing of the server's other activity from them.
func testChangesPerAccountSeq(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	first := pushRecords(t, s, a, live(newRecordID(), 0)).Results[0].Seq
	if got := cursor(t, s, a); got != first {
		t.Fatalf("cursor of a after its push: %d, want %d", got, first)
	}
	for range 3 { // b's own work, in several commits
		pushRecords(t, s, b, live(newRecordID(), 0), live(newRecordID(), 0))
	}
	if got := cursor(t, s, a); got != first {
		t.Errorf("b's pushes moved a's cursor from %d to %d", first, got)
	}
	if d, err := s.Digest(t.Context(), a, Now); err != nil || d.Cursor != first {
		t.Errorf("digest of a: cursor %d, %v; want %d", d.Cursor, err, first)
	}
	second := pushRecords(t, s, a, live(newRecordID(), 0)).Results[0].Seq
	if second != first+1 {
		t.Errorf("a's next seq is %d after %d: its feed has a gap", second, first)
	}
	// A grant from b is the next entry of a's feed; b's own feed moves on its own.
	bCursor := cursor(t, s, b)
	shared := newRecordID()
	out := pushRecords(t, s, b, live(shared, 0, a))
	if got := out.Fed[a]; got != second+1 {
		t.Errorf("a grant to a fed a at %d, want %d", got, second+1)
	}
	if got := out.Results[0].Seq; got != bCursor+1 {
		t.Errorf("b's record at seq %d, want %d (b's own next)", got, bCursor+1)
	}
	third := pushRecords(t, s, a, live(newRecordID(), 0)).Results[0].Seq
	if third != second+2 {
		t.Errorf("a's next seq is %d after the grant at %d", third, second+1)
	}
	items := feed(t, s, a, 0, Now)
	if len(items) != 4 {
		t.Fatalf("feed of a has %d items, want 4", len(items))
	}
	for i, c := range items {
		if c.Seq != first+uint64(i) {
			t.Errorf("feed of a, item %d: seq %d, want %d (dense)", i, c.Seq, first+uint64(i))
		}
	}
	if items[2].Record != shared || items[2].State != syncproto.StateLive {
		t.Errorf("feed of a, item 2: %+v, want the shared record", items[2])
	}
	if got := cursor(t, s, a); got != third {
		t.Errorf("cursor of a: %d, want %d", got, third)
	}
}

// ---- Records ----

func testRecordsVisibility(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	shared, private, deleted, own := newRecordID(), newRecordID(), newRecordID(), newRecordID()
	sharedPush := live(shared, 0, b)
	ownPush := live(own, 0)
	pushRecords(t, s, a, sharedPush, live(private, 0), live(deleted, 0))
	pushRecords(t, s, a, deletion(deleted, 1))
	pushRecords(t, s, b, ownPush)
	unknown := newRecordID()
	cs := records(t, s, b, Now, shared, private, deleted, own, unknown, shared)
	wantChange(t, "shared", cs[0], granteeView(a, sharedPush, sharedPush.Grants[0]))
	if !isGone(cs[1], private) || !isGone(cs[2], deleted) || !isGone(cs[4], unknown) || cs[1].Seq+cs[2].Seq+cs[4].Seq != 0 {
		t.Errorf("invisible, deleted-never-shared and unknown: %+v, %+v, %+v; want each exactly {Record, StateGone}", cs[1], cs[2], cs[4])
	}
	wantChange(t, "own", cs[3], ownerView(b, ownPush))
	wantChange(t, "shared, asked twice", cs[5], cs[0])
	if cs[0].Seq == 0 || cs[3].Seq == 0 {
		t.Errorf("visible records without their feed seq: %d, %d", cs[0].Seq, cs[3].Seq)
	}
	if cs, err := s.Records(t.Context(), b, nil, Now); err != nil || len(cs) != 0 {
		t.Errorf("Records of no IDs: %v, %v", cs, err)
	}
	// Many IDs at once (more than a server allows in one Fetch).
	many := make([]syncproto.RecordID, 3000)
	for i := range many {
		many[i] = newRecordID()
	}
	many[1234], many[2999] = shared, own
	cs = records(t, s, b, Now, many...)
	for i, c := range cs {
		switch i {
		case 1234:
			wantChange(t, "shared among many", c, granteeView(a, sharedPush, sharedPush.Grants[0]))
		case 2999:
			wantChange(t, "own among many", c, ownerView(b, ownPush))
		default:
			if !isGone(c, many[i]) {
				t.Fatalf("unknown ID %d among many: %+v", i, c)
			}
		}
	}
}

// ---- Digest ----

func digestOf(recs map[syncproto.RecordID]uint64) (uint64, [32]byte) {
	ids := make([]syncproto.RecordID, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b syncproto.RecordID) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for _, id := range ids {
		h.Write(id[:])
		h.Write(binary.BigEndian.AppendUint64(nil, recs[id]))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return uint64(len(ids)), sum
}

func testDigest(t *testing.T, s storage.Store) {
	a, b := newAccount(t, s), newAccount(t, s)
	r1, r2, r3, r4, r5 := newRecordID(), newRecordID(), newRecordID(), newRecordID(), newRecordID()
	expiring := live(r5, 0, b)
	expiring.Grants[0].Expires = Now.Add(time.Hour).Truncate(time.Second)
	pushRecords(t, s, a, live(r1, 0), live(r2, 0), live(r3, 0, b), expiring)
	pushRecords(t, s, a, live(r1, 1), deletion(r2, 1))
	pushRecords(t, s, b, live(r4, 0))
	for _, tt := range []struct {
		name    string
		account syncproto.AccountID
		now     time.Time
		want    map[syncproto.RecordID]uint64
	}{
		{"owner", a, Now, map[syncproto.RecordID]uint64{r1: 2, r3: 1, r5: 1}},
		{"grantee", b, Now, map[syncproto.RecordID]uint64{r3: 1, r4: 1, r5: 1}},
		{"grantee after expiry", b, Now.Add(2 * time.Hour), map[syncproto.RecordID]uint64{r3: 1, r4: 1}},
		{"stranger", syncproto.NewAccountID(), Now, map[syncproto.RecordID]uint64{}},
	} {
		d, err := s.Digest(t.Context(), tt.account, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		n, h := digestOf(tt.want)
		if d.Count != n || d.Hash != h {
			t.Errorf("%s: Digest count %d hash %x, want %d %x", tt.name, d.Count, d.Hash[:4], n, h[:4])
		}
		if c := cursor(t, s, tt.account); d.Cursor != c {
			t.Errorf("%s: Digest cursor %d, want %d", tt.name, d.Cursor, c)
		}
	}
}

// ---- concurrency ----

func testConcurrency(t *testing.T, s storage.Store) {
	const (
		workers = 16
		batches = 12
		perPush = 4
	)
	accounts := make([]syncproto.AccountID, 4)
	for i := range accounts {
		accounts[i] = newAccount(t, s)
	}
	contested := newRecordID()
	pushRecords(t, s, accounts[0], live(contested, 0))

	type ack struct {
		owner    syncproto.AccountID
		id       syncproto.RecordID
		revision uint64
		seq      uint64
	}
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			owner := accounts[w%len(accounts)]
			for range batches {
				var p syncproto.Push
				for range perPush {
					p.Records = append(p.Records, live(newRecordID(), 0))
				}
				if owner == accounts[0] { // race others to revision 2 of one record
					p.Records = append(p.Records, live(contested, 1))
				}
				out, err := s.Push(t.Context(), owner, p, Now)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, r := range out.Results {
					if r.Status == syncproto.StatusAccepted {
						acks = append(acks, ack{owner, p.Records[i].Record, r.Revision, r.Seq})
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Push: %v", err)
	}
	type feedSeq struct {
		account syncproto.AccountID
		seq     uint64
	}
	seqs := make(map[feedSeq]bool) // seqs are per account
	contestedWins := 0
	for _, a := range acks {
		if seqs[feedSeq{a.owner, a.seq}] {
			t.Errorf("seq %d acknowledged twice in the feed of %s", a.seq, a.owner)
		}
		seqs[feedSeq{a.owner, a.seq}] = true
		if a.id == contested {
			contestedWins++
			continue
		}
		c := record(t, s, a.owner, a.id)
		if c.State != syncproto.StateLive || c.Revision != a.revision || c.Seq != a.seq {
			t.Errorf("acknowledged record %s: %+v, want live at revision %d seq %d", a.id, c, a.revision, a.seq)
		}
	}
	if want := workers * batches * perPush; len(acks)-contestedWins != want {
		t.Errorf("%d new records acknowledged, want %d", len(acks)-contestedWins, want)
	}
	if contestedWins != 1 {
		t.Errorf("revision 2 of the contested record was accepted %d times, want once", contestedWins)
	}
	total := 0
	for _, acct := range accounts {
		items := feed(t, s, acct, 0, Now)
		total += len(items)
		if !slices.IsSortedFunc(items, func(x, y syncproto.Change) int { return cmp.Compare(x.Seq, y.Seq) }) {
			t.Errorf("feed out of seq order")
		}
	}
	if want := workers*batches*perPush + 1; total != want {
		t.Errorf("feeds hold %d items, want %d", total, want)
	}
}

// ---- Close ----

func testClose(t *testing.T, s storage.Store) {
	a := newAccount(t, s)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Account(t.Context(), a); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Account after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Push(t.Context(), a, syncproto.Push{Records: []syncproto.RecordPush{live(newRecordID(), 0)}}, Now); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Push after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Changes(t.Context(), a, 0, 10, Now); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Changes after Close: %v, want ErrClosed", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
}

// ---- quota ----

func testQuota(t *testing.T, s storage.Store, max int) {
	a, b := newAccount(t, s), newAccount(t, s)
	var rps []syncproto.RecordPush
	for range max + 2 {
		rps = append(rps, live(newRecordID(), 0))
	}
	res := push(t, s, a, syncproto.Push{Records: rps}).Results
	for i, r := range res {
		if i < max {
			wantResult(t, fmt.Sprintf("record %d", i), r, rps[i].Record, syncproto.StatusAccepted, 0, 1)
		} else {
			wantResult(t, fmt.Sprintf("record %d over quota", i), r, rps[i].Record, syncproto.StatusRejected, syncproto.CodeQuotaExceeded, 0)
		}
	}
	wantChange(t, "refused record", record(t, s, a, rps[max].Record), gone(rps[max].Record))
	// Updates of records it owns are not new records.
	pushRecords(t, s, a, live(rps[0].Record, 1))
	// The quota is per account.
	pushRecords(t, s, b, live(newRecordID(), 0))
	// A deletion makes room.
	pushRecords(t, s, a, deletion(rps[1].Record, 1))
	pushRecords(t, s, a, live(rps[max].Record, 0))
	r := push(t, s, a, syncproto.Push{Records: []syncproto.RecordPush{live(rps[max+1].Record, 0)}}).Results[0]
	wantResult(t, "over quota again", r, rps[max+1].Record, syncproto.StatusRejected, syncproto.CodeQuotaExceeded, 0)
}
