// Command interlude-load drives a running interlude-server with simulated devices and
// prints what it measured: push throughput (1 KiB envelopes), end-to-end notification
// latency between two devices of one account while many idle connections are held
// open, pull catch-up throughput, and — given the server's process ID — the server's
// memory per idle connection and CPU per ingested record.
//
// Usage:
//
//	interlude-load [flags]
//	interlude-load --idle 1000 --records 20000 --server-pid $(pgrep -n interlude-server)
//
// Every device signs up its own throwaway account with Ed25519 keys made here; keybags
// and envelopes are random bytes of realistic sizes (the server cannot tell). The run is
// bounded by --records and --duration, and talks only to loopback addresses unless
// --allow-remote is given.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"interlude/server/servertest"
	"interlude/syncproto"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "interlude-load: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	url         string
	origin      string
	allowRemote bool
	devices     int
	batch       int
	inflight    int
	records     int
	duration    time.Duration
	idle        int
	samples     int
	serverPID   int
	jsonOut     bool
}

// Report is what a run measured; --json prints it as is.
type Report struct {
	URL             string  `json:"url"`
	Devices         int     `json:"devices"`
	Batch           int     `json:"batch"`
	EnvelopeBytes   int     `json:"envelope_bytes"`
	IdleConnections int     `json:"idle_connections"`
	PushRecords     int64   `json:"push_records"`
	PushSeconds     float64 `json:"push_seconds"`
	PushPerSec      float64 `json:"push_records_per_sec"`
	PushMiBPerSec   float64 `json:"push_mib_per_sec"`

	NotifySamples   int     `json:"notify_samples"`
	NotifyAfterAck  Latency `json:"notify_after_ack_ms"`  // Notify at device B − PushResult at device A
	NotifyAfterSend Latency `json:"notify_after_send_ms"` // Notify at device B − Push sent by device A
	PushRoundTrip   Latency `json:"push_round_trip_ms"`   // PushResult − Push sent (one record)

	PullRecords   int      `json:"pull_records"`
	PullSeconds   float64  `json:"pull_seconds"`
	PullPerSec    float64  `json:"pull_records_per_sec"`
	PullPages     int      `json:"pull_pages"`
	ServerPID     int      `json:"server_pid,omitempty"`
	IdleKiBPerCon float64  `json:"server_rss_kib_per_idle_conn,omitempty"`
	ServerRSSMiB  float64  `json:"server_rss_mib,omitempty"`
	CPUPerRecord  float64  `json:"server_cpu_us_per_record,omitempty"`
	Errors        []string `json:"errors,omitempty"`
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("interlude-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "ws://127.0.0.1:7700/v1/sync", "the server's WebSocket URL")
	fs.StringVar(&o.origin, "origin", "", "Origin header to send (none, like a native client, by default)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a URL whose host is not a loopback address")
	fs.IntVar(&o.devices, "devices", 4, "devices pushing at once, each signed up as its own account")
	fs.IntVar(&o.batch, "batch", 64, "records per push")
	fs.IntVar(&o.inflight, "inflight", 2, "pushes each device keeps in flight")
	fs.IntVar(&o.records, "records", 20000, "records to push in the throughput phase (the total)")
	fs.DurationVar(&o.duration, "duration", 2*time.Minute, "the most the whole run may take")
	fs.IntVar(&o.idle, "idle", 0, "idle connections (signed in, subscribed) to hold open throughout")
	fs.IntVar(&o.samples, "samples", 500, "one-record pushes timed for the notification latency")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server's process ID, to read its memory and CPU from /proc (same machine only)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: interlude-load [flags]\n\nDrives a running interlude-server and prints throughput, latency and memory.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.devices < 1 || o.batch < 1 || o.inflight < 1 || o.records < 0 || o.idle < 0 || o.samples < 0:
		return errors.New("--devices, --batch and --inflight must be at least 1; --records, --idle and --samples at least 0")
	case o.batch > syncproto.DefaultMaxBatch:
		return fmt.Errorf("--batch %d: the server takes at most %d items per push", o.batch, syncproto.DefaultMaxBatch)
	case o.duration <= 0:
		return errors.New("--duration must be positive")
	}
	if err := checkTarget(o.url, o.allowRemote); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()

	rep, err := measure(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printTable(stdout, rep)
	return nil
}

// checkTarget refuses URLs that do not point at this machine unless allowed.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("--url %q: want ws://host:port/v1/sync or wss://…", raw)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--url %q is not a loopback address: load tests stay on this machine unless you pass --allow-remote", raw)
}

