package crypto

import (
	"testing"
	"time"
)

// Run with: go test ./crypto -run '^$' -bench . -benchmem
// Figures are recorded in docs/performance.md under "## crypto".

func BenchmarkSealEntry(b *testing.B) {
	alice := testIdentity(b)
	for _, n := range []int{1 << 10, 64 << 10} {
		b.Run(sizeName(n), func(b *testing.B) {
			pt := make([]byte, n)
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, _, err := SealEntry(alice, RecordID{1}, 1, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpenEntry(b *testing.B) {
	alice := testIdentity(b)
	pub := alice.Signing.Public()
	for _, n := range []int{1 << 10, 64 << 10} {
		b.Run(sizeName(n), func(b *testing.B) {
			env, ek, err := SealEntry(alice, RecordID{1}, 1, make([]byte, n))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := OpenEntry(env, ek, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func BenchmarkWrapForVault(b *testing.B) {
	vk, ek := NewVaultKey(), NewEntryKey()
	for b.Loop() {
		if _, err := WrapForVault(vk, RecordID{1}, 1, ek); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrapWithVault(b *testing.B) {
	vk, ek := NewVaultKey(), NewEntryKey()
	w, _ := WrapForVault(vk, RecordID{1}, 1, ek)
	for b.Loop() {
		if _, err := UnwrapWithVault(vk, RecordID{1}, 1, w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrapForRecipient(b *testing.B) {
	bob := testIdentity(b)
	pub, ek := bob.Share.Public(), NewEntryKey()
	for b.Loop() {
		if _, err := WrapForRecipient(pub, RecordID{1}, 1, bob.Account, PurposeShare, ek); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrapForRecipient(b *testing.B) {
	bob := testIdentity(b)
	w, _ := WrapForRecipient(bob.Share.Public(), RecordID{1}, 1, bob.Account, PurposeShare, NewEntryKey())
	for b.Loop() {
		if _, err := UnwrapForRecipient(bob.Share, RecordID{1}, 1, bob.Account, PurposeShare, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignEnvelope is the Ed25519ctx signature alone, over a 1 KiB
// entry's envelope body (1137 bytes).
func BenchmarkSignEnvelope(b *testing.B) {
	alice := testIdentity(b)
	env, _, _ := SealEntry(alice, RecordID{1}, 1, make([]byte, 1000))
	body := env[:len(env)-signatureSize]
	for b.Loop() {
		_ = alice.Signing.sign(ctxEnvelope, body)
	}
}

// BenchmarkVerifyEnvelope is Envelope.VerifySignature, which re-encodes the
// envelope and verifies its Ed25519ctx signature.
func BenchmarkVerifyEnvelope(b *testing.B) {
	alice := testIdentity(b)
	env, _, _ := SealEntry(alice, RecordID{1}, 1, make([]byte, 1000))
	e, _ := ParseEnvelope(env)
	pub := alice.Signing.Public()
	for b.Loop() {
		if err := e.VerifySignature(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignGrant includes the HPKE wrap inside the grant.
func BenchmarkSignGrant(b *testing.B) {
	alice, bob := testIdentity(b), testIdentity(b)
	terms := GrantTerms{Record: RecordID{1}, Revision: 1, Recipient: bob.Account, RecipientKey: bob.Share.Public(), Expires: time.Unix(2e9, 0)}
	ek := NewEntryKey()
	for b.Loop() {
		if _, err := SignGrant(alice, terms, ek); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyGrant is ParseGrant + Verify (no HPKE).
func BenchmarkVerifyGrant(b *testing.B) {
	alice, bob := testIdentity(b), testIdentity(b)
	raw, _ := SignGrant(alice, GrantTerms{Record: RecordID{1}, Revision: 1, Recipient: bob.Account, RecipientKey: bob.Share.Public()}, NewEntryKey())
	pub := alice.Signing.Public()
	for b.Loop() {
		g, err := ParseGrant(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePublicBundle(b *testing.B) {
	raw := testIdentity(b).PublicBundle()
	for b.Loop() {
		if _, err := ParsePublicBundle(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewIdentity(b *testing.B) {
	for b.Loop() {
		if _, err := NewIdentity(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveFromPassphrase measures the whole derivation (Argon2id and
// HKDF) at the defaults, m=64 MiB, t=3, p=4, and at the floor.
func BenchmarkDeriveFromPassphrase(b *testing.B) {
	sk := NewSecretKey()
	for _, c := range []struct {
		name string
		p    KDFParams
	}{{"default-m64MiB-t3-p4", NewKDFParams()}, {"floor-m19MiB-t2-p1", MinKDFParams()}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := DeriveFromPassphrase([]byte("correct horse battery staple"), sk, AccountID{1}, c.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpenKeybag(b *testing.B) {
	id := testIdentity(b)
	var k KeybagKey
	randomBytes(k.k[:])
	bag, _ := SealKeybag(k, KeybagRecovery, nil, id)
	for b.Loop() {
		if _, err := OpenKeybag(k, KeybagRecovery, id.Account, nil, bag); err != nil {
			b.Fatal(err)
		}
	}
}
