package crypto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Every parser has a fuzz target. Invariants: no panic; every error wraps a
// sentinel; where a format has one encoding, parse then marshal gives back
// the input. Seeds are valid values plus a few broken ones.

var sentinels = []error{ErrTruncated, ErrTrailingData, ErrUnknownVersion, ErrBadSignature, ErrDecrypt,
	ErrKeyCommitment, ErrWrongRecipient, ErrWeakKDFParams, ErrTooLarge, ErrMalformed, ErrZeroKey}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error wraps no sentinel: %v", err)
}

type fuzzWorld struct {
	alice, bob *Identity
	env        []byte
	ek         EntryKey
	grant      []byte
	keybagKey  KeybagKey
	params     []byte
	keybag     []byte
	wrapped    []byte
}

func newFuzzWorld(t testing.TB) *fuzzWorld {
	w := &fuzzWorld{alice: testIdentity(t), bob: testIdentity(t)}
	var err error
	if w.env, w.ek, err = SealEntry(w.alice, RecordID{1}, 2, []byte("fuzz")); err != nil {
		t.Fatal(err)
	}
	terms := GrantTerms{Record: RecordID{1}, Revision: 2, Recipient: w.bob.Account, RecipientKey: w.bob.Share.Public(), Expires: time.Unix(1e9, 0)}
	if w.grant, err = SignGrant(w.alice, terms, w.ek); err != nil {
		t.Fatal(err)
	}
	if w.wrapped, err = WrapForRecipient(w.bob.Share.Public(), RecordID{1}, 2, w.bob.Account, PurposeShare, w.ek); err != nil {
		t.Fatal(err)
	}
	randomBytes(w.keybagKey.k[:])
	w.params = NewKDFParams().Marshal()
	if w.keybag, err = SealKeybag(w.keybagKey, KeybagPassphrase, w.params, w.alice); err != nil {
		t.Fatal(err)
	}
	return w
}

func FuzzParseEnvelope(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add(w.env)
	f.Add(w.env[:MinEnvelopeSize-1])
	f.Add(append(bytes.Clone(w.env), 0))
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		checkSentinel(t, err)
		if err == nil {
			if !bytes.Equal(e.Marshal(), b) {
				t.Fatal("Marshal(ParseEnvelope(b)) != b")
			}
			checkSentinel(t, e.VerifySignature(w.alice.Signing.Public()))
		}
		_, err = OpenEntry(b, w.ek, w.alice.Signing.Public())
		checkSentinel(t, err)
	})
}

func FuzzParseGrant(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add(w.grant)
	f.Add(w.grant[:100])
	f.Add(append(bytes.Clone(w.grant), 0))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGrant(b)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		m, err := g.Marshal()
		if err != nil || !bytes.Equal(m, b) {
			t.Fatalf("Marshal(ParseGrant(b)) != b (%v)", err)
		}
		checkSentinel(t, g.Verify(w.alice.Signing.Public()))
		_, err = g.Open(w.bob.Share, w.bob.Account)
		checkSentinel(t, err)
		_, err = g.Open(w.bob.Share, g.Recipient)
		checkSentinel(t, err)
	})
}

func FuzzParsePublicBundle(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add(w.alice.PublicBundle())
	f.Add(w.bob.PublicBundle()[:60])
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePublicBundle(b)
		checkSentinel(t, err)
		if err == nil {
			if !bytes.Equal(p.Bytes(), b) {
				t.Fatal("Bytes(ParsePublicBundle(b)) != b")
			}
			_ = p.Fingerprint().SafetyCode()
		}
	})
}

func FuzzParseKDFParams(f *testing.F) {
	f.Add(NewKDFParams().Marshal())
	f.Add(MinKDFParams().Marshal())
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseKDFParams(b)
		checkSentinel(t, err)
		if err == nil {
			if !bytes.Equal(p.Marshal(), b) {
				t.Fatal("Marshal(ParseKDFParams(b)) != b")
			}
			checkSentinel(t, p.Check())
		}
	})
}

