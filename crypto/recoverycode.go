package crypto

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// RecoveryCode is a 160-bit random code printed in the recovery kit. It
// derives keys that open a second keybag (KeybagRecovery) holding the same
// identity, so an account survives a forgotten passphrase or a lost Secret
// Key. Like the Secret Key, it never reaches the server.
type RecoveryCode struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	b [recoveryCodeSize]byte
}

const (
	recoveryCodeSize    = 20
	recoveryCodeSymbols = 32 // 160 bits in base32, exactly
)

// NewRecoveryCode returns a fresh random RecoveryCode from crypto/rand.
func NewRecoveryCode() RecoveryCode {
	var c RecoveryCode
	randomBytes(c.b[:])
	return c
}

// RecoveryCodeFromBytes returns the RecoveryCode with the given 20 bytes, for
// test vectors and interoperability.
func RecoveryCodeFromBytes(b []byte) (RecoveryCode, error) {
	var c RecoveryCode
	if len(b) != recoveryCodeSize {
		return RecoveryCode{}, fmt.Errorf("crypto: recovery code must be %d bytes, got %d: %w", recoveryCodeSize, len(b), ErrMalformed)
	}
	copy(c.b[:], b)
	return c, nil
}

// Text returns the printable form: 32 Crockford base32 characters in eight
// groups of 4, then a dash and one Luhn mod 32 check character, e.g.
// "0A1B-2C3D-4E5F-6G7H-8J9K-0M1N-2P3Q-4R5S-T".
func (c RecoveryCode) Text() string {
	syms := crockfordEncode(c.b[:])
	syms = append(syms, luhn32(syms))
	return groupText(crockfordText(syms), 4, 4, 4, 4, 4, 4, 4, 4, 1)
}

// ParseRecoveryCode reads a recovery code as typed by a person. It ignores
// case, spaces and dashes, reads O as 0 and I or L as 1, and verifies the
// check character (ErrMalformed if it does not match).
func ParseRecoveryCode(text string) (RecoveryCode, error) {
	syms, err := crockfordSymbols(text)
	if err != nil {
		return RecoveryCode{}, fmt.Errorf("crypto: parse recovery code: %w", err)
	}
	if len(syms) != recoveryCodeSymbols+1 {
		return RecoveryCode{}, fmt.Errorf("crypto: parse recovery code: a recovery code has %d characters, found %d; check for a missing or extra character: %w",
			recoveryCodeSymbols+1, len(syms), ErrMalformed)
	}
	data, check := syms[:recoveryCodeSymbols], syms[recoveryCodeSymbols]
	if luhn32(data) != check {
		return RecoveryCode{}, fmt.Errorf("crypto: parse recovery code: check character does not match; a character is mistyped: %w", ErrMalformed)
	}
	b, err := crockfordDecode(data, recoveryCodeSize)
	if err != nil {
		return RecoveryCode{}, fmt.Errorf("crypto: parse recovery code: %w", err)
	}
	return RecoveryCodeFromBytes(b)
}

// Equal reports whether c and o are the same code, in constant time.
func (c RecoveryCode) Equal(o RecoveryCode) bool {
	return subtle.ConstantTimeCompare(c.b[:], o.b[:]) == 1
}

// IsZero reports whether c is the zero value (not initialised).
func (c RecoveryCode) IsZero() bool { return isZero(c.b[:]) }

// String returns "crypto.RecoveryCode(REDACTED)"; use Text for the real text.
func (c RecoveryCode) String() string { return redactedName("RecoveryCode") }

// GoString returns "crypto.RecoveryCode(REDACTED)".
func (c RecoveryCode) GoString() string { return redactedName("RecoveryCode") }

// Format prints "crypto.RecoveryCode(REDACTED)" for every verb.
func (c RecoveryCode) Format(f fmt.State, _ rune) { writeRedacted(f, "RecoveryCode") }

// LogValue makes log/slog print "crypto.RecoveryCode(REDACTED)".
func (c RecoveryCode) LogValue() slog.Value { return redactedLog("RecoveryCode") }
