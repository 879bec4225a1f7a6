package audit

import (
	"encoding/binary"
	"errors"
	"fmt"

	"interlude/crypto"
)

// Sizes of the v1 formats (docs/crypto.md) that crypto does not export.
const (
	nonceSize     = 24 // XChaCha20-Poly1305
	tagSize       = 16 // Poly1305
	signatureSize = 64 // Ed25519
	envelopeHead  = 1 + 16 + 16 + 8 + 32
	keySize       = 32
	// A recipient-wrapped key is 0x01 | KEM u16 | KDF u16 | AEAD u16 | enc | ct(48), and for
	// MLKEM768-X25519 enc is the ML-KEM-768 ciphertext (1088) then the X25519 share (32).
	wrapHead     = 1 + 6
	wrapAEADSize = keySize + tagSize
	wrapEncSize  = crypto.RecipientWrapSize - wrapHead - wrapAEADSize
	mlkemCTSize  = 1088
	// A device label, when a client sends one, is sealed like every other small box:
	// 0x01 | nonce (24) | ciphertext with tag. v1 clients send none (empty).
)

// Grant field offsets: 0x01 | record 16 | revision 8 | grantor 16 | recipient 16 | key hash 32 |
// expires 8 | wrapped length 2 | wrapped | signature 64.
const grantWrappedAt = 1 + 16 + 8 + 16 + 16 + 32 + 8 + 2

// blobParts are the pieces of a stored blob the checks look at.
type blobParts struct {
	nonce []byte // the AEAD nonce, nil if the format has none
	body  []byte // the AEAD output (ciphertext and tag): tested for uniformity and uniqueness
	kem   []byte // the ML-KEM ciphertext of a recipient-wrapped key
	enc   []byte // the whole HPKE encapsulation (ML-KEM ciphertext and X25519 share)
}

var errFormat = errors.New("not in the published format")

// splitEnvelope splits an entry envelope into its fields by the fixed layout, checking the
// version and that a signature and a 16-byte tag fit. It does not require the length to be a
// padding bucket: that is the sizes check's finding, kept apart so that each defect is
// reported by exactly one check. crypto.ParseEnvelope is the strict parser.
func splitEnvelope(b []byte) (*crypto.Envelope, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty envelope: %w", errFormat)
	}
	if b[0] != 0x01 {
		return nil, fmt.Errorf("version byte 0x%02x, want 0x01: %w", b[0], errFormat)
	}
	if len(b) < crypto.EnvelopeOverhead {
		return nil, fmt.Errorf("%d bytes, shorter than the %d bytes of header, nonce, tag and signature: %w",
			len(b), crypto.EnvelopeOverhead, errFormat)
	}
	e := &crypto.Envelope{Version: b[0]}
	copy(e.Record[:], b[1:17])
	copy(e.Author[:], b[17:33])
	e.Revision = binary.BigEndian.Uint64(b[33:41])
	copy(e.KeyCommitment[:], b[41:73])
	copy(e.Nonce[:], b[73:73+nonceSize])
	e.Ciphertext = b[envelopeHead+nonceSize : len(b)-signatureSize]
	copy(e.Signature[:], b[len(b)-signatureSize:])
	return e, nil
}

// envelopeParts returns the nonce and AEAD output of a split envelope.
func envelopeParts(e *crypto.Envelope) blobParts {
	return blobParts{nonce: e.Nonce[:], body: e.Ciphertext}
}

// splitOwnerKey checks a vault-wrapped entry key: 0x01 | nonce (24) | ciphertext (48).
func splitOwnerKey(b []byte) (blobParts, error) {
	if len(b) != crypto.VaultWrapSize {
		return blobParts{}, fmt.Errorf("%d bytes, want %d: %w", len(b), crypto.VaultWrapSize, errFormat)
	}
	if b[0] != 0x01 {
		return blobParts{}, fmt.Errorf("version byte 0x%02x, want 0x01: %w", b[0], errFormat)
	}
	return blobParts{nonce: b[1 : 1+nonceSize], body: b[1+nonceSize:]}, nil
}

// splitKeybag checks a keybag: 0x01 | kind | nonce (24) | ciphertext, of the v1 size, and of
// the kind its column holds.
func splitKeybag(b []byte, kind crypto.KeybagKind) (blobParts, error) {
	if len(b) != crypto.KeybagSize {
		return blobParts{}, fmt.Errorf("%d bytes, want %d: %w", len(b), crypto.KeybagSize, errFormat)
	}
	if b[0] != 0x01 {
		return blobParts{}, fmt.Errorf("version byte 0x%02x, want 0x01: %w", b[0], errFormat)
	}
	if crypto.KeybagKind(b[1]) != kind {
		return blobParts{}, fmt.Errorf("keybag kind %d in a column of kind %d: %w", b[1], kind, errFormat)
	}
	return blobParts{nonce: b[2 : 2+nonceSize], body: b[2+nonceSize:]}, nil
}

// splitLabel checks a device label: empty, or a sealed label of crypto.DeviceLabelSize
// bytes, 0x01 | nonce (24) | ciphertext of the 64-byte padded name and its tag (docs/crypto.md
// section 10.1; a label of another size would say something of the name's length).
func splitLabel(b []byte) (blobParts, bool, error) {
	if len(b) == 0 {
		return blobParts{}, false, nil
	}
	if len(b) != crypto.DeviceLabelSize {
		return blobParts{}, false, fmt.Errorf("%d bytes: a sealed label has %d: %w", len(b), crypto.DeviceLabelSize, errFormat)
	}
	if b[0] != 0x01 {
		return blobParts{}, false, fmt.Errorf("version byte 0x%02x, want 0x01: %w", b[0], errFormat)
	}
	return blobParts{nonce: b[1 : 1+nonceSize], body: b[1+nonceSize:]}, true, nil
}

// grantParts returns the encapsulation and AEAD output of a parsed grant's wrapped key.
func grantParts(g *crypto.Grant) blobParts {
	w := g.WrappedKey
	enc := w[wrapHead : wrapHead+wrapEncSize]
	return blobParts{enc: enc, kem: enc[:mlkemCTSize], body: w[wrapHead+wrapEncSize:]}
}

// isPaddedLength reports whether l is a length crypto.PaddedLength can return: Padmé with
// the 1 KiB floor. PaddedLength(n) = Padmé(max(n+1, 1024)), so l qualifies exactly when
// PaddedLength(l−1) = l.
func isPaddedLength(l int) bool {
	return l >= 1024 && l <= crypto.MaxEnvelopeSize-crypto.EnvelopeOverhead && crypto.PaddedLength(l-1) == l
}

// nearestPadded returns the valid padded lengths just below and above l (below is 0 if none).
func nearestPadded(l int) (below, above int) {
	above = crypto.PaddedLength(max(l-1, 0))
	for x := min(l-1, above-1); x >= 1024; x-- {
		if isPaddedLength(x) {
			return x, above
		}
	}
	return 0, above
}
