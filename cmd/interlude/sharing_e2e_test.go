package main

// End-to-end tests of pairing, sharing, homework and messages (issue 5), with the real
// interlude and interlude-server binaries (TestMain in e2e_test.go builds them).

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"interlude/client"
	"interlude/syncproto"
)

const (
	passDoc = "clinician's own passphrase"
	passPat = "client's quiet passphrase"
)

// signedUp returns a device with a new account on srv, and its account ID.
func signedUp(t *testing.T, srv *serverProc, pass string) (*device, string) {
	t.Helper()
	d := newDevice(t, pass)
	d.ok("signup", "--server", srv.url(), "--kit", filepath.Join(t.TempDir(), "kit.txt"))
	return d, d.status().Account
}

type inviteOut struct {
	Code    string `json:"code"`
	Expires string `json:"expires"`
}

type contactOutJSON struct {
	Account    string `json:"account"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	State      string `json:"state"`
	Reason     string `json:"reason"`
	Verified   bool   `json:"verified"`
	KeyChanged bool   `json:"key_changed"`
	SafetyCode string `json:"safety_code"`
}

func (d *device) contacts() []contactOutJSON {
	d.t.Helper()
	var cs []contactOutJSON
	d.okJSON(&cs, "contacts")
	return cs
}

func (d *device) invite(args ...string) string {
	d.t.Helper()
	var inv inviteOut
	d.okJSON(&inv, append([]string{"pair", "invite"}, args...)...)
	if len(inv.Code) != 35 {
		d.t.Fatalf("pairing code %q", inv.Code)
	}
	return inv.Code
}

// pairInPerson pairs a clinician (doc, called "Dr Lee") and a client (pat, "Sam").
func pairInPerson(t *testing.T, doc, pat *device) {
	t.Helper()
	code := doc.invite("--name", "Dr Lee")
	r := pat.ok("pair", "accept", code, "--name", "Sam")
	if !strings.Contains(r.stdout, "Safety code") {
		t.Fatalf("pair accept: %s", r.stdout)
	}
	r = doc.ok("sync")
	if !strings.Contains(r.stdout, "Paired with your client Sam") {
		t.Fatalf("clinician's sync after the request:\n%s%s", r.stdout, r.stderr)
	}
	r = pat.ok("sync")
	if !strings.Contains(r.stdout, "Paired with your clinician Dr Lee") {
		t.Fatalf("client's sync after the answer:\n%s%s", r.stdout, r.stderr)
	}
	// Both show the same safety code, to read aloud.
	var a, b struct {
		SafetyCode string `json:"safety_code"`
	}
	doc.okJSON(&a, "contacts", "safety-code", "Sam")
	pat.okJSON(&b, "contacts", "safety-code", "Dr Lee")
	if a.SafetyCode == "" || a.SafetyCode != b.SafetyCode || len(strings.ReplaceAll(a.SafetyCode, " ", "")) != 30 {
		t.Fatalf("safety codes differ: %q %q", a.SafetyCode, b.SafetyCode)
	}
	for _, c := range [][]contactOutJSON{doc.contacts(), pat.contacts()} {
		if len(c) != 1 || !c[0].Verified || c[0].State != "paired" || c[0].KeyChanged {
			t.Fatalf("contacts: %+v", c)
		}
	}
	// The handshake's records are cleaned up on the next round.
	doc.ok("sync")
	pat.ok("sync")
}

// typo changes one character of a code (not a dash).
func typo(code string) string {
	b := []byte(code)
	i := 8
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestPairingRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc, docID := signedUp(t, srv, passDoc)
	pat, patID := signedUp(t, srv, passPat)
	_, otherID := signedUp(t, srv, "a third account entirely")
	sdb := srv.db(true)

	// A mistyped code is refused at once, naming the check character.
	code := doc.invite("--name", "Dr Lee")
	r := pat.run("pair", "accept", typo(code))
	if r.code != exitError || !strings.Contains(r.stderr, "check character") {
		t.Fatalf("mistyped code: exit %d: %s", r.code, r.stderr)
	}

	// A server that answers the code with other keys is refused, and nothing is sent.
	acct := func(s string) []byte {
		a, err := syncproto.ParseAccountID(s)
		if err != nil {
			t.Fatal(err)
		}
		return a[:]
	}
	var real []byte
	if err := sdb.QueryRow(`SELECT bundle FROM accounts WHERE id = ?`, acct(docID)).Scan(&real); err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`UPDATE accounts SET bundle = (SELECT bundle FROM accounts WHERE id = ?) WHERE id = ?`, acct(otherID), acct(docID)); err != nil {
		t.Fatal(err)
	}
	r = pat.run("pair", "accept", code)
	if r.code != exitError || !strings.Contains(r.stderr, "the keys the server returned do not match the code — do not continue; tell your clinician") {
		t.Fatalf("substituted key: exit %d: %s", r.code, r.stderr)
	}
	if n := count(t, sdb, `SELECT count(*) FROM records WHERE owner = ?`, acct(patID)); n != 0 {
		t.Fatalf("the client sent %d records to a substituted key", n)
	}
	if len(pat.contacts()) != 0 {
		t.Fatal("a substituted key was pinned")
	}
	if _, err := sdb.Exec(`UPDATE accounts SET bundle = ? WHERE id = ?`, real, acct(docID)); err != nil {
		t.Fatal(err)
	}

	// An expired code: the clinician's device answers "expired" (its clock is 31 minutes on).
	pat.ok("pair", "accept", code, "--name", "Sam")
	later := []string{"INTERLUDE_NOW=" + time.Now().Add(31*time.Minute).Format(time.RFC3339)}
	r = doc.runEnv(later, "sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "Refused a pairing request (expired)") {
		t.Fatalf("clinician's sync with an expired code: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pat.run("sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "refused the pairing: the code had expired") {
		t.Fatalf("client's sync after an expired code: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if cs := pat.contacts(); len(cs) != 1 || cs[0].State != "rejected" || cs[0].Reason != "expired" || cs[0].Verified {
		t.Fatalf("client's contact after an expired code: %+v", cs)
	}
	if cs := doc.contacts(); len(cs) != 0 {
		t.Fatalf("clinician paired with an expired code: %+v", cs)
	}

	// A fresh code works once; a second person with the same code is refused.
	code = doc.invite("--name", "Dr Lee")
	pat.ok("pair", "accept", code, "--name", "Sam")
	doc.ok("sync")
	r = pat.ok("sync")
	if !strings.Contains(r.stdout, "Paired with your clinician Dr Lee") {
		t.Fatalf("pairing with a fresh code:\n%s", r.stdout)
	}
	third, _ := signedUp(t, srv, "someone else who saw the code")
	third.ok("pair", "accept", code, "--name", "Eve")
	r = doc.run("sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "Refused a pairing request (used)") {
		t.Fatalf("clinician's sync with a reused code: exit %d\n%s", r.code, r.stdout)
	}
	r = third.run("sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "the code had already been used") {
		t.Fatalf("reused code: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if cs := doc.contacts(); len(cs) != 1 || cs[0].Name != "Sam" {
		t.Fatalf("clinician's contacts: %+v", cs)
	}
	// Everyone's next sync is clean: the refused requests and their answers are gone.
	for _, d := range []*device{third, doc, pat, doc} {
		if r := d.run("sync"); r.code != 0 {
			t.Fatalf("sync after the refusals: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
}

// added adds an entry and returns its ID.
func (d *device) added(args ...string) string {
	d.t.Helper()
	var a struct{ ID string }
	d.okJSON(&a, append([]string{"add"}, args...)...)
	return a.ID
}

type fromItem struct {
	ID    string          `json:"id"`
	Kind  string          `json:"kind"`
	From  string          `json:"from"`
	Level string          `json:"level"`
	Entry json.RawMessage `json:"entry"`
}

// localShared lists, from a device's own database, the journal entries it holds that
// the given account owns.
func localShared(t *testing.T, d *device, owner string) []string {
	t.Helper()
	a, err := syncproto.ParseAccountID(owner)
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(d.home, "interlude.db"), false)
	rows, err := db.Query(`SELECT id FROM records WHERE owner = ? AND deleted = 0 AND role = ''`, a[:])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id []byte
		rows.Scan(&id)
		out = append(out, ulidString(id))
	}
	sort.Strings(out)
	return out
}

// remoteStates asks the server, as the device's account, for records by ID.
func remoteStates(t *testing.T, d *device, ids []string) []syncproto.RecordState {
	t.Helper()
	cl, err := client.Open(d.home, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Unlock([]byte(d.pass)); err != nil {
		t.Fatal(err)
	}
	var rids []syncproto.RecordID
	for _, s := range ids {
		id, err := syncproto.ParseRecordID(s)
		if err != nil {
			t.Fatal(err)
		}
		rids = append(rids, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := cl.RemoteState(ctx, rids)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestShareRevokeHomeworkMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc, docID := signedUp(t, srv, passDoc)
	pat, patID := signedUp(t, srv, passPat)
	pairInPerson(t, doc, pat)

	// Ten entries; three are shared.
	var ids []string
	for i := range 5 {
		ids = append(ids, pat.added("journal", "--text", "journal secret "+string(rune('A'+i))))
		ids = append(ids, pat.added("checkin", "--mood", "4", "--note", "checkin secret "+string(rune('A'+i)), "--emotions", "sad"))
	}
	shared := []string{ids[0], ids[1], ids[2]}
	r := pat.ok(append([]string{"share"}, append(shared, "--with", "Dr Lee")...)...)
	if !strings.Contains(r.stdout, "Shared 3 entries with Dr Lee") {
		t.Fatalf("share: %s", r.stdout)
	}
	pat.ok("sync")
	doc.ok("sync")
	if got := localShared(t, doc, patID); strings.Join(got, ",") != strings.Join(sorted(shared), ",") {
		t.Fatalf("the clinician's device holds %v, want exactly %v", got, sorted(shared))
	}
	var from []fromItem
	doc.okJSON(&from, "list", "--from", "Sam")
	if len(from) != 3 || from[0].From != "Sam" {
		t.Fatalf("list --from: %+v", from)
	}
	// The other seven cannot be had, even by asking the server for their IDs.
	for i, st := range remoteStates(t, doc, ids[3:]) {
		if st != syncproto.StateGone {
			t.Fatalf("unshared entry %s: state %d from the server", ids[3+i], st)
		}
	}
	var shares []struct {
		ID   string `json:"id"`
		With string `json:"with"`
	}
	pat.okJSON(&shares, "list", "--shared")
	if len(shares) != 3 || shares[0].With != "Dr Lee" {
		t.Fatalf("list --shared: %+v", shares)
	}

	// Revoke one: gone from the clinician after sync. An edit after the revoke gives the
	// clinician nothing new; an edit of a still-shared entry reaches it.
	pat.ok("unshare", ids[1], "--with", "Dr Lee")
	pat.ok("sync")
	doc.ok("sync")
	if got := localShared(t, doc, patID); strings.Join(got, ",") != strings.Join(sorted([]string{ids[0], ids[2]}), ",") {
		t.Fatalf("after the revoke the clinician holds %v", got)
	}
	pat.ok("edit", ids[1], "--note", "written after the revoke")
	pat.ok("edit", ids[0], "--text", "journal secret A, edited")
	pat.ok("sync")
	doc.ok("sync")
	if st := remoteStates(t, doc, ids[1:2]); st[0] != syncproto.StateGone {
		t.Fatalf("revoked entry after an edit: state %d", st[0])
	}
	sdb := srv.db(false)
	if n := count(t, sdb, `SELECT count(*) FROM grants WHERE record = ?`, mustID(t, ids[1])); n != 0 {
		t.Fatalf("the revoked entry has %d grants on the server after the edit", n)
	}
	var shown entryView
	doc.okJSON(&shown, "show", ids[0])
	if !strings.Contains(string(shown.Entry), "journal secret A, edited") || shown.Revision != 2 {
		t.Fatalf("edited shared entry at the clinician: rev %d %s", shown.Revision, shown.Entry)
	}
	if r := doc.run("show", ids[1]); r.code == 0 {
		t.Fatalf("the revoked entry still shows at the clinician: %s", r.stdout)
	}

	// Scores only: the clinician's decrypted copy has the numbers and no free text.
	var so []struct {
		Shared string `json:"shared"`
		Level  string `json:"level"`
	}
	pat.okJSON(&so, "share", ids[3], "--with", "Dr Lee", "--scores-only")
	if len(so) != 1 || so[0].Level != "scores" || so[0].Shared == ids[3] {
		t.Fatalf("share --scores-only: %+v", so)
	}
	if r := pat.run("share", ids[4], "--with", "Dr Lee", "--scores-only"); r.code == 0 || !strings.Contains(r.stderr, "no scores") {
		t.Fatalf("scores-only share of a journal entry: exit %d %s", r.code, r.stderr)
	}
	pat.ok("sync")
	doc.ok("sync")
	doc.okJSON(&shown, "show", so[0].Shared)
	var copyDoc struct {
		Body map[string]any `json:"body"`
	}
	if err := json.Unmarshal(shown.Entry, &copyDoc); err != nil {
		t.Fatal(err)
	}
	if shown.Level != "scores" || shown.Source != ids[3] || copyDoc.Body["mood"] != float64(4) || len(copyDoc.Body) != 1 {
		t.Fatalf("scores-only copy at the clinician: level %q source %s: %s", shown.Level, shown.Source, shown.Entry)
	}
	for _, secret := range []string{"secret", "note", "sad", "emotions"} {
		if strings.Contains(string(shown.Entry), secret) {
			t.Fatalf("scores-only copy reveals %q: %s", secret, shown.Entry)
		}
	}
	if got := localShared(t, doc, patID); len(got) != 2 {
		t.Fatalf("a scores-only share made the original visible: %v", got)
	}

	// Homework: assigned, started (the clinician sees "in progress"), filled in offline,
	// submitted, seen by the clinician as submitted.
	var assigned struct{ ID string }
	doc.okJSON(&assigned, "assign", "--to", "Sam", "--title", "Thought record", "--type", "worksheet", "--kind", "thought_record",
		"--instructions", "One situation this week", "--due", time.Now().AddDate(0, 0, 7).Format("2006-01-02"))
	doc.ok("sync")
	pat.ok("sync")
	type hw struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Status   string `json:"status"`
		Response string `json:"response"`
	}
	var hws []hw
	pat.okJSON(&hws, "homework")
	if len(hws) != 1 || hws[0].ID != assigned.ID || hws[0].Status != "not started" {
		t.Fatalf("client's homework: %+v", hws)
	}
	doc.okJSON(&hws, "homework", "--client", "Sam")
	if len(hws) != 1 || hws[0].Status != "not started" {
		t.Fatalf("clinician's homework view: %+v", hws)
	}
	pat.ok("homework", "start", assigned.ID)
	pat.ok("sync")
	doc.ok("sync")
	doc.okJSON(&hws, "homework", "--client", "Sam")
	if len(hws) != 1 || hws[0].Status != "in progress" {
		t.Fatalf("clinician's view after start: %+v", hws)
	}
	srv.stop()
	var resp struct{ Response string }
	pat.okJSON(&resp, "respond", assigned.ID, "--situation", "meeting at work", "--thoughts", "they think I'm slow", "--before", "anxious:70")
	if r := pat.run("submit", resp.Response); r.code != 0 {
		t.Fatalf("submit offline: exit %d %s", r.code, r.stderr)
	}
	pat.okJSON(&hws, "homework")
	if hws[0].Status != "submitted" || hws[0].Response != resp.Response {
		t.Fatalf("client's homework after submitting offline: %+v", hws)
	}
	srv.restart()
	pat.ok("sync")
	doc.ok("sync")
	doc.okJSON(&hws, "homework", "--client", "Sam")
	if len(hws) != 1 || hws[0].Status != "submitted" || hws[0].Response != resp.Response {
		t.Fatalf("clinician's view after the submit: %+v", hws)
	}
	doc.okJSON(&shown, "show", resp.Response)
	if !strings.Contains(string(shown.Entry), "meeting at work") {
		t.Fatalf("submitted response at the clinician: %s", shown.Entry)
	}

	// Messages, both ways, within the clinician's stated boundaries.
	doc.ok("availability", "set", "--hours", "Mon-Fri 09:00-17:00", "--reply-only", "--note", "In a crisis, call 988")
	doc.ok("sync")
	pat.ok("sync")
	r = pat.run("message", "send", "Dr Lee", "Can I ask something?")
	if r.code != exitError || !strings.Contains(r.stderr, "replies only") {
		t.Fatalf("a new thread in reply-only mode: exit %d %s", r.code, r.stderr)
	}
	doc.ok("message", "send", "Sam", "How did the week go?")
	doc.ok("sync")
	pat.ok("sync")
	r = pat.ok("message", "send", "Dr Lee", "Better, thank you")
	if !strings.Contains(r.stdout, "Mon-Fri 09:00-17:00") || !strings.Contains(r.stdout, "988") {
		t.Fatalf("the client was not shown the availability: %s", r.stdout)
	}
	pat.ok("sync")
	doc.ok("sync")
	var thread struct {
		Messages []struct {
			From    string `json:"from"`
			Text    string `json:"text"`
			ReplyTo string `json:"reply_to"`
		} `json:"messages"`
	}
	doc.okJSON(&thread, "messages", "Sam")
	if len(thread.Messages) != 2 || thread.Messages[0].Text != "How did the week go?" || thread.Messages[0].From != "me" ||
		thread.Messages[1].Text != "Better, thank you" || thread.Messages[1].From != "Sam" || thread.Messages[1].ReplyTo == "" {
		t.Fatalf("the clinician's thread: %+v", thread)
	}
	pat.okJSON(&thread, "messages", "Dr Lee")
	if len(thread.Messages) != 2 || thread.Messages[1].From != "me" {
		t.Fatalf("the client's thread: %+v", thread)
	}

	// Ending the pairing (the client's side): the clinician loses access to everything;
	// the client's journal keeps every entry.
	pat.ok("contacts", "remove", "Dr Lee")
	pat.ok("sync")
	r = doc.ok("sync")
	if !strings.Contains(r.stdout, "Sam ended your pairing") {
		t.Fatalf("the clinician was not told: %s", r.stdout)
	}
	pat.ok("sync")
	doc.ok("sync")
	if got := localShared(t, doc, patID); len(got) != 0 {
		t.Fatalf("the clinician still holds %v after the pairing ended", got)
	}
	if n := count(t, sdb, `SELECT count(*) FROM grants g JOIN records r ON r.id = g.record WHERE g.recipient = ? AND r.owner = ?`,
		mustAccount(t, docID), mustAccount(t, patID)); n != 1 {
		t.Fatalf("%d of the client's grants to the clinician are left (want only the notice of the ending)", n)
	}
	if items := pat.list(); len(items) != 12 { // ten entries, the response and the client's message
		t.Fatalf("the client's journal after ending the pairing: %d entries", len(items))
	}
	if r := doc.run("list", "--from", "Sam"); r.code == 0 {
		t.Fatalf("list --from an ended contact: %s", r.stdout)
	}
}

func mustID(t *testing.T, s string) []byte {
	t.Helper()
	id, err := syncproto.ParseRecordID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id[:]
}

func mustAccount(t *testing.T, s string) []byte {
	t.Helper()
	a, err := syncproto.ParseAccountID(s)
	if err != nil {
		t.Fatal(err)
	}
	return a[:]
}

func TestKeyChangeBlocksSharing(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc, docID := signedUp(t, srv, passDoc)
	pat, _ := signedUp(t, srv, passPat)
	_, otherID := signedUp(t, srv, "an unrelated account")
	pairInPerson(t, doc, pat)
	first := pat.added("checkin", "--mood", "6")
	pat.added("journal", "--text", "not a check-in")
	// Many at once is an explicit command: every check-in since today.
	r := pat.ok("share", "--kind", "checkin", "--since", time.Now().Format("2006-01-02"), "--with", "Dr Lee")
	if !strings.Contains(r.stdout, "Shared 1 entry with Dr Lee") {
		t.Fatalf("batch share: %s", r.stdout)
	}
	pat.ok("sync")
	doc.ok("sync")

	// The server starts publishing other keys for the clinician.
	sdb := srv.db(true)
	if _, err := sdb.Exec(`UPDATE accounts SET bundle = (SELECT bundle FROM accounts WHERE id = ?) WHERE id = ?`,
		mustAccount(t, otherID), mustAccount(t, docID)); err != nil {
		t.Fatal(err)
	}
	r = pat.run("sync")
	if r.code != exitAttention || !strings.Contains(r.stdout, "WARNING: the server now shows different keys for Dr Lee") {
		t.Fatalf("sync after a key change: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if cs := pat.contacts(); len(cs) != 1 || !cs[0].KeyChanged {
		t.Fatalf("contacts after a key change: %+v", cs)
	}
	second := pat.added("checkin", "--mood", "3", "--note", "must not leave")
	r = pat.run("share", second, "--with", "Dr Lee")
	if r.code != exitError || !strings.Contains(r.stderr, "keys have changed since you paired in person") {
		t.Fatalf("share after a key change: exit %d %s", r.code, r.stderr)
	}
	if r := pat.run("message", "send", "Dr Lee", "hello?"); r.code == 0 {
		t.Fatalf("a message was sent after a key change: %s", r.stdout)
	}
	pat.run("sync")
	if n := count(t, sdb, `SELECT count(*) FROM grants WHERE record = ?`, mustID(t, second)); n != 0 {
		t.Fatal("the entry was shared after the key change")
	}
	// What the clinician shared before is still checked against the keys verified in
	// person, and the existing share stays readable for the clinician.
	var from []fromItem
	doc.okJSON(&from, "list", "--from", "Sam")
	if len(from) != 1 || from[0].ID != first {
		t.Fatalf("the clinician's view: %+v", from)
	}
}

// A PHQ-9 assigned as recurring homework and answered with item 9 above zero shows crisis
// resources at once on the client's device, exactly as `add phq9` does, and shares nothing.
func TestMeasureHomeworkShowsCrisisResources(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc, _ := signedUp(t, srv, passDoc)
	pat, _ := signedUp(t, srv, passPat)
	pairInPerson(t, doc, pat)
	var assigned struct{ ID string }
	doc.okJSON(&assigned, "assign", "--to", "Sam", "--title", "Weekly PHQ-9", "--type", "measure", "--kind", "phq9", "--repeat", "weekly")
	doc.ok("sync")
	pat.ok("sync")
	calm := pat.ok("respond", assigned.ID, "--answers", "0,0,0,0,0,0,0,0,0")
	if strings.Contains(calm.stderr, "not a crisis") {
		t.Fatalf("crisis resources shown for an item 9 of zero: %s", calm.stderr)
	}
	r := pat.ok("respond", assigned.ID, "--answers", "1,1,0,0,0,0,0,0,2")
	if !strings.Contains(r.stderr, "not a crisis") {
		t.Fatalf("no crisis resources after item 9 = 2 in a homework PHQ-9:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

// TestContactOnASecondDevice: the clinician signs in on a second device after pairing;
// its first sync learns the client (keys verified on the first device) and shows what the
// client shared, and a rename there reaches the first device.
func TestContactOnASecondDevice(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc := newDevice(t, passDoc)
	kit := filepath.Join(t.TempDir(), "kit.txt")
	doc.ok("signup", "--server", srv.url(), "--kit", kit)
	pat, _ := signedUp(t, srv, passPat)
	pairInPerson(t, doc, pat)
	id := pat.added("checkin", "--mood", "6", "--note", "for Dr Lee")
	pat.ok("share", id, "--with", "Dr Lee")
	pat.ok("sync")

	doc2 := newDevice(t, passDoc)
	doc2.ok("login", "--kit", kit, "--device-name", "clinic laptop")
	r := doc2.ok("sync")
	if !strings.Contains(r.stdout, "From another of your devices: Sam, your client") {
		t.Fatalf("second device's first sync:\n%s%s", r.stdout, r.stderr)
	}
	cs := doc2.contacts()
	if len(cs) != 1 || cs[0].Name != "Sam" || !cs[0].Verified || cs[0].State != "paired" || cs[0].SafetyCode != doc.contacts()[0].SafetyCode {
		t.Fatalf("contacts on the second device: %+v", cs)
	}
	if got := localShared(t, doc2, cs[0].Account); len(got) != 1 || got[0] != id {
		t.Fatalf("second device holds %v of the client's shares, want [%s]", got, id)
	}

	doc2.ok("contacts", "rename", "Sam", "Sam K")
	doc2.ok("sync")
	doc.ok("sync")
	if cs := doc.contacts(); len(cs) != 1 || cs[0].Name != "Sam K" {
		t.Fatalf("the rename did not reach the first device: %+v", cs)
	}
}
