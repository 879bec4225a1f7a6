//go:build unix

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"interlude/server/servertest"
	"interlude/storage"
	"interlude/storage/sqlite"
	"interlude/syncproto"
)

// The benchmarks that report server CPU and memory run the server in a child process
// (this test binary, re-executed with helperEnv set), so that the figures are the
// server's alone and not the benchmark's clients'. INTERLUDE_HELPER_CPUPROFILE=FILE
// makes that process write a CPU profile, INTERLUDE_HELPER_HEAPPROFILE=FILE a heap
// profile whenever it reports memory.
const helperEnv = "INTERLUDE_SERVER_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		if err := runHelper(dir); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperStats is what the helper's /stats endpoint reports about its own process.
type helperStats struct {
	CPUMicros  int64  // user + system, from getrusage(RUSAGE_SELF)
	HeapAlloc  uint64 // live heap after GC (when asked)
	StackInuse uint64
	Goroutines int
	RSS        int64 // VmRSS, bytes
}

// runHelper serves a real server over a SQLite file in dir, prints its address, and
// runs until its standard input closes.
func runHelper(dir string) error {
	if os.Getenv("INTERLUDE_HELPER_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	if os.Getenv("GOGC") == "" { // as interlude-server does
		debug.SetGCPercent(GCPercent)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "interlude.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	srv, err := New(Config{Store: st, FakeSaltSecret: testSecret})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("gc") {
			// Several cycles: stacks shrink by half per GC while mostly unused.
			for range 5 {
				runtime.GC()
			}
			debug.FreeOSMemory()
		}
		if path := os.Getenv("INTERLUDE_HELPER_HEAPPROFILE"); path != "" && r.URL.Query().Has("gc") {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		json.NewEncoder(w).Encode(helperStats{
			CPUMicros:  ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000,
			HeapAlloc:  ms.HeapAlloc,
			StackInuse: ms.StackInuse,
			Goroutines: runtime.NumGoroutine(),
			RSS:        selfRSS(),
		})
	})
	if path := os.Getenv("INTERLUDE_HELPER_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	fmt.Println(ln.Addr().String())
	io.Copy(io.Discard, os.Stdin)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	srv.Shutdown(sctx)
	return st.Close()
}

func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return kb * 1024
		}
	}
	return 0
}

// helper is a server running in a child process.
type helper struct {
	url   string // ws://…/v1/sync
	stats string // http://…/stats
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startHelper(b *testing.B) *helper {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+b.TempDir(), "GOMAXPROCS="+fmt.Sprint(runtime.GOMAXPROCS(0)))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("helper did not start: %v", err)
	}
	addr := strings.TrimSpace(line)
	h := &helper{url: "ws://" + addr + syncproto.Path, stats: "http://" + addr + "/stats", cmd: cmd, stdin: stdin}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return h
}

