package crypto

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"

	"golang.org/x/crypto/argon2"
)

// KeybagKey is a 32-byte key that seals and opens a keybag. It is derived,
// never stored: from the passphrase and Secret Key (DeriveFromPassphrase) or
// from the recovery code (DeriveFromRecoveryCode).
type KeybagKey struct {
	_ [0]func() // not comparable with ==; use Equal, which is constant time
	k [keySize]byte
}

// KeybagKeyFromBytes returns the KeybagKey with the given 32 bytes, for test
// vectors and interoperability.
func KeybagKeyFromBytes(b []byte) (KeybagKey, error) {
	var k KeybagKey
	if err := keyFromBytes("keybag key", k.k[:], b); err != nil {
		return KeybagKey{}, err
	}
	return k, nil
}

// Equal reports whether k and o are the same key, in constant time.
func (k KeybagKey) Equal(o KeybagKey) bool { return subtle.ConstantTimeCompare(k.k[:], o.k[:]) == 1 }

// IsZero reports whether k is the zero value (not initialised).
func (k KeybagKey) IsZero() bool { return isZero(k.k[:]) }

// String returns "crypto.KeybagKey(REDACTED)".
func (k KeybagKey) String() string { return redactedName("KeybagKey") }

// GoString returns "crypto.KeybagKey(REDACTED)".
func (k KeybagKey) GoString() string { return redactedName("KeybagKey") }

// Format prints "crypto.KeybagKey(REDACTED)" for every verb.
func (k KeybagKey) Format(f fmt.State, _ rune) { writeRedacted(f, "KeybagKey") }

// LogValue makes log/slog print "crypto.KeybagKey(REDACTED)".
func (k KeybagKey) LogValue() slog.Value { return redactedLog("KeybagKey") }

// AccountSecrets are the keys one derivation yields: the keybag key, the
// login key (an Ed25519 key whose public half the server stores and uses to
// check login challenges) and, through ProfileKey, the key of this device's
// local profile. Login is an ed25519.PrivateKey, a plain byte slice: do not
// print it on its own (AccountSecrets itself prints redacted).
type AccountSecrets struct {
	KeybagKey KeybagKey
	Login     ed25519.PrivateKey

	profile ProfileKey
}

// LoginPublic returns the public half of the login key, which the server
// stores at sign-up and uses to verify login challenges. It cannot be
// inverted to guess the passphrase without the Secret Key.
func (s *AccountSecrets) LoginPublic() ed25519.PublicKey {
	return s.Login.Public().(ed25519.PublicKey)
}

// ProfileKey returns the key of this device's local profile (SealLocal,
// OpenLocal), derived in the same run as the keybag key so that one Argon2id
// run unlocks both. Passphrase and recovery derivations yield different
// profile keys, so after a recovery the device's local profile must be
// rebuilt (for example from the server) under the new passphrase.
func (s *AccountSecrets) ProfileKey() ProfileKey { return s.profile }

// String returns "crypto.AccountSecrets(REDACTED)". Value receivers make
// AccountSecrets and *AccountSecrets both redact.
func (s AccountSecrets) String() string { return redactedName("AccountSecrets") }

// GoString returns "crypto.AccountSecrets(REDACTED)".
func (s AccountSecrets) GoString() string { return redactedName("AccountSecrets") }

// Format prints "crypto.AccountSecrets(REDACTED)" for every verb.
func (s AccountSecrets) Format(f fmt.State, _ rune) { writeRedacted(f, "AccountSecrets") }

// LogValue makes log/slog print "crypto.AccountSecrets(REDACTED)".
func (s AccountSecrets) LogValue() slog.Value { return redactedLog("AccountSecrets") }

