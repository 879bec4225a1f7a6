package crypto

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// SecretKey is the account's 128-bit Secret Key, the second secret of the
// two-secret key derivation (as in 1Password's Secret Key). It is made on the
// first device at sign-up, never sent to the server, and moved to new devices
// by QR code at pairing or from the printed recovery kit.
//
// Why: the server stores what it needs to check a login (a public key) and a
// passphrase-encrypted keybag. Without a second high-entropy secret, anyone
// who steals the server's database could guess passphrases offline. Mixing
// in 128 random bits that the server never sees makes that guessing hopeless.
type SecretKey struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	b [secretKeySize]byte
}

const (
	secretKeySize    = 16
	secretKeyPrefix  = "IS1" // Interlude Secret key, version 1
	secretKeySymbols = 26    // 128 bits in base32, the last symbol padded with 2 zero bits
)

// NewSecretKey returns a fresh random SecretKey from crypto/rand.
func NewSecretKey() SecretKey {
	var k SecretKey
	randomBytes(k.b[:])
	return k
}

// SecretKeyFromBytes returns the SecretKey with the given 16 bytes, for test
// vectors and interoperability.
func SecretKeyFromBytes(b []byte) (SecretKey, error) {
	var k SecretKey
	if len(b) != secretKeySize {
		return SecretKey{}, fmt.Errorf("crypto: secret key must be %d bytes, got %d: %w", secretKeySize, len(b), ErrMalformed)
	}
	copy(k.b[:], b)
	return k, nil
}

// Text returns the printable form, "IS1-" followed by 26 Crockford base32
// characters of the 128 bits and one Luhn mod 32 check character, in groups
// of 6, 6, 5, 5 and 5, e.g. "IS1-0A1B2C-3D4E5F-6G7H8-J9K0M-1N2PQ".
func (k SecretKey) Text() string {
	syms := crockfordEncode(k.b[:])
	syms = append(syms, luhn32(syms))
	return secretKeyPrefix + "-" + groupText(crockfordText(syms), 6, 6, 5, 5, 5)
}

// ParseSecretKey reads a Secret Key as typed by a person. It ignores case,
// spaces and dashes, reads O as 0 and I or L as 1, accepts the text with or
// without the "IS1" prefix, and verifies the check character. A wrong check
// character means a mistyped character (ErrMalformed).
func ParseSecretKey(text string) (SecretKey, error) {
	syms, err := crockfordSymbols(text)
	if err != nil {
		return SecretKey{}, fmt.Errorf("crypto: parse secret key: %w", err)
	}
	// "IS1" reads as symbols 1, S, 1 after the I→1 confusion mapping.
	if len(syms) == 3+secretKeySymbols+1 && crockfordText(syms[:3]) == "1S1" {
		syms = syms[3:]
	}
	if len(syms) != secretKeySymbols+1 {
		return SecretKey{}, fmt.Errorf("crypto: parse secret key: a Secret Key has %d characters after IS1-, found %d; check for a missing or extra character: %w",
			secretKeySymbols+1, len(syms), ErrMalformed)
	}
	data, check := syms[:secretKeySymbols], syms[secretKeySymbols]
	if luhn32(data) != check {
		return SecretKey{}, fmt.Errorf("crypto: parse secret key: check character does not match; a character is mistyped: %w", ErrMalformed)
	}
	b, err := crockfordDecode(data, secretKeySize)
	if err != nil {
		return SecretKey{}, fmt.Errorf("crypto: parse secret key: %w", err)
	}
	return SecretKeyFromBytes(b)
}

// Equal reports whether k and o are the same key, in constant time.
func (k SecretKey) Equal(o SecretKey) bool { return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1 }

// IsZero reports whether k is the zero value (not initialised).
func (k SecretKey) IsZero() bool { return isZero(k.b[:]) }

// String returns "crypto.SecretKey(REDACTED)"; use Text for the real text.
func (k SecretKey) String() string { return redactedName("SecretKey") }

// GoString returns "crypto.SecretKey(REDACTED)".
func (k SecretKey) GoString() string { return redactedName("SecretKey") }

// Format prints "crypto.SecretKey(REDACTED)" for every verb.
func (k SecretKey) Format(f fmt.State, _ rune) { writeRedacted(f, "SecretKey") }

// LogValue makes log/slog print "crypto.SecretKey(REDACTED)".
func (k SecretKey) LogValue() slog.Value { return redactedLog("SecretKey") }
