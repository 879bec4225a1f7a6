package crypto

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// VaultKey is an account's long-term 32-byte symmetric key. It lives only in
// the keybag and wraps the entry key of every entry revision the account
// writes (WrapForVault), so any of the account's devices can read its own
// history.
type VaultKey struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	k [keySize]byte
}

// NewVaultKey returns a fresh random VaultKey from crypto/rand.
func NewVaultKey() VaultKey {
	var k VaultKey
	randomBytes(k.k[:])
	return k
}

// VaultKeyFromBytes returns the VaultKey with the given 32 bytes. It exists for
// test vectors and interoperability; applications get vault keys from
// NewIdentity or OpenKeybag. An all-zero key is refused with ErrZeroKey.
func VaultKeyFromBytes(b []byte) (VaultKey, error) {
	var k VaultKey
	if err := keyFromBytes("vault key", k.k[:], b); err != nil {
		return VaultKey{}, err
	}
	return k, nil
}

// Equal reports whether k and o are the same key, in constant time.
func (k VaultKey) Equal(o VaultKey) bool { return subtle.ConstantTimeCompare(k.k[:], o.k[:]) == 1 }

// IsZero reports whether k is the zero value (not initialised).
func (k VaultKey) IsZero() bool { return isZero(k.k[:]) }

// String returns "crypto.VaultKey(REDACTED)".
func (k VaultKey) String() string { return redactedName("VaultKey") }

// GoString returns "crypto.VaultKey(REDACTED)".
func (k VaultKey) GoString() string { return redactedName("VaultKey") }

// Format prints "crypto.VaultKey(REDACTED)" for every verb.
func (k VaultKey) Format(f fmt.State, _ rune) { writeRedacted(f, "VaultKey") }

// LogValue makes log/slog print "crypto.VaultKey(REDACTED)".
func (k VaultKey) LogValue() slog.Value { return redactedLog("VaultKey") }

// keyFromBytes copies a 32-byte key, refusing other lengths and all zeros.
func keyFromBytes(what string, dst, b []byte) error {
	if len(b) != keySize {
		return fmt.Errorf("crypto: %s must be %d bytes, got %d: %w", what, keySize, len(b), ErrMalformed)
	}
	if isZero(b) {
		return fmt.Errorf("crypto: %s is all zeros: %w", what, ErrZeroKey)
	}
	copy(dst, b)
	return nil
}

// isZero reports whether b is all zeros, in time that depends only on len(b).
func isZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}
