package crypto

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The tamper tests flip bits everywhere in each format and check that the
// operation fails with the error the format's layout predicts, and that
// every truncation fails without panicking.

func testIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// everyBit calls f with a copy of b with bit j of byte i flipped, for every
// byte i and bit j.
func everyBit(b []byte, f func(i int, flipped []byte)) {
	for i := range b {
		for j := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << j
			f(i, c)
		}
	}
}

func expect(t *testing.T, what string, i int, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: flip at byte %d: error %v, want %v", what, i, err, want)
	}
}

func TestTamperEnvelope(t *testing.T) {
	alice := testIdentity(t)
	env, ek, err := SealEntry(alice, RecordID{1}, 1, []byte("entry"))
	if err != nil {
		t.Fatal(err)
	}
	pub := alice.Signing.Public()
	everyBit(env, func(i int, c []byte) {
		_, err := OpenEntry(c, ek, pub)
		want := ErrBadSignature
		if i == 0 {
			want = ErrUnknownVersion
		}
		expect(t, "envelope", i, err, want)
	})
	for n := range len(env) {
		if _, err := OpenEntry(env[:n], ek, pub); err == nil {
			t.Fatalf("envelope truncated to %d bytes opened", n)
		}
	}
}

// TestMovedEnvelope moves a ciphertext to another record, author or revision
// and has the real author re-sign it: the signature now verifies, and the
// AEAD's additional data still catches the move.
func TestMovedEnvelope(t *testing.T) {
	alice, bob := testIdentity(t), testIdentity(t)
	env, ek, err := SealEntry(alice, RecordID{1}, 5, []byte("entry"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := ParseEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(e *Envelope)
	}{
		{"record", func(e *Envelope) { e.Record = RecordID{2} }},
		{"author", func(e *Envelope) { e.Author = bob.Account }},
		{"revision", func(e *Envelope) { e.Revision = 6 }},
		{"rollback", func(e *Envelope) { e.Revision = 4 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := *orig
			c.change(&e)
			_, err := OpenEntry(e.Marshal(), ek, alice.Signing.Public())
			expect(t, "moved, unsigned", 0, err, ErrBadSignature)
			_, err = OpenEntry(signedEnvelope(alice, &e), ek, alice.Signing.Public())
			expect(t, "moved, re-signed", 0, err, ErrDecrypt)
		})
	}
	// A second entry's key on the first entry fails the commitment, even
	// though the signature is good.
	_, ek2, _ := SealEntry(alice, RecordID{1}, 6, []byte("next revision"))
	_, err = OpenEntry(env, ek2, alice.Signing.Public())
	expect(t, "other key", 0, err, ErrKeyCommitment)
	// Mutating a parsed envelope is caught by VerifySignature.
	e := *orig
	if err := e.VerifySignature(alice.Signing.Public()); err != nil {
		t.Fatal(err)
	}
	e.Revision++
	expect(t, "mutated", 0, e.VerifySignature(alice.Signing.Public()), ErrBadSignature)
}

func TestTamperVaultWrap(t *testing.T) {
	vk, ek := NewVaultKey(), NewEntryKey()
	w, _ := WrapForVault(vk, RecordID{1}, 1, ek)
	everyBit(w, func(i int, c []byte) {
		_, err := UnwrapWithVault(vk, RecordID{1}, 1, c)
		want := ErrDecrypt
		if i == 0 {
			want = ErrUnknownVersion
		}
		expect(t, "vault wrap", i, err, want)
	})
	for n := range len(w) {
		_, err := UnwrapWithVault(vk, RecordID{1}, 1, w[:n])
		expect(t, "vault wrap truncated", n, err, ErrTruncated)
	}
}

func TestTamperRecipientWrap(t *testing.T) {
	bob := testIdentity(t)
	ek := NewEntryKey()
	w, _ := WrapForRecipient(bob.Share.Public(), RecordID{1}, 1, bob.Account, PurposeShare, ek)
	everyBit(w, func(i int, c []byte) {
		_, err := UnwrapForRecipient(bob.Share, RecordID{1}, 1, bob.Account, PurposeShare, c)
		want := ErrDecrypt
		if i < 7 {
			want = ErrUnknownVersion
		}
		expect(t, "recipient wrap", i, err, want)
	})
	for n := range len(w) {
		if _, err := UnwrapForRecipient(bob.Share, RecordID{1}, 1, bob.Account, PurposeShare, w[:n]); err == nil {
			t.Fatalf("recipient wrap truncated to %d bytes opened", n)
		}
	}
}

func TestTamperGrant(t *testing.T) {
	alice, bob := testIdentity(t), testIdentity(t)
	_, ek, _ := SealEntry(alice, RecordID{1}, 1, nil)
	raw, err := SignGrant(alice, GrantTerms{Record: RecordID{1}, Revision: 1, Recipient: bob.Account, RecipientKey: bob.Share.Public(), Expires: time.Unix(2e9, 0)}, ek)
	if err != nil {
		t.Fatal(err)
	}
	open := func(b []byte) error {
		g, err := ParseGrant(b)
		if err != nil {
			return err
		}
		if err := g.Verify(alice.Signing.Public()); err != nil {
			return err
		}
		_, err = g.Open(bob.Share, bob.Account)
		return err
	}
	if err := open(raw); err != nil {
		t.Fatal(err)
	}
	everyBit(raw, func(i int, c []byte) {
		if err := open(c); err == nil {
			t.Fatalf("grant with a flip at byte %d opened", i)
		}
	})
	for n := range len(raw) {
		if err := open(raw[:n]); err == nil {
			t.Fatalf("grant truncated to %d bytes opened", n)
		}
	}
}

func TestTamperBundle(t *testing.T) {
	alice := testIdentity(t)
	raw := alice.PublicBundle()
	everyBit(raw, func(i int, c []byte) {
		if _, err := ParsePublicBundle(c); err == nil {
			t.Fatalf("bundle with a flip at byte %d parsed", i)
		}
	})
	for n := range len(raw) {
		if _, err := ParsePublicBundle(raw[:n]); err == nil {
			t.Fatalf("bundle truncated to %d bytes parsed", n)
		}
	}
}

func TestTamperKeybag(t *testing.T) {
	id := testIdentity(t)
	var k KeybagKey
	randomBytes(k.k[:])
	params := MinKDFParams()
	randomBytes(params.Salt[:])
	pb := params.Marshal()
	bag, err := SealKeybag(k, KeybagPassphrase, pb, id)
	if err != nil {
		t.Fatal(err)
	}
	everyBit(bag, func(i int, c []byte) {
		_, err := OpenKeybag(k, KeybagPassphrase, id.Account, pb, c)
		want := ErrDecrypt
		switch i {
		case 0:
			want = ErrUnknownVersion
		case 1:
			want = ErrMalformed // kind
		}
		expect(t, "keybag", i, err, want)
	})
	// Every bit of the KDF params is bound: a server that changes any of
	// them gets a keybag that does not open.
	everyBit(pb, func(i int, c []byte) {
		_, err := OpenKeybag(k, KeybagPassphrase, id.Account, c, bag)
		want := ErrDecrypt
		if i == 0 {
			want = ErrUnknownVersion
		}
		expect(t, "kdf params", i, err, want)
	})
	for n := range len(bag) {
		if _, err := OpenKeybag(k, KeybagPassphrase, id.Account, pb, bag[:n]); err == nil {
			t.Fatalf("keybag truncated to %d bytes opened", n)
		}
	}
}

func TestTamperLocal(t *testing.T) {
	var k ProfileKey
	randomBytes(k.k[:])
	box, _ := SealLocal(k, "x", []byte("hello"))
	everyBit(box, func(i int, c []byte) {
		_, err := OpenLocal(k, "x", c)
		want := ErrDecrypt
		if i == 0 {
			want = ErrUnknownVersion
		}
		expect(t, "local", i, err, want)
	})
}

func TestLabels(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range allLabels {
		if seen[l] {
			t.Errorf("label %q used twice", l)
		}
		seen[l] = true
		if len(l) < len("interlude/v1/") || l[:len("interlude/v1/")] != "interlude/v1/" {
			t.Errorf("label %q lacks the interlude/v1/ prefix", l)
		}
	}
	if len(allLabels) != 21 {
		t.Errorf("%d labels; update the list and docs/crypto.md", len(allLabels))
	}
}