func (h *helper) read(b *testing.B, gc bool) helperStats {
	b.Helper()
	u := h.stats
	if gc {
		u += "?gc=1"
	}
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s helperStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchClient connects, says Hello and signs up (or resumes with token).
func benchClient(b *testing.B, url string, token []byte) (*servertest.Client, []byte) {
	b.Helper()
	ctx := context.Background()
	c, _, err := servertest.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Hello(ctx); err != nil {
		b.Fatal(err)
	}
	if token != nil {
		if _, err := c.Resume(ctx, token); err != nil {
			b.Fatal(err)
		}
		return c, token
	}
	s, err := c.SignUp(ctx, servertest.NewIdentity())
	if err != nil {
		b.Fatal(err)
	}
	return c, s.Token
}

// envelopePool is a set of random 1 KiB + 177 B envelopes reused across records (the
// store does not deduplicate, so reuse costs it nothing; making random bytes per record
// would time the benchmark's RNG).
var envelopePool = sync.OnceValue(func() [][]byte {
	p := make([][]byte, 512)
	for i := range p {
		p[i] = servertest.Envelope()
	}
	return p
})

// batches splits n fresh records into pushes of at most size.
func batches(n, size int) []*syncproto.Push {
	pool := envelopePool()
	ownerKey := servertest.RandomBytes(72)
	var out []*syncproto.Push
	for i := 0; i < n; i += size {
		k := min(size, n-i)
		p := &syncproto.Push{Records: make([]syncproto.RecordPush, k)}
		for j := range p.Records {
			p.Records[j] = syncproto.RecordPush{Record: syncproto.NewRecordID(testStart), Revision: 1, Envelope: pool[(i+j)%len(pool)], OwnerKey: ownerKey}
		}
		out = append(out, p)
	}
	return out
}

const benchBatch = 64

// BenchmarkPushOverWebSocket measures durable ingest of 1 KiB envelopes over real
// WebSockets into a server in its own process: records/s, and the server's CPU per
// record from its getrusage. b.N is the number of records. Each connection pushes
// batches of 64 with two in flight; the last case pushes as the client library does
// (client.pushRecords): batches of syncproto.DefaultMaxBatch, one at a time.
func BenchmarkPushOverWebSocket(b *testing.B) {
	for _, tc := range []struct{ conns, batch, depth int }{
		{1, benchBatch, 2}, {8, benchBatch, 2}, {64, benchBatch, 2}, {1, syncproto.DefaultMaxBatch, 1},
	} {
		name := fmt.Sprintf("conns=%d", tc.conns)
		if tc.batch != benchBatch {
			name = fmt.Sprintf("conns=%d,batch=%d,inflight=%d", tc.conns, tc.batch, tc.depth)
		}
		conns := tc.conns
		b.Run(name, func(b *testing.B) {
			h := startHelper(b)
			clients := make([]*servertest.Client, conns)
			for i := range clients {
				clients[i], _ = benchClient(b, h.url, nil)
			}
			work := make([][]*syncproto.Push, conns)
			for i := range work {
				work[i] = batches(b.N/conns+boolInt(i < b.N%conns), tc.batch)
			}
			before := h.read(b, false)
			b.ResetTimer()
			start := time.Now()
			var accepted atomic.Int64
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					accepted.Add(pushPipelined(b, c, work[i], tc.depth))
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			after := h.read(b, false)
			if accepted.Load() != int64(b.N) {
				b.Fatalf("%d of %d records accepted", accepted.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(after.CPUMicros-before.CPUMicros)/float64(b.N), "server-cpu-µs/record")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// pushPipelined sends pushes keeping depth in flight and returns the records accepted.
func pushPipelined(b *testing.B, c *servertest.Client, ps []*syncproto.Push, depth int) int64 {
	var n int64
	window := make([]<-chan syncproto.Message, 0, depth)
	wait := func() {
		m := <-window[0]
		window = window[1:]
		pr, err := servertest.Expect[syncproto.PushResult](m, nil)
		if err != nil {
			b.Error(err)
			return
		}
		for _, r := range pr.Results {
			if r.Status == syncproto.StatusAccepted {
				n++
			}
		}
	}
	for _, p := range ps {
		if len(window) == depth {
			wait()
		}
		ch, err := c.Go(p)
		if err != nil {
			b.Error(err)
			return n
		}
		window = append(window, ch)
	}
	for len(window) > 0 {
		wait()
	}
	return n
}

// BenchmarkPushStoreDirect pushes the same batches straight into Store.Push, in process,
// with no WebSocket: the ceiling the WebSocket path is compared with.
func BenchmarkPushStoreDirect(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "interlude.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			owners := make([]syncproto.AccountID, writers)
			for i := range owners {
				id := servertest.NewIdentity()
				owners[i] = id.Account
				if err := st.CreateAccount(ctx, storage.Account{ID: id.Account, KDFParams: id.KDFParams, Keybag: id.Keybag, RecoveryKeybag: id.RecoveryKeybag, Bundle: id.Bundle, Fingerprint: id.Fingerprint},
					storage.Device{ID: syncproto.NewDeviceID(), Account: id.Account}); err != nil {
					b.Fatal(err)
				}
			}
			work := make([][]*syncproto.Push, writers)
			for i := range work {
				work[i] = batches(b.N/writers+boolInt(i < b.N%writers), benchBatch)
			}
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, p := range work[i] {
						if _, err := st.Push(ctx, owners[i], *p, testStart); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := (ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()) / 1000
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-µs/record")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkIdleConnMemory opens idle connections (signed in and subscribed, 8 per
// account) to a server in its own process and reports the server's memory per
// connection: live heap + goroutine stacks after GC (runtime.MemStats), and RSS.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		h := startHelper(b)
		// Sign the accounts up first, so that their one-off costs are not counted.
		tokens := make([][]byte, n/8)
		for i := range tokens {
			c, tok := benchClient(b, h.url, nil)
			tokens[i] = tok
			c.Close()
		}
		before := h.read(b, true)
		clients := make([]*servertest.Client, 0, n)
		for i := range n {
			c, _ := benchClient(b, h.url, tokens[i/8])
			if _, err := servertest.Expect[syncproto.Ack](c.Call(context.Background(), &syncproto.Subscribe{})); err != nil {
				b.Fatal(err)
			}
			clients = append(clients, c)
		}
		time.Sleep(500 * time.Millisecond)
		after := h.read(b, true)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		stack := float64(after.StackInuse) - float64(before.StackInuse)
		b.ReportMetric((heap+stack)/n/1024, "KiB/conn")
		b.ReportMetric(heap/n/1024, "heap-KiB/conn")
		b.ReportMetric(stack/n/1024, "stack-KiB/conn")
		b.ReportMetric(float64(after.RSS-before.RSS)/n/1024, "rss-KiB/conn")
		b.ReportMetric(float64(after.Goroutines-before.Goroutines)/n, "goroutines/conn")
		b.ReportMetric(0, "ns/op")
		for _, c := range clients {
			c.Close()
		}
	}
}

// commitClock wraps a store and records when each Push returned (its commit), so that
// notification latency can be measured from the commit.
type commitClock struct {
	storage.Store
	last atomic.Int64 // unix nanoseconds of the last Push's return
}

func (c *commitClock) Push(ctx context.Context, owner syncproto.AccountID, p syncproto.Push, now time.Time) (storage.PushOutcome, error) {
	out, err := c.Store.Push(ctx, owner, p, now)
	c.last.Store(time.Now().UnixNano())
	return out, err
}

// BenchmarkNotifyLatency measures how long a committed change takes to reach another
// subscribed device of the same account while 1,000 devices are connected and
// subscribed. One op is one single-record push; p50 and p99 are reported from the
// commit (the store's Push returning, in this process) to the Notify being read by the
// other device's client.
func BenchmarkNotifyLatency(b *testing.B) {
	const devices = 1000
	var cc *commitClock
	e := newEnvWrapped(b, func(s storage.Store) storage.Store { cc = &commitClock{Store: s}; return cc },
		func(c *Config) { c.Now = time.Now })
	// Idle devices: 8 per account, all subscribed.
	var tokens [][]byte
	for range (devices - 2) / 8 {
		c, tok := benchClient(b, e.url, nil)
		tokens = append(tokens, tok)
		call[syncproto.Ack](b, c, &syncproto.Subscribe{})
	}
	for i := range devices - 2 - len(tokens) {
		c, _ := benchClient(b, e.url, tokens[i%len(tokens)])
		call[syncproto.Ack](b, c, &syncproto.Subscribe{})
	}
	a, tok := benchClient(b, e.url, nil)
	w, _ := benchClient(b, e.url, tok)
	call[syncproto.Ack](b, w, &syncproto.Subscribe{})
	waitNote(b, w, 0)
	if n, _ := e.srv.hub.count(); n != devices {
		b.Fatalf("%d connections, want %d", n, devices)
	}
	pool := batches(b.N, 1)
	fromCommit := make([]time.Duration, 0, b.N)
	fromSend := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		drainNotes(w)
		t0 := time.Now()
		call[syncproto.PushResult](b, a, pool[i])
		select {
		case n := <-w.Notes():
			fromCommit = append(fromCommit, n.At.Sub(time.Unix(0, cc.last.Load())))
			fromSend = append(fromSend, n.At.Sub(t0))
		case <-time.After(5 * time.Second):
			b.Fatal("no Notify")
		}
	}
	b.StopTimer()
	slices.Sort(fromCommit)
	slices.Sort(fromSend)
	pct := func(d []time.Duration, q float64) float64 {
		i := max(0, min(len(d)-1, int(q*float64(len(d))+0.5)-1))
		return float64(d[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(fromCommit, 0.50), "p50-ms")
	b.ReportMetric(pct(fromCommit, 0.99), "p99-ms")
	b.ReportMetric(pct(fromSend, 0.50), "push-to-notify-p50-ms")
	b.ReportMetric(pct(fromSend, 0.99), "push-to-notify-p99-ms")
}

// BenchmarkPullOverWebSocket pages through an account's feed of 10,000 records of 1 KiB
// over a real WebSocket from a server in its own process, 500 records a page, as
// storage/sqlite's BenchmarkChanges and BenchmarkRawPaging do in process. Each op is one
// page. client-cpu-µs/record is this process's CPU (the client reading and decoding the
// pages): on a two-core machine the client's work competes with the server's.
func BenchmarkPullOverWebSocket(b *testing.B) {
	const rows, page = 10_000, 500
	h := startHelper(b)
	c, tok := benchClient(b, h.url, nil)
	if n := pushPipelined(b, c, batches(rows, 250), 4); n != rows {
		b.Fatalf("%d of %d records stored", n, rows)
	}
	r, _ := benchClient(b, h.url, tok)
	// This process, the benchmark's client, shares the machine's cores with the server, so
	// it runs the collector at the server's setting too: at Go's default (100) the client's
	// collections of a page of garbage per round trip take about a third of its CPU, which
	// the server then lacks (docs/performance.md gives the pull at both settings).
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	}
	before := h.read(b, false)
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var cursor uint64
	records := 0
	b.ResetTimer()
	for b.Loop() {
		ch := call[syncproto.Changes](b, r, &syncproto.Pull{Cursor: cursor, Limit: page})
		records += len(ch.Items)
		cursor = ch.Cursor
		if !ch.More {
			cursor = 0
		}
	}
	after := h.read(b, false)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.CPUMicros-before.CPUMicros)/float64(records), "server-cpu-µs/record")
	b.ReportMetric(float64(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano())/1e3/float64(records), "client-cpu-µs/record")
}
