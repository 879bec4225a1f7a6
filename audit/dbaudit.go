package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"interlude/crypto"
	"interlude/syncproto"
)

// The per-database checks other than schema read every allow-listed table once, in this
// order (accounts before records before grants, so that signatures can be checked against
// the owner's bundle as rows stream past).
var tableOrder = []string{"accounts", "devices", "sessions", "records", "grants", "changes", "schema_migrations", "sqlite_sequence"}

// Time bounds of the ULID plausibility test: a random ID decodes to a uniformly random
// 48-bit millisecond time (0 to year 10889); an ID made from a clock decodes to a recent one.
var plausibleFrom = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	dayMillis = 24 * 60 * 60 * 1000
	// plausibleAlarm is the false-alarm probability of the time-based-ID test.
	plausibleAlarm = 1e-6
)

type acct struct {
	bundle *crypto.PublicBundle // nil if the bundle did not parse or verify
	why    string               // why bundle is nil
}

type highChi struct {
	where string
	x     float64
	n     int
}

type rec struct {
	owner    [16]byte
	revision int64
	deleted  bool
}

// dbAudit runs the row-level checks over one database in one pass.
type dbAudit struct {
	ctx     context.Context
	d       *database
	al      *Allowlist
	present map[string][]string
	now     time.Time
	win     *windowIndex // blobs for the logs check; nil without --logs

	columns, envelopes, sizes, uniq, sigs, timec *Check

	values     map[string]int // values checked, by class
	parsed     map[string]int // blobs parsed, by format
	tombstones int
	perBlob    map[string][]float64
	tested     int       // blobs tested on their own
	high       []highChi // those above ChiSquareThreshold
	pools      map[string]*byteCounts
	pooledAll  byteCounts
	hist       map[int]int
	fixed      map[string]int
	seen       map[[17]byte]string
	uniqCounts map[string]int
	accounts   map[[16]byte]*acct
	records    map[[16]byte]*rec
	sigCounts  map[string]int
	timeCounts map[string]int
	ulidSeen   map[[16]byte]bool
	dayMin     time.Time
	dayMax     time.Time
	ids        map[string][][]byte
}

func newDBAudit(ctx context.Context, d *database, al *Allowlist, present map[string][]string, now time.Time, win *windowIndex) *dbAudit {
	name := d.name
	return &dbAudit{
		ctx: ctx, d: d, al: al, present: present, now: now, win: win,
		columns:    newCheck(CheckColumns, name, "every value fits its column's class (length, type, range) and derived columns match what they derive from"),
		envelopes:  newCheck(CheckEnvelopes, name, "every envelope, wrapped key, grant, keybag, KDF parameter set and bundle parses under the published v1 formats, and every ciphertext looks uniformly random (byte-frequency χ²)"),
		sizes:      newCheck(CheckSizes, name, "every envelope's length is a Padmé padding bucket with the 1 KiB floor"),
		uniq:       newCheck(CheckUniqueness, name, "no nonce, ciphertext, HPKE encapsulation or KDF salt appears twice"),
		sigs:       newCheck(CheckSignatures, name, "every bundle, envelope and grant verifies against its signer's key, and agrees with its row"),
		timec:      newCheck(CheckTime, name, "every coarse-time column is a multiple of its unit; record IDs carry a UTC day, and account and device IDs no time"),
		values:     map[string]int{},
		parsed:     map[string]int{},
		perBlob:    map[string][]float64{},
		pools:      map[string]*byteCounts{},
		hist:       map[int]int{},
		fixed:      map[string]int{},
		seen:       map[[17]byte]string{},
		uniqCounts: map[string]int{},
		accounts:   map[[16]byte]*acct{},
		records:    map[[16]byte]*rec{},
		sigCounts:  map[string]int{},
		timeCounts: map[string]int{},
		ulidSeen:   map[[16]byte]bool{},
		ids:        map[string][][]byte{},
	}
}

func (a *dbAudit) checks() []*Check {
	return []*Check{a.columns, a.envelopes, a.sizes, a.uniq, a.sigs, a.timec}
}

