package crypto_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"interlude/crypto"
)

func newIdentity(t testing.TB) *crypto.Identity {
	t.Helper()
	id, err := crypto.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	alice := newIdentity(t)
	record := crypto.RecordID{1, 2, 3}
	for _, n := range []int{0, 1, 100, 1023, 1024, 1025, 5000, 65535, 65536, crypto.MaxPlaintext} {
		plaintext := bytes.Repeat([]byte{0x80, 0x00, 'x'}, n/3+1)[:n] // marker-like bytes must survive unpadding
		env, ek, err := crypto.SealEntry(alice, record, uint64(n), plaintext)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if want := crypto.EnvelopeOverhead + crypto.PaddedLength(n); len(env) != want {
			t.Errorf("n=%d: envelope is %d bytes, want %d", n, len(env), want)
		}
		got, err := crypto.OpenEntry(env, ek, alice.Signing.Public())
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got.Plaintext, plaintext) || got.Record != record || got.Author != alice.Account || got.Revision != uint64(n) {
			t.Errorf("n=%d: opened entry differs", n)
		}
	}
}

func TestSealEntryLimits(t *testing.T) {
	alice := newIdentity(t)
	_, _, err := crypto.SealEntry(alice, crypto.RecordID{}, 0, make([]byte, crypto.MaxPlaintext+1))
	wantErr(t, err, crypto.ErrTooLarge)
	_, _, err = crypto.SealEntry(&crypto.Identity{}, crypto.RecordID{}, 0, nil)
	wantErr(t, err, crypto.ErrZeroKey)
	_, _, err = crypto.SealEntry(nil, crypto.RecordID{}, 0, nil)
	wantErr(t, err, crypto.ErrZeroKey)
}

func TestEnvelopeConstants(t *testing.T) {
	if crypto.EnvelopeOverhead != 177 {
		t.Errorf("EnvelopeOverhead = %d, want 177", crypto.EnvelopeOverhead)
	}
	if want := crypto.EnvelopeOverhead + crypto.PaddedLength(crypto.MaxPlaintext); crypto.MaxEnvelopeSize != want {
		t.Errorf("MaxEnvelopeSize = %d, want %d", crypto.MaxEnvelopeSize, want)
	}
	if want := crypto.EnvelopeOverhead + crypto.PaddedLength(0); crypto.MinEnvelopeSize != want {
		t.Errorf("MinEnvelopeSize = %d, want %d", crypto.MinEnvelopeSize, want)
	}
	id := newIdentity(t)
	if n := len(id.PublicBundle()); n != crypto.PublicBundleSize || crypto.PublicBundleSize != 1333 {
		t.Errorf("bundle is %d bytes, want PublicBundleSize = %d = 1333", n, crypto.PublicBundleSize)
	}
	if crypto.RecipientWrapSize != 1175 || crypto.VaultWrapSize != 73 || crypto.GrantSize != 1338 || crypto.KeybagSize != 159 || crypto.KDFParamsSize != 26 {
		t.Errorf("sizes: recipient wrap %d, vault wrap %d, grant %d, keybag %d, kdf params %d",
			crypto.RecipientWrapSize, crypto.VaultWrapSize, crypto.GrantSize, crypto.KeybagSize, crypto.KDFParamsSize)
	}
}

