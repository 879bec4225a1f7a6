package crypto

import (
	"encoding/binary"
	"fmt"
)

// VaultWrapSize is the length of a vault-wrapped entry key:
// version (1) + nonce (24) + XChaCha20-Poly1305(entry key) (32 + 16) = 73.
const VaultWrapSize = 1 + nonceSize + keySize + tagSize

// WrapForVault encrypts ek under the account's vault key, bound to record and
// revision:
//
//	0x01 | nonce (24) | XChaCha20-Poly1305(vk, ek, aad) (48)
//	aad = "interlude/v1/vault-wrap" || 0x01 || record (16) || revision u64
//
// Binding record and revision in the additional data means a server cannot
// hand a device the key of one entry as the key of another.
func WrapForVault(vk VaultKey, record RecordID, revision uint64, ek EntryKey) ([]byte, error) {
	if vk.IsZero() || ek.IsZero() {
		return nil, fmt.Errorf("crypto: wrap for vault: %w", ErrZeroKey)
	}
	out := make([]byte, 1, VaultWrapSize)
	out[0] = formatVersion
	return sealX(out, &vk.k, vaultWrapAAD(record, revision), ek.k[:]), nil
}

// UnwrapWithVault reverses WrapForVault. A wrong vault key, record or
// revision, or any altered byte, gives ErrDecrypt.
func UnwrapWithVault(vk VaultKey, record RecordID, revision uint64, wrapped []byte) (EntryKey, error) {
	const what = "vault-wrapped key"
	if err := checkVersion(what, wrapped); err != nil {
		return EntryKey{}, err
	}
	r := reader{b: wrapped[1:]}
	nonce := r.take(nonceSize)
	ct := r.take(keySize + tagSize)
	if err := r.done(what); err != nil {
		return EntryKey{}, err
	}
	if vk.IsZero() {
		return EntryKey{}, fmt.Errorf("crypto: unwrap with vault: %w", ErrZeroKey)
	}
	pt, err := newXAEAD(&vk.k).Open(nil, nonce, ct, vaultWrapAAD(record, revision))
	if err != nil {
		return EntryKey{}, fmt.Errorf("crypto: unwrap with vault: %w", ErrDecrypt)
	}
	defer clear(pt)
	return EntryKeyFromBytes(pt)
}

func vaultWrapAAD(record RecordID, revision uint64) []byte {
	aad := make([]byte, 0, len(labelVaultWrap)+1+16+8)
	aad = append(aad, labelVaultWrap...)
	aad = append(aad, formatVersion)
	aad = append(aad, record[:]...)
	return binary.BigEndian.AppendUint64(aad, revision)
}
