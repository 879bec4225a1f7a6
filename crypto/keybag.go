package crypto

import (
	"encoding/binary"
	"fmt"
)

// KeybagKind says which derivation made a keybag's key. It is bound into
// the keybag's additional data.
type KeybagKind byte

const (
	// KeybagPassphrase is a keybag sealed with DeriveFromPassphrase's key;
	// its additional data includes the marshalled KDFParams.
	KeybagPassphrase KeybagKind = 1
	// KeybagRecovery is a keybag sealed with DeriveFromRecoveryCode's key.
	KeybagRecovery KeybagKind = 2
)

// keybagPlaintextSize is version (1) + account (16) + vault key (32) +
// signing seed (32) + KEM ID (2) + share key length (2) + share key (32).
const keybagPlaintextSize = 1 + 16 + keySize + 32 + 2 + 2 + sharePrivateKeySize

// KeybagSize is the length of a v1 keybag: version (1) + kind (1) +
// nonce (24) + ciphertext (117 + 16) = 159 bytes.
const KeybagSize = 1 + 1 + nonceSize + keybagPlaintextSize + tagSize

// SealKeybag encrypts id under k for storage on the server:
//
//	keybag    = 0x01 | kind (1) | nonce (24) | XChaCha20-Poly1305 ciphertext
//	aad       = "interlude/v1/keybag" || 0x01 || kind || account (16) || params
//	plaintext = 0x01 | account (16) | vault key (32) | signing seed (32) |
//	            KEM ID u16 | share private key length u16 | share private key
//
// params must be the marshalled KDFParams for KeybagPassphrase and empty for
// KeybagRecovery. Why bind the params: a server that swaps the salt or
// weakens the parameters then gets a keybag that fails to open, not a quiet
// downgrade.
func SealKeybag(k KeybagKey, kind KeybagKind, params []byte, id *Identity) ([]byte, error) {
	if err := id.complete("seal keybag"); err != nil {
		return nil, err
	}
	if k.IsZero() {
		return nil, fmt.Errorf("crypto: seal keybag: %w", ErrZeroKey)
	}
	if err := checkKeybagParams(kind, params); err != nil {
		return nil, fmt.Errorf("crypto: seal keybag: %w", err)
	}
	share, err := id.Share.bytes()
	if err != nil {
		return nil, fmt.Errorf("crypto: seal keybag: share key: %w", err)
	}
	pt := make([]byte, 0, keybagPlaintextSize)
	pt = append(pt, formatVersion)
	pt = append(pt, id.Account[:]...)
	pt = append(pt, id.Vault.k[:]...)
	pt = append(pt, id.Signing.seed()...)
	pt = binary.BigEndian.AppendUint16(pt, kemID)
	pt = binary.BigEndian.AppendUint16(pt, uint16(len(share)))
	pt = append(pt, share...)
	defer clear(pt)
	clear(share)
	out := make([]byte, 0, KeybagSize)
	out = append(out, formatVersion, byte(kind))
	return sealX(out, &k.k, keybagAAD(kind, id.Account, params), pt), nil
}

// OpenKeybag decrypts a keybag sealed by SealKeybag and returns the identity
// in it. kind, account and params must be those the keybag was sealed with;
// a wrong key, account or params, or any altered byte, gives ErrDecrypt. It
// then checks that the identity inside is for account (ErrWrongRecipient).
func OpenKeybag(k KeybagKey, kind KeybagKind, account AccountID, params []byte, keybag []byte) (*Identity, error) {
	const what = "keybag"
	if err := checkKeybagParams(kind, params); err != nil {
		return nil, fmt.Errorf("crypto: open keybag: %w", err)
	}
	if err := checkVersion(what, keybag); err != nil {
		return nil, err
	}
	if len(keybag) < 1+1+nonceSize+tagSize {
		return nil, fmt.Errorf("crypto: parse %s: %d bytes: %w", what, len(keybag), ErrTruncated)
	}
	if got := KeybagKind(keybag[1]); got != kind {
		return nil, fmt.Errorf("crypto: open keybag: keybag is of kind %d, expected %d: %w", got, kind, ErrMalformed)
	}
	if k.IsZero() {
		return nil, fmt.Errorf("crypto: open keybag: %w", ErrZeroKey)
	}
	nonce, ct := keybag[2:2+nonceSize], keybag[2+nonceSize:]
	pt, err := newXAEAD(&k.k).Open(nil, nonce, ct, keybagAAD(kind, account, params))
	if err != nil {
		return nil, fmt.Errorf("crypto: open keybag: wrong passphrase, Secret Key or recovery code, or the keybag or its parameters were altered: %w", ErrDecrypt)
	}
	defer clear(pt)
	return parseKeybagPlaintext(pt, account)
}

func parseKeybagPlaintext(pt []byte, account AccountID) (*Identity, error) {
	const what = "keybag contents"
	if err := checkVersion(what, pt); err != nil {
		return nil, err
	}
	r := reader{b: pt[1:]}
	id := &Identity{}
	r.array16((*[16]byte)(&id.Account))
	vault := r.take(keySize)
	seed := r.take(32)
	kem := r.u16()
	share := r.take(int(r.u16()))
	if err := r.done(what); err != nil {
		return nil, err
	}
	if id.Account != account {
		return nil, fmt.Errorf("crypto: open keybag: keybag holds account %x, expected %x: %w", id.Account[:], account[:], ErrWrongRecipient)
	}
	if kem != kemID {
		return nil, fmt.Errorf("crypto: open keybag: share key KEM 0x%04x: %w", kem, ErrUnknownVersion)
	}
	var err error
	if id.Vault, err = VaultKeyFromBytes(vault); err != nil {
		return nil, fmt.Errorf("crypto: open keybag: %w", err)
	}
	if id.Signing, err = SigningKeyFromSeed(seed); err != nil {
		return nil, fmt.Errorf("crypto: open keybag: %w", err)
	}
	if id.Share, err = ShareKeyFromBytes(share); err != nil {
		return nil, fmt.Errorf("crypto: open keybag: %w", err)
	}
	return id, nil
}

// checkKeybagParams requires parseable KDFParams for the passphrase kind and
// no params for the recovery kind.
func checkKeybagParams(kind KeybagKind, params []byte) error {
	switch kind {
	case KeybagPassphrase:
		if _, err := ParseKDFParams(params); err != nil {
			return fmt.Errorf("passphrase keybag needs its marshalled KDF params: %w", err)
		}
	case KeybagRecovery:
		if len(params) != 0 {
			return fmt.Errorf("recovery keybag takes no params, got %d bytes: %w", len(params), ErrMalformed)
		}
	default:
		return fmt.Errorf("unknown keybag kind %d: %w", kind, ErrMalformed)
	}
	return nil
}

func keybagAAD(kind KeybagKind, account AccountID, params []byte) []byte {
	aad := make([]byte, 0, len(labelKeybag)+2+16+len(params))
	aad = append(aad, labelKeybag...)
	aad = append(aad, formatVersion, byte(kind))
	aad = append(aad, account[:]...)
	return append(aad, params...)
}
