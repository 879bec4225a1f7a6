package crypto

import "errors"

// Sentinel errors. Every error this package returns wraps exactly one of these
// (test with errors.Is), after a prefix naming the operation and, where it
// helps, what was found. Callers may show the wrapped text in local logs; over
// the network, decryption and signature failures should be reported with one
// uninformative code.
var (
	// ErrTruncated means the input ended before its format says it should.
	ErrTruncated = errors.New("input is truncated: it was cut short in storage or transit; fetch it again")

	// ErrTrailingData means bytes follow the end of a well-formed input.
	ErrTrailingData = errors.New("unexpected bytes after the end of the input: it was altered or concatenated with something else")

	// ErrUnknownVersion means a version byte, KEM or HPKE suite this build
	// does not know.
	ErrUnknownVersion = errors.New("unknown format version or suite: made by a newer or different Interlude; update the app")

	// ErrBadSignature means an Ed25519 signature did not verify under the
	// expected key: the bytes were altered or were not made by that key.
	ErrBadSignature = errors.New("signature does not verify: the data was altered or not made by the expected key; do not trust it")

	// ErrDecrypt means an AEAD or HPKE open failed: wrong key, or the
	// ciphertext or its bound context (record, revision, account, purpose,
	// parameters) was altered.
	ErrDecrypt = errors.New("decryption failed: wrong key, or the ciphertext or its context was altered")

	// ErrKeyCommitment means an entry key does not match the commitment in a
	// correctly signed envelope: the key belongs to another entry or revision.
	ErrKeyCommitment = errors.New("entry key does not match the envelope's key commitment: the key belongs to another entry or revision")

	// ErrWrongRecipient means a grant or keybag is for a different account or
	// a different share key than the one offered.
	ErrWrongRecipient = errors.New("addressed to a different account or key: this is not yours to open, or your share key has changed")

	// ErrWeakKDFParams means Argon2id parameters below MinKDFParams. Treat it
	// as a downgrade attempt by whoever supplied the parameters.
	ErrWeakKDFParams = errors.New("key derivation parameters are below the minimum (memory 19 MiB, time 2, threads 1): possible downgrade by the server; do not continue")

	// ErrTooLarge means a plaintext, envelope or parameter above its maximum.
	ErrTooLarge = errors.New("too large: above the maximum for this format or parameter")

	// ErrMalformed means an input that is structurally invalid in a way not
	// covered above: bad padding, a bad check character, an invalid key
	// encoding, a field out of range.
	ErrMalformed = errors.New("malformed input")

	// ErrZeroKey means a key or identity was used without being initialised
	// (its zero value). Create keys with the New functions or load them from
	// a keybag.
	ErrZeroKey = errors.New("key is not initialised (zero value): create it with a New function or load it from a keybag")
)
