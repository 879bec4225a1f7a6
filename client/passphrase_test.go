package client

import (
	"testing"

	"interlude/crypto"
)

// Deriving keys must not wipe the caller's passphrase: the CLI unlocks with the current
// passphrase and then proves it again to change it.
func TestDerivePassphraseLeavesTheCallersBytes(t *testing.T) {
	p := []byte("already normal ascii")
	want := string(p)
	params := fastKDF()
	if _, err := derivePassphrase(p, crypto.NewSecretKey(), crypto.NewAccountID(), params); err != nil {
		t.Fatal(err)
	}
	if string(p) != want {
		t.Fatalf("the passphrase was changed to %q", p)
	}
}
