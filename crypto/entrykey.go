package crypto

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// EntryKey is the 32-byte XChaCha20-Poly1305 key of one entry revision.
// SealEntry makes a fresh one for every revision; it is then wrapped for the
// author's vault (WrapForVault) and for each recipient (WrapForRecipient,
// SignGrant). One key per revision means a grant for revision 3 reveals
// nothing about revision 4.
type EntryKey struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	k [keySize]byte
}

// NewEntryKey returns a fresh random EntryKey from crypto/rand.
func NewEntryKey() EntryKey {
	var k EntryKey
	randomBytes(k.k[:])
	return k
}

// EntryKeyFromBytes returns the EntryKey with the given 32 bytes. It exists
// for test vectors and interoperability; applications get entry keys from
// SealEntry and the unwrap functions. An all-zero key is refused with
// ErrZeroKey.
func EntryKeyFromBytes(b []byte) (EntryKey, error) {
	var k EntryKey
	if err := keyFromBytes("entry key", k.k[:], b); err != nil {
		return EntryKey{}, err
	}
	return k, nil
}

// Equal reports whether k and o are the same key, in constant time.
func (k EntryKey) Equal(o EntryKey) bool { return subtle.ConstantTimeCompare(k.k[:], o.k[:]) == 1 }

// IsZero reports whether k is the zero value (not initialised).
func (k EntryKey) IsZero() bool { return isZero(k.k[:]) }

// String returns "crypto.EntryKey(REDACTED)".
func (k EntryKey) String() string { return redactedName("EntryKey") }

// GoString returns "crypto.EntryKey(REDACTED)".
func (k EntryKey) GoString() string { return redactedName("EntryKey") }

// Format prints "crypto.EntryKey(REDACTED)" for every verb.
func (k EntryKey) Format(f fmt.State, _ rune) { writeRedacted(f, "EntryKey") }

// LogValue makes log/slog print "crypto.EntryKey(REDACTED)".
func (k EntryKey) LogValue() slog.Value { return redactedLog("EntryKey") }

// commitment returns HKDF-SHA256(secret = key, salt = nil,
// info = "interlude/v1/entry-key-commitment", 32 bytes).
//
// Why: Poly1305 is not key-committing. Someone who knows two keys can build
// one ciphertext that opens under both to different plaintexts, and a
// malicious sharer could then show a clinician one text and the client
// another. Publishing a hash of the key under its own label in the signed
// header, and checking it before decrypting, pins the one key that opens the
// envelope. HKDF is a PRF, so the commitment reveals nothing about the key.
func (k EntryKey) commitment() [32]byte {
	out, err := hkdf.Key(sha256.New, k.k[:], nil, labelEntryKeyCommitment, 32)
	if err != nil {
		panic("crypto: " + err.Error()) // unreachable: 32 bytes is far below the HKDF limit
	}
	return [32]byte(out)
}
