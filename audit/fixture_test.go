package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"interlude/crypto"
	"interlude/storage"
	"interlude/storage/sqlite"
	"interlude/syncproto"
)

// Signature contexts from docs/crypto.md, to re-sign crafted blobs in mutation tests.
const (
	ctxEnvelope = "interlude/v1/envelope"
	ctxGrant    = "interlude/v1/grant"
)

// person is a fixture account: a real identity whose signing seed the test keeps.
type person struct {
	id     *crypto.Identity
	seed   []byte
	device syncproto.DeviceID
}

func (p *person) account() syncproto.AccountID { return syncproto.AccountID(p.id.Account) }

func (p *person) sign(context string, msg []byte) []byte {
	sig, err := ed25519.NewKeyFromSeed(p.seed).Sign(nil, msg, &ed25519.Options{Context: context})
	if err != nil {
		panic(err)
	}
	return sig
}

// stored is a record as the fixture pushed it.
type stored struct {
	id       syncproto.RecordID
	owner    *person
	revision uint64
	env      []byte
	ownerKey []byte
	deleted  bool
}

// fixture is a server data directory made through storage.Store with real crypto.
type fixture struct {
	dir      string
	people   []*person
	records  []*stored
	canaries []string
	now      time.Time
}

func newPerson(t testing.TB, accountID *crypto.AccountID) *person {
	seed := make([]byte, 32)
	rand.Read(seed)
	sk, err := crypto.SigningKeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	share, err := crypto.NewShareKey()
	if err != nil {
		t.Fatal(err)
	}
	id := &crypto.Identity{Account: crypto.NewAccountID(), Vault: crypto.NewVaultKey(), Signing: sk, Share: share}
	if accountID != nil {
		id.Account = *accountID
	}
	return &person{id: id, seed: seed, device: syncproto.NewDeviceID()}
}