func (a *dbAudit) run() error {
	for _, t := range tableOrder {
		cols, ok := a.present[t]
		if !ok {
			continue
		}
		spec := a.al.Table(t)
		err := a.d.scanTable(a.ctx, t, cols, false, func(r *row) error {
			a.generic(t, spec, r)
			switch t {
			case "accounts":
				a.account(r)
			case "devices":
				a.device(r)
			case "records":
				a.record(r)
			case "grants":
				a.grant(r)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	a.plausibility()
	a.finish()
	return nil
}

// key names a row in findings, by its primary key (never by a secret: a session is named by
// the first bytes of its token's hash).
func (a *dbAudit) key(table string, r *row) string {
	switch table {
	case "accounts":
		return "accounts[" + idText(r.blob("id"), FormatAccountID) + "]"
	case "devices":
		return "devices[" + idText(r.blob("account"), FormatAccountID) + "/" + idText(r.blob("id"), FormatDeviceID) + "]"
	case "sessions":
		b := r.blob("token_hash")
		return fmt.Sprintf("sessions[token_hash %x…]", b[:min(4, len(b))])
	case "records":
		return "records[" + idText(r.blob("id"), FormatRecordID) + "]"
	case "grants":
		return "grants[" + idText(r.blob("record"), FormatRecordID) + "→" + idText(r.blob("recipient"), FormatAccountID) + "]"
	case "changes", "schema_migrations", "sqlite_sequence":
		for _, c := range []string{"seq", "version", "name"} {
			if r.has(c) {
				return fmt.Sprintf("%s[%s=%v]", table, c, r.value(c))
			}
		}
	}
	return table
}

func idText(b []byte, format string) string {
	if len(b) != 16 {
		return fmt.Sprintf("%x", b)
	}
	switch format {
	case FormatRecordID:
		return syncproto.RecordID(b).String()
	case FormatDeviceID:
		return syncproto.DeviceID(b).String()
	}
	return syncproto.AccountID(b).String()
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case int64:
		return "INTEGER"
	case float64:
		return "REAL"
	case string:
		return "TEXT"
	case []byte:
		return "BLOB"
	}
	return fmt.Sprintf("%T", v)
}

// checkClass validates one value against its column's class.
func checkClass(cs *ColumnSpec, v any, al *Allowlist) error {
	if v == nil {
		if cs.NotNull {
			return errors.New("NULL in a NOT NULL column")
		}
		return nil
	}
	blobLen := func(want int) error {
		b, ok := v.([]byte)
		if !ok {
			return fmt.Errorf("%s value in a %s column", typeName(v), cs.Class)
		}
		if want > 0 && len(b) != want {
			return fmt.Errorf("%d bytes, a %s is %d", len(b), cs.Class, want)
		}
		return nil
	}
	intMin := func(lo int64) error {
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%s value in a %s column", typeName(v), cs.Class)
		}
		if n < lo {
			return fmt.Errorf("value %d below %d", n, lo)
		}
		return nil
	}
	switch cs.Class {
	case ClassRandomID:
		if err := blobLen(16); err != nil {
			return err
		}
		if bytes.Equal(v.([]byte), make([]byte, 16)) {
			return errors.New("all-zero ID")
		}
	case ClassPublicKey, ClassHash:
		return blobLen(32)
	case ClassWrappedKey, ClassOpaqueBlob:
		return blobLen(0)
	case ClassSeq, ClassCoarseTime, ClassClientTime:
		return intMin(0)
	case ClassFlag:
		if n, ok := v.(int64); !ok || (n != 0 && n != 1) {
			return fmt.Errorf("flag is %v (%s), want 0 or 1", v, typeName(v))
		}
	case ClassTableName:
		s, ok := v.(string)
		if !ok || al.Table(s) == nil {
			return fmt.Errorf("names %v, not an allow-listed table", v)
		}
	}
	return nil
}

// generic runs the class validators, the coarse-time test and the record-ID test on every
// allow-listed column of a row.
func (a *dbAudit) generic(table string, spec *TableSpec, r *row) {
	for _, col := range a.present[table] {
		cs := spec.Column(col)
		v := r.value(col)
		where := a.key(table, r) + "." + col
		a.values[cs.Class]++
		if err := checkClass(cs, v, a.al); err != nil {
			a.columns.failf(where, "%v", err)
			continue
		}
		switch {
		case cs.Class == ClassCoarseTime && v != nil:
			n := v.(int64)
			a.timeCounts[cs.Unit]++
			if u := cs.UnitSeconds(); n%u != 0 {
				a.timec.failf(where, "%d (%s) is not a whole %s: the server keeps %d s more precision than it may",
					n, time.Unix(n, 0).UTC().Format(time.RFC3339), cs.Unit, n%u)
			}
		case cs.Format == FormatRecordID && v != nil:
			var id [16]byte
			copy(id[:], v.([]byte))
			if a.ulidSeen[id] {
				continue
			}
			a.ulidSeen[id] = true
			a.timeCounts["record-id"]++
			ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, id[:6]...)))
			day := time.UnixMilli(ms).UTC()
			if ms%dayMillis != 0 {
				a.timec.failf(where, "record ID %s carries the time %s, not a UTC midnight: it reveals when the entry was written",
					idText(id[:], FormatRecordID), day.Format("2006-01-02T15:04:05.000Z"))
				continue
			}
			if a.dayMin.IsZero() || day.Before(a.dayMin) {
				a.dayMin = day
			}
			if day.After(a.dayMax) {
				a.dayMax = day
			}
		case (table == "accounts" && col == "id") || (table == "devices" && col == "id"):
			a.ids[cs.Format] = append(a.ids[cs.Format], v.([]byte))
		}
	}
}

