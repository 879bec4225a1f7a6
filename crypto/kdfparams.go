package crypto

import (
	"encoding/binary"
	"fmt"
)

// KDFParams are the Argon2id parameters and salt of an account's passphrase
// derivation. The server stores them and hands them to a new device before
// login; they are not secret, but they are bound into the keybag's additional
// data, so a server that swaps them makes the keybag fail to open.
//
// Encoding (KDFParamsSize = 26 bytes):
//
//	0x01 | memory KiB u32 | time u32 | threads u8 | salt (16)
type KDFParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	Salt      [16]byte
}

// KDFParamsSize is the length of encoded KDFParams.
const KDFParamsSize = 1 + 4 + 4 + 1 + 16

// MinKDFParams is the floor below which DeriveFromPassphrase refuses to run
// (ErrWeakKDFParams): 19 MiB, 2 passes, 1 thread, the OWASP minimum for
// Argon2id. Why a client-side floor: the parameters come from the server,
// and a compromised server could otherwise weaken them to make guessing
// cheap (the Standard Notes 2017 downgrade finding). Each field is checked
// on its own. The salt is ignored (zero). A function, not a variable, so
// that no package can lower the floor for the whole process.
func MinKDFParams() KDFParams { return KDFParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1} }

// MaxKDFParams is the ceiling above which DeriveFromPassphrase refuses to run
// (ErrTooLarge): 2 GiB (RFC 9106's first recommendation), 16 passes. Why: the
// parameters come from the server, and without a ceiling a malicious server
// could make a client allocate until it is killed. Threads are bounded by
// their type. The salt is ignored (zero). A function, like MinKDFParams.
func MaxKDFParams() KDFParams { return KDFParams{MemoryKiB: 2 * 1024 * 1024, Time: 16, Threads: 255} }

// NewKDFParams returns the default parameters with a fresh random salt:
// 64 MiB, 3 passes, 4 threads, RFC 9106's second recommendation, about
// 0.7 s on a 2-core machine (see docs/performance.md).
func NewKDFParams() KDFParams {
	p := KDFParams{MemoryKiB: 64 * 1024, Time: 3, Threads: 4}
	randomBytes(p.Salt[:])
	return p
}

// Check reports ErrWeakKDFParams if any of memory, time or threads is below
// MinKDFParams, and ErrTooLarge if memory or time is above MaxKDFParams.
// Clients should call it on parameters from the server before asking for
// the passphrase.
func (p KDFParams) Check() error {
	floor, ceil := MinKDFParams(), MaxKDFParams()
	switch {
	case p.MemoryKiB < floor.MemoryKiB:
		return fmt.Errorf("crypto: kdf params: memory %d KiB is below the floor of %d KiB: %w", p.MemoryKiB, floor.MemoryKiB, ErrWeakKDFParams)
	case p.Time < floor.Time:
		return fmt.Errorf("crypto: kdf params: time %d is below the floor of %d: %w", p.Time, floor.Time, ErrWeakKDFParams)
	case p.Threads < floor.Threads || p.Threads < 1:
		return fmt.Errorf("crypto: kdf params: threads %d is below the floor of %d: %w", p.Threads, max(floor.Threads, 1), ErrWeakKDFParams)
	case p.MemoryKiB > ceil.MemoryKiB:
		return fmt.Errorf("crypto: kdf params: memory %d KiB is above the ceiling of %d KiB (possible denial of service): %w", p.MemoryKiB, ceil.MemoryKiB, ErrTooLarge)
	case p.Time > ceil.Time:
		return fmt.Errorf("crypto: kdf params: time %d is above the ceiling of %d (possible denial of service): %w", p.Time, ceil.Time, ErrTooLarge)
	case p.Threads > ceil.Threads:
		return fmt.Errorf("crypto: kdf params: threads %d is above the ceiling of %d: %w", p.Threads, ceil.Threads, ErrTooLarge)
	}
	return nil
}

// Marshal returns the 26-byte encoding of p.
func (p KDFParams) Marshal() []byte {
	b := make([]byte, 0, KDFParamsSize)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint32(b, p.MemoryKiB)
	b = binary.BigEndian.AppendUint32(b, p.Time)
	b = append(b, p.Threads)
	return append(b, p.Salt[:]...)
}

// ParseKDFParams parses the encoding from Marshal. It accepts any values;
// DeriveFromPassphrase (or Check) enforces the floor and ceiling.
func ParseKDFParams(b []byte) (KDFParams, error) {
	const what = "kdf params"
	if err := checkVersion(what, b); err != nil {
		return KDFParams{}, err
	}
	r := reader{b: b[1:]}
	var p KDFParams
	p.MemoryKiB = r.u32()
	p.Time = r.u32()
	p.Threads = r.u8()
	r.array16(&p.Salt)
	if err := r.done(what); err != nil {
		return KDFParams{}, err
	}
	return p, nil
}
