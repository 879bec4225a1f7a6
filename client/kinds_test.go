package client

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"interlude/journal"
	"interlude/syncproto"
)

// Every entry kind the journal package knows (and one it does not: a newer client's)
// survives encryption, sync and a second device byte for byte, and still parses there
// with its unknown fields intact. The fixtures are journal's own, one document per kind.
func TestEveryKindRoundTripsThroughSyncToASecondDevice(t *testing.T) {
	ctx := context.Background()
	paths, err := filepath.Glob(filepath.Join("..", "journal", "testdata", "entries", "*.json"))
	if err != nil || len(paths) < len(journal.Kinds()) {
		t.Fatalf("found %d fixtures (%v), want at least one per kind (%d)", len(paths), err, len(journal.Kinds()))
	}
	s := newTestServer(t)
	a, kit := signUp(t, s)
	want := map[syncproto.RecordID][]byte{}
	kinds := map[string]bool{}
	for _, p := range paths {
		doc, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		e, err := journal.Unmarshal(doc)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		kinds[e.Kind] = true
		id, err := a.Add(ctx, doc)
		if err != nil {
			t.Fatalf("add %s: %v", filepath.Base(p), err)
		}
		want[id] = doc
	}
	for _, k := range journal.Kinds() {
		if !kinds[k.Kind] {
			t.Errorf("no fixture of kind %q: add one to journal/testdata/entries", k.Kind)
		}
	}
	mustSync(t, a)
	b := login(t, kit, pass)
	mustSync(t, b)
	for id, doc := range want {
		e, err := b.Get(ctx, id)
		if err != nil {
			t.Fatalf("second device, %s: %v", id, err)
		}
		if !bytes.Equal(e.Plaintext, doc) {
			t.Errorf("%s: the second device decrypted other bytes than were written", id)
			continue
		}
		got, err := journal.Unmarshal(e.Plaintext)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		again, err := journal.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		orig, _ := journal.Unmarshal(doc)
		first, _ := journal.Marshal(orig)
		if !bytes.Equal(again, first) {
			t.Errorf("%s (%s): re-encoding differs after the round trip", id, got.Kind)
		}
	}
}
