package crypto

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// labelPairMAC is the HKDF info that turns a pairing code's secret into the
// key of the link request's MAC. It lives here rather than in labels.go so
// that this file can be added on its own; TestPairLabel checks that it is
// distinct from every label in allLabels and carries the same prefix.
const labelPairMAC = "interlude/v1/pair-mac"

const (
	// PairPrefixSize is the number of fingerprint bytes a pairing code
	// carries (80 bits): enough for the server to find the bundle
	// (BundleRequest by fingerprint prefix needs at least 10 bytes) and for
	// the client to refuse any other bundle. Finding a second bundle with the
	// same 80-bit prefix costs about 2^80 hashes and key generations.
	PairPrefixSize = 10

	// PairMACSize is the length of a link request's MAC (HMAC-SHA256).
	PairMACSize = 32

	pairSecretSize  = 8                                           // 64 bits, one use, minutes long
	pairCodeSymbols = ((PairPrefixSize+pairSecretSize)*8 + 4) / 5 // 29 base32 symbols for 144 bits
)

// PairCode is the one-time code a clinician's device shows at pairing and the
// client types in: the first PairPrefixSize bytes of the clinician's
// fingerprint, which lets the client's device refuse any bundle but the
// clinician's, and an 8-byte random secret, which authenticates the link
// request (MAC) so the clinician's device knows it came from whoever was
// handed the code.
//
// A PairCode is a secret until it is used: it prints redacted under every fmt
// verb and in log/slog. Text gives the code to show.
type PairCode struct {
	_      [0]func() // not comparable with ==; use Equal, which is constant time
	prefix [PairPrefixSize]byte
	secret [pairSecretSize]byte
}

// NewPairCode returns a code for the account with fingerprint f and a fresh
// random secret from crypto/rand.
func NewPairCode(f Fingerprint) PairCode {
	var c PairCode
	copy(c.prefix[:], f[:PairPrefixSize])
	randomBytes(c.secret[:])
	return c
}

// PairCodeFromBytes returns the code with the given fingerprint prefix (10
// bytes) and secret (8 bytes), for test vectors, interoperability and a
// device that stored its own invitation.
func PairCodeFromBytes(prefix, secret []byte) (PairCode, error) {
	var c PairCode
	if len(prefix) != PairPrefixSize {
		return PairCode{}, fmt.Errorf("crypto: pairing code fingerprint prefix must be %d bytes, got %d: %w", PairPrefixSize, len(prefix), ErrMalformed)
	}
	if len(secret) != pairSecretSize {
		return PairCode{}, fmt.Errorf("crypto: pairing code secret must be %d bytes, got %d: %w", pairSecretSize, len(secret), ErrMalformed)
	}
	copy(c.prefix[:], prefix)
	copy(c.secret[:], secret)
	return c, nil
}

// Text returns the code to show: the 18 bytes (prefix, then secret) as 29
// Crockford base32 characters, most significant bit first (the last character
// carries 4 bits and a zero bit), then one Luhn mod 32 check character, in six
// groups of five, e.g. "7KQ2M-9X4TB-C3D5E-F6G7H-J8K9M-N0P1R".
//
// Why this shape: the same alphabet and check as the Secret Key and recovery
// code (no I, L, O, U; every single-character typo and almost every swap of
// neighbours is caught), in groups short enough to read aloud or type.
func (c PairCode) Text() string {
	syms := crockfordEncode(c.bytes())
	syms = append(syms, luhn32(syms))
	return groupText(crockfordText(syms), 5, 5, 5, 5, 5, 5)
}

func (c PairCode) bytes() []byte {
	b := make([]byte, 0, PairPrefixSize+pairSecretSize)
	b = append(b, c.prefix[:]...)
	return append(b, c.secret[:]...)
}

