package crypto_test

import (
	"fmt"

	"interlude/crypto"
)

func ExamplePaddedLength() {
	for _, n := range []int{0, 1, 1023, 1024, 3000, 10000, 65535, 65536, crypto.MaxPlaintext} {
		fmt.Printf("%7d bytes → padded %7d, envelope %7d\n", n, crypto.PaddedLength(n), crypto.EnvelopeOverhead+crypto.PaddedLength(n))
	}
	// Output:
	//       0 bytes → padded    1024, envelope    1201
	//       1 bytes → padded    1024, envelope    1201
	//    1023 bytes → padded    1024, envelope    1201
	//    1024 bytes → padded    1088, envelope    1265
	//    3000 bytes → padded    3072, envelope    3249
	//   10000 bytes → padded   10240, envelope   10417
	//   65535 bytes → padded   65536, envelope   65713
	//   65536 bytes → padded   67584, envelope   67761
	// 1048576 bytes → padded 1081344, envelope 1081521
}

func ExampleFingerprint_SafetyCode() {
	var f crypto.Fingerprint
	for i := range f {
		f[i] = byte(i)
	}
	// Group 1 is 0x0001020304 = 16909060 mod 100000, and so on.
	fmt.Println(f.SafetyCode())
	// Output: 09060 60585 12110 63635 15160 66685
}

func ExamplePairSafetyCode() {
	var a, b crypto.Fingerprint
	a[0], b[0] = 1, 2
	// Both people see the same code, whichever of them computes it.
	fmt.Println(crypto.PairSafetyCode(a, b) == crypto.PairSafetyCode(b, a))
	// Output: true
}

func ExampleSealEntry() {
	alice, err := crypto.NewIdentity()
	if err != nil {
		panic(err)
	}
	record := crypto.RecordID{0x01}
	envelope, key, err := crypto.SealEntry(alice, record, 1, []byte("Mood 6/10. Walked 20 minutes."))
	if err != nil {
		panic(err)
	}
	// The entry key goes to the vault (and to grants); the envelope to the server.
	wrapped, err := crypto.WrapForVault(alice.Vault, record, 1, key)
	if err != nil {
		panic(err)
	}
	// Later, on another of Alice's devices:
	key2, err := crypto.UnwrapWithVault(alice.Vault, record, 1, wrapped)
	if err != nil {
		panic(err)
	}
	e, err := crypto.OpenEntry(envelope, key2, alice.Signing.Public())
	if err != nil {
		panic(err)
	}
	fmt.Println(len(envelope), len(wrapped), string(e.Plaintext))
	// Output: 1201 73 Mood 6/10. Walked 20 minutes.
}