// DeriveFromPassphrase runs the two-secret key derivation:
//
//	stretched = Argon2id(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, 32)
//	master    = HKDF-Extract(SHA-256, salt = "interlude/v1/2skd" || account,
//	                         ikm = stretched || Secret Key bytes)
//	keybag key = HKDF-Expand(master, "interlude/v1/keybag-key", 32)
//	login key  = Ed25519 from seed HKDF-Expand(master, "interlude/v1/login-key", 32)
//	profile key = HKDF-Expand(master, "interlude/v1/local-profile", 32)
//
// It refuses parameters below MinKDFParams (ErrWeakKDFParams) or above
// MaxKDFParams (ErrTooLarge), an empty passphrase (ErrMalformed) and an
// uninitialised Secret Key (ErrZeroKey). The passphrase is used as given:
// callers should apply Unicode NFKC normalisation first, so the same
// passphrase typed on two keyboards gives the same bytes.
//
// Why the account ID in the salt: two accounts with the same passphrase and
// (improbably) the same Secret Key still get unrelated keys, and keys cannot
// be transplanted between accounts.
func DeriveFromPassphrase(passphrase []byte, sk SecretKey, account AccountID, p KDFParams) (*AccountSecrets, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("crypto: derive from passphrase: %w", err)
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("crypto: derive from passphrase: empty passphrase: %w", ErrMalformed)
	}
	if sk.IsZero() {
		return nil, fmt.Errorf("crypto: derive from passphrase: secret key: %w", ErrZeroKey)
	}
	stretched := argon2.IDKey(passphrase, p.Salt[:], p.Time, p.MemoryKiB, p.Threads, keySize)
	ikm := make([]byte, 0, keySize+secretKeySize)
	ikm = append(append(ikm, stretched...), sk.b[:]...)
	clear(stretched)
	defer clear(ikm)
	salt := append([]byte(label2SKD), account[:]...)
	return secretsFromIKM(ikm, salt, labelKeybagKey, labelLoginKey, labelLocalProfile), nil
}

// DeriveFromRecoveryCode derives the recovery keybag's keys:
//
//	master = HKDF-Extract(SHA-256, salt = "interlude/v1/recovery" || account,
//	                      ikm = recovery code bytes)
//	keybag key  = HKDF-Expand(master, "interlude/v1/recovery-keybag-key", 32)
//	login key   = Ed25519 from seed HKDF-Expand(master, "interlude/v1/recovery-login-key", 32)
//	profile key = HKDF-Expand(master, "interlude/v1/recovery-local-profile", 32)
//
// Why no Argon2id: stretching buys a few bits against guessing a
// low-entropy secret. The recovery code is 160 uniformly random bits;
// guessing it is already out of reach, and stretching would only slow down
// honest recovery on old phones.
func DeriveFromRecoveryCode(rc RecoveryCode, account AccountID) (*AccountSecrets, error) {
	if rc.IsZero() {
		return nil, fmt.Errorf("crypto: derive from recovery code: %w", ErrZeroKey)
	}
	salt := append([]byte(labelRecovery), account[:]...)
	return secretsFromIKM(rc.b[:], salt, labelRecoveryKeybagKey, labelRecoveryLoginKey, labelRecoveryProfile), nil
}

// secretsFromIKM runs HKDF-Extract once and HKDF-Expand for each label.
func secretsFromIKM(ikm, salt []byte, keybagLabel, loginLabel, profileLabel string) *AccountSecrets {
	master, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		panic("crypto: " + err.Error()) // unreachable: HKDF-Extract with SHA-256 cannot fail
	}
	defer clear(master)
	expand := func(label string, dst []byte) {
		out, err := hkdf.Expand(sha256.New, master, label, keySize)
		if err != nil {
			panic("crypto: " + err.Error()) // unreachable: 32 bytes is far below the HKDF limit
		}
		copy(dst, out)
		clear(out)
	}
	s := &AccountSecrets{}
	expand(keybagLabel, s.KeybagKey.k[:])
	expand(profileLabel, s.profile.k[:])
	var seed [ed25519.SeedSize]byte
	expand(loginLabel, seed[:])
	s.Login = ed25519.NewKeyFromSeed(seed[:])
	clear(seed[:])
	return s
}
