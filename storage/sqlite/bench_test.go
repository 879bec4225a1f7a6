package sqlite

// Benchmarks of durable ingest and paging, against their ceilings: raw SQL on the same
// kind of file with the same pragmas. Every op is one record; records/s is reported so
// that docs/performance.md can give ratios. Nothing here asserts a timing.
//
//	go test -run '^$' -bench . -benchmem -benchtime 3s ./storage/sqlite/

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jmoiron/sqlx"

	"interlude/syncproto"
)

// envelopes is a pool of random 1 KiB envelopes shared by the benchmarks, so that no
// benchmark pays for crypto/rand inside its loop.
var envelopes = sync.OnceValue(func() [][]byte {
	pool := make([][]byte, 256)
	for i := range pool {
		pool[i] = randomBytes(1024)
	}
	return pool
})

func envelope(i int) []byte { return envelopes()[i%len(envelopes())] }

// rawSchema is shaped like records: a rowid table keyed by a 16-byte blob.
const rawSchema = `CREATE TABLE raw (
    id BLOB NOT NULL PRIMARY KEY, owner BLOB NOT NULL, revision INTEGER NOT NULL, deleted INTEGER NOT NULL,
    seq INTEGER NOT NULL, received_hour INTEGER NOT NULL, envelope_hash BLOB NOT NULL, owner_key BLOB, envelope BLOB
) STRICT`