// device is a signed-in simulated device.
type device struct {
	c     *servertest.Client
	id    *servertest.Identity
	token []byte
}

func (o *options) dial(ctx context.Context) (*servertest.Client, error) {
	c, _, err := servertest.Dial(ctx, o.url, &servertest.DialOptions{Origin: o.origin})
	if err != nil {
		return nil, err
	}
	if _, err := c.Hello(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (o *options) signUp(ctx context.Context) (*device, error) {
	c, err := o.dial(ctx)
	if err != nil {
		return nil, err
	}
	id := servertest.NewIdentity()
	s, err := c.SignUp(ctx, id)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("sign up: %w", err)
	}
	return &device{c: c, id: id, token: s.Token}, nil
}

func (o *options) resume(ctx context.Context, token []byte) (*servertest.Client, error) {
	c, err := o.dial(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Resume(ctx, token); err != nil {
		c.Close()
		return nil, fmt.Errorf("resume: %w", err)
	}
	return c, nil
}

func measure(ctx context.Context, o options, log io.Writer) (*Report, error) {
	rep := &Report{URL: o.url, Devices: o.devices, Batch: o.batch, EnvelopeBytes: len(servertest.Envelope()), ServerPID: o.serverPID}
	var closers []*servertest.Client
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()

	// Idle connections: signed in and subscribed, 8 per account (under the per-account cap).
	rssBefore := readRSS(o.serverPID)
	if o.idle > 0 {
		fmt.Fprintf(log, "opening %d idle connections…\n", o.idle)
		idle, err := openIdle(ctx, &o, o.idle)
		closers = append(closers, idle...)
		if err != nil {
			return nil, fmt.Errorf("idle connections: %w", err)
		}
		if rssBefore > 0 {
			time.Sleep(2 * time.Second) // let the server's GC settle before reading RSS
			if after := readRSS(o.serverPID); after > 0 {
				rep.IdleKiBPerCon = float64(after-rssBefore) / 1024 / float64(o.idle)
			}
		}
	}
	rep.IdleConnections = o.idle

	// Push throughput.
	fmt.Fprintf(log, "pushing %d records from %d devices in batches of %d…\n", o.records, o.devices, o.batch)
	devs := make([]*device, o.devices)
	for i := range devs {
		d, err := o.signUp(ctx)
		if err != nil {
			return nil, err
		}
		devs[i] = d
		closers = append(closers, d.c)
	}
	cpuBefore := readCPU(o.serverPID)
	pushed, secs, errs := pushAll(ctx, &o, devs)
	rep.Errors = append(rep.Errors, errs...)
	rep.PushRecords, rep.PushSeconds = pushed, secs
	if secs > 0 {
		rep.PushPerSec = float64(pushed) / secs
		rep.PushMiBPerSec = rep.PushPerSec * float64(rep.EnvelopeBytes) / (1 << 20)
	}
	if cpuBefore >= 0 && pushed > 0 {
		if after := readCPU(o.serverPID); after >= 0 {
			rep.CPUPerRecord = float64(after-cpuBefore) / float64(pushed) * 1e6
		}
	}

	// Notification latency: device A pushes one record at a time; device B of the same
	// account is subscribed and times each Notify.
	if o.samples > 0 && ctx.Err() == nil {
		fmt.Fprintf(log, "timing %d notifications…\n", o.samples)
		if err := notifyLatency(ctx, &o, rep, &closers); err != nil {
			rep.Errors = append(rep.Errors, "notify latency: "+err.Error())
		}
	}

	// Pull catch-up: a fresh connection of the first device's account pulls everything.
	if pushed > 0 && ctx.Err() == nil {
		fmt.Fprintf(log, "pulling…\n")
		if err := pullAll(ctx, &o, devs[0].token, rep); err != nil {
			rep.Errors = append(rep.Errors, "pull: "+err.Error())
		}
	}
	if rss := readRSS(o.serverPID); rss > 0 {
		rep.ServerRSSMiB = float64(rss) / (1 << 20)
	}
	return rep, nil
}

func openIdle(ctx context.Context, o *options, n int) ([]*servertest.Client, error) {
	const perAccount = 8
	var mu sync.Mutex
	var out []*servertest.Client
	var firstErr error
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for start := 0; start < n; start += perAccount {
		k := min(perAccount, n-start)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := o.signUp(ctx)
			var got []*servertest.Client
			if err == nil {
				got = append(got, d.c)
				for len(got) < k && err == nil {
					var c *servertest.Client
					if c, err = o.resume(ctx, d.token); err == nil {
						got = append(got, c)
					}
				}
				for _, c := range got {
					if err == nil {
						_, err = servertest.Expect[syncproto.Ack](c.Call(ctx, &syncproto.Subscribe{}))
					}
				}
			}
			mu.Lock()
			out = append(out, got...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, firstErr
}

// pushAll pushes o.records records split over the devices, each keeping o.inflight
// pushes in flight, and returns the records accepted and the seconds it took.
func pushAll(ctx context.Context, o *options, devs []*device) (int64, float64, []string) {
	var accepted atomic.Int64
	var errMu sync.Mutex
	var errs []string
	addErr := func(s string) {
		errMu.Lock()
		if len(errs) < 10 {
			errs = append(errs, s)
		}
		errMu.Unlock()
	}
	// Build the batches first so that making random bytes is not timed.
	per := o.records / len(devs)
	batches := make([][]*syncproto.Push, len(devs))
	now := time.Now()
	for i := range devs {
		n := per
		if i == 0 {
			n += o.records % len(devs)
		}
		for n > 0 {
			k := min(n, o.batch)
			p := &syncproto.Push{Records: make([]syncproto.RecordPush, k)}
			for j := range p.Records {
				p.Records[j] = servertest.NewRecord(now)
			}
			batches[i] = append(batches[i], p)
			n -= k
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			window := make(chan (<-chan syncproto.Message), o.inflight)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ch := range window {
					select {
					case m := <-ch:
						pr, err := servertest.Expect[syncproto.PushResult](m, nil)
						if err != nil {
							addErr(err.Error())
							continue
						}
						for _, r := range pr.Results {
							if r.Status == syncproto.StatusAccepted {
								accepted.Add(1)
							}
						}
					case <-d.c.Done():
						addErr("connection ended: " + fmt.Sprint(d.c.Err()))
						return
					case <-ctx.Done():
						return
					}
				}
			}()
			for _, p := range batches[i] {
				if ctx.Err() != nil {
					break
				}
				ch, err := d.c.Go(p)
				if err != nil {
					addErr(err.Error())
					break
				}
				select {
				case window <- ch:
				case <-done:
				}
			}
			close(window)
			<-done
		}()
	}
	wg.Wait()
	return accepted.Load(), time.Since(start).Seconds(), errs
}

func notifyLatency(ctx context.Context, o *options, rep *Report, closers *[]*servertest.Client) error {
	a, err := o.signUp(ctx)
	if err != nil {
		return err
	}
	*closers = append(*closers, a.c)
	b, err := o.resume(ctx, a.token)
	if err != nil {
		return err
	}
	*closers = append(*closers, b)
	if _, err := servertest.Expect[syncproto.Ack](b.Call(ctx, &syncproto.Subscribe{})); err != nil {
		return err
	}
	// The subscription announces the current cursor at once: wait for it and drop it.
	select {
	case <-b.Notes():
	case <-time.After(2 * time.Second):
	}
	var afterAck, afterSend, rtt []time.Duration
	for i := 0; i < o.samples && ctx.Err() == nil; i++ {
		for len(b.Notes()) > 0 {
			<-b.Notes()
		}
		p := &syncproto.Push{Records: []syncproto.RecordPush{servertest.NewRecord(time.Now())}}
		t0 := time.Now()
		if _, err := servertest.Expect[syncproto.PushResult](a.c.Call(ctx, p)); err != nil {
			return err
		}
		t1 := time.Now()
		var note servertest.Note
		select {
		case note = <-b.Notes():
		case <-time.After(5 * time.Second):
			return errors.New("no Notify within 5 s")
		case <-ctx.Done():
			return ctx.Err()
		}
		afterAck = append(afterAck, note.At.Sub(t1))
		afterSend = append(afterSend, note.At.Sub(t0))
		rtt = append(rtt, t1.Sub(t0))
	}
	rep.NotifySamples = len(afterAck)
	rep.NotifyAfterAck = percentiles(afterAck)
	rep.NotifyAfterSend = percentiles(afterSend)
	rep.PushRoundTrip = percentiles(rtt)
	return nil
}

func pullAll(ctx context.Context, o *options, token []byte, rep *Report) error {
	c, err := o.resume(ctx, token)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	var cursor uint64
	for ctx.Err() == nil {
		ch, err := servertest.Expect[syncproto.Changes](c.Call(ctx, &syncproto.Pull{Cursor: cursor, Limit: syncproto.DefaultMaxPullPage}))
		if err != nil {
			return err
		}
		rep.PullPages++
		rep.PullRecords += len(ch.Items)
		cursor = ch.Cursor
		if !ch.More {
			break
		}
	}
	rep.PullSeconds = time.Since(start).Seconds()
	if rep.PullSeconds > 0 {
		rep.PullPerSec = float64(rep.PullRecords) / rep.PullSeconds
	}
	return nil
}

// percentiles returns nearest-rank percentiles in milliseconds.
func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		i = max(0, min(len(s)-1, i))
		return float64(s[i]) / float64(time.Millisecond)
	}
	return Latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: float64(s[len(s)-1]) / float64(time.Millisecond)}
}