// chi tests an AEAD output: on its own if long enough, and in its class's pool and the
// overall pool if pool is set.
func (a *dbAudit) chi(class, where string, body []byte, pool bool) {
	if len(body) >= MinChiSquareBytes {
		x := chiSquare(body)
		a.perBlob[class] = append(a.perBlob[class], x)
		a.tested++
		if x > ChiSquareThreshold { // judged in finish, once the number of tests is known
			a.high = append(a.high, highChi{where: where, x: x, n: len(body)})
		}
	}
	if pool {
		p := a.pools[class]
		if p == nil {
			p = &byteCounts{}
			a.pools[class] = p
		}
		p.add(body)
		a.pooledAll.add(body)
	}
}

// once records a value that must be unique across the database.
func (a *dbAudit) once(kind, where string, b []byte) {
	h := sha256.Sum256(b)
	var k [17]byte
	k[0] = kind[0]
	copy(k[1:], h[:16])
	a.uniqCounts[kind]++
	if prev, ok := a.seen[k]; ok {
		a.uniq.failf(where, "this %s (%d bytes) also appears in %s: a repeat means a broken random number generator or a replayed encryption",
			kind, len(b), prev)
		return
	}
	a.seen[k] = where
}

func (a *dbAudit) parts(class, where string, p blobParts, pool bool) {
	if p.nonce != nil {
		a.once("nonce", where, p.nonce)
	}
	if p.enc != nil {
		a.once("encapsulation", where, p.enc)
	}
	a.once("ciphertext", where, p.body)
	a.chi(class, where, p.body, pool)
	if p.kem != nil {
		a.chi("grant-kem", where+" (ML-KEM ciphertext)", p.kem, false)
	}
}

