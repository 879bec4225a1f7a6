package crypto

import (
	"encoding/binary"
	"fmt"
)

// Deletion is an author's signed statement that a record is deleted as of a revision.
// Layout, all integers big-endian:
//
//	0x01 | record (16) | author account (16) | revision u64 | signature (64)
//
// The signature is Ed25519ctx, context "interlude/v1/deletion", over the 41 bytes before it.
//
// Why deletions are signed: a deletion makes every device, and every grantee, drop its
// copy of an entry. Unsigned, a malicious server could erase a person's journal from all
// their devices at once; signed, it can only withhold data, never destroy it.
type Deletion struct {
	Version   byte
	Record    RecordID
	Author    AccountID
	Revision  uint64
	Signature [signatureSize]byte
}

// DeletionSize is the length of a v1 deletion statement: 105 bytes.
const DeletionSize = 1 + 16 + 16 + 8 + signatureSize

// SignDeletion returns author's signed statement that record is deleted at revision (the
// revision the deletion creates, one above the last content revision).
func SignDeletion(author *Identity, record RecordID, revision uint64) ([]byte, error) {
	if err := author.canSign("sign deletion"); err != nil {
		return nil, err
	}
	d := Deletion{Version: formatVersion, Record: record, Author: author.Account, Revision: revision}
	body := d.body()
	d.Signature = author.Signing.sign(ctxDeletion, body[:])
	return append(body[:], d.Signature[:]...), nil
}

// ParseDeletion checks a deletion statement's structure and splits it into fields. It
// does not verify the signature: call Verify with the author's pinned key.
func ParseDeletion(b []byte) (*Deletion, error) {
	const what = "deletion"
	if err := checkVersion(what, b); err != nil {
		return nil, err
	}
	if len(b) < DeletionSize {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes, want %d: %w", what, len(b), DeletionSize, ErrTruncated)
	}
	if len(b) > DeletionSize {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes, want %d: %w", what, len(b), DeletionSize, ErrTrailingData)
	}
	r := reader{b: b}
	d := &Deletion{Version: r.u8()}
	r.array16((*[16]byte)(&d.Record))
	r.array16((*[16]byte)(&d.Author))
	d.Revision = r.u64()
	r.array64(&d.Signature)
	if err := r.done(what); err != nil {
		return nil, err
	}
	return d, nil
}

// Verify checks the statement's signature under author.
func (d *Deletion) Verify(author SigningPublicKey) error {
	if d.Version != formatVersion {
		return fmt.Errorf("crypto: verify deletion: version 0x%02x: %w", d.Version, ErrUnknownVersion)
	}
	body := d.body()
	return verifySignature("deletion", author, ctxDeletion, body[:], &d.Signature)
}

// Marshal encodes d.
func (d *Deletion) Marshal() []byte {
	body := d.body()
	return append(body[:], d.Signature[:]...)
}

func (d *Deletion) body() [DeletionSize - signatureSize]byte {
	var b [DeletionSize - signatureSize]byte
	b[0] = d.Version
	copy(b[1:17], d.Record[:])
	copy(b[17:33], d.Author[:])
	binary.BigEndian.PutUint64(b[33:41], d.Revision)
	return b
}
