// Package crypto holds every key, byte format and cryptographic operation of
// Interlude: entry envelopes, entry-key wrapping for the owner's vault and for
// recipients, signed share grants, signed public key bundles and safety codes,
// the passphrase + Secret Key derivation, recovery codes, and keybags.
//
// The package imports nothing of ours and uses only standard constructions:
// XChaCha20-Poly1305, Ed25519ctx, HPKE (RFC 9180) with the hybrid
// post-quantum KEM MLKEM768-X25519, HKDF-SHA256, SHA-256 and Argon2id.
// The specification, with every byte format, label and design reason, is
// docs/crypto.md; test vectors are in testdata/vectors.json.
//
// # Key hierarchy in brief
//
//	passphrase + Secret Key ──Argon2id, HKDF──► keybag key, login key, profile key
//	recovery code ───────────────HKDF─────────► recovery keybag key, login key, profile key
//	keybag (sealed by a keybag key) ──► vault key, signing key, share key
//	vault key ──wraps──► entry keys (one fresh key per entry revision)
//	share key ◄──HPKE── entry keys wrapped by whoever shares with this account
//
// # Formats in brief
//
// All integers are big-endian and every format starts with the version byte
// 0x01. An entry envelope is
//
//	0x01 | record ID (16) | author account ID (16) | revision (8) |
//	key commitment (32) | nonce (24) | ciphertext (padded + 16) | signature (64)
//
// where the first 73 bytes are the AEAD additional data and the Ed25519ctx
// signature (context "interlude/v1/envelope") covers every byte before it.
// A 1-byte plaintext therefore becomes a 1201-byte envelope:
// [EnvelopeOverhead] + [PaddedLength](1).
//
// # Secrets and printing
//
// Secret types (VaultKey, EntryKey, SigningKey, ShareKey, KeybagKey,
// ProfileKey, SecretKey, RecoveryCode, AccountSecrets and Identity) print as
// "crypto.T(REDACTED)" under every fmt verb and in log/slog, cannot be
// compared with ==, and compare in constant time with their Equal methods.
//
// Randomness comes only from crypto/rand, so tests make it deterministic
// with testing/cryptotest.SetGlobalRandom.
package crypto