func TestPaddedLength(t *testing.T) {
	tests := []struct{ n, want int }{
		{-5, 1024}, {0, 1024}, {1, 1024}, {1023, 1024}, {1024, 1088}, {1087, 1088}, {1088, 1152},
		{3000, 3072}, {10000, 10240}, {65535, 65536}, {65536, 67584}, {crypto.MaxPlaintext, 1081344},
		{10_000_000, 10_223_616},
	}
	for _, tt := range tests {
		if got := crypto.PaddedLength(tt.n); got != tt.want {
			t.Errorf("PaddedLength(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	count := func(lo, hi int) int {
		seen := map[int]bool{}
		prev := 0
		for n := lo; n <= hi; n++ {
			l := crypto.PaddedLength(n)
			if l <= n || l < prev {
				t.Fatalf("PaddedLength(%d) = %d is not above n or not monotonic", n, l)
			}
			if n >= 1024 && float64(l-n-1) >= 0.0625*float64(n+1) {
				t.Fatalf("PaddedLength(%d) = %d: overhead of 6.25%% or more", n, l)
			}
			if crypto.PaddedLength(l-1) != l {
				t.Fatalf("PaddedLength is not idempotent at %d", l)
			}
			prev = l
			seen[l] = true
		}
		return len(seen)
	}
	if got := count(0, 65535); got != 97 {
		t.Errorf("plaintexts of 0..65535 bytes map to %d lengths, want 97", got)
	}
	if got := count(0, crypto.MaxPlaintext); got != 226 {
		t.Errorf("plaintexts of 0..MaxPlaintext bytes map to %d lengths, want 226", got)
	}
}

func TestVaultWrap(t *testing.T) {
	vk, other := crypto.NewVaultKey(), crypto.NewVaultKey()
	ek := crypto.NewEntryKey()
	rec := crypto.RecordID{9}
	w, err := crypto.WrapForVault(vk, rec, 3, ek)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != crypto.VaultWrapSize {
		t.Fatalf("wrapped key is %d bytes", len(w))
	}
	got, err := crypto.UnwrapWithVault(vk, rec, 3, w)
	if err != nil || !got.Equal(ek) {
		t.Fatalf("round trip: %v", err)
	}
	tests := []struct {
		name string
		vk   crypto.VaultKey
		rec  crypto.RecordID
		rev  uint64
		want error
	}{
		{"wrong vault key", other, rec, 3, crypto.ErrDecrypt},
		{"another record", vk, crypto.RecordID{8}, 3, crypto.ErrDecrypt},
		{"another revision", vk, rec, 4, crypto.ErrDecrypt},
		{"zero vault key", crypto.VaultKey{}, rec, 3, crypto.ErrZeroKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crypto.UnwrapWithVault(tt.vk, tt.rec, tt.rev, w)
			wantErr(t, err, tt.want)
		})
	}
	_, err = crypto.WrapForVault(crypto.VaultKey{}, rec, 3, ek)
	wantErr(t, err, crypto.ErrZeroKey)
	_, err = crypto.WrapForVault(vk, rec, 3, crypto.EntryKey{})
	wantErr(t, err, crypto.ErrZeroKey)
}

func TestRecipientWrap(t *testing.T) {
	bob, carol := newIdentity(t), newIdentity(t)
	ek := crypto.NewEntryKey()
	rec := crypto.RecordID{7}
	w, err := crypto.WrapForRecipient(bob.Share.Public(), rec, 2, bob.Account, crypto.PurposeShare, ek)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != crypto.RecipientWrapSize {
		t.Fatalf("wrapped key is %d bytes, want %d", len(w), crypto.RecipientWrapSize)
	}
	got, err := crypto.UnwrapForRecipient(bob.Share, rec, 2, bob.Account, crypto.PurposeShare, w)
	if err != nil || !got.Equal(ek) {
		t.Fatalf("round trip: %v", err)
	}
	tests := []struct {
		name    string
		k       crypto.ShareKey
		rec     crypto.RecordID
		rev     uint64
		to      crypto.AccountID
		purpose crypto.Purpose
		want    error
	}{
		{"wrong share key", carol.Share, rec, 2, bob.Account, crypto.PurposeShare, crypto.ErrDecrypt},
		{"another recipient account", bob.Share, rec, 2, carol.Account, crypto.PurposeShare, crypto.ErrDecrypt},
		{"another record", bob.Share, crypto.RecordID{6}, 2, bob.Account, crypto.PurposeShare, crypto.ErrDecrypt},
		{"another revision", bob.Share, rec, 1, bob.Account, crypto.PurposeShare, crypto.ErrDecrypt},
		{"unknown purpose", bob.Share, rec, 2, bob.Account, 9, crypto.ErrMalformed},
		{"zero share key", crypto.ShareKey{}, rec, 2, bob.Account, crypto.PurposeShare, crypto.ErrZeroKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crypto.UnwrapForRecipient(tt.k, tt.rec, tt.rev, tt.to, tt.purpose, w)
			wantErr(t, err, tt.want)
		})
	}
	_, err = crypto.WrapForRecipient(crypto.SharePublicKey{}, rec, 2, bob.Account, crypto.PurposeShare, ek)
	wantErr(t, err, crypto.ErrZeroKey)
	_, err = crypto.WrapForRecipient(bob.Share.Public(), rec, 2, bob.Account, 0, ek)
	wantErr(t, err, crypto.ErrMalformed)
}

