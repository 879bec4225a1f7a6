package crypto

import (
	"encoding/binary"
	"fmt"
)

// reader consumes a byte slice front to back. The first short read sticks, so
// a parser can read a whole fixed layout and check once at the end.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) take(n int) []byte {
	if r.short || n < 0 || len(r.b) < n {
		r.short = true
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) array16(dst *[16]byte) { copy(dst[:], r.take(16)) }
func (r *reader) array24(dst *[24]byte) { copy(dst[:], r.take(24)) }
func (r *reader) array32(dst *[32]byte) { copy(dst[:], r.take(32)) }
func (r *reader) array64(dst *[64]byte) { copy(dst[:], r.take(64)) }

// done reports ErrTruncated after a short read and ErrTrailingData if bytes
// remain, prefixed with what was being parsed.
func (r *reader) done(what string) error {
	if r.short {
		return fmt.Errorf("crypto: parse %s: %w", what, ErrTruncated)
	}
	if len(r.b) > 0 {
		return fmt.Errorf("crypto: parse %s: %d extra bytes: %w", what, len(r.b), ErrTrailingData)
	}
	return nil
}

// checkVersion returns the common errors for the first byte of a format.
func checkVersion(what string, b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("crypto: parse %s: empty input: %w", what, ErrTruncated)
	}
	if b[0] != formatVersion {
		return fmt.Errorf("crypto: parse %s: version 0x%02x (this build reads 0x01): %w", what, b[0], ErrUnknownVersion)
	}
	return nil
}
