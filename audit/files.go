package audit

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File kinds.
const (
	KindDatabase   = "database"   // starts with "SQLite format 3\0"
	KindWAL        = "wal"        // SQLite write-ahead log
	KindSHM        = "shm"        // SQLite WAL index
	KindJournal    = "journal"    // SQLite rollback journal
	KindGzip       = "gzip"       // gzip: searched raw and decompressed (path "NAME!")
	KindCompressed = "compressed" // another compression format: cannot be searched inside
	KindLog        = "log"        // a file of the logs directory
	KindOther      = "other"
)

// MaxDecompressed caps how much one gzip file may expand to (a decompression bomb guard).
const MaxDecompressed = 4 << 30

var sqliteMagic = []byte("SQLite format 3\x00")

// snapFile is one file copied into the private snapshot.
type snapFile struct {
	File
	copy string // path of the copy
}

// snapshot copies every regular file under src (following symlinks to files, not to
// directories) into dst, keeping relative paths, and decompresses gzip files next to their
// copy. Originals are only ever opened with os.Open (read-only). It returns the copies and
// the paths it could not read as files (directories' symlinks, devices, sockets).
func snapshot(src, dst, label string) ([]*snapFile, []string, error) {
	var files []*snapFile
	var skipped []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p) // follows a symlink
		if err != nil || !fi.Mode().IsRegular() {
			skipped = append(skipped, rel)
			return nil
		}
		sf, err := copyFile(p, filepath.Join(dst, rel), rel, label)
		if err != nil {
			return err
		}
		files = append(files, sf)
		if sf.Kind == KindGzip {
			gz, err := gunzip(sf.copy, sf.copy+"!", rel+"!", label)
			if err != nil {
				// A damaged archive is still searched raw; say what could not be read.
				skipped = append(skipped, rel+"! ("+err.Error()+")")
				return nil
			}
			files = append(files, gz)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", src, err)
	}
	return files, skipped, nil
}

func copyFile(from, to, rel, label string) (*snapFile, error) {
	in, err := os.Open(from)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return writeCopy(in, to, rel, label, -1)
}

func gunzip(from, to, rel, label string) (*snapFile, error) {
	in, err := os.Open(from)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return writeCopy(zr, to, rel, label, MaxDecompressed)
}

// writeCopy copies r to a new 0600 file, hashing it, and classifies the result.
func writeCopy(r io.Reader, to, rel, label string, limit int64) (*snapFile, error) {
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	var head bytes.Buffer
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(out, h, &headWriter{b: &head, max: 32}), src)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", rel, err)
	}
	if limit > 0 && n > limit {
		return nil, fmt.Errorf("decompresses to more than %d bytes", limit)
	}
	sf := &snapFile{File: File{Path: filepath.ToSlash(rel), Dir: label, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, copy: to}
	sf.Kind = classify(rel, head.Bytes(), label)
	return sf, nil
}

type headWriter struct {
	b   *bytes.Buffer
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func classify(name string, head []byte, label string) string {
	switch {
	case bytes.HasPrefix(head, sqliteMagic):
		return KindDatabase
	case len(head) >= 4 && (bytes.Equal(head[:4], []byte{0x37, 0x7f, 0x06, 0x82}) || bytes.Equal(head[:4], []byte{0x37, 0x7f, 0x06, 0x83})),
		strings.HasSuffix(name, "-wal"):
		return KindWAL
	case strings.HasSuffix(name, "-shm"):
		return KindSHM
	case strings.HasSuffix(name, "-journal"):
		return KindJournal
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return KindGzip
	case compressedFormat(head) != "":
		return KindCompressed
	case label == "logs":
		return KindLog
	}
	return KindOther
}

// compressedFormat names a compression or archive format this tool cannot look inside.
func compressedFormat(head []byte) string {
	for _, m := range []struct {
		name  string
		magic []byte
	}{
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
		{"bzip2", []byte("BZh")},
		{"zip", []byte("PK\x03\x04")},
		{"7z", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}},
		{"lz4", []byte{0x04, 0x22, 0x4d, 0x18}},
	} {
		if bytes.HasPrefix(head, m.magic) {
			return m.name
		}
	}
	return ""
}

// fileHead reads up to n bytes from the start of a file.
func fileHead(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, _ := io.ReadFull(f, b)
	return b[:k]
}
