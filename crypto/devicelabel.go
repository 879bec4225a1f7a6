package crypto

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"unicode/utf8"
)

// A device label is a device's name ("Sam's phone"), sealed so that every device of the
// account can read it and the server, which stores it beside the device, cannot. It lets a
// person tell their devices apart before revoking one.
//
// The key is derived from the Secret Key, which every device of the account holds (from
// the recovery kit) before it signs in, and which never changes: a new device can seal its
// own label in its first sign-in message, before it has the vault key, and a passphrase
// change leaves every label readable.
//
//	key    = HKDF-SHA256(ikm = Secret Key (16), salt = none,
//	                     info = "interlude/v1/device-label-key" ‖ 0x01 ‖ account (16)), 32 bytes
//	sealed = 0x01 ‖ nonce (24) ‖ XChaCha20-Poly1305(key, padded name,
//	                     AAD = "interlude/v1/device-label" ‖ 0x01 ‖ account (16))
//	padded name = length (1) ‖ name (UTF-8, 1 to 63 bytes) ‖ zeros, 64 bytes in all
//
// Every label is DeviceLabelSize bytes, whatever the name's length.

// DeviceLabelSize is the size of a sealed device label: version (1) + nonce (24) + padded
// name (64) + tag (16).
const DeviceLabelSize = 1 + nonceSize + deviceNamePadded + tagSize

// MaxDeviceName is the longest device name, in bytes of UTF-8.
const MaxDeviceName = deviceNamePadded - 1

const deviceNamePadded = 64

// SealDeviceLabel seals a device name (1 to MaxDeviceName bytes of UTF-8) for the account
// whose Secret Key is sk. A longer name is ErrTooLarge; an empty name or invalid UTF-8 is
// ErrMalformed (cut a long name at a character boundary first).
func SealDeviceLabel(sk SecretKey, account AccountID, name string) ([]byte, error) {
	switch {
	case sk.IsZero():
		return nil, fmt.Errorf("crypto: seal device label: %w", ErrZeroKey)
	case len(name) == 0 || !utf8.ValidString(name):
		return nil, fmt.Errorf("crypto: seal device label: the name must be non-empty UTF-8: %w", ErrMalformed)
	case len(name) > MaxDeviceName:
		return nil, fmt.Errorf("crypto: seal device label: name of %d bytes, at most %d: %w", len(name), MaxDeviceName, ErrTooLarge)
	}
	key, err := deviceLabelKey(sk, account)
	if err != nil {
		return nil, err
	}
	var padded [deviceNamePadded]byte
	padded[0] = byte(len(name))
	copy(padded[1:], name)
	out := make([]byte, 1, DeviceLabelSize)
	out[0] = formatVersion
	return sealX(out, &key, deviceLabelAAD(account), padded[:]), nil
}

// OpenDeviceLabel returns the name sealed in a device label of the account whose Secret
// Key is sk. A wrong Secret Key or account, or any altered byte, is ErrDecrypt.
func OpenDeviceLabel(sk SecretKey, account AccountID, sealed []byte) (string, error) {
	const what = "device label"
	if err := checkVersion(what, sealed); err != nil {
		return "", err
	}
	switch {
	case len(sealed) < DeviceLabelSize:
		return "", fmt.Errorf("crypto: parse %s: %d bytes, want %d: %w", what, len(sealed), DeviceLabelSize, ErrTruncated)
	case len(sealed) > DeviceLabelSize:
		return "", fmt.Errorf("crypto: parse %s: %d bytes, want %d: %w", what, len(sealed), DeviceLabelSize, ErrTrailingData)
	case sk.IsZero():
		return "", fmt.Errorf("crypto: open device label: %w", ErrZeroKey)
	}
	key, err := deviceLabelKey(sk, account)
	if err != nil {
		return "", err
	}
	padded, err := newXAEAD(&key).Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], deviceLabelAAD(account))
	if err != nil {
		return "", fmt.Errorf("crypto: open device label: %w", ErrDecrypt)
	}
	// Authenticated, so only a buggy sealer could produce these; refuse them all the same.
	n := int(padded[0])
	if n == 0 || n > MaxDeviceName || !isZero(padded[1+n:]) || !utf8.Valid(padded[1:1+n]) {
		return "", fmt.Errorf("crypto: open device label: bad padding or encoding: %w", ErrMalformed)
	}
	return string(padded[1 : 1+n]), nil
}

func deviceLabelKey(sk SecretKey, account AccountID) ([keySize]byte, error) {
	var key [keySize]byte
	info := make([]byte, 0, len(labelDeviceLabelKey)+1+len(account))
	info = append(append(append(info, labelDeviceLabelKey...), formatVersion), account[:]...)
	k, err := hkdf.Key(sha256.New, sk.b[:], nil, string(info), keySize)
	if err != nil {
		return key, fmt.Errorf("crypto: device label key: %w", err)
	}
	copy(key[:], k)
	return key, nil
}

func deviceLabelAAD(account AccountID) []byte {
	aad := make([]byte, 0, len(labelDeviceLabel)+1+len(account))
	return append(append(append(aad, labelDeviceLabel...), formatVersion), account[:]...)
}
