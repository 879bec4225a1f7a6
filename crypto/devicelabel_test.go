package crypto

import (
	"errors"
	"strings"
	"testing"
)

func TestDeviceLabel(t *testing.T) {
	sk, other := NewSecretKey(), NewSecretKey()
	account, otherAccount := AccountID{1, 2, 3}, AccountID{4, 5, 6}
	for _, name := range []string{"a", "Sam's phone", "Praxis-Laptop (Büro)", strings.Repeat("é", MaxDeviceName/2), strings.Repeat("x", MaxDeviceName)} {
		sealed, err := SealDeviceLabel(sk, account, name)
		if err != nil {
			t.Fatalf("seal %q: %v", name, err)
		}
		if len(sealed) != DeviceLabelSize {
			t.Fatalf("sealed %q is %d bytes, want %d whatever the name's length", name, len(sealed), DeviceLabelSize)
		}
		got, err := OpenDeviceLabel(sk, account, sealed)
		if err != nil || got != name {
			t.Fatalf("open: %q, %v; want %q", got, err, name)
		}
		if _, err := OpenDeviceLabel(other, account, sealed); !errors.Is(err, ErrDecrypt) {
			t.Errorf("another Secret Key: %v, want ErrDecrypt", err)
		}
		if _, err := OpenDeviceLabel(sk, otherAccount, sealed); !errors.Is(err, ErrDecrypt) {
			t.Errorf("another account: %v, want ErrDecrypt", err)
		}
		for i := range sealed {
			flipped := append([]byte(nil), sealed...)
			flipped[i] ^= 0x10
			want := ErrDecrypt
			if i == 0 {
				want = ErrUnknownVersion
			}
			if _, err := OpenDeviceLabel(sk, account, flipped); !errors.Is(err, want) {
				t.Fatalf("byte %d flipped: %v, want %v", i, err, want)
			}
		}
		if _, err := OpenDeviceLabel(sk, account, sealed[:len(sealed)-1]); !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated: %v, want ErrTruncated", err)
		}
		if _, err := OpenDeviceLabel(sk, account, append(sealed, 0)); !errors.Is(err, ErrTrailingData) {
			t.Errorf("trailing byte: %v, want ErrTrailingData", err)
		}
	}
	for _, c := range []struct {
		name string
		want error
	}{
		{"", ErrMalformed},
		{"\xff\xfe", ErrMalformed},
		{strings.Repeat("x", MaxDeviceName+1), ErrTooLarge},
	} {
		if _, err := SealDeviceLabel(sk, account, c.name); !errors.Is(err, c.want) {
			t.Errorf("seal %q: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := SealDeviceLabel(SecretKey{}, account, "x"); !errors.Is(err, ErrZeroKey) {
		t.Errorf("zero Secret Key: %v, want ErrZeroKey", err)
	}
}

// TestDeviceLabelPaddingChecked: a label sealed by a faulty sealer (bytes after the name,
// or a length beyond the padding) is refused even though it authenticates.
func TestDeviceLabelPaddingChecked(t *testing.T) {
	sk, account := NewSecretKey(), AccountID{7}
	key, err := deviceLabelKey(sk, account)
	if err != nil {
		t.Fatal(err)
	}
	for _, padded := range [][]byte{
		append([]byte{1, 'a', 'b'}, make([]byte, deviceNamePadded-3)...),   // a byte after the name
		append([]byte{0}, make([]byte, deviceNamePadded-1)...),             // empty
		append([]byte{64}, make([]byte, deviceNamePadded-1)...),            // longer than the padding
		append([]byte{2, 0xff, 0xfe}, make([]byte, deviceNamePadded-3)...), // not UTF-8
	} {
		sealed := sealX([]byte{formatVersion}, &key, deviceLabelAAD(account), padded)
		if _, err := OpenDeviceLabel(sk, account, sealed); !errors.Is(err, ErrMalformed) {
			t.Errorf("padded %x: %v, want ErrMalformed", padded[:4], err)
		}
	}
}
