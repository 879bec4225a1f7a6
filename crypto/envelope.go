package crypto

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

const (
	// envelopeHeaderSize is version(1) + record(16) + author(16) +
	// revision(8) + key commitment(32): the AEAD additional data.
	envelopeHeaderSize = 1 + 16 + 16 + 8 + 32

	// EnvelopeOverhead is the envelope size minus the padded plaintext:
	// header (73) + nonce (24) + Poly1305 tag (16) + signature (64) = 177.
	// An envelope is EnvelopeOverhead + PaddedLength(len(plaintext)) bytes.
	EnvelopeOverhead = envelopeHeaderSize + nonceSize + tagSize + signatureSize

	// MaxPlaintext is the largest plaintext SealEntry accepts: 1 MiB.
	// Attachments are expected to be chunked above the crypto layer.
	MaxPlaintext = 1 << 20

	// MaxEnvelopeSize is the largest valid envelope:
	// EnvelopeOverhead + PaddedLength(MaxPlaintext) = 177 + 1081344.
	MaxEnvelopeSize = EnvelopeOverhead + 1081344

	// MinEnvelopeSize is the smallest valid envelope: EnvelopeOverhead + 1024.
	MinEnvelopeSize = EnvelopeOverhead + padFloor
)

// Envelope is the parsed structure of an entry envelope, readable without
// any key (the audit tool uses it). Layout, all integers big-endian:
//
//	0x01 | record ID (16) | author account ID (16) | revision u64 (8) |
//	key commitment (32) | nonce (24) | ciphertext (padded plaintext + 16) |
//	signature (64)
//
// The first 73 bytes are the header and the AEAD additional data. The
// signature is Ed25519ctx with context "interlude/v1/envelope" over every
// byte before it.
type Envelope struct {
	Version       byte
	Record        RecordID
	Author        AccountID
	Revision      uint64
	KeyCommitment [32]byte
	Nonce         [nonceSize]byte
	Ciphertext    []byte // padded plaintext + 16-byte Poly1305 tag
	Signature     [signatureSize]byte
}

// OpenedEntry is a decrypted, verified entry.
type OpenedEntry struct {
	Record    RecordID
	Author    AccountID
	Revision  uint64
	Plaintext []byte
}

// SealEntry encrypts plaintext as revision of record, authored and signed by
// author, under a fresh random entry key, which it returns for wrapping
// (WrapForVault, SignGrant). The plaintext is padded to PaddedLength bytes
// and must be at most MaxPlaintext bytes (ErrTooLarge).
//
// Why one fresh key per revision: it can be shared revision by revision, and
// no nonce is ever reused under a key.
func SealEntry(author *Identity, record RecordID, revision uint64, plaintext []byte) (envelope []byte, key EntryKey, err error) {
	if err := author.canSign("seal entry"); err != nil {
		return nil, EntryKey{}, err
	}
	if len(plaintext) > MaxPlaintext {
		return nil, EntryKey{}, fmt.Errorf("crypto: seal entry: plaintext is %d bytes, the maximum is %d; split it: %w", len(plaintext), MaxPlaintext, ErrTooLarge)
	}
	key = NewEntryKey()
	e := Envelope{Version: formatVersion, Record: record, Author: author.Account, Revision: revision, KeyCommitment: key.commitment()}
	header := e.header()
	padded := pad(plaintext)
	out := make([]byte, 0, EnvelopeOverhead+len(padded))
	out = append(out, header[:]...)
	out = sealX(out, &key.k, header[:], padded)
	clear(padded)
	sig := author.Signing.sign(ctxEnvelope, out)
	return append(out, sig[:]...), key, nil
}

