package crypto

import (
	"crypto/cipher"
	"crypto/rand"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	keySize       = 32 // every symmetric key in this package
	nonceSize     = chacha20poly1305.NonceSizeX
	tagSize       = chacha20poly1305.Overhead
	signatureSize = 64
)

// newXAEAD returns XChaCha20-Poly1305 under key. XChaCha is used everywhere
// rather than ChaCha20-Poly1305 or AES-GCM because its 192-bit nonce can be
// drawn at random with no counter state to keep across devices and restores:
// the chance of a repeat stays negligible for any number of messages.
func newXAEAD(key *[keySize]byte) cipher.AEAD {
	a, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		// Unreachable: the key is a fixed-size array of the right length.
		panic("crypto: " + err.Error())
	}
	return a
}

// sealX appends nonce || XChaCha20-Poly1305(key, plaintext, aad) to dst with
// a fresh random nonce.
func sealX(dst []byte, key *[keySize]byte, aad, plaintext []byte) []byte {
	var nonce [nonceSize]byte
	randomBytes(nonce[:])
	dst = append(dst, nonce[:]...)
	return newXAEAD(key).Seal(dst, nonce[:], plaintext, aad)
}

// randomBytes fills b from crypto/rand. Since Go 1.24 rand.Read never returns
// an error (it crashes the program if the OS source fails), so the check
// below is only a guard against that contract changing.
func randomBytes(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("crypto: reading randomness: " + err.Error())
	}
}
