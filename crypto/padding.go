package crypto

import (
	"fmt"
	"math/bits"
)

// padFloor is the smallest padded length. Why a floor: check-ins and mood
// ratings are a few dozen bytes and journal entries are kilobytes, so without
// it Padmé's fine buckets at small sizes would tell the server which kind of
// entry it holds. With the floor, everything up to 1023 bytes looks the same.
const padFloor = 1024

// PaddedLength returns the length to which SealEntry pads an n-byte
// plaintext: Padmé(max(n+1, 1024)). The +1 is the 0x80 end marker. A
// negative n is treated as 0; n must be below 2^62.
//
// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
// Communication with PURBs", PETS 2019) rounds a length L up so that only its
// top floor(log2(floor(log2 L)))+1 bits may be non-zero. Above the floor
// the overhead stays under 6.25% up to 16 MiB, and a padded length leaks only
// O(log log L) bits. Every plaintext of 0 to 65535 bytes maps to one of 97
// lengths; up to MaxPlaintext, one of 226.
func PaddedLength(n int) int {
	if n < 0 {
		n = 0
	}
	if n >= 1<<62 {
		panic("crypto: PaddedLength: length out of range")
	}
	return padme(max(n+1, padFloor))
}

// padme is the Padmé function of the PURBs paper, for L >= 2:
// E = floor(log2 L), S = floor(log2 E) + 1, lastBits = E - S,
// bitMask = 2^lastBits - 1, result = (L + bitMask) &^ bitMask.
func padme(l int) int {
	if l < 2 {
		return l
	}
	e := bits.Len(uint(l)) - 1
	s := bits.Len(uint(e))
	mask := 1<<(e-s) - 1
	return (l + mask) &^ mask
}

// isPaddedLength reports whether l is a length PaddedLength can return.
func isPaddedLength(l int) bool { return l >= padFloor && padme(l) == l }

// padLowerBucket returns the largest padded length below l, for l > padFloor
// that is not itself a padded length.
func padLowerBucket(l int) int {
	e := bits.Len(uint(l)) - 1
	s := bits.Len(uint(e))
	return l &^ (1<<(e-s) - 1)
}

// pad returns p || 0x80 || 0x00... of length PaddedLength(len(p)).
//
// Why an end marker (ISO/IEC 7816-4 style) rather than a length field: it
// needs no extra header and is unambiguous for any plaintext.
func pad(p []byte) []byte {
	out := make([]byte, PaddedLength(len(p)))
	copy(out, p)
	out[len(p)] = 0x80
	return out
}

// unpad reverses pad. It accepts only a final 0x80 followed by zero bytes.
// It is not constant time: it runs only on authenticated plaintext, and its
// timing reveals only the plaintext length to the device that is decrypting.
func unpad(b []byte) ([]byte, error) {
	i := len(b) - 1
	for i >= 0 && b[i] == 0 {
		i--
	}
	if i < 0 || b[i] != 0x80 {
		return nil, fmt.Errorf("crypto: unpad: no 0x80 end marker before the zero padding: %w", ErrMalformed)
	}
	return b[:i], nil
}
