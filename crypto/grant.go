package crypto

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// GrantTerms are what a grantor decides when sharing one entry revision.
type GrantTerms struct {
	Record       RecordID
	Revision     uint64
	Recipient    AccountID
	RecipientKey SharePublicKey // the recipient's pinned share key
	Expires      time.Time      // zero = never; stored to the second
}

// Grant is a parsed share grant: the entry key of one revision, wrapped to a
// recipient, signed by the grantor. Layout, all integers big-endian:
//
//	0x01 | record (16) | revision u64 | grantor (16) | recipient (16) |
//	SHA-256(recipient share public key) (32) | expires unix seconds u64
//	(0 = never) | wrapped key length u16 | wrapped key | signature (64)
//
// The signature is Ed25519ctx, context "interlude/v1/grant", over every byte
// before it. The wrapped key is a recipient-wrapped key (1175 bytes).
type Grant struct {
	Version          byte
	Record           RecordID
	Revision         uint64
	Grantor          AccountID
	Recipient        AccountID
	RecipientKeyHash [32]byte
	Expires          time.Time // zero = never
	WrappedKey       []byte
	Signature        [signatureSize]byte
}

// GrantSize is the length of a v1 grant: 1338 bytes.
const GrantSize = 1 + 16 + 8 + 16 + 16 + 32 + 8 + 2 + RecipientWrapSize + signatureSize

// SignGrant wraps ek to terms.RecipientKey (WrapForRecipient with
// PurposeShare) and returns the grant signed by grantor.
//
// Why the grant names the recipient's key by hash and is signed: HPKE base
// mode cannot tell who wrapped a key, so without the signature a server
// could inject "shared" entries; and with the key hash, a recipient whose key
// was substituted by the server refuses the grant instead of trusting it.
func SignGrant(grantor *Identity, terms GrantTerms, ek EntryKey) ([]byte, error) {
	if err := grantor.canSign("sign grant"); err != nil {
		return nil, err
	}
	wrapped, err := WrapForRecipient(terms.RecipientKey, terms.Record, terms.Revision, terms.Recipient, PurposeShare, ek)
	if err != nil {
		return nil, fmt.Errorf("crypto: sign grant: %w", err)
	}
	g := Grant{
		Version:          formatVersion,
		Record:           terms.Record,
		Revision:         terms.Revision,
		Grantor:          grantor.Account,
		Recipient:        terms.Recipient,
		RecipientKeyHash: terms.RecipientKey.Hash(),
		Expires:          terms.Expires,
		WrappedKey:       wrapped,
	}
	body, err := g.body()
	if err != nil {
		return nil, fmt.Errorf("crypto: sign grant: %w", err)
	}
	g.Signature = grantor.Signing.sign(ctxGrant, body)
	return append(body, g.Signature[:]...), nil
}

// ParseGrant checks a grant's structure, including the structure of the
// wrapped key inside, and splits it into fields. It does not verify the
// signature: call Verify with the grantor's pinned key. The returned
// WrappedKey aliases b.
func ParseGrant(b []byte) (*Grant, error) {
	const what = "grant"
	if err := checkVersion(what, b); err != nil {
		return nil, err
	}
	r := reader{b: b}
	g := &Grant{Version: r.u8()}
	r.array16((*[16]byte)(&g.Record))
	g.Revision = r.u64()
	r.array16((*[16]byte)(&g.Grantor))
	r.array16((*[16]byte)(&g.Recipient))
	r.array32(&g.RecipientKeyHash)
	expires := r.u64()
	n := r.u16()
	g.WrappedKey = r.take(int(n))
	r.array64(&g.Signature)
	if err := r.done(what); err != nil {
		return nil, err
	}
	if expires > math.MaxInt64 {
		return nil, fmt.Errorf("crypto: parse %s: expiry %d is out of range: %w", what, expires, ErrMalformed)
	}
	if expires != 0 {
		g.Expires = time.Unix(int64(expires), 0).UTC()
	}
	if _, err := parseRecipientWrap(g.WrappedKey); err != nil {
		return nil, fmt.Errorf("crypto: parse %s: %w", what, err)
	}
	return g, nil
}