func (a *dbAudit) account(r *row) {
	k := a.key("accounts", r)
	var id [16]byte
	copy(id[:], r.blob("id"))
	ac := &acct{}
	a.accounts[id] = ac

	if b := r.blob("kdf_params"); r.has("kdf_params") && b != nil {
		p, err := crypto.ParseKDFParams(b)
		switch {
		case err != nil:
			a.envelopes.failf(k+".kdf_params", "does not parse as KDF parameters: %v", err)
		default:
			a.parsed[FormatKDFParams]++
			a.fixed[fmt.Sprintf("kdf-params %d B", len(b))]++
			if err := p.Check(); err != nil {
				a.envelopes.failf(k+".kdf_params", "%v", err)
			}
			a.once("salt", k+".kdf_params", p.Salt[:])
		}
	}
	for _, kb := range []struct {
		col  string
		kind crypto.KeybagKind
	}{{"keybag", crypto.KeybagPassphrase}, {"recovery_keybag", crypto.KeybagRecovery}} {
		if !r.has(kb.col) || r.blob(kb.col) == nil {
			continue
		}
		b := r.blob(kb.col)
		p, err := splitKeybag(b, kb.kind)
		if err != nil {
			a.envelopes.failf(k+"."+kb.col, "does not parse as a keybag: %v", err)
			continue
		}
		a.parsed["keybag"]++
		a.fixed[fmt.Sprintf("keybag %d B", len(b))]++
		a.parts("keybag", k+"."+kb.col, p, true)
		a.win.add(k+"."+kb.col, b)
	}
	if r.has("bundle") && r.blob("bundle") != nil {
		b := r.blob("bundle")
		bundle, err := crypto.ParsePublicBundle(b)
		switch {
		case errors.Is(err, crypto.ErrBadSignature):
			ac.why = "does not verify (bad self-signature)"
			a.parsed[FormatPublicBundle]++
			a.sigs.failf(k+".bundle", "the public bundle's self-signature does not verify")
		case err != nil:
			ac.why = "does not parse"
			a.envelopes.failf(k+".bundle", "does not parse as a public bundle: %v", err)
		default:
			a.parsed[FormatPublicBundle]++
			a.fixed[fmt.Sprintf("public-bundle %d B", len(b))]++
			a.sigCounts["bundles"]++
			if bundle.Account != crypto.AccountID(id) {
				ac.why = "names another account"
				a.sigs.failf(k+".bundle", "the bundle is account %s's, not this row's", idText(bundle.Account[:], FormatAccountID))
			} else {
				ac.bundle = bundle
			}
			if fp := r.blob("fingerprint"); r.has("fingerprint") && fp != nil {
				want := bundle.Fingerprint()
				if !bytes.Equal(fp, want[:]) {
					a.columns.failf(k+".fingerprint", "is not the fingerprint of the account's bundle (SHA-256 of account, signing key, KEM and share key)")
				} else {
					a.values["fingerprint verified"]++
				}
			}
		}
	}
}

func (a *dbAudit) device(r *row) {
	if !r.has("label") {
		return
	}
	where := a.key("devices", r) + ".label"
	p, sealed, err := splitLabel(r.blob("label"))
	switch {
	case err != nil:
		a.envelopes.failf(where, "does not parse as a sealed label: %v", err)
	case sealed:
		a.parsed[FormatDeviceLabel]++
		a.parts("device-label", where, p, true)
		a.win.add(where, r.blob("label"))
	default:
		a.parsed["device-label (empty)"]++
	}
}

// envelopeHash is what storage/sqlite stores in records.envelope_hash: SHA-256 of the
// envelope's length (u64, big-endian), the envelope and the owner key. Checking it shows the
// column hashes public ciphertext, not something that could confirm a guessed plaintext.
func envelopeHash(envelope, ownerKey []byte) []byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(envelope)))
	h.Write(n[:])
	h.Write(envelope)
	h.Write(ownerKey)
	return h.Sum(nil)
}

