package crypto

import (
	"crypto/hpke"
	"encoding/binary"
	"fmt"
)

// Purpose says why an entry key was wrapped to a recipient. It is bound into
// the HPKE info, so a key wrapped for one purpose cannot be presented as
// wrapped for another. Only PurposeShare exists in v1.
type Purpose byte

// PurposeShare marks an entry key wrapped for a person the author shares the
// entry with.
const PurposeShare Purpose = 1

// RecipientWrapSize is the length of a recipient-wrapped entry key:
// version (1) + suite IDs (6) + MLKEM768-X25519 enc (1120) +
// ChaCha20-Poly1305(entry key) (48) = 1175.
const RecipientWrapSize = 1 + 6 + shareEncSize + keySize + tagSize

// WrapForRecipient encrypts ek to the recipient's share public key with
// single-shot HPKE (RFC 9180 base mode, MLKEM768-X25519 / HKDF-SHA256 /
// ChaCha20Poly1305):
//
//	0x01 | KEM ID u16 | KDF ID u16 | AEAD ID u16 | enc (1120) | ct (48)
//	info = "interlude/v1/share-wrap" || 0x01 || record (16) || revision u64 ||
//	       recipient account (16) || purpose (1)
//
// HPKE base mode does not authenticate the sender: anyone can wrap a key to
// anyone. Authenticity comes from the grantor's signature over the grant
// that carries the wrapped key (SignGrant); the info binding stops a wrapped
// key from being moved to another record, revision, recipient or purpose.
func WrapForRecipient(to SharePublicKey, record RecordID, revision uint64, recipient AccountID, purpose Purpose, ek EntryKey) ([]byte, error) {
	if to.IsZero() || ek.IsZero() {
		return nil, fmt.Errorf("crypto: wrap for recipient: %w", ErrZeroKey)
	}
	if purpose != PurposeShare {
		return nil, fmt.Errorf("crypto: wrap for recipient: unknown purpose %d: %w", purpose, ErrMalformed)
	}
	if id := to.pub.KEM().ID(); id != kemID {
		return nil, fmt.Errorf("crypto: wrap for recipient: KEM 0x%04x: %w", id, ErrUnknownVersion)
	}
	ct, err := hpke.Seal(to.pub, shareKDF(), shareAEAD(), shareWrapInfo(record, revision, recipient, purpose), ek.k[:])
	if err != nil {
		return nil, fmt.Errorf("crypto: wrap for recipient: %w", err)
	}
	out := make([]byte, 0, RecipientWrapSize)
	out = append(out, formatVersion)
	out = binary.BigEndian.AppendUint16(out, kemID)
	out = binary.BigEndian.AppendUint16(out, kdfID)
	out = binary.BigEndian.AppendUint16(out, aeadID)
	return append(out, ct...), nil
}

// UnwrapForRecipient reverses WrapForRecipient with the recipient's share
// key. The record, revision, recipient and purpose must be those used to
// wrap, or it fails with ErrDecrypt.
func UnwrapForRecipient(k ShareKey, record RecordID, revision uint64, recipient AccountID, purpose Purpose, wrapped []byte) (EntryKey, error) {
	body, err := parseRecipientWrap(wrapped)
	if err != nil {
		return EntryKey{}, err
	}
	if purpose != PurposeShare {
		return EntryKey{}, fmt.Errorf("crypto: unwrap for recipient: unknown purpose %d: %w", purpose, ErrMalformed)
	}
	if k.IsZero() {
		return EntryKey{}, fmt.Errorf("crypto: unwrap for recipient: %w", ErrZeroKey)
	}
	pt, err := hpke.Open(k.priv, shareKDF(), shareAEAD(), shareWrapInfo(record, revision, recipient, purpose), body)
	if err != nil {
		return EntryKey{}, fmt.Errorf("crypto: unwrap for recipient: %w", ErrDecrypt)
	}
	defer clear(pt)
	return EntryKeyFromBytes(pt)
}

// parseRecipientWrap checks the structure of a recipient-wrapped key and
// returns enc || ct. The suite IDs tell the length of enc; only the v1 suite
// is accepted.
func parseRecipientWrap(b []byte) ([]byte, error) {
	const what = "recipient-wrapped key"
	if err := checkVersion(what, b); err != nil {
		return nil, err
	}
	r := reader{b: b[1:]}
	kem, kdf, aead := r.u16(), r.u16(), r.u16()
	if r.short {
		return nil, r.done(what)
	}
	if kem != kemID || kdf != kdfID || aead != aeadID {
		return nil, fmt.Errorf("crypto: parse %s: HPKE suite KEM 0x%04x, KDF 0x%04x, AEAD 0x%04x (this build reads MLKEM768-X25519 0x647a, HKDF-SHA256 0x0001, ChaCha20Poly1305 0x0003): %w",
			what, kem, kdf, aead, ErrUnknownVersion)
	}
	body := r.take(shareEncSize + keySize + tagSize)
	if err := r.done(what); err != nil {
		return nil, err
	}
	return body, nil
}

func shareWrapInfo(record RecordID, revision uint64, recipient AccountID, purpose Purpose) []byte {
	info := make([]byte, 0, len(labelShareWrap)+1+16+8+16+1)
	info = append(info, labelShareWrap...)
	info = append(info, formatVersion)
	info = append(info, record[:]...)
	info = binary.BigEndian.AppendUint64(info, revision)
	info = append(info, recipient[:]...)
	return append(info, byte(purpose))
}
