package crypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of an account's public identity (account ID,
// signing key, KEM ID and share key; see PublicBundle.Fingerprint).
type Fingerprint [32]byte

// SafetyCode renders f as 30 decimal digits in 6 groups of 5, e.g.
// "01234 56789 01234 56789 01234 56789", for people to compare aloud or on
// screen. Group i is the big-endian 40-bit integer in bytes 5i..5i+4 of f,
// modulo 100000; 30 of the 32 bytes are used.
//
// Why this shape: it is Signal's safety-number encoding (5-digit groups from
// 5-byte chunks), familiar to users. The modulo bias is below 1e-7 per group.
// 30 digits carry about 99.7 bits, so forging a bundle with the same code
// needs about 2^99 hash evaluations.
func (f Fingerprint) SafetyCode() string {
	var sb strings.Builder
	for i := range 6 {
		var chunk [8]byte
		copy(chunk[3:], f[5*i:5*i+5])
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%05d", binary.BigEndian.Uint64(chunk[:])%100000)
	}
	return sb.String()
}

// PairSafetyCode returns one safety code for two people to compare aloud at
// pairing. It is the SafetyCode of SHA-256("interlude/v1/pair-safety-code" ||
// min(a, b) || max(a, b)), ordering the fingerprints bytewise, so both
// devices show the same code whichever side computes it.
//
// Why a pair code: reading one 30-digit code aloud is half the work of
// reading two, and it still fails if the server substituted either key.
func PairSafetyCode(a, b Fingerprint) string {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte(labelPairSafetyCode))
	h.Write(a[:])
	h.Write(b[:])
	return Fingerprint(h.Sum(nil)).SafetyCode()
}
