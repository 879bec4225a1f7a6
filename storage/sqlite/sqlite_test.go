package sqlite

import (
	"bytes"
	"path/filepath"
	"testing"

	"interlude/storage"
	"interlude/storage/storagetest"
	"interlude/syncproto"
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

// TestOwnedBlobsAreFresh checks what ownedBlob relies on: the driver returns a new slice
// for every blob of every row, which the next row, the end of the query and the next
// query on the same connection leave alone. It reads the feed query itself.
func TestOwnedBlobsAreFresh(t *testing.T) {
	s := openTest(t, Options{})
	s.readers.SetMaxOpenConns(1) // the next query runs on the same connection
	owner := createAccount(t, s)
	var pushed []syncproto.RecordPush
	for range 5 {
		pushed = append(pushed, newRecord(1000))
	}
	if _, err := s.Push(t.Context(), owner, syncproto.Push{Records: pushed}, testNow); err != nil {
		t.Fatal(err)
	}
	read := func(after int) (envelopes, keys [][]byte) {
		rows, err := s.readers.Query(ownFeedQuery, owner[:], after, 100)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				seq, rev      seqScan
				id            syncproto.RecordID
				deleted       bool
				envelope, key ownedBlob
			)
			if err := rows.Scan(&seq, (*idScan)(&id), &rev, &deleted, &envelope, &key); err != nil {
				t.Fatal(err)
			}
			envelopes, keys = append(envelopes, envelope), append(keys, key)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return envelopes, keys
	}
	envelopes, keys := read(0)
	read(2) // the same statement again, on the same connection, from another row
	if len(envelopes) != len(pushed) {
		t.Fatalf("read %d rows, pushed %d", len(envelopes), len(pushed))
	}
	for i, rp := range pushed {
		if !bytes.Equal(envelopes[i], rp.Envelope) || !bytes.Equal(keys[i], rp.OwnerKey) {
			t.Fatalf("row %d changed after later rows and queries were read: the driver reuses its buffers, so ownedBlob must copy", i)
		}
	}
	if cap(envelopes[0]) != len(envelopes[0]) {
		t.Errorf("an owned blob has spare capacity (%d > %d): appending to it could reach other memory", cap(envelopes[0]), len(envelopes[0]))
	}
}
