package crypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestDeletion(t *testing.T) {
	alice, bob := mustIdentity(t), mustIdentity(t)
	record := RecordID{1, 2, 3}
	b, err := SignDeletion(alice, record, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != DeletionSize {
		t.Fatalf("deletion is %d bytes, want %d", len(b), DeletionSize)
	}
	d, err := ParseDeletion(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Record != record || d.Author != alice.Account || d.Revision != 4 {
		t.Fatalf("parsed %+v", d)
	}
	if err := d.Verify(alice.Signing.Public()); err != nil {
		t.Fatalf("Verify with the author's key: %v", err)
	}
	if err := d.Verify(bob.Signing.Public()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify with another key: %v, want ErrBadSignature", err)
	}
	if !bytes.Equal(d.Marshal(), b) {
		t.Fatal("Marshal(ParseDeletion(b)) != b")
	}
	// A deletion signature must not verify under another format's context.
	if verifySignature("deletion", alice.Signing.Public(), ctxEnvelope, b[:DeletionSize-signatureSize], &d.Signature) == nil {
		t.Fatal("a deletion signature verified under the envelope context")
	}
}

func TestTamperDeletion(t *testing.T) {
	alice := mustIdentity(t)
	b, err := SignDeletion(alice, RecordID{9}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) * 8 {
		m := bytes.Clone(b)
		m[i/8] ^= 1 << (i % 8)
		d, err := ParseDeletion(m)
		if err == nil {
			err = d.Verify(alice.Signing.Public())
		}
		if err == nil {
			t.Fatalf("bit %d flipped: deletion still verifies", i)
		}
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"truncated", b[:len(b)-1], ErrTruncated},
		{"trailing", append(bytes.Clone(b), 0), ErrTrailingData},
		{"version", append([]byte{2}, b[1:]...), ErrUnknownVersion},
	} {
		if _, err := ParseDeletion(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzParseDeletion(f *testing.F) {
	alice := mustIdentity(f)
	b, err := SignDeletion(alice, RecordID{7}, 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:40])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ParseDeletion(in)
		checkSentinel(t, err)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Marshal(), in) {
			t.Fatal("Marshal(ParseDeletion(b)) != b")
		}
		checkSentinel(t, d.Verify(alice.Signing.Public()))
	})
}

func mustIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
