package client

import (
	"golang.org/x/text/unicode/norm"

	"interlude/crypto"
)

// derivePassphrase is crypto.DeriveFromPassphrase on the NFKC form of the passphrase.
//
// Why: the same passphrase typed on two devices can reach us as different bytes ("é" as
// one code point from one keyboard, "e" plus a combining accent from another), and
// Argon2id sees bytes. Without normalising, a person could be locked out of their own
// journal on a new device by their keyboard. NFKC also folds compatibility forms (full-
// width letters, ligatures), as RFC 8265's OpaqueString profile does for passwords.
func derivePassphrase(passphrase []byte, sk crypto.SecretKey, account crypto.AccountID, p crypto.KDFParams) (*crypto.AccountSecrets, error) {
	// Append into a fresh buffer: norm.NFKC.Bytes returns its input itself when it is
	// already normal, and clearing that would wipe the caller's passphrase.
	normalized := norm.NFKC.Append(nil, passphrase...)
	defer clear(normalized)
	return crypto.DeriveFromPassphrase(normalized, sk, account, p)
}