func TestGrant(t *testing.T) {
	alice, bob, carol := newIdentity(t), newIdentity(t), newIdentity(t)
	env, ek, err := crypto.SealEntry(alice, crypto.RecordID{5}, 1, []byte("homework: three good things"))
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	raw, err := crypto.SignGrant(alice, crypto.GrantTerms{Record: crypto.RecordID{5}, Revision: 1, Recipient: bob.Account, RecipientKey: bob.Share.Public(), Expires: exp}, ek)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != crypto.GrantSize {
		t.Errorf("grant is %d bytes, want %d", len(raw), crypto.GrantSize)
	}
	g, err := crypto.ParseGrant(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Verify(alice.Signing.Public()); err != nil {
		t.Fatal(err)
	}
	if !g.Expires.Equal(exp.Truncate(time.Second)) {
		t.Errorf("expires = %v, want %v to the second", g.Expires, exp)
	}
	if g.Expired(exp.Add(-time.Second)) || !g.Expired(exp) {
		t.Errorf("Expired is wrong around %v", g.Expires)
	}
	got, err := g.Open(bob.Share, bob.Account)
	if err != nil {
		t.Fatal(err)
	}
	// Bob opens the entry with the shared key and Alice's pinned signing key.
	opened, err := crypto.OpenEntry(env, got, alice.Signing.Public())
	if err != nil || string(opened.Plaintext) != "homework: three good things" {
		t.Fatalf("open shared entry: %v", err)
	}

	wantErr(t, g.Verify(bob.Signing.Public()), crypto.ErrBadSignature)
	_, err = g.Open(carol.Share, carol.Account)
	wantErr(t, err, crypto.ErrWrongRecipient)
	_, err = g.Open(carol.Share, bob.Account) // Bob's key substituted or rotated
	wantErr(t, err, crypto.ErrWrongRecipient)

	// Changing a field after parsing is caught by Verify, which re-encodes.
	g.Revision++
	wantErr(t, g.Verify(alice.Signing.Public()), crypto.ErrBadSignature)

	never, err := crypto.SignGrant(alice, crypto.GrantTerms{Record: crypto.RecordID{5}, Revision: 1, Recipient: bob.Account, RecipientKey: bob.Share.Public()}, ek)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := crypto.ParseGrant(never)
	if err != nil || !g2.Expires.IsZero() || g2.Expired(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("never-expiring grant: %v, expires %v", err, g2.Expires)
	}
	_, err = crypto.SignGrant(alice, crypto.GrantTerms{Recipient: bob.Account, RecipientKey: bob.Share.Public(), Expires: time.Unix(-1, 0)}, ek)
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.SignGrant(alice, crypto.GrantTerms{Recipient: bob.Account}, ek)
	wantErr(t, err, crypto.ErrZeroKey)
}

var safetyCodeRE = regexp.MustCompile(`^[0-9]{5}( [0-9]{5}){5}$`)

func TestBundleAndSafetyCodes(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	raw := alice.PublicBundle()
	p, err := crypto.ParsePublicBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.Account != alice.Account || p.Signing != alice.Signing.Public() || !p.Share.Equal(alice.Share.Public()) {
		t.Fatal("bundle fields differ from the identity")
	}
	if !bytes.Equal(p.Bytes(), raw) {
		t.Fatal("Bytes differs from the parsed input")
	}
	if p.Fingerprint() != alice.Fingerprint() {
		t.Fatal("bundle and identity fingerprints differ")
	}
	code := p.Fingerprint().SafetyCode()
	if !safetyCodeRE.MatchString(code) {
		t.Errorf("safety code %q is not 6 groups of 5 digits", code)
	}
	fa, fb := alice.Fingerprint(), bob.Fingerprint()
	if crypto.PairSafetyCode(fa, fb) != crypto.PairSafetyCode(fb, fa) {
		t.Error("pair safety code depends on the order")
	}
	if !safetyCodeRE.MatchString(crypto.PairSafetyCode(fa, fb)) {
		t.Errorf("pair safety code %q is malformed", crypto.PairSafetyCode(fa, fb))
	}
	if crypto.PairSafetyCode(fa, fb) == crypto.PairSafetyCode(fa, fa) {
		t.Error("pair safety code ignores one side")
	}
	// A server that substitutes Bob's share key under Bob's account and
	// signing key cannot produce a valid bundle, and a bundle under its own
	// signing key has another fingerprint.
	mallory := newIdentity(t)
	mallory.Account = bob.Account
	mp, err := crypto.ParsePublicBundle(mallory.PublicBundle())
	if err != nil {
		t.Fatal(err)
	}
	if mp.Fingerprint() == fb || crypto.PairSafetyCode(fa, mp.Fingerprint()) == crypto.PairSafetyCode(fa, fb) {
		t.Error("substituted bundle has the same fingerprint or pair code")
	}
	share, err := crypto.ParseSharePublicKey(alice.Share.Public().Bytes())
	if err != nil || !share.Equal(alice.Share.Public()) {
		t.Fatalf("ParseSharePublicKey: %v", err)
	}
	_, err = crypto.ParseSharePublicKey(make([]byte, 10))
	wantErr(t, err, crypto.ErrMalformed)
	if !strings.HasPrefix(share.String(), "crypto.SharePublicKey(") {
		t.Errorf("SharePublicKey.String() = %q", share.String())
	}
}

func TestKDFParams(t *testing.T) {
	p := crypto.NewKDFParams()
	if p.MemoryKiB != 64*1024 || p.Time != 3 || p.Threads != 4 || p.Salt == [16]byte{} {
		t.Fatalf("defaults = %+v", p)
	}
	if q := crypto.NewKDFParams(); q.Salt == p.Salt {
		t.Fatal("two salts are equal")
	}
	b := p.Marshal()
	if len(b) != crypto.KDFParamsSize {
		t.Fatalf("encoding is %d bytes", len(b))
	}
	q, err := crypto.ParseKDFParams(b)
	if err != nil || q != p {
		t.Fatalf("round trip: %v, %+v", err, q)
	}
	floor := crypto.MinKDFParams()
	tests := []struct {
		name string
		p    crypto.KDFParams
		want error
	}{
		{"floor", floor, nil},
		{"defaults", p, nil},
		{"memory below floor", crypto.KDFParams{MemoryKiB: floor.MemoryKiB - 1, Time: 2, Threads: 1}, crypto.ErrWeakKDFParams},
		{"time below floor", crypto.KDFParams{MemoryKiB: floor.MemoryKiB, Time: 1, Threads: 1}, crypto.ErrWeakKDFParams},
		{"zero threads", crypto.KDFParams{MemoryKiB: floor.MemoryKiB, Time: 2, Threads: 0}, crypto.ErrWeakKDFParams},
		{"zero everything", crypto.KDFParams{}, crypto.ErrWeakKDFParams},
		{"memory above ceiling", crypto.KDFParams{MemoryKiB: crypto.MaxKDFParams().MemoryKiB + 1, Time: 2, Threads: 1}, crypto.ErrTooLarge},
		{"time above ceiling", crypto.KDFParams{MemoryKiB: floor.MemoryKiB, Time: crypto.MaxKDFParams().Time + 1, Threads: 1}, crypto.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				_, err := crypto.DeriveFromPassphrase([]byte("pw"), crypto.NewSecretKey(), crypto.AccountID{}, tt.p)
				wantErr(t, err, tt.want)
			}
		})
	}
	if err := (crypto.KDFParams{MemoryKiB: 8, Time: 1, Threads: 1}).Check(); err == nil || !strings.Contains(err.Error(), "19456") {
		t.Errorf("error does not name the floor: %v", err)
	}
}