func randomKey(t testing.TB) crypto.KeybagKey {
	b := make([]byte, 32)
	rand.Read(b)
	k, err := crypto.KeybagKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// createAccount stores p's account and first device, as the server does at sign-up.
func createAccount(t testing.TB, ctx context.Context, s storage.Store, p *person, now time.Time, label []byte) {
	params := crypto.NewKDFParams()
	pm := params.Marshal()
	keybag, err := crypto.SealKeybag(randomKey(t), crypto.KeybagPassphrase, pm, p.id)
	if err != nil {
		t.Fatal(err)
	}
	rkeybag, err := crypto.SealKeybag(randomKey(t), crypto.KeybagRecovery, nil, p.id)
	if err != nil {
		t.Fatal(err)
	}
	a := storage.Account{ID: p.account(), KDFParams: pm, Keybag: keybag, RecoveryKeybag: rkeybag,
		Bundle: p.id.PublicBundle(), Fingerprint: p.id.Fingerprint(), Created: now}
	rand.Read(a.LoginKey[:])
	rand.Read(a.RecoveryLoginKey[:])
	if err := s.CreateAccount(ctx, a, storage.Device{ID: p.device, Account: p.account(), Label: label, Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	var tok [32]byte
	rand.Read(tok[:])
	if err := s.CreateSession(ctx, storage.Session{TokenHash: sha256.Sum256(tok[:]), Account: p.account(), Device: p.device,
		Created: now, LastSeen: now, Expires: now.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// newCanary returns a random 26-character canary.
func newCanary() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "cn" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:24]
}

// entryJSON is a journal entry of roughly size bytes holding canaries.
func entryJSON(size int, canaries ...string) []byte {
	text := strings.Join(canaries, " ") + " "
	for len(text) < size {
		text += "Went for a walk after the session and felt the tightness ease. "
	}
	b, _ := json.Marshal(map[string]any{"v": 1, "kind": "journal", "created": "2026-03-02T21:14:05-05:00",
		"body": map[string]any{"title": canaries[0], "text": text[:size], "tags": canaries}})
	return b
}

// seal makes a record revision: envelope, owner key, and grants to the given people.
func seal(t testing.TB, owner *person, id syncproto.RecordID, rev uint64, pt []byte, to []*person, expires time.Time) syncproto.RecordPush {
	env, ek, err := crypto.SealEntry(owner.id, crypto.RecordID(id), rev, pt)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := crypto.WrapForVault(owner.id.Vault, crypto.RecordID(id), rev, ek)
	if err != nil {
		t.Fatal(err)
	}
	rp := syncproto.RecordPush{Record: id, BaseRevision: rev - 1, Revision: rev, Envelope: env, OwnerKey: ok}
	for _, r := range to {
		g, err := crypto.SignGrant(owner.id, crypto.GrantTerms{Record: crypto.RecordID(id), Revision: rev, Recipient: r.id.Account,
			RecipientKey: r.id.Share.Public(), Expires: expires}, ek)
		if err != nil {
			t.Fatal(err)
		}
		rp.Grants = append(rp.Grants, syncproto.GrantPush{Record: id, Revision: rev, Recipient: r.account(), Expires: expires, Blob: g})
	}
	return rp
}

func push(t testing.TB, ctx context.Context, s storage.Store, owner *person, rps []syncproto.RecordPush, now time.Time) {
	for len(rps) > 0 {
		n := min(len(rps), 100)
		out, err := s.Push(ctx, owner.account(), syncproto.Push{Records: rps[:n]}, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Results {
			if r.Status != syncproto.StatusAccepted {
				t.Fatalf("push %s: status %v code %v", r.Record, r.Status, r.Code)
			}
		}
		rps = rps[n:]
	}
}

// buildFixture makes a data directory with n records spread over three accounts, some with
// grants, some edited, some deleted, with deterministic randomness (so the χ² figures, and
// therefore the outcome, are the same on every run).
func buildFixture(t *testing.T, n int) *fixture {
	t.Helper()
	cryptotest.SetGlobalRandom(t, 20260301)
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "interlude.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f := &fixture{dir: dir, now: now}
	for i := range 3 {
		p := newPerson(t, nil)
		var label []byte
		if i == 2 { // one client that names its device
			label, _ = crypto.SealDeviceLabel(crypto.NewSecretKey(), crypto.AccountID(p.account()), "Sam's phone")
		}
		createAccount(t, ctx, s, p, now, label)
		f.people = append(f.people, p)
	}
	a, b, c := f.people[0], f.people[1], f.people[2]
	byOwner := map[*person][]syncproto.RecordPush{}
	for i := range n {
		owner := a
		if i%5 == 4 {
			owner = b
		}
		cn := newCanary()
		if len(f.canaries) < 60 {
			f.canaries = append(f.canaries, cn)
		}
		size := 200
		switch {
		case i%40 == 0:
			size = 20000
		case i%10 == 0:
			size = 3000
		}
		var to []*person
		var exp time.Time
		if owner == a && i%7 == 0 {
			to = []*person{b}
			if i%14 == 0 {
				to = append(to, c)
				exp = now.Add(30 * 24 * time.Hour).Truncate(time.Second)
			}
		}
		id := syncproto.NewRecordID(now)
		rp := seal(t, owner, id, 1, entryJSON(size, cn, newCanary()), to, exp)
		byOwner[owner] = append(byOwner[owner], rp)
		f.records = append(f.records, &stored{id: id, owner: owner, revision: 1, env: rp.Envelope, ownerKey: rp.OwnerKey})
	}
	for _, p := range f.people {
		push(t, ctx, s, p, byOwner[p], now)
	}
	// Edit every 50th record (keeping its grant), delete every 60th.
	for i, r := range f.records {
		var rp syncproto.RecordPush
		switch {
		case i%50 == 1:
			var to []*person
			if r.owner == a {
				to = []*person{b}
			}
			rp = seal(t, r.owner, r.id, 2, entryJSON(500, newCanary()), to, time.Time{})
			r.env, r.ownerKey = rp.Envelope, rp.OwnerKey
		case i%60 == 2:
			statement, err := crypto.SignDeletion(r.owner.id, crypto.RecordID(r.id), 2)
			if err != nil {
				t.Fatal(err)
			}
			rp = syncproto.RecordPush{Record: r.id, BaseRevision: 1, Revision: 2, Delete: true, Envelope: statement}
			r.deleted, r.env, r.ownerKey = true, statement, nil
		default:
			continue
		}
		r.revision = 2
		push(t, ctx, s, r.owner, []syncproto.RecordPush{rp}, now)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// live returns the i-th live record.
func (f *fixture) live(i int) *stored {
	for _, r := range f.records {
		if !r.deleted {
			if i == 0 {
				return r
			}
			i--
		}
	}
	panic("not enough live records")
}

// withGrant returns a live record that has a grant.
func (f *fixture) grantRow(t *testing.T, dir string) (record, recipient []byte, blob []byte) {
	db := openRW(t, dir)
	defer db.Close()
	if err := db.QueryRow("SELECT record, recipient, blob FROM grants LIMIT 1").Scan(&record, &recipient, &blob); err != nil {
		t.Fatal(err)
	}
	return record, recipient, blob
}

// copyDir copies a data directory for a mutation.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o700)
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		out.Close()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// openRW opens a data directory's database for a mutation (a plain read-write connection,
// as an attacker or a buggy server would).
func openRW(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "interlude.db")+"?_pragma=foreign_keys(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// craftEnvelope builds and signs an envelope with the given fields, nonce and ciphertext.
func craftEnvelope(p *person, id syncproto.RecordID, rev uint64, commitment, nonce, ct []byte) []byte {
	b := []byte{0x01}
	b = append(b, id[:]...)
	b = append(b, p.id.Account[:]...)
	b = binary.BigEndian.AppendUint64(b, rev)
	b = append(b, commitment...)
	b = append(b, nonce...)
	b = append(b, ct...)
	return append(b, p.sign(ctxEnvelope, b)...)
}

// setEnvelope replaces a record's envelope, keeping envelope_hash consistent (as a server
// that stored these bytes would).
func setEnvelope(t *testing.T, db *sql.DB, r *stored, env []byte) {
	exec(t, db, "UPDATE records SET envelope = ?, envelope_hash = ? WHERE id = ?", env, envelopeHash(env, r.ownerKey), r.id[:])
}

func runAudit(t *testing.T, opts Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// expectFailed checks that exactly the named checks failed, and prints the report otherwise.
func expectFailed(t *testing.T, rep *Report, want ...string) {
	t.Helper()
	got := rep.FailedChecks()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || rep.Pass != (len(want) == 0) {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("failed checks %v, want %v\n%s", got, want, b.String())
	}
}

type sqlDB = sql.DB

func sqlOpen(dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err == nil {
		db.SetMaxOpenConns(1)
	}
	return db, err
}

func sha256Sum(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
