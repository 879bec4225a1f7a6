package crypto

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the generator")

const vectorsPath = "testdata/vectors.json"

// genVector is one test vector as stored in testdata/vectors.json. Byte
// strings are hex; integers are decimal; texts (codes, labels) are as is.
type genVector struct {
	Name    string            `json:"name"`
	Op      string            `json:"op"`
	Seed    uint64            `json:"seed,omitempty"`
	Inputs  map[string]string `json:"inputs"`
	Outputs map[string]string `json:"outputs,omitempty"`
	Result  string            `json:"result"`
}

type genFile struct {
	Description []string    `json:"description"`
	Vectors     []genVector `json:"vectors"`
}

// TestVectorsUpToDate regenerates every vector deterministically and fails
// if testdata/vectors.json differs. Run with -update to rewrite the file.
// Note: cryptotest documents that the way algorithms consume randomness may
// change between Go releases. If a Go upgrade makes this test fail while
// TestVectors (the walker) still passes, the file is still a valid set of
// vectors; regenerate it with -update and review the diff.
func TestVectorsUpToDate(t *testing.T) {
	f := generateVectors(t)
	got, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(vectorsPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d vectors to %s", len(f.Vectors), vectorsPath)
		return
	}
	want, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("%v (run go test ./crypto -run TestVectorsUpToDate -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	var old genFile
	if err := json.Unmarshal(want, &old); err != nil {
		t.Fatalf("%s does not parse: %v", vectorsPath, err)
	}
	if len(old.Vectors) != len(f.Vectors) {
		t.Fatalf("%s has %d vectors, the generator makes %d (run with -update)", vectorsPath, len(old.Vectors), len(f.Vectors))
	}
	for i := range f.Vectors {
		a, _ := json.Marshal(old.Vectors[i])
		b, _ := json.Marshal(f.Vectors[i])
		if !bytes.Equal(a, b) {
			t.Errorf("vector %d %q differs from the generator:\n file: %s\n  gen: %s", i, f.Vectors[i].Name, a, b)
		}
	}
	t.Fatalf("%s is out of date (run go test ./crypto -run TestVectorsUpToDate -update)", vectorsPath)
}

type vgen struct {
	t    *testing.T
	seed uint64
	vs   []genVector
}

func (g *vgen) reseed(seed uint64) {
	g.seed = seed
	cryptotest.SetGlobalRandom(g.t, seed)
}

func (g *vgen) add(name, op string, in, out map[string]string, result string) {
	if result != "ok" {
		out = nil
	}
	g.vs = append(g.vs, genVector{Name: name, Op: op, Seed: g.seed, Inputs: in, Outputs: out, Result: result})
}

func hx(b []byte) string     { return hex.EncodeToString(b) }
func dec(n uint64) string    { return strconv.FormatUint(n, 10) }
func cat(b ...[]byte) []byte { return bytes.Join(b, nil) }

// flipBit returns a copy of b with the low bit of byte i flipped.
func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// must panics on err: the generator's inputs are all valid, so an error is
// a bug, and the panic fails the test with a stack trace.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func shareBytes(t *testing.T, k ShareKey) []byte {
	t.Helper()
	b, err := k.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedEnvelope encodes e, signing it with id: for vectors where the author
// itself is malicious or buggy.
func signedEnvelope(id *Identity, e *Envelope) []byte {
	b := e.Marshal()
	e.Signature = id.Signing.sign(ctxEnvelope, b[:len(b)-signatureSize])
	return e.Marshal()
}

func generateVectors(t *testing.T) *genFile {
	g := &vgen{t: t}
	mp := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	// Section 1: identities. Alice writes and shares; Bob receives.
	g.reseed(1)
	alice := must(NewIdentity())
	bob := must(NewIdentity())
	carol := must(NewIdentity())
	var record, otherRecord RecordID
	randomBytes(record[:])
	randomBytes(otherRecord[:])
	const revision = 7

	// Padding lengths (no randomness).
	for _, n := range []int{0, 1, 100, 1000, 1023, 1024, 1025, 3000, 10000, 65535, 65536, MaxPlaintext} {
		g.add("padded length of "+strconv.Itoa(n), "padded_length", mp("n", strconv.Itoa(n)),
			mp("padded_length", strconv.Itoa(PaddedLength(n)), "envelope_length", strconv.Itoa(EnvelopeOverhead+PaddedLength(n))), "ok")
	}
	for _, c := range []struct {
		n      int
		result string
	}{{0, "ok"}, {1023, "ok"}, {MaxPlaintext, "ok"}, {MaxPlaintext + 1, "ErrTooLarge"}} {
		g.add("seal entry of "+strconv.Itoa(c.n)+" bytes", "seal_entry_length", mp("n", strconv.Itoa(c.n)),
			mp("envelope_length", strconv.Itoa(EnvelopeOverhead+PaddedLength(c.n))), c.result)
	}

	// Section 2: entry envelopes.
	g.reseed(2)
	plaintext := []byte("Thought record, 2026-03-14.\nSituation: presentation at work. Mood: anxious 70%.\nBalanced thought: I have prepared; one stumble is not a catastrophe.")
	env, ek := must2(SealEntry(alice, record, revision, plaintext))
	e := must(ParseEnvelope(env))
	aliceSign := alice.Signing.Public()
	openIn := func(envelope []byte, key EntryKey, author SigningPublicKey) map[string]string {
		return mp("envelope", hx(envelope), "entry_key", hx(key.k[:]), "author_signing_public_key", hx(author[:]))
	}
	g.add("open entry", "open_entry", openIn(env, ek, aliceSign), mp(
		"record", hx(record[:]), "author", hx(alice.Account[:]), "revision", dec(revision),
		"plaintext", hx(plaintext), "key_commitment", hx(e.KeyCommitment[:]), "nonce", hx(e.Nonce[:]),
		"signature", hx(e.Signature[:])), "ok")
	regions := []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"record ID", 1 + 8, "ErrBadSignature"},
		{"author ID", 17 + 8, "ErrBadSignature"},
		{"revision", 33 + 7, "ErrBadSignature"},
		{"key commitment", 41 + 16, "ErrBadSignature"},
		{"nonce", 73 + 12, "ErrBadSignature"},
		{"ciphertext", 97 + 500, "ErrBadSignature"},
		{"tag", len(env) - 64 - 8, "ErrBadSignature"},
		{"signature", len(env) - 32, "ErrBadSignature"},
	}
	for _, r := range regions {
		g.add("open entry, bit flipped in "+r.name, "open_entry", openIn(flipBit(env, r.at), ek, aliceSign), nil, r.result)
	}
	g.add("open entry, empty", "open_entry", openIn(nil, ek, aliceSign), nil, "ErrTruncated")
	g.add("open entry, truncated to 100 bytes", "open_entry", openIn(env[:100], ek, aliceSign), nil, "ErrTruncated")
	g.add("open entry, last byte missing", "open_entry", openIn(env[:len(env)-1], ek, aliceSign), nil, "ErrTruncated")
	g.add("open entry, one trailing byte", "open_entry", openIn(cat(env, []byte{0}), ek, aliceSign), nil, "ErrTrailingData")
	g.add("open entry, wrong author key", "open_entry", openIn(env, ek, bob.Signing.Public()), nil, "ErrBadSignature")
	otherKey := NewEntryKey()
	g.add("open entry, key of another entry", "open_entry", openIn(env, otherKey, aliceSign), nil, "ErrKeyCommitment")
	{
		m := *e
		m.Ciphertext = flipBit(e.Ciphertext, 10)
		g.add("open entry, ciphertext altered and re-signed by the author", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrDecrypt")
		m = *e
		m.Record = otherRecord
		g.add("open entry, moved to another record and re-signed by the author", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrDecrypt")
		m = *e
		m.Revision = revision + 1
		g.add("open entry, moved to another revision and re-signed by the author", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrDecrypt")
		m = *e
		m.Author = bob.Account
		g.add("open entry, author ID changed and re-signed", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrDecrypt")
		m = *e
		m.Record = otherRecord
		g.add("open entry, moved to another record, not re-signed", "open_entry", openIn(m.Marshal(), ek, aliceSign), nil, "ErrBadSignature")
		// Bad padding: an author that encrypts 1024 zero bytes (no 0x80 marker).
		m = *e
		h := m.header()
		m.Ciphertext = newXAEAD(&ek.k).Seal(nil, m.Nonce[:], make([]byte, padFloor), h[:])
		g.add("open entry, padding without end marker (signed by the author)", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrMalformed")
		m = *e
		m.Version = 2
		g.add("open entry, version 2", "open_entry", openIn(signedEnvelope(alice, &m), ek, aliceSign), nil, "ErrUnknownVersion")
	}
	// A 0-byte entry and a 64 KiB one, for length coverage.
	env0, ek0 := must2(SealEntry(alice, record, 0, nil))
	g.add("open entry, empty plaintext, revision 0", "open_entry", openIn(env0, ek0, aliceSign), mp(
		"record", hx(record[:]), "author", hx(alice.Account[:]), "revision", "0", "plaintext", "",
		"key_commitment", hx(must(ParseEnvelope(env0)).KeyCommitment[:]), "nonce", hx(must(ParseEnvelope(env0)).Nonce[:]),
		"signature", hx(must(ParseEnvelope(env0)).Signature[:])), "ok")

	// Section 3: vault wrap.
	g.reseed(3)
	vw := must(WrapForVault(alice.Vault, record, revision, ek))
	vin := func(vk VaultKey, rec RecordID, rev uint64, w []byte) map[string]string {
		return mp("vault_key", hx(vk.k[:]), "record", hx(rec[:]), "revision", dec(rev), "wrapped", hx(w))
	}
	g.add("unwrap with vault", "unwrap_vault", vin(alice.Vault, record, revision, vw), mp("entry_key", hx(ek.k[:])), "ok")
	g.add("unwrap with vault, bit flipped in version", "unwrap_vault", vin(alice.Vault, record, revision, flipBit(vw, 0)), nil, "ErrUnknownVersion")
	g.add("unwrap with vault, bit flipped in nonce", "unwrap_vault", vin(alice.Vault, record, revision, flipBit(vw, 5)), nil, "ErrDecrypt")
	g.add("unwrap with vault, bit flipped in ciphertext", "unwrap_vault", vin(alice.Vault, record, revision, flipBit(vw, 40)), nil, "ErrDecrypt")
	g.add("unwrap with vault, bit flipped in tag", "unwrap_vault", vin(alice.Vault, record, revision, flipBit(vw, 70)), nil, "ErrDecrypt")
	g.add("unwrap with vault, another record", "unwrap_vault", vin(alice.Vault, otherRecord, revision, vw), nil, "ErrDecrypt")
	g.add("unwrap with vault, another revision", "unwrap_vault", vin(alice.Vault, record, revision+1, vw), nil, "ErrDecrypt")
	g.add("unwrap with vault, wrong vault key", "unwrap_vault", vin(bob.Vault, record, revision, vw), nil, "ErrDecrypt")
	g.add("unwrap with vault, truncated", "unwrap_vault", vin(alice.Vault, record, revision, vw[:len(vw)-1]), nil, "ErrTruncated")
	g.add("unwrap with vault, trailing byte", "unwrap_vault", vin(alice.Vault, record, revision, cat(vw, []byte{0})), nil, "ErrTrailingData")
	g.add("unwrap with vault, empty", "unwrap_vault", vin(alice.Vault, record, revision, nil), nil, "ErrTruncated")

	// Section 4: recipient wrap (HPKE).
	g.reseed(4)
	rw := must(WrapForRecipient(bob.Share.Public(), record, revision, bob.Account, PurposeShare, ek))
	rin := func(k ShareKey, rec RecordID, rev uint64, to AccountID, p Purpose, w []byte) map[string]string {
		return mp("share_private_key", hx(shareBytes(t, k)), "record", hx(rec[:]), "revision", dec(rev),
			"recipient", hx(to[:]), "purpose", dec(uint64(p)), "wrapped", hx(w))
	}
	g.add("unwrap for recipient", "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, PurposeShare, rw), mp("entry_key", hx(ek.k[:]), "wrapped_length", strconv.Itoa(len(rw))), "ok")
	for _, r := range []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"KEM ID", 2, "ErrUnknownVersion"},
		{"KDF ID", 4, "ErrUnknownVersion"},
		{"AEAD ID", 6, "ErrUnknownVersion"},
		{"enc (ML-KEM part)", 7 + 500, "ErrDecrypt"},
		{"enc (X25519 part)", 7 + 1100, "ErrDecrypt"},
		{"ciphertext", 7 + 1120 + 10, "ErrDecrypt"},
		{"tag", len(rw) - 3, "ErrDecrypt"},
	} {
		g.add("unwrap for recipient, bit flipped in "+r.name, "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, PurposeShare, flipBit(rw, r.at)), nil, r.result)
	}
	g.add("unwrap for recipient, another recipient account", "unwrap_recipient", rin(bob.Share, record, revision, carol.Account, PurposeShare, rw), nil, "ErrDecrypt")
	g.add("unwrap for recipient, another record", "unwrap_recipient", rin(bob.Share, otherRecord, revision, bob.Account, PurposeShare, rw), nil, "ErrDecrypt")
	g.add("unwrap for recipient, another revision", "unwrap_recipient", rin(bob.Share, record, revision+1, bob.Account, PurposeShare, rw), nil, "ErrDecrypt")
	g.add("unwrap for recipient, unknown purpose", "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, 2, rw), nil, "ErrMalformed")
	g.add("unwrap for recipient, wrong share key", "unwrap_recipient", rin(carol.Share, record, revision, bob.Account, PurposeShare, rw), nil, "ErrDecrypt")
	g.add("unwrap for recipient, truncated", "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, PurposeShare, rw[:len(rw)-1]), nil, "ErrTruncated")
	g.add("unwrap for recipient, trailing byte", "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, PurposeShare, cat(rw, []byte{0})), nil, "ErrTrailingData")
	g.add("unwrap for recipient, empty", "unwrap_recipient", rin(bob.Share, record, revision, bob.Account, PurposeShare, nil), nil, "ErrTruncated")

	// Section 5: grants.
	g.reseed(5)
	expires := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	terms := GrantTerms{Record: record, Revision: revision, Recipient: bob.Account, RecipientKey: bob.Share.Public(), Expires: expires}
	gr := must(SignGrant(alice, terms, ek))
	gin := func(grant []byte, grantor SigningPublicKey, k ShareKey, me AccountID) map[string]string {
		return mp("grant", hx(grant), "grantor_signing_public_key", hx(grantor[:]), "share_private_key", hx(shareBytes(t, k)), "me", hx(me[:]))
	}
	bobKeyHash := bob.Share.Public().Hash()
	g.add("open grant", "open_grant", gin(gr, aliceSign, bob.Share, bob.Account), mp(
		"record", hx(record[:]), "revision", dec(revision), "grantor", hx(alice.Account[:]), "recipient", hx(bob.Account[:]),
		"recipient_key_hash", hx(bobKeyHash[:]), "expires", dec(uint64(expires.Unix())), "entry_key", hx(ek.k[:]),
		"grant_length", strconv.Itoa(len(gr))), "ok")
	grNever := must(SignGrant(alice, GrantTerms{Record: record, Revision: revision, Recipient: bob.Account, RecipientKey: bob.Share.Public()}, ek))
	g.add("open grant that never expires", "open_grant", gin(grNever, aliceSign, bob.Share, bob.Account), mp(
		"record", hx(record[:]), "revision", dec(revision), "grantor", hx(alice.Account[:]), "recipient", hx(bob.Account[:]),
		"recipient_key_hash", hx(bobKeyHash[:]), "expires", "0", "entry_key", hx(ek.k[:]),
		"grant_length", strconv.Itoa(len(grNever))), "ok")
	for _, r := range []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"record", 1 + 8, "ErrBadSignature"},
		{"revision", 17 + 7, "ErrBadSignature"},
		{"grantor", 25 + 8, "ErrBadSignature"},
		{"recipient", 41 + 8, "ErrBadSignature"},
		{"recipient key hash", 57 + 16, "ErrBadSignature"},
		{"expiry", 89 + 7, "ErrBadSignature"},
		{"wrapped key length", 97 + 1, "ErrTrailingData"},
		{"wrapped key version", 99, "ErrUnknownVersion"},
		{"wrapped key suite", 99 + 2, "ErrUnknownVersion"},
		{"wrapped key enc", 99 + 7 + 600, "ErrBadSignature"},
		{"wrapped key ciphertext", 99 + 1175 - 20, "ErrBadSignature"},
		{"signature", len(gr) - 10, "ErrBadSignature"},
	} {
		g.add("open grant, bit flipped in "+r.name, "open_grant", gin(flipBit(gr, r.at), aliceSign, bob.Share, bob.Account), nil, r.result)
	}
	g.add("open grant, empty", "open_grant", gin(nil, aliceSign, bob.Share, bob.Account), nil, "ErrTruncated")
	g.add("open grant, truncated", "open_grant", gin(gr[:len(gr)-1], aliceSign, bob.Share, bob.Account), nil, "ErrTruncated")
	g.add("open grant, trailing byte", "open_grant", gin(cat(gr, []byte{0}), aliceSign, bob.Share, bob.Account), nil, "ErrTrailingData")
	g.add("open grant, wrong grantor key", "open_grant", gin(gr, bob.Signing.Public(), bob.Share, bob.Account), nil, "ErrBadSignature")
	g.add("open grant, opened by another account", "open_grant", gin(gr, aliceSign, carol.Share, carol.Account), nil, "ErrWrongRecipient")
	g.add("open grant, recipient's share key rotated", "open_grant", gin(gr, aliceSign, carol.Share, bob.Account), nil, "ErrWrongRecipient")
	{
		// A grantor that signs a grant whose wrapped key was made for another record.
		w := must(WrapForRecipient(bob.Share.Public(), otherRecord, revision, bob.Account, PurposeShare, ek))
		m := must(ParseGrant(gr))
		m.WrappedKey = w
		body := must(m.body())
		m.Signature = alice.Signing.sign(ctxGrant, body)
		g.add("open grant, wrapped key made for another record (signed by the grantor)", "open_grant", gin(must(m.Marshal()), aliceSign, bob.Share, bob.Account), nil, "ErrDecrypt")
		// A grant whose expiry does not fit in int64.
		m = must(ParseGrant(gr))
		body = must(m.body())
		binary.BigEndian.PutUint64(body[89:97], math.MaxUint64)
		sig := alice.Signing.sign(ctxGrant, body)
		g.add("open grant, expiry out of range (signed by the grantor)", "open_grant", gin(cat(body, sig[:]), aliceSign, bob.Share, bob.Account), nil, "ErrMalformed")
	}

	// Section 6: public bundles, fingerprints, safety codes.
	g.reseed(6)
	bundleOut := func(id *Identity) map[string]string {
		s := id.Signing.Public()
		fp := id.Fingerprint()
		return mp("account", hx(id.Account[:]), "signing_public_key", hx(s[:]), "share_public_key", hx(id.Share.Public().Bytes()),
			"fingerprint", hx(fp[:]), "safety_code", fp.SafetyCode())
	}
	ab := alice.PublicBundle()
	g.add("public bundle of Alice", "public_bundle", mp("bundle", hx(ab)), bundleOut(alice), "ok")
	g.add("public bundle of Bob", "public_bundle", mp("bundle", hx(bob.PublicBundle())), bundleOut(bob), "ok")
	for _, r := range []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"account", 1 + 8, "ErrBadSignature"},
		{"signing public key", 17 + 16, "ErrBadSignature"},
		{"KEM ID", 49 + 1, "ErrUnknownVersion"},
		{"share key length", 51 + 1, "ErrMalformed"},
		{"share public key (X25519 part)", 53 + 1200, "ErrBadSignature"},
		{"signature", len(ab) - 1, "ErrBadSignature"},
	} {
		g.add("public bundle, bit flipped in "+r.name, "public_bundle", mp("bundle", hx(flipBit(ab, r.at))), nil, r.result)
	}
	g.add("public bundle, empty", "public_bundle", mp("bundle", ""), nil, "ErrTruncated")
	g.add("public bundle, truncated", "public_bundle", mp("bundle", hx(ab[:len(ab)-1])), nil, "ErrTruncated")
	g.add("public bundle, trailing byte", "public_bundle", mp("bundle", hx(cat(ab, []byte{0}))), nil, "ErrTrailingData")
	{
		// Bob's signing key put in Alice's bundle: the self-signature fails.
		m := bytes.Clone(ab)
		s := bob.Signing.Public()
		copy(m[17:49], s[:])
		g.add("public bundle, signing key substituted", "public_bundle", mp("bundle", hx(m)), nil, "ErrBadSignature")
	}
	fa, fb := alice.Fingerprint(), bob.Fingerprint()
	g.add("pair safety code, Alice then Bob", "pair_safety_code", mp("a", hx(fa[:]), "b", hx(fb[:])), mp("safety_code", PairSafetyCode(fa, fb)), "ok")
	g.add("pair safety code, Bob then Alice", "pair_safety_code", mp("a", hx(fb[:]), "b", hx(fa[:])), mp("safety_code", PairSafetyCode(fa, fb)), "ok")
	var zero, ones Fingerprint
	for i := range ones {
		ones[i] = 0xff
	}
	g.add("pair safety code, all-zero and all-one fingerprints", "pair_safety_code", mp("a", hx(zero[:]), "b", hx(ones[:])), mp("safety_code", PairSafetyCode(zero, ones)), "ok")

	// Section 7: KDF params and derivation (at MinKDFParams, to stay fast).
	g.reseed(7)
	params := MinKDFParams()
	randomBytes(params.Salt[:])
	pb := params.Marshal()
	kdfOut := func(p KDFParams) map[string]string {
		return mp("memory_kib", dec(uint64(p.MemoryKiB)), "time", dec(uint64(p.Time)), "threads", dec(uint64(p.Threads)), "salt", hx(p.Salt[:]))
	}
	g.add("kdf params at the floor", "kdf_params", mp("params", hx(pb)), kdfOut(params), "ok")
	def := NewKDFParams()
	g.add("kdf params, defaults", "kdf_params", mp("params", hx(def.Marshal())), kdfOut(def), "ok")
	weak := KDFParams{MemoryKiB: 8, Time: 1, Threads: 1, Salt: params.Salt}
	g.add("kdf params, weak values still parse", "kdf_params", mp("params", hx(weak.Marshal())), kdfOut(weak), "ok")
	g.add("kdf params, empty", "kdf_params", mp("params", ""), nil, "ErrTruncated")
	g.add("kdf params, truncated", "kdf_params", mp("params", hx(pb[:25])), nil, "ErrTruncated")
	g.add("kdf params, trailing byte", "kdf_params", mp("params", hx(cat(pb, []byte{0}))), nil, "ErrTrailingData")
	g.add("kdf params, bit flipped in version", "kdf_params", mp("params", hx(flipBit(pb, 0))), nil, "ErrUnknownVersion")

	sk := NewSecretKey()
	passphrase := []byte("correct horse battery staple")
	secrets := must(DeriveFromPassphrase(passphrase, sk, alice.Account, params))
	dOut := func(s *AccountSecrets) map[string]string {
		return mp("keybag_key", hx(s.KeybagKey.k[:]), "login_public_key", hx(s.LoginPublic()), "profile_key", hx(s.profile.k[:]))
	}
	din := func(p KDFParams) map[string]string {
		return mp("passphrase", hx(passphrase), "secret_key", sk.Text(), "account", hx(alice.Account[:]), "params", hx(p.Marshal()))
	}
	g.add("derive from passphrase at the floor", "derive_passphrase", din(params), dOut(secrets), "ok")
	for _, c := range []struct {
		name   string
		p      KDFParams
		result string
	}{
		{"memory below the floor", KDFParams{MemoryKiB: params.MemoryKiB - 1, Time: params.Time, Threads: 1, Salt: params.Salt}, "ErrWeakKDFParams"},
		{"time below the floor", KDFParams{MemoryKiB: params.MemoryKiB, Time: 1, Threads: 1, Salt: params.Salt}, "ErrWeakKDFParams"},
		{"zero threads", KDFParams{MemoryKiB: params.MemoryKiB, Time: params.Time, Threads: 0, Salt: params.Salt}, "ErrWeakKDFParams"},
		{"memory above the ceiling", KDFParams{MemoryKiB: MaxKDFParams().MemoryKiB + 1, Time: params.Time, Threads: 1, Salt: params.Salt}, "ErrTooLarge"},
		{"time above the ceiling", KDFParams{MemoryKiB: params.MemoryKiB, Time: MaxKDFParams().Time + 1, Threads: 1, Salt: params.Salt}, "ErrTooLarge"},
	} {
		g.add("derive from passphrase, "+c.name, "derive_passphrase", din(c.p), nil, c.result)
	}
	rc := NewRecoveryCode()
	rsecrets := must(DeriveFromRecoveryCode(rc, alice.Account))
	g.add("derive from recovery code", "derive_recovery", mp("recovery_code", rc.Text(), "account", hx(alice.Account[:])), dOut(rsecrets), "ok")

	// Section 8: keybags.
	g.reseed(8)
	kb := must(SealKeybag(secrets.KeybagKey, KeybagPassphrase, pb, alice))
	rkb := must(SealKeybag(rsecrets.KeybagKey, KeybagRecovery, nil, alice))
	kin := func(k KeybagKey, kind KeybagKind, acct AccountID, p, bag []byte) map[string]string {
		return mp("keybag_key", hx(k.k[:]), "kind", dec(uint64(kind)), "account", hx(acct[:]), "params", hx(p), "keybag", hx(bag))
	}
	aliceShare := alice.Share.Public().Bytes()
	kOut := mp("vault_key", hx(alice.Vault.k[:]), "signing_public_key", hx(aliceSign[:]), "share_public_key", hx(aliceShare), "keybag_length", strconv.Itoa(len(kb)))
	g.add("open passphrase keybag", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, pb, kb), kOut, "ok")
	g.add("open recovery keybag", "open_keybag", kin(rsecrets.KeybagKey, KeybagRecovery, alice.Account, nil, rkb), kOut, "ok")
	for _, r := range []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"kind", 1, "ErrMalformed"},
		{"nonce", 2 + 12, "ErrDecrypt"},
		{"ciphertext", 26 + 50, "ErrDecrypt"},
		{"tag", len(kb) - 1, "ErrDecrypt"},
	} {
		g.add("open keybag, bit flipped in "+r.name, "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, pb, flipBit(kb, r.at)), nil, r.result)
	}
	g.add("open keybag, empty", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, pb, nil), nil, "ErrTruncated")
	g.add("open keybag, truncated to 30 bytes", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, pb, kb[:30]), nil, "ErrTruncated")
	g.add("open keybag, trailing byte", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, pb, cat(kb, []byte{0})), nil, "ErrDecrypt")
	swapped := params
	swapped.Salt[0] ^= 1
	g.add("open keybag, server swapped the salt", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, swapped.Marshal(), kb), nil, "ErrDecrypt")
	stronger := params
	stronger.Time++
	g.add("open keybag, server changed the params", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, stronger.Marshal(), kb), nil, "ErrDecrypt")
	g.add("open keybag, another account", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, bob.Account, pb, kb), nil, "ErrDecrypt")
	g.add("open keybag, recovery key on the passphrase keybag", "open_keybag", kin(rsecrets.KeybagKey, KeybagPassphrase, alice.Account, pb, kb), nil, "ErrDecrypt")
	g.add("open keybag, passphrase keybag opened as recovery", "open_keybag", kin(secrets.KeybagKey, KeybagRecovery, alice.Account, nil, kb), nil, "ErrMalformed")
	g.add("open keybag, passphrase kind without params", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, alice.Account, nil, kb), nil, "ErrTruncated")
	{
		// A keybag whose additional data names Bob but whose contents are Alice's.
		m := *alice
		m.Account = bob.Account
		inner := must(SealKeybag(secrets.KeybagKey, KeybagPassphrase, pb, &m))
		// Re-seal with Alice's account inside but Bob's in the AAD.
		pt, err := newXAEAD(&secrets.KeybagKey.k).Open(nil, inner[2:26], inner[26:], keybagAAD(KeybagPassphrase, bob.Account, pb))
		if err != nil {
			t.Fatal(err)
		}
		copy(pt[1:17], alice.Account[:])
		bad := sealX([]byte{formatVersion, byte(KeybagPassphrase)}, &secrets.KeybagKey.k, keybagAAD(KeybagPassphrase, bob.Account, pb), pt)
		g.add("open keybag, contents for another account", "open_keybag", kin(secrets.KeybagKey, KeybagPassphrase, bob.Account, pb, bad), nil, "ErrWrongRecipient")
	}

	// Section 9: local boxes.
	g.reseed(9)
	pk := secrets.ProfileKey()
	local := must(SealLocal(pk, "device-key", []byte("local secret")))
	lin := func(label string, sealed []byte) map[string]string {
		return mp("profile_key", hx(pk.k[:]), "label", label, "sealed", hx(sealed))
	}
	g.add("open local", "open_local", lin("device-key", local), mp("plaintext", hx([]byte("local secret"))), "ok")
	g.add("open local, wrong label", "open_local", lin("session-token", local), nil, "ErrDecrypt")
	g.add("open local, bit flipped in version", "open_local", lin("device-key", flipBit(local, 0)), nil, "ErrUnknownVersion")
	g.add("open local, bit flipped in nonce", "open_local", lin("device-key", flipBit(local, 3)), nil, "ErrDecrypt")
	g.add("open local, bit flipped in ciphertext", "open_local", lin("device-key", flipBit(local, 26)), nil, "ErrDecrypt")
	g.add("open local, trailing byte", "open_local", lin("device-key", cat(local, []byte{0})), nil, "ErrDecrypt")
	g.add("open local, truncated", "open_local", lin("device-key", local[:20]), nil, "ErrTruncated")

	// Section 10: Secret Key and recovery code texts.
	g.reseed(10)
	skOut := func(k SecretKey) map[string]string { return mp("bytes", hx(k.b[:]), "text", k.Text()) }
	g.add("parse secret key", "parse_secret_key", mp("text", sk.Text()), skOut(sk), "ok")
	loose := strings.ToLower(strings.ReplaceAll(sk.Text(), "-", " "))
	g.add("parse secret key, lower case with spaces", "parse_secret_key", mp("text", loose), skOut(sk), "ok")
	g.add("parse secret key, without prefix", "parse_secret_key", mp("text", strings.TrimPrefix(sk.Text(), "IS1-")), skOut(sk), "ok")
	// 40 zero bits, then 80 bits of the pattern 00001 (symbol "1"), then 8 zero bits.
	confusable := must(SecretKeyFromBytes([]byte{0, 0, 0, 0, 0, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0}))
	typo := []byte(confusable.Text()[4:])
	nOnes := 0
	for i, c := range typo {
		switch c {
		case '0':
			typo[i] = "oO"[i%2]
		case '1':
			typo[i] = "lIiL"[nOnes%4]
			nOnes++
		}
	}
	g.add("parse secret key, O for 0 and I or L for 1", "parse_secret_key", mp("text", "is1-"+string(typo)), skOut(confusable), "ok")
	g.add("parse secret key, wrong check character", "parse_secret_key", mp("text", swapLast(sk.Text())), nil, "ErrMalformed")
	g.add("parse secret key, character missing", "parse_secret_key", mp("text", sk.Text()[:len(sk.Text())-2]+sk.Text()[len(sk.Text())-1:]), nil, "ErrMalformed")
	g.add("parse secret key, adjacent characters swapped", "parse_secret_key", mp("text", swapAdjacent(sk.Text(), 5)), nil, "ErrMalformed")
	g.add("parse secret key, U is not a symbol", "parse_secret_key", mp("text", "IS1-U"+sk.Text()[5:]), nil, "ErrMalformed")
	{
		syms := crockfordEncode(sk.b[:])
		syms[len(syms)-1] |= 1 // a padding bit
		syms = append(syms, luhn32(syms))
		g.add("parse secret key, non-zero padding bits", "parse_secret_key", mp("text", "IS1-"+crockfordText(syms)), nil, "ErrMalformed")
	}
	rcOut := func(c RecoveryCode) map[string]string { return mp("bytes", hx(c.b[:]), "text", c.Text()) }
	g.add("parse recovery code", "parse_recovery_code", mp("text", rc.Text()), rcOut(rc), "ok")
	g.add("parse recovery code, lower case without dashes", "parse_recovery_code", mp("text", strings.ToLower(strings.ReplaceAll(rc.Text(), "-", ""))), rcOut(rc), "ok")
	g.add("parse recovery code, wrong check character", "parse_recovery_code", mp("text", swapLast(rc.Text())), nil, "ErrMalformed")
	g.add("parse recovery code, character missing", "parse_recovery_code", mp("text", rc.Text()[1:]), nil, "ErrMalformed")
	g.add("parse recovery code, adjacent characters swapped", "parse_recovery_code", mp("text", swapAdjacent(rc.Text(), 5)), nil, "ErrMalformed")
	g.add("parse recovery code, punctuation", "parse_recovery_code", mp("text", rc.Text()+"!"), nil, "ErrMalformed")

	// Section 11: deletion statements (Ed25519 signing is deterministic; no randomness used).
	g.reseed(11)
	del := must(SignDeletion(alice, record, revision+1))
	delIn := func(b []byte, author SigningPublicKey) map[string]string {
		return mp("deletion", hx(b), "author_signing_public_key", hx(author[:]))
	}
	g.add("verify deletion", "verify_deletion", delIn(del, aliceSign), mp(
		"record", hx(record[:]), "author", hx(alice.Account[:]), "revision", dec(revision+1)), "ok")
	for _, r := range []struct {
		name   string
		at     int
		result string
	}{
		{"version", 0, "ErrUnknownVersion"},
		{"record", 1 + 3, "ErrBadSignature"},
		{"author", 17 + 5, "ErrBadSignature"},
		{"revision", 33 + 7, "ErrBadSignature"},
		{"signature", 41 + 10, "ErrBadSignature"},
	} {
		g.add("verify deletion, bit flipped in "+r.name, "verify_deletion", delIn(flipBit(del, r.at), aliceSign), nil, r.result)
	}
	g.add("verify deletion, truncated", "verify_deletion", delIn(del[:len(del)-1], aliceSign), nil, "ErrTruncated")
	g.add("verify deletion, trailing byte", "verify_deletion", delIn(cat(del, []byte{0}), aliceSign), nil, "ErrTrailingData")
	g.add("verify deletion, wrong author key", "verify_deletion", delIn(del, bob.Signing.Public()), nil, "ErrBadSignature")

	// Section 12: device labels.
	g.reseed(12)
	label := must(SealDeviceLabel(sk, alice.Account, "Sam's phone"))
	dlIn := func(b []byte, account AccountID) map[string]string {
		return mp("secret_key", hx(sk.b[:]), "account", hx(account[:]), "sealed", hx(b))
	}
	g.add("open device label", "open_device_label", dlIn(label, alice.Account), mp("name", "Sam's phone"), "ok")
	g.add("open device label, another account", "open_device_label", dlIn(label, bob.Account), nil, "ErrDecrypt")
	g.add("open device label, bit flipped in version", "open_device_label", dlIn(flipBit(label, 0), alice.Account), nil, "ErrUnknownVersion")
	g.add("open device label, bit flipped in nonce", "open_device_label", dlIn(flipBit(label, 1+5), alice.Account), nil, "ErrDecrypt")
	g.add("open device label, bit flipped in ciphertext", "open_device_label", dlIn(flipBit(label, 25+3), alice.Account), nil, "ErrDecrypt")
	g.add("open device label, bit flipped in tag", "open_device_label", dlIn(flipBit(label, DeviceLabelSize-2), alice.Account), nil, "ErrDecrypt")
	g.add("open device label, truncated", "open_device_label", dlIn(label[:DeviceLabelSize-1], alice.Account), nil, "ErrTruncated")
	g.add("open device label, trailing byte", "open_device_label", dlIn(cat(label, []byte{0}), alice.Account), nil, "ErrTrailingData")

	return &genFile{
		Description: []string{
			"Interlude crypto v1 test vectors; see docs/crypto.md.",
			"Byte strings are lower-case hex, integers decimal, codes and labels plain text.",
			"result is \"ok\" or the name of the error the operation must return (a sentinel of package interlude/crypto).",
			"Operations: padded_length, seal_entry_length, open_entry, unwrap_vault, unwrap_recipient, open_grant, public_bundle,",
			"pair_safety_code, kdf_params, derive_passphrase, derive_recovery, open_keybag, open_local, parse_secret_key, parse_recovery_code, verify_deletion,",
			"open_device_label.",
			"open_entry = ParseEnvelope, verify signature, check key commitment, decrypt, unpad; open_grant = ParseGrant, Verify, Open; verify_deletion = ParseDeletion, Verify.",
			"seed is the testing/cryptotest.SetGlobalRandom seed the section was generated with, by TestVectorsUpToDate.",
		},
		Vectors: g.vs,
	}
}

func must2(b []byte, k EntryKey, err error) ([]byte, EntryKey) {
	if err != nil {
		panic(err)
	}
	return b, k
}

// swapLast replaces the last character of a code with a different symbol.
func swapLast(s string) string {
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}

// swapAdjacent swaps characters i and i+1 of s, which must differ and not
// be the undetectable pair 0/Z.
func swapAdjacent(s string, i int) string {
	for ; i+1 < len(s); i++ {
		a, b := s[i], s[i+1]
		if a != b && a != '-' && b != '-' && !(a == '0' && b == 'Z') && !(a == 'Z' && b == '0') {
			break
		}
	}
	c := []byte(s)
	c[i], c[i+1] = c[i+1], c[i]
	return string(c)
}