func (a *dbAudit) record(r *row) {
	k := a.key("records", r)
	var id, owner [16]byte
	copy(id[:], r.blob("id"))
	copy(owner[:], r.blob("owner"))
	revision, _ := r.int("revision")
	deleted, _ := r.int("deleted")
	a.records[id] = &rec{owner: owner, revision: revision, deleted: deleted == 1}
	if r.has("revision") && revision < 1 {
		a.columns.failf(k+".revision", "revision %d: revisions start at 1", revision)
	}
	env, ownerKey := r.blob("envelope"), r.blob("owner_key")
	if r.has("envelope_hash") && r.has("envelope") && r.has("owner_key") {
		if got := r.blob("envelope_hash"); len(got) == 32 && !bytes.Equal(got, envelopeHash(env, ownerKey)) {
			a.columns.failf(k+".envelope_hash", "is not the SHA-256 of the stored envelope and owner key: it hashes something else")
		} else if len(got) == 32 {
			a.values["envelope hash verified"]++
		}
	}
	if deleted == 1 {
		a.tombstone(k, r, id, owner, revision)
		return
	}
	if r.has("owner_key") {
		if r.isNull("owner_key") {
			a.columns.failf(k+".owner_key", "a live record without an owner key")
		} else if p, err := splitOwnerKey(ownerKey); err != nil {
			a.envelopes.failf(k+".owner_key", "does not parse as a vault-wrapped key: %v", err)
		} else {
			a.parsed[FormatOwnerKey]++
			a.fixed[fmt.Sprintf("owner-key %d B", len(ownerKey))]++
			a.parts("owner-key", k+".owner_key", p, true)
			a.win.add(k+".owner_key", ownerKey)
		}
	}
	if !r.has("envelope") {
		return
	}
	if r.isNull("envelope") {
		a.columns.failf(k+".envelope", "a live record without an envelope")
		return
	}
	e, err := splitEnvelope(env)
	if err != nil {
		a.envelopes.failf(k+".envelope", "does not parse as an envelope: %v", err)
		return
	}
	a.parsed[FormatEnvelope]++
	a.parts("envelope", k+".envelope", envelopeParts(e), true)
	a.win.add(k+".envelope", env)

	if l := len(env) - crypto.EnvelopeOverhead; !isPaddedLength(l) {
		below, above := nearestPadded(l)
		a.sizes.failf(k+".envelope", "%d bytes: a padded plaintext of %d bytes is not a padding bucket (the nearest are %d and %d); its length tells more than Padmé allows",
			len(env), l, below, above)
	} else {
		a.hist[len(env)]++
		if _, err := crypto.ParseEnvelope(env); err != nil {
			a.envelopes.failf(k+".envelope", "the strict parser refuses it: %v", err)
		}
	}

	ac := a.ownerFor(k+".envelope", owner)
	if ac == nil {
		return
	}
	ok := true
	if e.Record != crypto.RecordID(id) {
		a.sigs.failf(k+".envelope", "the envelope is for record %s, not this row's", idText(e.Record[:], FormatRecordID))
		ok = false
	}
	if e.Author != crypto.AccountID(owner) {
		a.sigs.failf(k+".envelope", "the envelope's author is %s, not the row's owner", idText(e.Author[:], FormatAccountID))
		ok = false
	}
	if r.has("revision") && e.Revision != uint64(revision) {
		a.sigs.failf(k+".envelope", "the envelope is revision %d, the row says %d", e.Revision, revision)
		ok = false
	}
	if err := e.VerifySignature(ac.bundle.Signing); err != nil {
		a.sigs.failf(k+".envelope", "the signature does not verify against the owner's signing key")
		ok = false
	}
	if ok {
		a.sigCounts["envelopes"]++
	}
}

// ownerFor returns the owner account of what key k names, if its public bundle can verify
// signatures; otherwise it records why the signature cannot be checked and returns nil.
func (a *dbAudit) ownerFor(k string, owner [16]byte) *acct {
	ac := a.accounts[owner]
	switch {
	case ac == nil:
		a.sigs.failf(k, "cannot be verified: the owner account %s does not exist", idText(owner[:], FormatAccountID))
		return nil
	case ac.bundle == nil:
		a.sigs.failf(k, "cannot be verified: the owner's public bundle %s", ac.why)
		return nil
	}
	return ac
}

