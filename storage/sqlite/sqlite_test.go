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