// testParams is MinKDFParams with a fixed salt: fast enough for tests.
func testParams() crypto.KDFParams {
	p := crypto.MinKDFParams()
	p.Salt = [16]byte{1, 2, 3}
	return p
}

func TestAccountLifecycle(t *testing.T) {
	id := newIdentity(t)
	sk := crypto.NewSecretKey()
	params := testParams()
	pb := params.Marshal()
	secrets, err := crypto.DeriveFromPassphrase([]byte("correct horse"), sk, id.Account, params)
	if err != nil {
		t.Fatal(err)
	}
	bag, err := crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, pb, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(bag) != crypto.KeybagSize {
		t.Errorf("keybag is %d bytes, want %d", len(bag), crypto.KeybagSize)
	}
	rc := crypto.NewRecoveryCode()
	rsecrets, err := crypto.DeriveFromRecoveryCode(rc, id.Account)
	if err != nil {
		t.Fatal(err)
	}
	rbag, err := crypto.SealKeybag(rsecrets.KeybagKey, crypto.KeybagRecovery, nil, id)
	if err != nil {
		t.Fatal(err)
	}

	// A new device: the same passphrase and Secret Key (typed as text) give
	// the same keys, and the keybag gives back the same identity.
	sk2, err := crypto.ParseSecretKey(strings.ToLower(sk.Text()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := crypto.DeriveFromPassphrase([]byte("correct horse"), sk2, id.Account, params)
	if err != nil {
		t.Fatal(err)
	}
	if !again.KeybagKey.Equal(secrets.KeybagKey) || !again.ProfileKey().Equal(secrets.ProfileKey()) || !bytes.Equal(again.LoginPublic(), secrets.LoginPublic()) {
		t.Fatal("derivation is not deterministic")
	}
	for _, c := range []struct {
		name   string
		k      crypto.KeybagKey
		kind   crypto.KeybagKind
		params []byte
		bag    []byte
	}{{"passphrase", secrets.KeybagKey, crypto.KeybagPassphrase, pb, bag}, {"recovery", rsecrets.KeybagKey, crypto.KeybagRecovery, nil, rbag}} {
		got, err := crypto.OpenKeybag(c.k, c.kind, id.Account, c.params, c.bag)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Account != id.Account || !got.Vault.Equal(id.Vault) || !got.Signing.Equal(id.Signing) || !got.Share.Equal(id.Share) {
			t.Fatalf("%s: keybag holds a different identity", c.name)
		}
	}
	// Sealing did not disturb the identity's keys (hpke's Bytes aliases the seed).
	w, err := crypto.WrapForRecipient(id.Share.Public(), crypto.RecordID{}, 0, id.Account, crypto.PurposeShare, crypto.NewEntryKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.UnwrapForRecipient(id.Share, crypto.RecordID{}, 0, id.Account, crypto.PurposeShare, w); err != nil {
		t.Fatalf("share key damaged by SealKeybag: %v", err)
	}

	// Separate derivations give separate keys.
	if secrets.KeybagKey.Equal(rsecrets.KeybagKey) || secrets.ProfileKey().Equal(rsecrets.ProfileKey()) || bytes.Equal(secrets.LoginPublic(), rsecrets.LoginPublic()) {
		t.Fatal("passphrase and recovery derivations collide")
	}
	if pk := secrets.ProfileKey(); pk.Equal(crypto.ProfileKey{}) {
		t.Fatal("profile key is zero")
	}

	// Failures.
	wrongPass, _ := crypto.DeriveFromPassphrase([]byte("correct horse!"), sk, id.Account, params)
	otherSK, _ := crypto.DeriveFromPassphrase([]byte("correct horse"), crypto.NewSecretKey(), id.Account, params)
	swapped := params
	swapped.Salt[0] ^= 1
	weaker := params
	weaker.MemoryKiB = 8
	tests := []struct {
		name   string
		k      crypto.KeybagKey
		kind   crypto.KeybagKind
		acct   crypto.AccountID
		params []byte
		want   error
	}{
		{"wrong passphrase", wrongPass.KeybagKey, crypto.KeybagPassphrase, id.Account, pb, crypto.ErrDecrypt},
		{"wrong Secret Key", otherSK.KeybagKey, crypto.KeybagPassphrase, id.Account, pb, crypto.ErrDecrypt},
		{"swapped salt", secrets.KeybagKey, crypto.KeybagPassphrase, id.Account, swapped.Marshal(), crypto.ErrDecrypt},
		{"weakened params", secrets.KeybagKey, crypto.KeybagPassphrase, id.Account, weaker.Marshal(), crypto.ErrDecrypt},
		{"another account", secrets.KeybagKey, crypto.KeybagPassphrase, crypto.AccountID{1}, pb, crypto.ErrDecrypt},
		{"recovery key", rsecrets.KeybagKey, crypto.KeybagPassphrase, id.Account, pb, crypto.ErrDecrypt},
		{"wrong kind", secrets.KeybagKey, crypto.KeybagRecovery, id.Account, nil, crypto.ErrMalformed},
		{"unknown kind", secrets.KeybagKey, 9, id.Account, pb, crypto.ErrMalformed},
		{"missing params", secrets.KeybagKey, crypto.KeybagPassphrase, id.Account, nil, crypto.ErrTruncated},
		{"zero key", crypto.KeybagKey{}, crypto.KeybagPassphrase, id.Account, pb, crypto.ErrZeroKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crypto.OpenKeybag(tt.k, tt.kind, tt.acct, tt.params, bag)
			wantErr(t, err, tt.want)
		})
	}
	_, err = crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagRecovery, pb, id)
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, pb, &crypto.Identity{})
	wantErr(t, err, crypto.ErrZeroKey)
	_, err = crypto.DeriveFromPassphrase(nil, sk, id.Account, params)
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.DeriveFromPassphrase([]byte("pw"), crypto.SecretKey{}, id.Account, params)
	wantErr(t, err, crypto.ErrZeroKey)
	_, err = crypto.DeriveFromRecoveryCode(crypto.RecoveryCode{}, id.Account)
	wantErr(t, err, crypto.ErrZeroKey)
}

