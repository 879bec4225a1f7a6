package client

import (
	"testing"

	"interlude/crypto"
	"interlude/syncproto"
)

// The server's default envelope cap must admit every envelope a client can seal, and no
// more: syncproto cannot import crypto, so this test ties the two constants together.
func TestEnvelopeLimitMatchesCrypto(t *testing.T) {
	if syncproto.DefaultMaxEnvelope != crypto.MaxEnvelopeSize {
		t.Fatalf("syncproto.DefaultMaxEnvelope = %d, crypto.MaxEnvelopeSize = %d: they must agree",
			syncproto.DefaultMaxEnvelope, crypto.MaxEnvelopeSize)
	}
	if syncproto.DefaultMaxEnvelope > syncproto.MaxBlob {
		t.Fatalf("DefaultMaxEnvelope %d exceeds the codec's MaxBlob %d", syncproto.DefaultMaxEnvelope, syncproto.MaxBlob)
	}
}