// body encodes every field of g before the signature.
func (g *Grant) body() ([]byte, error) {
	var expires uint64
	if !g.Expires.IsZero() {
		s := g.Expires.Unix()
		if s <= 0 {
			return nil, fmt.Errorf("grant expiry %s is not after 1970-01-01 (zero Expires means never): %w", g.Expires, ErrMalformed)
		}
		expires = uint64(s)
	}
	if len(g.WrappedKey) > math.MaxUint16 {
		return nil, fmt.Errorf("grant wrapped key is %d bytes: %w", len(g.WrappedKey), ErrTooLarge)
	}
	b := make([]byte, 0, GrantSize-RecipientWrapSize+len(g.WrappedKey))
	b = append(b, g.Version)
	b = append(b, g.Record[:]...)
	b = binary.BigEndian.AppendUint64(b, g.Revision)
	b = append(b, g.Grantor[:]...)
	b = append(b, g.Recipient[:]...)
	b = append(b, g.RecipientKeyHash[:]...)
	b = binary.BigEndian.AppendUint64(b, expires)
	b = binary.BigEndian.AppendUint16(b, uint16(len(g.WrappedKey)))
	return append(b, g.WrappedKey...), nil
}

// Marshal encodes g. For a grant from ParseGrant it returns exactly the
// parsed bytes. It fails only if a field was set out of range.
func (g *Grant) Marshal() ([]byte, error) {
	b, err := g.body()
	if err != nil {
		return nil, fmt.Errorf("crypto: marshal grant: %w", err)
	}
	return append(b, g.Signature[:]...), nil
}

// Verify checks g's signature under the grantor's pinned signing key. It
// verifies the encoding of g's current fields, so what is verified is what
// the fields say. Verify does not check expiry; see Expired.
func (g *Grant) Verify(grantor SigningPublicKey) error {
	if g.Version != formatVersion {
		return fmt.Errorf("crypto: verify grant: version 0x%02x: %w", g.Version, ErrUnknownVersion)
	}
	body, err := g.body()
	if err != nil {
		return fmt.Errorf("crypto: verify grant: %w", err)
	}
	return verifySignature("grant", grantor, ctxGrant, body, &g.Signature)
}

// Open returns the entry key in g for the account me holding share key k. It
// checks, in order, that g is addressed to me and that the recipient key hash
// is that of k's public key (ErrWrongRecipient for either), then HPKE-opens
// the wrapped key. Open does not verify the signature or the expiry: call
// Verify first, and Expired with the current time.
func (g *Grant) Open(k ShareKey, me AccountID) (EntryKey, error) {
	if g.Version != formatVersion {
		return EntryKey{}, fmt.Errorf("crypto: open grant: version 0x%02x: %w", g.Version, ErrUnknownVersion)
	}
	if subtle.ConstantTimeCompare(g.Recipient[:], me[:]) != 1 {
		return EntryKey{}, fmt.Errorf("crypto: open grant: addressed to account %x, not %x: %w", g.Recipient[:], me[:], ErrWrongRecipient)
	}
	if k.IsZero() {
		return EntryKey{}, fmt.Errorf("crypto: open grant: %w", ErrZeroKey)
	}
	h := sha256.Sum256(k.Public().Bytes())
	if subtle.ConstantTimeCompare(h[:], g.RecipientKeyHash[:]) != 1 {
		return EntryKey{}, fmt.Errorf("crypto: open grant: made for another share key of this account (rotated or substituted); ask the grantor to share again: %w", ErrWrongRecipient)
	}
	ek, err := UnwrapForRecipient(k, g.Record, g.Revision, me, PurposeShare, g.WrappedKey)
	if err != nil {
		return EntryKey{}, fmt.Errorf("crypto: open grant: %w", err)
	}
	return ek, nil
}

// Expired reports whether g has an expiry and now is at or after it. The
// expiry is a policy the grantor asks honest clients and servers to follow;
// it cannot take back a key the recipient has already opened.
func (g *Grant) Expired(now time.Time) bool {
	return !g.Expires.IsZero() && !now.Before(g.Expires)
}
