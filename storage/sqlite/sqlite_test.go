package sqlite

import (
	"path/filepath"
	"testing"

	"interlude/storage"
	"interlude/storage/storagetest"
)

// openTest opens a store in a new file under t.TempDir and closes it when the test ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "data", "interlude.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t, Options{}) })
	storagetest.RunQuota(t, func(t *testing.T, maxRecords int) storage.Store {
		return openTest(t, Options{MaxRecords: maxRecords})
	})
}

// TestArenaCopies checks that the arena's copies are independent of their source and of
// each other: appending to one never overwrites the next, and nil stays nil.
func TestArenaCopies(t *testing.T) {
	var a arena
	src := []byte("first")
	one, two := a.copy(src), a.copy([]byte("second"))
	src[0] = 'X'
	if string(one) != "first" || string(two) != "second" {
		t.Fatalf("copies %q %q changed with their source", one, two)
	}
	one = append(one, "!!!!!!"...)
	if string(two) != "second" {
		t.Fatalf("appending to one copy overwrote the next: %q", two)
	}
	if a.copy(nil) != nil {
		t.Fatal("a nil field came back non-nil")
	}
	big := a.copy(make([]byte, 3*arenaChunk))
	if len(big) != 3*arenaChunk {
		t.Fatalf("a field larger than a chunk came back %d bytes", len(big))
	}
}