// readRSS returns the resident set size of pid in bytes (Linux /proc), or 0.
func readRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// readCPU returns the user+system CPU seconds pid has used (Linux /proc), or -1.
func readCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	// The command name (field 2) may hold spaces; fields after the last ')' are fixed.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseFloat(f[11], 64) // field 14
	stime, _ := strconv.ParseFloat(f[12], 64) // field 15
	const ticks = 100                         // USER_HZ on Linux
	return (utime + stime) / ticks
}

func printTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "target\t%s\n", r.URL)
	fmt.Fprintf(tw, "idle connections held\t%d\n", r.IdleConnections)
	fmt.Fprintf(tw, "push throughput\t%.0f records/s (%.1f MiB/s; %d records of %d B in %.2f s; %d devices, batch %d)\n",
		r.PushPerSec, r.PushMiBPerSec, r.PushRecords, r.EnvelopeBytes, r.PushSeconds, r.Devices, r.Batch)
	fmt.Fprintf(tw, "notify after ack (p50/p95/p99/max)\t%.3f / %.3f / %.3f / %.3f ms (%d samples)\n",
		r.NotifyAfterAck.P50, r.NotifyAfterAck.P95, r.NotifyAfterAck.P99, r.NotifyAfterAck.Max, r.NotifySamples)
	fmt.Fprintf(tw, "notify after send (p50/p95/p99/max)\t%.3f / %.3f / %.3f / %.3f ms\n",
		r.NotifyAfterSend.P50, r.NotifyAfterSend.P95, r.NotifyAfterSend.P99, r.NotifyAfterSend.Max)
	fmt.Fprintf(tw, "push round trip, 1 record (p50/p95/p99)\t%.3f / %.3f / %.3f ms\n",
		r.PushRoundTrip.P50, r.PushRoundTrip.P95, r.PushRoundTrip.P99)
	fmt.Fprintf(tw, "pull catch-up\t%.0f records/s (%d records, %d pages, %.2f s)\n", r.PullPerSec, r.PullRecords, r.PullPages, r.PullSeconds)
	if r.ServerPID > 0 {
		fmt.Fprintf(tw, "server RSS\t%.1f MiB\n", r.ServerRSSMiB)
		if r.IdleConnections > 0 {
			fmt.Fprintf(tw, "server RSS per idle connection\t%.1f KiB\n", r.IdleKiBPerCon)
		}
		fmt.Fprintf(tw, "server CPU per pushed record\t%.1f µs\n", r.CPUPerRecord)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(tw, "error\t%s\n", e)
	}
	tw.Flush()
}