// BenchmarkRawInsert1KiB is the ceiling of durable ingest: plain INSERTs of 1 KiB blobs,
// N rows per transaction, with the Store writer's pragmas (synchronous=FULL, its page
// cache) and one prepared statement.
func BenchmarkRawInsert1KiB(b *testing.B) {
	for _, n := range []int{1, 8, 16, 32, 64, 256, 512, 1024} {
		b.Run(fmt.Sprintf("tx=%d", n), func(b *testing.B) {
			db, err := sqlx.Open("sqlite", dsn(filepath.Join(b.TempDir(), "raw.db"), writerParams))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			if _, err := db.Exec(rawSchema); err != nil {
				b.Fatal(err)
			}
			ins, err := db.Prepare(`INSERT INTO raw VALUES (?, ?, 1, 0, ?, 0, ?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer ins.Close()
			owner, hash, key := randomBytes(16), randomBytes(32), randomBytes(72)
			i := 0
			cpu0 := processCPU(b)
			for b.Loop() {
				if i%n == 0 {
					if i > 0 {
						if _, err := db.Exec("COMMIT"); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := db.Exec("BEGIN IMMEDIATE"); err != nil {
						b.Fatal(err)
					}
				}
				id := syncproto.NewRecordID(testNow) // the IDs Push gets: a day prefix, then random
				if _, err := ins.Exec(id[:], owner, i, hash, key, envelope(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if _, err := db.Exec("COMMIT"); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(processCPU(b)-cpu0)/1e3/float64(b.N), "cpu-µs/record")
		})
	}
}

// benchStore opens a store with accounts for the benchmarks (created concurrently, so in
// few commits).
func benchStore(b *testing.B, accounts int) (*Store, []syncproto.AccountID) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "interlude.db"), Options{MaxRecords: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ids := make([]syncproto.AccountID, accounts)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() { ids[i] = createAccount(b, s) })
	}
	wg.Wait()
	return s, ids
}

func pushBatch(b *testing.B, s *Store, owner syncproto.AccountID, n, salt int) {
	p := syncproto.Push{Records: make([]syncproto.RecordPush, n)}
	for i := range p.Records {
		p.Records[i] = syncproto.RecordPush{Record: syncproto.NewRecordID(testNow), Revision: 1, Envelope: envelope(salt + i), OwnerKey: envelope(salt + i)[:72]}
	}
	out, err := s.Push(context.Background(), owner, p, testNow)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range out.Results {
		if r.Status != syncproto.StatusAccepted {
			b.Fatalf("push: %+v", r)
		}
	}
}

// BenchmarkPush1KiB measures durable ingest through Store.Push: new 1 KiB records, batch
// records per Push, from one goroutine (serial: one commit per Push) or from clients
// goroutines at once (group commit shares commits). Each op is one record.
func BenchmarkPush1KiB(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("serial/batch=%d", batch), func(b *testing.B) {
			s, ids := benchStore(b, 1)
			groups := s.groups.Load()
			i := 0
			for b.Loop() {
				// b.Loop counts records; push when a batch is full.
				i++
				if i%batch == 0 {
					pushBatch(b, s, ids[0], batch, i)
				}
			}
			if rest := i % batch; rest > 0 {
				pushBatch(b, s, ids[0], rest, i)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.N)/float64(s.groups.Load()-groups), "records/commit")
		})
	}
	for _, tt := range []struct{ clients, batch int }{{16, 1}, {64, 1}, {256, 1}, {64, 16}} {
		b.Run(fmt.Sprintf("parallel/clients=%d/batch=%d", tt.clients, tt.batch), func(b *testing.B) {
			s, ids := benchStore(b, tt.clients)
			groups := s.groups.Load()
			var next, client atomic.Int64
			// RunParallel starts parallelism × GOMAXPROCS goroutines: one per client.
			b.SetParallelism(max(1, tt.clients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				owner := ids[int(client.Add(1)-1)%len(ids)]
				n := 0
				for pb.Next() {
					n++
					if n == tt.batch {
						pushBatch(b, s, owner, n, int(next.Add(1)))
						n = 0
					}
				}
				if n > 0 {
					pushBatch(b, s, owner, n, 0)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.N)/float64(s.groups.Load()-groups), "records/commit")
		})
	}
}

// pagingStore holds rows records of one account, for the paging benchmarks.
func pagingStore(b *testing.B, rows int) (*Store, syncproto.AccountID) {
	s, ids := benchStore(b, 1)
	for i := 0; i < rows; i += 256 {
		pushBatch(b, s, ids[0], min(256, rows-i), i)
	}
	return s, ids[0]
}

const pagingRows, pageSize = 10_000, 500

// BenchmarkChanges pages through an account's feed with Store.Changes, 500 records of
// 1 KiB per page. Each op is one page.
func BenchmarkChanges(b *testing.B) {
	s, owner := pagingStore(b, pagingRows)
	ctx := context.Background()
	var after uint64
	records := 0
	for b.Loop() {
		page, err := s.Changes(ctx, owner, after, pageSize, testNow)
		if err != nil {
			b.Fatal(err)
		}
		records += len(page.Items)
		after = page.Cursor
		if !page.More {
			after = 0
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRawPaging reads the same rows directly: keyset paging on the records table's
// rowid, the same columns, no join and no visibility rule. Each op is one page. Two ways
// of taking the bytes out: scan=bytes scans into []byte (database/sql copies each value
// out of the driver's slice), scan=owned keeps the driver's slices with the scanners
// Changes uses (ownedBlob, seqScan, idScan); the second is the cheaper read, so the
// stricter ceiling.
func BenchmarkRawPaging(b *testing.B) {
	s, _ := pagingStore(b, pagingRows)
	ctx := context.Background()
	q, err := s.readers.PreparexContext(ctx, `SELECT rowid, id, owner, revision, deleted, envelope, owner_key FROM records
		WHERE rowid > ? ORDER BY rowid LIMIT ?`)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	type row struct {
		seq      int64
		id       syncproto.RecordID
		owner    syncproto.AccountID
		revision uint64
		deleted  bool
		envelope []byte
		ownerKey []byte
	}
	for _, owned := range []bool{false, true} {
		name := "scan=bytes"
		if owned {
			name = "scan=owned"
		}
		b.Run(name, func(b *testing.B) {
			var after int64
			records := 0
			for b.Loop() {
				rows, err := q.QueryContext(ctx, after, pageSize)
				if err != nil {
					b.Fatal(err)
				}
				page := make([]row, 0, pageSize)
				for rows.Next() {
					var r row
					if owned {
						var seq, revision seqScan
						err = rows.Scan(&seq, (*idScan)(&r.id), (*idScan)(&r.owner), &revision, &r.deleted,
							(*ownedBlob)(&r.envelope), (*ownedBlob)(&r.ownerKey))
						r.seq, r.revision = int64(seq), uint64(revision)
					} else {
						err = rows.Scan(&r.seq, fixed(r.id[:]), fixed(r.owner[:]), &r.revision, &r.deleted, &r.envelope, &r.ownerKey)
					}
					if err != nil {
						b.Fatal(err)
					}
					page = append(page, r)
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
				records += len(page)
				after = 0
				if len(page) == pageSize {
					after = page[len(page)-1].seq
				}
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkWALPages counts the pages one commit of 64 new 1 KiB records writes to the
// write-ahead log, through Store.Push and as raw INSERTs, into a database already
// holding 10,000 such records (automatic checkpoints off, so the log only grows). Each op
// is one commit. Pages are what a commit costs in I/O: raw INSERTs update the table and
// its ID index; a Push also records_feed, the owner's feed.
func BenchmarkWALPages(b *testing.B) {
	const warm, batch = 10_000, 64
	walPages := func(path string) float64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return float64(fi.Size()-32) / (4096 + 24) // WAL header, then frames of header + page
	}
	b.Run("raw", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "raw.db")
		db, err := sqlx.Open("sqlite", dsn(path, writerParams))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		db.MustExec(rawSchema)
		owner, hash, key := randomBytes(16), randomBytes(32), randomBytes(72)
		commit := func(n int) {
			db.MustExec("BEGIN IMMEDIATE")
			for i := range n {
				id := syncproto.NewRecordID(testNow)
				db.MustExec(`INSERT INTO raw VALUES (?, ?, 1, 0, ?, 0, ?, ?, ?)`, id[:], owner, i, hash, key, envelope(i))
			}
			db.MustExec("COMMIT")
		}
		for range warm / batch {
			commit(batch)
		}
		db.MustExec("PRAGMA wal_checkpoint(TRUNCATE)")
		db.MustExec("PRAGMA wal_autocheckpoint = 0")
		for b.Loop() {
			commit(batch)
		}
		b.ReportMetric(walPages(path)/float64(b.N), "pages/commit")
	})
	b.Run("push", func(b *testing.B) {
		s, ids := benchStore(b, 1)
		for i := 0; i < warm; i += batch {
			pushBatch(b, s, ids[0], batch, i)
		}
		if err := s.Checkpoint(context.Background()); err != nil {
			b.Fatal(err)
		}
		err := s.submit(&job{ctx: context.Background(), raw: true, fn: func(w *writer) error {
			_, err := w.conn.ExecContext(writeCtx, "PRAGMA wal_autocheckpoint = 0")
			return err
		}})
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			pushBatch(b, s, ids[0], batch, i)
			i += batch
		}
		b.ReportMetric(walPages(s.Path())/float64(b.N), "pages/commit")
	})
}

// processCPU is the CPU time (user and system) this process has used, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
