package crypto

import (
	"crypto/ed25519"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// SigningKey is an account's long-term Ed25519 identity key. It signs entry
// envelopes, grants and the account's public bundle, each under its own
// Ed25519ctx context, and lives only in the keybag.
type SigningKey struct {
	priv ed25519.PrivateKey // nil in the zero value
}

// SigningPublicKey is an Ed25519 public key. Clients pin it per contact at
// pairing (compare safety codes) and verify envelopes and grants with it.
type SigningPublicKey [ed25519.PublicKeySize]byte

// NewSigningKey returns a fresh Ed25519 key whose seed comes from
// crypto/rand.
func NewSigningKey() SigningKey {
	var seed [ed25519.SeedSize]byte
	randomBytes(seed[:])
	k := SigningKey{priv: ed25519.NewKeyFromSeed(seed[:])}
	clear(seed[:])
	return k
}

// SigningKeyFromSeed returns the Ed25519 key with the given 32-byte seed (the
// RFC 8032 private key). It exists for test vectors and interoperability;
// applications get signing keys from NewIdentity or OpenKeybag.
func SigningKeyFromSeed(seed []byte) (SigningKey, error) {
	if len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("crypto: signing key seed must be %d bytes, got %d: %w", ed25519.SeedSize, len(seed), ErrMalformed)
	}
	return SigningKey{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the public half of k, or the zero SigningPublicKey if k is
// not initialised.
func (k SigningKey) Public() SigningPublicKey {
	var p SigningPublicKey
	if k.priv != nil {
		copy(p[:], k.priv[ed25519.SeedSize:])
	}
	return p
}

// Equal reports whether k and o are the same key, in constant time.
func (k SigningKey) Equal(o SigningKey) bool {
	return k.priv != nil && o.priv != nil && subtle.ConstantTimeCompare(k.priv, o.priv) == 1
}

// IsZero reports whether k is the zero value (not initialised).
func (k SigningKey) IsZero() bool { return k.priv == nil }

// String returns "crypto.SigningKey(REDACTED)".
func (k SigningKey) String() string { return redactedName("SigningKey") }

// GoString returns "crypto.SigningKey(REDACTED)".
func (k SigningKey) GoString() string { return redactedName("SigningKey") }

// Format prints "crypto.SigningKey(REDACTED)" for every verb.
func (k SigningKey) Format(f fmt.State, _ rune) { writeRedacted(f, "SigningKey") }

// LogValue makes log/slog print "crypto.SigningKey(REDACTED)".
func (k SigningKey) LogValue() slog.Value { return redactedLog("SigningKey") }

// seed returns the 32-byte RFC 8032 private key, for the keybag.
func (k SigningKey) seed() []byte { return k.priv.Seed() }

// sign returns the Ed25519ctx signature of msg under context.
//
// Why Ed25519ctx (RFC 8032 section 5.1) rather than plain Ed25519: the same
// identity key signs envelopes, grants and bundles. With a distinct context
// per format, a signature over one kind of object can never be replayed as a
// valid signature over another whose bytes happen to parse, whatever future
// formats look like.
func (k SigningKey) sign(context string, msg []byte) [signatureSize]byte {
	if k.priv == nil {
		panic("crypto: signing with an uninitialised SigningKey") // callers check first
	}
	sig, err := k.priv.Sign(nil, msg, &ed25519.Options{Context: context})
	if err != nil {
		panic("crypto: " + err.Error()) // unreachable: contexts are short constants
	}
	return [signatureSize]byte(sig)
}

// verifySignature checks an Ed25519ctx signature, returning ErrBadSignature
// prefixed with what on failure.
func verifySignature(what string, pub SigningPublicKey, context string, msg []byte, sig *[signatureSize]byte) error {
	if err := ed25519.VerifyWithOptions(pub[:], msg, sig[:], &ed25519.Options{Context: context}); err != nil {
		return fmt.Errorf("crypto: verify %s: %w", what, ErrBadSignature)
	}
	return nil
}
