package syncproto

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// idEncoding is lowercase Crockford base32 without padding: 16 bytes become 26 characters.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// AccountID names an account. It is 16 random bytes and carries no time.
type AccountID [16]byte

// DeviceID names one device of an account. It is 16 random bytes and carries no time.
type DeviceID [16]byte

// RecordID names a record (an entry). It is a ULID made on the client, offline, whose
// time part is the UTC day and whose entropy is fresh for every ID: see NewRecordID.
type RecordID [16]byte

// NewAccountID returns a fresh random account ID.
func NewAccountID() AccountID { var a AccountID; rand.Read(a[:]); return a }

// NewDeviceID returns a fresh random device ID.
func NewDeviceID() DeviceID { var d DeviceID; rand.Read(d[:]); return d }

// NewRecordID returns a ULID whose 48-bit time is midnight UTC of now's day and whose
// 80 bits of entropy come fresh from crypto/rand. It panics if now is before 1970 (the
// zero time.Time included) or after the year 10889, which a ULID cannot hold: pass a
// real clock reading.
//
// Why: a plain ULID reveals the millisecond an entry was written (a 03:12 journal entry
// says something), and oklog's monotonic entropy makes IDs of the same millisecond
// linkable. Truncating to the day keeps IDs roughly sortable for storage locality while
// revealing only the day, which the server learns from arrival anyway.
func NewRecordID(now time.Time) RecordID {
	day := now.UTC().Truncate(24 * time.Hour)
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(day)); err != nil {
		panic(fmt.Sprintf("syncproto: NewRecordID(%s): %v", now.Format(time.RFC3339), err))
	}
	var entropy [10]byte
	rand.Read(entropy[:])
	copy(id[6:], entropy[:])
	return RecordID(id)
}

func (a AccountID) String() string { return idEncoding.EncodeToString(a[:]) }
func (d DeviceID) String() string  { return idEncoding.EncodeToString(d[:]) }
func (r RecordID) String() string  { return ulid.ULID(r).String() }

// IsZero reports whether the ID is all zero bytes (unset).
func (a AccountID) IsZero() bool { return a == AccountID{} }

// IsZero reports whether the ID is all zero bytes (unset).
func (d DeviceID) IsZero() bool { return d == DeviceID{} }

// IsZero reports whether the ID is all zero bytes (unset).
func (r RecordID) IsZero() bool { return r == RecordID{} }

// Day returns the UTC day encoded in a record ID.
func (r RecordID) Day() time.Time { return ulid.Time(ulid.ULID(r).Time()).UTC() }

// ParseAccountID parses the 26-character text form of an account ID.
func ParseAccountID(s string) (AccountID, error) {
	var a AccountID
	err := parseBase32ID(s, a[:], "account")
	return a, err
}

// ParseDeviceID parses the 26-character text form of a device ID.
func ParseDeviceID(s string) (DeviceID, error) {
	var d DeviceID
	err := parseBase32ID(s, d[:], "device")
	return d, err
}

// ParseRecordID parses the 26-character ULID text form of a record ID.
func ParseRecordID(s string) (RecordID, error) {
	id, err := ulid.ParseStrict(strings.ToUpper(strings.TrimSpace(s)))
	if err != nil {
		return RecordID{}, fmt.Errorf("record ID %q is not a 26-character ULID: %w", s, err)
	}
	return RecordID(id), nil
}

func parseBase32ID(s string, dst []byte, what string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 26 {
		return fmt.Errorf("%s ID %q should be 26 characters of base32, not %d", what, s, len(s))
	}
	b, err := idEncoding.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("%s ID %q is not valid base32 (digits and the letters a–z without i, l, o, u)", what, s)
	}
	// 26 characters hold 130 bits; the last 2 must be zero, or four spellings would
	// name one ID (encoding/base32 ignores them).
	if idEncoding.EncodeToString(b) != s {
		return fmt.Errorf("%s ID %q is not in canonical form (its last character is out of range)", what, s)
	}
	copy(dst, b)
	return nil
}
