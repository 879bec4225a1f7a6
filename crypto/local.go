package crypto

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// ProfileKey is the 32-byte key of a device's local profile (the at-rest
// secrets a device keeps between unlocks). It is derived together with the
// keybag key (AccountSecrets.ProfileKey), so one Argon2id run unlocks both,
// and it is a separate type from KeybagKey so the two roles cannot be mixed
// up.
type ProfileKey struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	k [keySize]byte
}

// ProfileKeyFromBytes returns the ProfileKey with the given 32 bytes, for
// test vectors and interoperability.
func ProfileKeyFromBytes(b []byte) (ProfileKey, error) {
	var k ProfileKey
	if err := keyFromBytes("profile key", k.k[:], b); err != nil {
		return ProfileKey{}, err
	}
	return k, nil
}

// Equal reports whether k and o are the same key, in constant time.
func (k ProfileKey) Equal(o ProfileKey) bool { return subtle.ConstantTimeCompare(k.k[:], o.k[:]) == 1 }

// IsZero reports whether k is the zero value (not initialised).
func (k ProfileKey) IsZero() bool { return isZero(k.k[:]) }

// String returns "crypto.ProfileKey(REDACTED)".
func (k ProfileKey) String() string { return redactedName("ProfileKey") }

// GoString returns "crypto.ProfileKey(REDACTED)".
func (k ProfileKey) GoString() string { return redactedName("ProfileKey") }

// Format prints "crypto.ProfileKey(REDACTED)" for every verb.
func (k ProfileKey) Format(f fmt.State, _ rune) { writeRedacted(f, "ProfileKey") }

// LogValue makes log/slog print "crypto.ProfileKey(REDACTED)".
func (k ProfileKey) LogValue() slog.Value { return redactedLog("ProfileKey") }

// LocalOverhead is the size SealLocal adds: version (1) + nonce (24) + tag (16).
const LocalOverhead = 1 + nonceSize + tagSize

// SealLocal encrypts a local at-rest secret under a profile key:
//
//	0x01 | nonce (24) | XChaCha20-Poly1305(k, plaintext, aad)
//	aad = "interlude/v1/local" || 0x01 || label
//
// label names what is sealed (e.g. "device-key", "session-token") so a box
// cannot be opened as something else; it must not be empty. Local boxes are
// not padded.
func SealLocal(k ProfileKey, label string, plaintext []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("crypto: seal local: %w", ErrZeroKey)
	}
	if label == "" {
		return nil, fmt.Errorf("crypto: seal local: empty label: %w", ErrMalformed)
	}
	out := make([]byte, 1, LocalOverhead+len(plaintext))
	out[0] = formatVersion
	return sealX(out, &k.k, localAAD(label), plaintext), nil
}

// OpenLocal reverses SealLocal. A wrong key or label, or any altered byte,
// gives ErrDecrypt.
func OpenLocal(k ProfileKey, label string, sealed []byte) ([]byte, error) {
	const what = "local box"
	if err := checkVersion(what, sealed); err != nil {
		return nil, err
	}
	if len(sealed) < LocalOverhead {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes: %w", what, len(sealed), ErrTruncated)
	}
	if k.IsZero() {
		return nil, fmt.Errorf("crypto: open local: %w", ErrZeroKey)
	}
	pt, err := newXAEAD(&k.k).Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], localAAD(label))
	if err != nil {
		return nil, fmt.Errorf("crypto: open local %q: %w", label, ErrDecrypt)
	}
	return pt, nil
}

func localAAD(label string) []byte {
	aad := make([]byte, 0, len(labelLocal)+1+len(label))
	aad = append(aad, labelLocal...)
	aad = append(aad, formatVersion)
	return append(aad, label...)
}