func FuzzOpenKeybag(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add(w.keybag, byte(KeybagPassphrase), w.params)
	f.Add(w.keybag[:40], byte(KeybagRecovery), []byte(nil))
	f.Add([]byte{1, 1}, byte(3), []byte{1})
	f.Fuzz(func(t *testing.T, bag []byte, kind byte, params []byte) {
		id, err := OpenKeybag(w.keybagKey, KeybagKind(kind), w.alice.Account, params, bag)
		checkSentinel(t, err)
		if err == nil && (!id.Vault.Equal(w.alice.Vault) || !id.Signing.Equal(w.alice.Signing) || !id.Share.Equal(w.alice.Share)) {
			t.Fatal("keybag opened to a different identity")
		}
	})
}

func FuzzUnwrapForRecipient(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add(w.wrapped, byte(PurposeShare))
	f.Add(w.wrapped[:7], byte(PurposeShare))
	f.Add([]byte{1, 0x64, 0x7a, 0, 1, 0, 3}, byte(2))
	f.Fuzz(func(t *testing.T, b []byte, purpose byte) {
		ek, err := UnwrapForRecipient(w.bob.Share, RecordID{1}, 2, w.bob.Account, Purpose(purpose), b)
		checkSentinel(t, err)
		if err == nil && !ek.Equal(w.ek) {
			t.Fatal("unwrapped a different key")
		}
		_, err = UnwrapWithVault(w.alice.Vault, RecordID{1}, 2, b)
		checkSentinel(t, err)
	})
}

func FuzzParseSecretKey(f *testing.F) {
	sk := NewSecretKey()
	f.Add(sk.Text())
	f.Add(strings.ToLower(sk.Text()[4:]))
	f.Add("IS1-OOOOOO-LLLLLL-IIIII-00000-0000R")
	f.Add("is1 – 0")
	f.Add("\u00ff\u0131S1")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSecretKey(s)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		text := k.Text()
		k2, err := ParseSecretKey(text)
		if err != nil || !k2.Equal(k) || k2.Text() != text {
			t.Fatalf("Text does not round-trip: %q (%v)", text, err)
		}
	})
}

func FuzzParseRecoveryCode(f *testing.F) {
	rc := NewRecoveryCode()
	f.Add(rc.Text())
	f.Add(strings.ReplaceAll(rc.Text(), "-", ""))
	f.Add("0000-0000-0000-0000-0000-0000-0000-0000-0")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseRecoveryCode(s)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		text := c.Text()
		c2, err := ParseRecoveryCode(text)
		if err != nil || !c2.Equal(c) || c2.Text() != text {
			t.Fatalf("Text does not round-trip: %q (%v)", text, err)
		}
	})
}

func FuzzUnpad(f *testing.F) {
	f.Add(pad([]byte("hello")))
	f.Add(pad(nil))
	f.Add(make([]byte, 1024))
	f.Add([]byte{0x80})
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := unpad(b)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		// Re-padding to the same length gives back the input exactly.
		re := make([]byte, len(b))
		copy(re, p)
		re[len(p)] = 0x80
		if !bytes.Equal(re, b) {
			t.Fatal("unpad accepted a non-canonical padding")
		}
		if PaddedLength(len(p)) == len(b) && !bytes.Equal(pad(p), b) {
			t.Fatal("pad(unpad(b)) != b")
		}
	})
}

func FuzzOpenDeviceLabel(f *testing.F) {
	sk, account := NewSecretKey(), AccountID{1}
	sealed, err := SealDeviceLabel(sk, account, "Sam's phone")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(sealed[:30])
	f.Add(append(sealed, 0))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := OpenDeviceLabel(sk, account, b)
		checkSentinel(t, err)
		if err == nil && (name == "" || len(name) > MaxDeviceName || !utf8.ValidString(name)) {
			t.Fatalf("opened to an impossible name %q", name)
		}
	})
}
