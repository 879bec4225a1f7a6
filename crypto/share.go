package crypto

import (
	"bytes"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// The one HPKE suite of format v1. Changing it means a new format version.
//
// Why MLKEM768-X25519 (X-Wing, draft-ietf-hpke-pq): shared therapy notes must
// stay confidential for decades, and a ciphertext recorded today could be
// opened by a future quantum computer if it relied on X25519 alone ("harvest
// now, decrypt later"). The hybrid stays secure while either ML-KEM-768 or
// X25519 holds. ChaCha20-Poly1305 matches the rest of the package and is fast
// without AES hardware on phones.
const (
	kemID  = 0x647A // MLKEM768-X25519
	kdfID  = 0x0001 // HKDF-SHA256
	aeadID = 0x0003 // ChaCha20Poly1305

	sharePublicKeySize  = 1216 // MLKEM768-X25519 encapsulation key
	sharePrivateKeySize = 32   // MLKEM768-X25519 serialised private key (a seed)
	shareEncSize        = 1120 // MLKEM768-X25519 encapsulated key
)

func shareKEM() hpke.KEM   { return hpke.MLKEM768X25519() }
func shareKDF() hpke.KDF   { return hpke.HKDFSHA256() }
func shareAEAD() hpke.AEAD { return hpke.ChaCha20Poly1305() }

// ShareKey is an account's HPKE private key (MLKEM768-X25519). Others wrap
// entry keys to its public half when they share with the account. It lives
// only in the keybag.
type ShareKey struct {
	_    [0]func() // not comparable with ==; use Equal, which is constant time
	priv hpke.PrivateKey
}

// SharePublicKey is the public half of a ShareKey (1216 bytes). It is
// published in the account's signed PublicBundle.
type SharePublicKey struct {
	_   [0]func() // not comparable with ==; use Equal
	pub hpke.PublicKey
}

// NewShareKey returns a fresh MLKEM768-X25519 key pair from crypto/rand.
func NewShareKey() (ShareKey, error) {
	priv, err := shareKEM().GenerateKey()
	if err != nil {
		return ShareKey{}, fmt.Errorf("crypto: generate share key: %w", err)
	}
	return ShareKey{priv: priv}, nil
}

// ShareKeyFromBytes returns the ShareKey whose RFC 9180 serialisation
// (SerializePrivateKey, 32 bytes for MLKEM768-X25519) is b. It exists for the
// keybag, test vectors and interoperability.
func ShareKeyFromBytes(b []byte) (ShareKey, error) {
	if len(b) != sharePrivateKeySize {
		return ShareKey{}, fmt.Errorf("crypto: share private key must be %d bytes, got %d: %w", sharePrivateKeySize, len(b), ErrMalformed)
	}
	priv, err := shareKEM().NewPrivateKey(b)
	if err != nil {
		return ShareKey{}, fmt.Errorf("crypto: share private key: %v: %w", err, ErrMalformed)
	}
	return ShareKey{priv: priv}, nil
}

// Public returns the public half of k, or the zero SharePublicKey if k is not
// initialised.
func (k ShareKey) Public() SharePublicKey {
	if k.priv == nil {
		return SharePublicKey{}
	}
	return SharePublicKey{pub: k.priv.PublicKey()}
}

// Equal reports whether k and o are the same key, in constant time.
func (k ShareKey) Equal(o ShareKey) bool {
	if k.priv == nil || o.priv == nil {
		return false
	}
	a, errA := k.priv.Bytes()
	b, errB := o.priv.Bytes()
	return errA == nil && errB == nil && subtle.ConstantTimeCompare(a, b) == 1
}

// IsZero reports whether k is the zero value (not initialised).
func (k ShareKey) IsZero() bool { return k.priv == nil }

// String returns "crypto.ShareKey(REDACTED)".
func (k ShareKey) String() string { return redactedName("ShareKey") }

// GoString returns "crypto.ShareKey(REDACTED)".
func (k ShareKey) GoString() string { return redactedName("ShareKey") }

// Format prints "crypto.ShareKey(REDACTED)" for every verb.
func (k ShareKey) Format(f fmt.State, _ rune) { writeRedacted(f, "ShareKey") }

// LogValue makes log/slog print "crypto.ShareKey(REDACTED)".
func (k ShareKey) LogValue() slog.Value { return redactedLog("ShareKey") }

// bytes returns a copy of the RFC 9180 serialisation of k, for the keybag.
// Why a copy: crypto/hpke's hybrid PrivateKey.Bytes returns its internal
// seed slice, so clearing or changing the result would corrupt the key.
func (k ShareKey) bytes() ([]byte, error) {
	b, err := k.priv.Bytes()
	return bytes.Clone(b), err
}

// ParseSharePublicKey parses a 1216-byte MLKEM768-X25519 public key as
// returned by SharePublicKey.Bytes.
func ParseSharePublicKey(b []byte) (SharePublicKey, error) {
	if len(b) != sharePublicKeySize {
		return SharePublicKey{}, fmt.Errorf("crypto: share public key must be %d bytes, got %d: %w", sharePublicKeySize, len(b), ErrMalformed)
	}
	pub, err := shareKEM().NewPublicKey(b)
	if err != nil {
		return SharePublicKey{}, fmt.Errorf("crypto: share public key: %v: %w", err, ErrMalformed)
	}
	return SharePublicKey{pub: pub}, nil
}

// Bytes returns the 1216-byte encoding of p, or nil for the zero value.
func (p SharePublicKey) Bytes() []byte {
	if p.pub == nil {
		return nil
	}
	return p.pub.Bytes()
}

// Equal reports whether p and o are the same public key.
func (p SharePublicKey) Equal(o SharePublicKey) bool {
	return p.pub != nil && o.pub != nil && bytes.Equal(p.pub.Bytes(), o.pub.Bytes())
}

// IsZero reports whether p is the zero value.
func (p SharePublicKey) IsZero() bool { return p.pub == nil }

// Hash returns SHA-256 of p.Bytes(), the form in which grants name the
// recipient's key.
func (p SharePublicKey) Hash() [32]byte { return sha256.Sum256(p.Bytes()) }

// String returns "crypto.SharePublicKey(" + the first 8 bytes of Hash in hex
// + ")": enough to tell keys apart in logs without printing 1216 bytes.
func (p SharePublicKey) String() string {
	if p.pub == nil {
		return "crypto.SharePublicKey(zero)"
	}
	h := p.Hash()
	return fmt.Sprintf("crypto.SharePublicKey(%x)", h[:8])
}