// ParsePairCode reads a pairing code as typed by a person. It ignores case,
// spaces and dashes, reads O as 0 and I or L as 1, and verifies the check
// character; every failure is ErrMalformed with a message that says what to
// check.
func ParsePairCode(text string) (PairCode, error) {
	syms, err := crockfordSymbols(text)
	if err != nil {
		return PairCode{}, fmt.Errorf("crypto: parse pairing code: %w", err)
	}
	if len(syms) != pairCodeSymbols+1 {
		return PairCode{}, fmt.Errorf("crypto: parse pairing code: a pairing code has %d characters, found %d; check for a missing or extra character: %w",
			pairCodeSymbols+1, len(syms), ErrMalformed)
	}
	data, check := syms[:pairCodeSymbols], syms[pairCodeSymbols]
	if luhn32(data) != check {
		return PairCode{}, fmt.Errorf("crypto: parse pairing code: the check character (the last one) does not match the others; a character is mistyped: %w", ErrMalformed)
	}
	b, err := crockfordDecode(data, PairPrefixSize+pairSecretSize)
	if err != nil {
		return PairCode{}, fmt.Errorf("crypto: parse pairing code: %w", err)
	}
	return PairCodeFromBytes(b[:PairPrefixSize], b[PairPrefixSize:])
}

// FingerprintPrefix returns a copy of the fingerprint bytes the code
// carries, to look the bundle up with (BundleRequest by fingerprint).
func (c PairCode) FingerprintPrefix() []byte { return append([]byte(nil), c.prefix[:]...) }

// Matches reports whether f starts with the code's fingerprint prefix. A
// client must refuse every bundle whose fingerprint does not match: the
// server could otherwise hand it a key of its own.
func (c PairCode) Matches(f Fingerprint) bool {
	return subtle.ConstantTimeCompare(c.prefix[:], f[:PairPrefixSize]) == 1
}

// MAC returns the link request's MAC:
//
//	HMAC-SHA256(key, client fingerprint ‖ clinician fingerprint ‖ record ID)
//	key = HKDF-SHA256(secret = the code's secret, salt = none, info = "interlude/v1/pair-mac", 32 bytes)
//
// where record ID is the link request's record. Binding both fingerprints
// means the clinician's device pins exactly the bundle the client sent (the
// server cannot swap it); binding the record means a MAC cannot be replayed
// in another request.
//
// Why HKDF before HMAC: the secret is only 8 bytes; the HKDF step gives the
// MAC a full-length key under its own label, so the same secret can never be
// confused with a key of another purpose.
func (c PairCode) MAC(client, clinician Fingerprint, record RecordID) [PairMACSize]byte {
	key, err := hkdf.Key(sha256.New, c.secret[:], nil, labelPairMAC, 32)
	if err != nil {
		panic("crypto: " + err.Error()) // unreachable: 32 bytes of SHA-256 output
	}
	m := hmac.New(sha256.New, key)
	m.Write(client[:])
	m.Write(clinician[:])
	m.Write(record[:])
	var out [PairMACSize]byte
	m.Sum(out[:0])
	clear(key)
	return out
}

// VerifyMAC checks, in constant time, a link request's MAC as MAC computes
// it; a mismatch (or a MAC of the wrong length) is ErrBadSignature.
func (c PairCode) VerifyMAC(client, clinician Fingerprint, record RecordID, mac []byte) error {
	want := c.MAC(client, clinician, record)
	if !hmac.Equal(want[:], mac) {
		return fmt.Errorf("crypto: verify pairing MAC: %w", ErrBadSignature)
	}
	return nil
}

// Equal reports whether c and o are the same code, in constant time.
func (c PairCode) Equal(o PairCode) bool {
	return subtle.ConstantTimeCompare(c.prefix[:], o.prefix[:])&subtle.ConstantTimeCompare(c.secret[:], o.secret[:]) == 1
}

// IsZero reports whether c is the zero value (not initialised).
func (c PairCode) IsZero() bool { return isZero(c.prefix[:]) && isZero(c.secret[:]) }

// String returns "crypto.PairCode(REDACTED)"; use Text for the code to show.
func (c PairCode) String() string { return redactedName("PairCode") }

// GoString returns "crypto.PairCode(REDACTED)".
func (c PairCode) GoString() string { return redactedName("PairCode") }

// Format prints "crypto.PairCode(REDACTED)" for every verb.
func (c PairCode) Format(f fmt.State, _ rune) { writeRedacted(f, "PairCode") }

// LogValue makes log/slog print "crypto.PairCode(REDACTED)".
func (c PairCode) LogValue() slog.Value { return redactedLog("PairCode") }