// tombstone checks a deleted record's row: no owner key, and in place of the envelope the
// author's signed deletion statement (105 bytes) for this record, owner and revision. A
// tombstone that still held ciphertext would keep a deleted entry on the server.
func (a *dbAudit) tombstone(k string, r *row, id, owner [16]byte, revision int64) {
	a.tombstones++
	if !r.isNull("owner_key") {
		a.columns.failf(k, "a deleted record (tombstone) still holds its owner key")
	}
	if !r.has("envelope") {
		return
	}
	env := r.blob("envelope")
	if r.isNull("envelope") {
		a.sigs.failf(k+".envelope", "a deleted record without its signed deletion statement")
		return
	}
	d, err := crypto.ParseDeletion(env)
	if err != nil {
		a.envelopes.failf(k+".envelope", "a tombstone should hold only a deletion statement (%d bytes), but this does not parse as one: %v",
			crypto.DeletionSize, err)
		return
	}
	a.parsed["deletion"]++
	ac := a.ownerFor(k+".envelope", owner)
	if ac == nil {
		return
	}
	switch {
	case d.Record != crypto.RecordID(id) || d.Author != crypto.AccountID(owner) || (r.has("revision") && d.Revision != uint64(revision)):
		a.sigs.failf(k+".envelope", "the deletion statement names another record, author or revision than its row")
	case d.Verify(ac.bundle.Signing) != nil:
		a.sigs.failf(k+".envelope", "the deletion statement's signature does not verify against the owner's signing key")
	default:
		a.sigCounts["deletions"]++
	}
}

func (a *dbAudit) grant(r *row) {
	k := a.key("grants", r)
	if !r.has("blob") || r.blob("blob") == nil {
		return
	}
	b := r.blob("blob")
	g, err := crypto.ParseGrant(b)
	if err != nil {
		a.envelopes.failf(k+".blob", "does not parse as a grant: %v", err)
		return
	}
	a.parsed[FormatGrant]++
	a.fixed[fmt.Sprintf("grant %d B", len(b))]++
	a.parts("grant-key", k+".blob", grantParts(g), true)
	a.win.add(k+".blob", b)

	var record, recipient [16]byte
	copy(record[:], r.blob("record"))
	copy(recipient[:], r.blob("recipient"))
	revision, _ := r.int("revision")
	expires, _ := r.int("expires")
	ok := true
	fail := func(format string, args ...any) {
		a.sigs.failf(k+".blob", format, args...)
		ok = false
	}
	if g.Record != crypto.RecordID(record) {
		fail("the grant is for record %s, the row says %s", idText(g.Record[:], FormatRecordID), idText(record[:], FormatRecordID))
	}
	if g.Recipient != crypto.AccountID(recipient) {
		fail("the grant is for recipient %s, the row says %s", idText(g.Recipient[:], FormatAccountID), idText(recipient[:], FormatAccountID))
	}
	if g.Revision != uint64(revision) {
		fail("the grant is for revision %d, the row says %d", g.Revision, revision)
	}
	var gExp int64
	if !g.Expires.IsZero() {
		gExp = g.Expires.Unix()
	}
	if gExp != expires {
		fail("the grant expires at %d, the row says %d", gExp, expires)
	}
	rc := a.records[record]
	switch {
	case rc == nil:
		fail("names record %s, which does not exist", idText(record[:], FormatRecordID))
	case rc.deleted:
		fail("a grant of a deleted record")
	default:
		if rc.revision != revision {
			fail("names revision %d, the record is at revision %d", revision, rc.revision)
		}
		if g.Grantor != crypto.AccountID(rc.owner) {
			fail("signed by %s, but the record belongs to %s", idText(g.Grantor[:], FormatAccountID), idText(rc.owner[:], FormatAccountID))
		}
		if rc.owner == recipient {
			fail("grants the owner's own record to the owner")
		}
	}
	if ra := a.accounts[recipient]; ra == nil {
		fail("names recipient %s, which does not exist", idText(recipient[:], FormatAccountID))
	} else if ra.bundle == nil {
		fail("cannot check the recipient key: the recipient's public bundle %s", ra.why)
	} else if ra.bundle.Share.Hash() != g.RecipientKeyHash {
		fail("names a share key that is not the recipient's published one (substituted or stale key)")
	}
	switch ga := a.accounts[[16]byte(g.Grantor)]; {
	case ga == nil:
		fail("cannot be verified: the grantor %s does not exist", idText(g.Grantor[:], FormatAccountID))
	case ga.bundle == nil:
		fail("cannot be verified: the grantor's public bundle %s", ga.why)
	default:
		if err := g.Verify(ga.bundle.Signing); err != nil {
			fail("the signature does not verify against the grantor's signing key")
		}
	}
	if ok {
		a.sigCounts["grants"]++
	}
}