func TestLocal(t *testing.T) {
	secrets, err := crypto.DeriveFromRecoveryCode(crypto.NewRecoveryCode(), crypto.AccountID{1})
	if err != nil {
		t.Fatal(err)
	}
	k := secrets.ProfileKey()
	box, err := crypto.SealLocal(k, "device-key", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if len(box) != crypto.LocalOverhead+6 {
		t.Errorf("box is %d bytes", len(box))
	}
	got, err := crypto.OpenLocal(k, "device-key", box)
	if err != nil || string(got) != "s3cret" {
		t.Fatalf("round trip: %v", err)
	}
	_, err = crypto.OpenLocal(k, "device-keys", box)
	wantErr(t, err, crypto.ErrDecrypt)
	other, _ := crypto.DeriveFromRecoveryCode(crypto.NewRecoveryCode(), crypto.AccountID{1})
	_, err = crypto.OpenLocal(other.ProfileKey(), "device-key", box)
	wantErr(t, err, crypto.ErrDecrypt)
	_, err = crypto.SealLocal(k, "", nil)
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.SealLocal(crypto.ProfileKey{}, "x", nil)
	wantErr(t, err, crypto.ErrZeroKey)
}

func TestSecretKeyText(t *testing.T) {
	textRE := regexp.MustCompile(`^IS1-[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)
	for range 50 {
		sk := crypto.NewSecretKey()
		text := sk.Text()
		if !textRE.MatchString(text) {
			t.Fatalf("Text() = %q", text)
		}
		for _, variant := range []string{text, strings.ToLower(text), strings.ReplaceAll(text, "-", ""), " " + strings.ReplaceAll(text, "-", " – ") + "\n", text[4:]} {
			got, err := crypto.ParseSecretKey(variant)
			if err != nil || !got.Equal(sk) {
				t.Fatalf("ParseSecretKey(%q): %v", variant, err)
			}
		}
		checkEveryTypo(t, text[4:], func(s string) error { _, err := crypto.ParseSecretKey(s); return err })
	}
}

func TestRecoveryCodeText(t *testing.T) {
	textRE := regexp.MustCompile(`^([0-9A-HJKMNP-TV-Z]{4}-){8}[0-9A-HJKMNP-TV-Z]$`)
	for range 50 {
		rc := crypto.NewRecoveryCode()
		text := rc.Text()
		if !textRE.MatchString(text) {
			t.Fatalf("Text() = %q", text)
		}
		for _, variant := range []string{text, strings.ToLower(text), strings.ReplaceAll(text, "-", " ")} {
			got, err := crypto.ParseRecoveryCode(variant)
			if err != nil || !got.Equal(rc) {
				t.Fatalf("ParseRecoveryCode(%q): %v", variant, err)
			}
		}
		checkEveryTypo(t, text, func(s string) error { _, err := crypto.ParseRecoveryCode(s); return err })
	}
}

// checkEveryTypo checks that every single-character substitution and every
// swap of adjacent characters (except 0 and Z, the one pair Luhn mod 32
// misses) is rejected.
func checkEveryTypo(t *testing.T, text string, parse func(string) error) {
	t.Helper()
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	compact := strings.ReplaceAll(text, "-", "")
	for i := range len(compact) {
		for _, c := range []byte(alphabet) {
			if c == compact[i] {
				continue
			}
			typo := compact[:i] + string(c) + compact[i+1:]
			if err := parse(typo); !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("substitution %q → %q at %d accepted (%v)", compact[i], c, i, err)
			}
		}
		if i+1 < len(compact) {
			a, b := compact[i], compact[i+1]
			if a == b || a == '0' && b == 'Z' || a == 'Z' && b == '0' {
				continue
			}
			swapped := compact[:i] + string(b) + string(a) + compact[i+2:]
			if err := parse(swapped); !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("swap at %d accepted (%v)", i, err)
			}
		}
	}
}

func TestKeyConstructors(t *testing.T) {
	_, err := crypto.VaultKeyFromBytes(make([]byte, 32))
	wantErr(t, err, crypto.ErrZeroKey)
	_, err = crypto.EntryKeyFromBytes(make([]byte, 31))
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.KeybagKeyFromBytes(nil)
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.ProfileKeyFromBytes(make([]byte, 33))
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.SigningKeyFromSeed(make([]byte, 64))
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.ShareKeyFromBytes(make([]byte, 31))
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.SecretKeyFromBytes(make([]byte, 15))
	wantErr(t, err, crypto.ErrMalformed)
	_, err = crypto.RecoveryCodeFromBytes(make([]byte, 21))
	wantErr(t, err, crypto.ErrMalformed)

	a, b := crypto.NewVaultKey(), crypto.NewVaultKey()
	if a.Equal(b) || !a.Equal(a) || a.IsZero() || !(crypto.VaultKey{}).IsZero() {
		t.Error("VaultKey Equal/IsZero")
	}
	s1, s2 := crypto.NewSigningKey(), crypto.NewSigningKey()
	if s1.Equal(s2) || !s1.Equal(s1) || s1.Public() == s2.Public() || (crypto.SigningKey{}).Public() != (crypto.SigningPublicKey{}) {
		t.Error("SigningKey Equal/Public")
	}
	k1, err := crypto.NewShareKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := crypto.NewShareKey()
	if k1.Equal(k2) || !k1.Equal(k1) || k1.Public().Equal(k2.Public()) || !(crypto.ShareKey{}).Public().IsZero() {
		t.Error("ShareKey Equal/Public")
	}
	if crypto.NewAccountID() == crypto.NewAccountID() {
		t.Error("two account IDs are equal")
	}
}
