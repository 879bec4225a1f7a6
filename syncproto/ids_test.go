package syncproto

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNewRecordIDDay(t *testing.T) {
	// 23:30 in New York on 22 November is 04:30 UTC on the 23rd: the UTC day counts.
	ny := time.FixedZone("EST", -5*3600)
	now := time.Date(2026, 11, 22, 23, 30, 15, 123456789, ny)
	midnight := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

	id := NewRecordID(now)
	if got := id.Day(); !got.Equal(midnight) || got.Location() != time.UTC {
		t.Errorf("Day() = %v, want %v", got, midnight)
	}
	ms := uint64(midnight.UnixMilli())
	want := []byte{byte(ms >> 40), byte(ms >> 32), byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms)}
	if !bytes.Equal(id[:6], want) {
		t.Errorf("time bytes %x, want %x (midnight UTC in ms)", id[:6], want)
	}
	// Every instant of one UTC day gives the same time bytes; the next day does not.
	for _, at := range []time.Time{midnight, midnight.Add(24*time.Hour - time.Nanosecond)} {
		if other := NewRecordID(at); !bytes.Equal(other[:6], id[:6]) {
			t.Errorf("NewRecordID(%v) time bytes %x, want %x", at, other[:6], id[:6])
		}
	}
	if next := NewRecordID(midnight.Add(24 * time.Hour)); bytes.Equal(next[:6], id[:6]) {
		t.Error("the next day has the same time bytes")
	}
}

func TestNewRecordIDEntropy(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 12, 0, 0, time.UTC)
	seen := map[[10]byte]bool{}
	var prev RecordID
	for i := range 1000 {
		id := NewRecordID(now)
		var e [10]byte
		copy(e[:], id[6:])
		if seen[e] {
			t.Fatalf("entropy %x repeated", e)
		}
		seen[e] = true
		// Not monotonic: consecutive IDs of one instant are not ordered by their entropy.
		if i > 0 && bytes.Equal(prev[:6], id[:6]) && bytes.Equal(prev[6:15], id[6:15]) {
			t.Fatalf("IDs %s and %s differ only in the last byte: entropy looks incremented", prev, id)
		}
		prev = id
	}
}

func TestNewRecordIDPanicsBefore1970(t *testing.T) {
	for _, at := range []time.Time{{}, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRecordID(%v) did not panic", at)
				}
			}()
			NewRecordID(at)
		}()
	}
	NewRecordID(time.Unix(0, 0)) // 1970-01-01 itself is fine
}

func TestIDTextRoundTrip(t *testing.T) {
	for range 100 {
		a, d, r := NewAccountID(), NewDeviceID(), NewRecordID(time.Now())
		if len(a.String()) != 26 || len(d.String()) != 26 || len(r.String()) != 26 {
			t.Fatalf("text forms %q %q %q are not 26 characters", a, d, r)
		}
		if got, err := ParseAccountID(a.String()); err != nil || got != a {
			t.Fatalf("ParseAccountID(%q) = %v, %v", a, got, err)
		}
		if got, err := ParseDeviceID(d.String()); err != nil || got != d {
			t.Fatalf("ParseDeviceID(%q) = %v, %v", d, got, err)
		}
		if got, err := ParseRecordID(r.String()); err != nil || got != r {
			t.Fatalf("ParseRecordID(%q) = %v, %v", r, got, err)
		}
	}
	// Known values, case and surrounding space forgiven.
	a := AccountID(id16(0x00))
	if s := a.String(); s != "000g40r40m30e209185gr38e1w" {
		t.Errorf("AccountID text %q", s)
	}
	if got, err := ParseAccountID("  000G40R40M30E209185GR38E1W\n"); err != nil || got != a {
		t.Errorf("upper case with spaces: %v, %v", got, err)
	}
	r := RecordID(id16(0x00))
	if s := r.String(); s != "00041061050R3GG28A1C60T3GF" { // a ULID's 2 spare bits lead; base32's trail

		t.Errorf("RecordID text %q", s)
	}
	if got, err := ParseRecordID(" 00041061050r3gg28a1c60t3gf "); err != nil || got != r {
		t.Errorf("lower-case ULID: %v, %v", got, err)
	}
	if (AccountID{}).IsZero() != true || a.IsZero() || !(DeviceID{}).IsZero() || !(RecordID{}).IsZero() {
		t.Error("IsZero is wrong")
	}
}

func TestParseIDErrors(t *testing.T) {
	tests := []struct {
		name, in, text string
		parse          func(string) error
	}{
		{"account empty", "", "should be 26 characters", accountErr},
		{"account short", "000g40r40m30e209185gr38e1", "not 25", accountErr},
		{"account letter u", "000g40r40m30e209185gr38e1u", "not valid base32", accountErr},
		{"account letter i", "i00g40r40m30e209185gr38e1w", "not valid base32", accountErr},
		{"account trailing bits", "000g40r40m30e209185gr38e1x", "not in canonical form", accountErr},
		{"device trailing bits", "000g40r40m30e209185gr38e1z", "not in canonical form", deviceErr},
		{"device long", "000g40r40m30e209185gr38e1w0", "not 27", deviceErr},
		{"record short", "01ARZ3NDEKTSV4RRFFQ69G5FA", "not a 26-character ULID", recordErr},
		{"record overflow", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "overflow", recordErr},
		{"record letter U", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "not a 26-character ULID", recordErr},
	}
	for _, tt := range tests {
		err := tt.parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: parse(%q) = %v, want an error saying %q", tt.name, tt.in, err, tt.text)
		}
	}
}

func accountErr(s string) error { _, err := ParseAccountID(s); return err }
func deviceErr(s string) error  { _, err := ParseDeviceID(s); return err }
func recordErr(s string) error  { _, err := ParseRecordID(s); return err }

func FuzzParseAccountID(f *testing.F) {
	f.Add("000g40r40m30e209185gr38e1w")
	f.Add("000g40r40m30e209185gr38e1x")
	f.Add(" ZZZZZZZZZZZZZZZZZZZZZZZZZW ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAccountID(s)
		if err != nil {
			return
		}
		// One ID, one spelling: what parsed is the canonical text, up to case and space.
		if got := a.String(); got != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("ParseAccountID(%q) = %s: not the same text", s, got)
		}
		if b, err := ParseAccountID(a.String()); err != nil || b != a {
			t.Fatalf("re-parse of %s: %v, %v", a, b, err)
		}
		if d, err := ParseDeviceID(s); err != nil || [16]byte(d) != [16]byte(a) {
			t.Fatalf("ParseDeviceID(%q) disagrees: %v, %v", s, d, err)
		}
	})
}

func FuzzParseRecordID(f *testing.F) {
	f.Add("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	f.Add("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("81ARZ3NDEKTSV4RRFFQ69G5FAV")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecordID(s)
		if err != nil {
			return
		}
		if got := r.String(); got != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("ParseRecordID(%q) = %s: not the same text", s, got)
		}
		if b, err := ParseRecordID(r.String()); err != nil || b != r {
			t.Fatalf("re-parse of %s: %v, %v", r, b, err)
		}
	})
}