// plausibility tests whether account and device IDs are random, as they must be: a random
// 16-byte ID read as a ULID has a uniformly random millisecond time, which falls between
// 2015 and a year from now with probability p ≈ 0.0014 (12 years of 8,919). IDs made from a
// clock all fall there. The test fails when the number that do is so high that chance would
// give it with probability below 10⁻⁶ (binomial tail); with few IDs it cannot fail.
func (a *dbAudit) plausibility() {
	to := a.now.AddDate(1, 0, 0)
	p := float64(to.Sub(plausibleFrom).Milliseconds()) / float64(uint64(1)<<48)
	out := map[string]any{}
	for _, f := range []string{FormatAccountID, FormatDeviceID} {
		ids := a.ids[f]
		n, k := len(ids), 0
		for _, id := range ids {
			ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, id[:6]...)))
			t := time.UnixMilli(ms)
			if !t.Before(plausibleFrom) && t.Before(to) {
				k++
			}
		}
		tail := binomialTail(n, k, p)
		out[f] = map[string]any{"ids": n, "with_plausible_ulid_time": k, "expected_by_chance": float64(n) * p, "p": tail}
		if k > 0 && tail < plausibleAlarm {
			a.timec.failf(f, "%d of %d IDs read as ULIDs with a time between %s and %s (chance alone gives about %.2f, p = %.1e): these IDs carry a creation time",
				k, n, plausibleFrom.Format("2006"), to.Format("2006"), float64(n)*p, tail)
		}
	}
	a.timec.Figures.Set("random_id_test", out)
}

// binomialTail returns P(X ≥ k) for X ~ Binomial(n, p).
func binomialTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	ln := func(i int) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(i + 1))
		c, _ := math.Lgamma(float64(n - i + 1))
		return a - b - c + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p)
	}
	var s float64
	for i := k; i <= n && i < k+2000; i++ {
		s += math.Exp(ln(i))
	}
	return math.Min(s, 1)
}

