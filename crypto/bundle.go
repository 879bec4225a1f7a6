package crypto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// PublicBundle is an account's public identity as published through the
// server: account ID, signing public key and share public key, self-signed
// with the signing key. A parsed PublicBundle's signature has been verified.
//
// A valid self-signature proves only that the bundle is internally
// consistent, not that it belongs to the person you think: the server could
// make its own. Trust comes from pinning the Fingerprint at pairing, when both
// people compare PairSafetyCode aloud.
//
// Layout:
//
//	0x01 | account (16) | signing public key (32) | KEM ID u16 |
//	share public key length u16 | share public key | signature (64)
type PublicBundle struct {
	Account AccountID
	Signing SigningPublicKey
	Share   SharePublicKey

	sig [signatureSize]byte // kept so Bytes can re-encode the bundle
}

// PublicBundleSize is the length of a v1 public bundle: 1333 bytes.
const PublicBundleSize = 1 + 16 + ed25519.PublicKeySize + 2 + 2 + sharePublicKeySize + signatureSize

// PublicBundle returns the signed public bundle of id. It panics if id's
// signing or share key is not initialised, which only a programming error can
// cause (identities come from NewIdentity or OpenKeybag).
func (id *Identity) PublicBundle() []byte {
	if id == nil || id.Signing.IsZero() || id.Share.IsZero() {
		panic("crypto: PublicBundle of an uninitialised Identity")
	}
	p := PublicBundle{Account: id.Account, Signing: id.Signing.Public(), Share: id.Share.Public()}
	body := p.appendBody(make([]byte, 0, PublicBundleSize))
	p.sig = id.Signing.sign(ctxPublicBundle, body)
	return append(body, p.sig[:]...)
}

// Fingerprint returns the fingerprint of id's public bundle.
func (id *Identity) Fingerprint() Fingerprint {
	return (&PublicBundle{Account: id.Account, Signing: id.Signing.Public(), Share: id.Share.Public()}).Fingerprint()
}

func (p *PublicBundle) appendBody(b []byte) []byte {
	share := p.Share.Bytes()
	b = append(b, formatVersion)
	b = append(b, p.Account[:]...)
	b = append(b, p.Signing[:]...)
	b = binary.BigEndian.AppendUint16(b, kemID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(share)))
	return append(b, share...)
}

// ParsePublicBundle parses a public bundle and verifies its self-signature
// (Ed25519ctx, context "interlude/v1/public-bundle", over every byte before
// the signature). Only the v1 KEM (MLKEM768-X25519, 0x647A) is accepted.
func ParsePublicBundle(b []byte) (*PublicBundle, error) {
	const what = "public bundle"
	if err := checkVersion(what, b); err != nil {
		return nil, err
	}
	r := reader{b: b[1:]}
	var p PublicBundle
	r.array16((*[16]byte)(&p.Account))
	r.array32((*[32]byte)(&p.Signing))
	kem := r.u16()
	if !r.short && kem != kemID {
		return nil, fmt.Errorf("crypto: parse %s: KEM 0x%04x (this build reads MLKEM768-X25519, 0x647a): %w", what, kem, ErrUnknownVersion)
	}
	n := r.u16()
	if !r.short && n != sharePublicKeySize {
		return nil, fmt.Errorf("crypto: parse %s: share key length %d, want %d: %w", what, n, sharePublicKeySize, ErrMalformed)
	}
	shareBytes := r.take(int(n))
	r.array64(&p.sig)
	if err := r.done(what); err != nil {
		return nil, err
	}
	share, err := ParseSharePublicKey(shareBytes)
	if err != nil {
		return nil, fmt.Errorf("crypto: parse %s: %w", what, err)
	}
	p.Share = share
	if err := verifySignature(what, p.Signing, ctxPublicBundle, b[:len(b)-signatureSize], &p.sig); err != nil {
		return nil, err
	}
	return &p, nil
}

// Bytes re-encodes p with the signature it was parsed with. For a bundle
// from ParsePublicBundle this is exactly the input.
func (p *PublicBundle) Bytes() []byte {
	b := p.appendBody(make([]byte, 0, PublicBundleSize))
	return append(b, p.sig[:]...)
}

// Fingerprint returns SHA-256("interlude/v1/fingerprint" || account ||
// signing public key || KEM ID u16 || share public key). The fingerprint
// covers the share key as well as the signing key, so a pinned fingerprint
// also pins the key that others encrypt to; rotating the share key changes
// the fingerprint.
func (p *PublicBundle) Fingerprint() Fingerprint {
	h := sha256.New()
	h.Write([]byte(labelFingerprint))
	h.Write(p.Account[:])
	h.Write(p.Signing[:])
	h.Write(binary.BigEndian.AppendUint16(nil, kemID))
	h.Write(p.Share.Bytes())
	return Fingerprint(h.Sum(nil))
}