// OpenEntry verifies and decrypts an envelope. author is the signing key the
// caller trusts for the envelope's author: look it up by
// ParseEnvelope(envelope).Author among pinned keys, never take it from the
// server unverified. The order of checks is: parse, verify the signature,
// compare the key commitment (constant time), AEAD open with the header as
// additional data, unpad.
//
// Why signature first: a forged or altered envelope is rejected before any
// secret key touches it, and the key commitment read next is then the
// author's, not an attacker's.
func OpenEntry(envelope []byte, key EntryKey, author SigningPublicKey) (*OpenedEntry, error) {
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	// Parsing is strict, so envelope is exactly e's encoding; verify the
	// input bytes directly instead of re-encoding them.
	if err := verifySignature("envelope", author, ctxEnvelope, envelope[:len(envelope)-signatureSize], &e.Signature); err != nil {
		return nil, err
	}
	c := key.commitment()
	if subtle.ConstantTimeCompare(c[:], e.KeyCommitment[:]) != 1 {
		return nil, fmt.Errorf("crypto: open entry: %w", ErrKeyCommitment)
	}
	header := e.header()
	padded, err := newXAEAD(&key.k).Open(nil, e.Nonce[:], e.Ciphertext, header[:])
	if err != nil {
		return nil, fmt.Errorf("crypto: open entry: %w", ErrDecrypt)
	}
	plaintext, err := unpad(padded)
	if err != nil {
		return nil, fmt.Errorf("crypto: open entry: %w", err)
	}
	return &OpenedEntry{Record: e.Record, Author: e.Author, Revision: e.Revision, Plaintext: plaintext}, nil
}

// ParseEnvelope checks an envelope's structure and splits it into fields,
// without any key. Besides the version, it checks that the ciphertext length
// is a padded length (PaddedLength) plus the tag. Because the envelope has no
// length field, a length that misses a padded length reports ErrTruncated if
// it is nearer the padded length above, ErrTrailingData if nearer the one
// below. The returned Ciphertext aliases b.
func ParseEnvelope(b []byte) (*Envelope, error) {
	const what = "envelope"
	if err := checkVersion(what, b); err != nil {
		return nil, err
	}
	if len(b) < MinEnvelopeSize {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes, the minimum is %d: %w", what, len(b), MinEnvelopeSize, ErrTruncated)
	}
	if len(b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes, the maximum is %d: %w", what, len(b), MaxEnvelopeSize, ErrTooLarge)
	}
	ctLen := len(b) - EnvelopeOverhead + tagSize
	if l := ctLen - tagSize; !isPaddedLength(l) {
		lower, upper := padLowerBucket(l), padme(l)
		if l-lower <= upper-l {
			return nil, fmt.Errorf("crypto: parse %s: padded length %d is %d bytes past the valid length %d: %w", what, l, l-lower, lower, ErrTrailingData)
		}
		return nil, fmt.Errorf("crypto: parse %s: padded length %d is %d bytes short of the valid length %d: %w", what, l, upper-l, upper, ErrTruncated)
	}
	r := reader{b: b}
	e := &Envelope{Version: r.u8()}
	r.array16((*[16]byte)(&e.Record))
	r.array16((*[16]byte)(&e.Author))
	e.Revision = r.u64()
	r.array32(&e.KeyCommitment)
	r.array24(&e.Nonce)
	e.Ciphertext = r.take(ctLen)
	r.array64(&e.Signature)
	if err := r.done(what); err != nil {
		return nil, err // unreachable: the length was checked above
	}
	return e, nil
}

// header returns the 73-byte header, which is also the AEAD additional data:
// it binds the ciphertext to its version, record, author, revision and key
// commitment, so it cannot be moved to another record, author or revision.
func (e *Envelope) header() [envelopeHeaderSize]byte {
	var h [envelopeHeaderSize]byte
	h[0] = e.Version
	copy(h[1:17], e.Record[:])
	copy(h[17:33], e.Author[:])
	binary.BigEndian.PutUint64(h[33:41], e.Revision)
	copy(h[41:73], e.KeyCommitment[:])
	return h
}

// Marshal encodes e. For an envelope from ParseEnvelope it returns exactly
// the parsed bytes.
func (e *Envelope) Marshal() []byte {
	h := e.header()
	out := make([]byte, 0, EnvelopeOverhead-tagSize+len(e.Ciphertext))
	out = append(out, h[:]...)
	out = append(out, e.Nonce[:]...)
	out = append(out, e.Ciphertext...)
	return append(out, e.Signature[:]...)
}

// VerifySignature checks e's signature under author. It verifies the
// encoding of e's current fields, so what is verified is what the fields say.
func (e *Envelope) VerifySignature(author SigningPublicKey) error {
	if e.Version != formatVersion {
		return fmt.Errorf("crypto: verify envelope: version 0x%02x: %w", e.Version, ErrUnknownVersion)
	}
	b := e.Marshal()
	return verifySignature("envelope", author, ctxEnvelope, b[:len(b)-signatureSize], &e.Signature)
}