func (a *dbAudit) finish() {
	// columns
	a.columns.Figures.Set("values_checked", a.values)
	if a.columns.Status == StatusPass {
		a.columns.Summary = fmt.Sprintf("%d values checked against their class; fingerprints and envelope hashes recomputed", sumValues(a.values))
	}

	// envelopes
	a.envelopes.Figures.Set("parsed", a.parsed)
	a.envelopes.Figures.Set("tombstones", a.tombstones)
	threshold := perBlobThreshold(a.tested)
	for _, h := range a.high {
		if h.x > threshold {
			a.envelopes.failf(h.where, "χ² %.0f over %d bytes is above %v (p ≈ %.0e): these bytes are not uniformly random, so they are not (only) ciphertext",
				h.x, h.n, threshold, chiSquareP(h.x, ChiSquareDOF))
		}
	}
	a.envelopes.Figures.Set("chi2_threshold_per_blob", threshold)
	a.envelopes.Figures.Set("chi2_false_alarm_per_blob", chiSquareP(threshold, ChiSquareDOF))
	a.envelopes.Figures.Set("chi2_blobs_tested", a.tested)
	a.envelopes.Figures.Set("chi2_threshold_pooled", ChiSquareThreshold)
	a.envelopes.Figures.Set("chi2_min_bytes_per_blob", MinChiSquareBytes)
	per := map[string]stats{}
	for class, xs := range a.perBlob {
		per[class] = summarize(xs)
	}
	a.envelopes.Figures.Set("chi2_per_blob", per)
	pooled := map[string]any{}
	addPool := func(name string, h *byteCounts) {
		x := h.chi2()
		pooled[name] = map[string]any{"bytes": h.n, "chi2": round1(x), "p": chiSquareP(x, ChiSquareDOF)}
		if x > ChiSquareThreshold {
			a.envelopes.failf("pooled "+name, "χ² %.0f over %d bytes of %s ciphertext together is above %v (p ≈ %.0e): the bytes are biased",
				x, h.n, name, ChiSquareThreshold, chiSquareP(x, ChiSquareDOF))
		}
	}
	if a.pooledAll.n >= MinChiSquareBytes {
		addPool("all", &a.pooledAll)
	}
	for _, class := range sortedKeys(a.pools) {
		if h := a.pools[class]; h.n >= MinChiSquareBytes {
			addPool(class, h)
		} else {
			pooled[class] = map[string]any{"bytes": h.n, "note": fmt.Sprintf("under %d bytes: tested only within the overall pool", MinChiSquareBytes)}
		}
	}
	a.envelopes.Figures.Set("chi2_pooled", pooled)
	if a.envelopes.Status == StatusPass {
		e := per["envelope"]
		a.envelopes.Summary = fmt.Sprintf("%d blobs parsed; per-envelope χ² min %.1f, median %.1f, max %.1f (threshold %v); pooled χ² %.1f over %s",
			sumValues(a.parsed), e.Min, e.Median, e.Max, threshold, a.pooledAll.chi2(), humanBytes(a.pooledAll.n))
	}

	// sizes
	type bucket struct {
		Length          int `json:"length"`
		PaddedPlaintext int `json:"padded_plaintext"`
		Count           int `json:"count"`
	}
	var hist []bucket
	n := 0
	for _, l := range sortedKeys(a.hist) {
		hist = append(hist, bucket{l, l - crypto.EnvelopeOverhead, a.hist[l]})
		n += a.hist[l]
	}
	a.sizes.Figures.Set("envelopes_on_buckets", n)
	a.sizes.Figures.Set("distinct_lengths", len(hist))
	a.sizes.Figures.Set("histogram", hist)
	a.sizes.Figures.Set("fixed_size_blobs", a.fixed)
	if a.sizes.Status == StatusPass {
		a.sizes.Summary = fmt.Sprintf("%d envelopes on %d distinct padding buckets", n, len(hist))
	}

	// uniqueness
	a.uniq.Figures.Set("checked", a.uniqCounts)
	a.uniq.Figures.Set("duplicates", a.uniq.FindingCount)
	if a.uniq.Status == StatusPass {
		a.uniq.Summary = fmt.Sprintf("%d nonces, %d ciphertexts, %d HPKE encapsulations and %d salts: no repeats",
			a.uniqCounts["nonce"], a.uniqCounts["ciphertext"], a.uniqCounts["encapsulation"], a.uniqCounts["salt"])
	}

	// signatures
	a.sigs.Figures.Set("verified", a.sigCounts)
	if a.sigs.Status == StatusPass {
		a.sigs.Summary = fmt.Sprintf("%d bundles, %d envelopes and %d grants verified; headers agree with their rows",
			a.sigCounts["bundles"], a.sigCounts["envelopes"], a.sigCounts["grants"])
	}

	// time
	a.timec.Figures.Set("coarse_values_checked", map[string]int{"minute": a.timeCounts["minute"], "hour": a.timeCounts["hour"], "day": a.timeCounts["day"]})
	a.timec.Figures.Set("record_ids_checked", a.timeCounts["record-id"])
	if !a.dayMin.IsZero() {
		a.timec.Figures.Set("record_id_days", a.dayMin.Format("2006-01-02")+" … "+a.dayMax.Format("2006-01-02"))
	}
	if a.timec.Status == StatusPass {
		a.timec.Summary = fmt.Sprintf("%d coarse times on their unit; %d record IDs at UTC midnight; account and device IDs carry no time",
			a.timeCounts["minute"]+a.timeCounts["hour"]+a.timeCounts["day"], a.timeCounts["record-id"])
	}
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
