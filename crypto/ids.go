package crypto

// AccountID identifies an account: 16 random bytes, opaque to this package.
// It appears in envelopes, grants, bundles and derivation salts.
type AccountID [16]byte

// RecordID identifies a record: the 16 bytes of a ULID made by the client,
// opaque to this package. It is bound into every envelope, wrapped key and
// grant, so ciphertexts cannot be moved between records.
type RecordID [16]byte

// NewAccountID returns a fresh random AccountID from crypto/rand.
func NewAccountID() AccountID {
	var a AccountID
	randomBytes(a[:])
	return a
}
