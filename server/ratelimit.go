package server

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// limiter is a set of token buckets keyed by string, counting failed authentication
// attempts. A key may fail burst times in a row; its bucket then refills at rate
// tokens per interval. While a bucket holds less than one token, attempts under that
// key are refused before any work is done.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	perSec  float64
	buckets map[string]*bucket
	max     int // most keys tracked; past it, full buckets are pruned at once
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, interval time.Duration) *limiter {
	return &limiter{
		burst:   float64(burst),
		perSec:  float64(burst) / interval.Seconds(),
		buckets: make(map[string]*bucket),
		max:     100_000,
	}
}

func (l *limiter) level(b *bucket, now time.Time) float64 {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(l.burst, b.tokens+d*l.perSec)
		b.at = now
	}
	return b.tokens
}

// allow reports whether key may make another attempt now.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true
	}
	return l.level(b, now) >= 1
}

// fail takes a token from key's bucket.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.level(b, now)
	b.tokens = max(0, b.tokens-1)
}

// prune forgets keys whose buckets have refilled, so that the map stays small.
func (l *limiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *limiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// addrKey turns a RemoteAddr into the key its failures count under: the IPv4 address,
// or the /64 of an IPv6 address (one host usually holds a whole /64).
func addrKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "addr:" + host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "net:" + p.String()
	}
	return "addr:" + a.String()
}
