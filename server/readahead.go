package server

import (
	"sync"
	"sync/atomic"
	"time"

	"interlude/syncproto"
)

// Read-ahead of catch-up pages.
//
// A device catching up asks for one page at a time, and it cannot ask for the next page
// before it has the cursor at the end of this one. Rather than sit idle while the page
// crosses the network and the device applies it, the connection's reader reads the next
// page as soon as the answer is queued (pull sets it up; readAhead does it). If the next
// request is a Pull for exactly that page, it is answered at once.
//
// A page read ahead is a snapshot taken before the request arrived, so it is served only
// if a fresh read would return the same thing:
//
//   - the account's feed position (storage.Store.Cursor) is what it was just before the
//     page was read. Every change to what an account may see (a push, grant, revocation,
//     deletion or expiry) appends to that account's feed, so an unchanged position means
//     nothing the page could hold has changed since; in particular a revocation
//     acknowledged before the request always discards the page;
//   - no grant in the page has expired by the request's time (grants expire by the clock
//     as well as by the sweeper);
//   - the request names the same account, cursor and page size.
//
// Otherwise the page is dropped and read afresh. Memory is bounded server-wide: at most
// maxReadAhead pages are held at once (a connection that cannot take a slot simply does
// not read ahead), and a page nobody asks for within readAheadTTL is dropped.
//
// The read runs on the connection's reader goroutine, so a frame that arrives meanwhile
// (a Push, a Ping) waits for it: one page read, a few milliseconds for 500 records. Other
// connections are not delayed.
const (
	maxReadAhead = 16
	readAheadTTL = 5 * time.Second
)

// readAheadState is the server's bookkeeping: the slots, and counters for tests and
// benchmarks.
type readAheadState struct {
	slots   chan struct{}
	stored  atomic.Int64 // pages read ahead and held
	served  atomic.Int64 // pages answered from read-ahead
	dropped atomic.Int64 // pages discarded: stale, unwanted or expired
}

func newReadAheadState() *readAheadState {
	return &readAheadState{slots: make(chan struct{}, maxReadAhead)}
}

// aheadPage is one page read ahead for a connection.
type aheadPage struct {
	account syncproto.AccountID
	after   uint64
	limit   int
	feedAt  uint64 // the account's feed position, read before the page
	page    syncproto.Changes
	timer   *time.Timer
}

// aheadSlot holds a connection's page read ahead, if any. The reader goroutine stores and
// takes it; the TTL timer may take it too, hence the lock.
type aheadSlot struct {
	mu   sync.Mutex
	page *aheadPage
}

// takeAhead removes and returns the connection's page read ahead and frees its slot.
func (c *conn) takeAhead() *aheadPage {
	c.ahead.mu.Lock()
	p := c.ahead.page
	c.ahead.page = nil
	c.ahead.mu.Unlock()
	if p != nil {
		p.timer.Stop()
		<-c.s.readAhead.slots
	}
	return p
}

// dropAhead discards the connection's page read ahead, if any.
func (c *conn) dropAhead() {
	if c.takeAhead() != nil {
		c.s.readAhead.dropped.Add(1)
	}
}

// expireAhead discards p when its time is up, if it is still the connection's page (a
// timer that fires late must not drop the page read after it).
func (c *conn) expireAhead(p *aheadPage) {
	c.ahead.mu.Lock()
	mine := c.ahead.page == p
	if mine {
		c.ahead.page = nil
	}
	c.ahead.mu.Unlock()
	if mine {
		<-c.s.readAhead.slots
		c.s.readAhead.dropped.Add(1)
	}
}

// readAhead reads the page after cursor after and holds it for the next Pull. It runs on
// the reader goroutine after the previous page's answer is queued. Errors are not
// reported: the request, if it comes, reads the page again and reports its own.
func (c *conn) readAhead(account syncproto.AccountID, after uint64, limit int) {
	c.dropAhead() // pull has taken it already; never hold two
	if c.closing.Load() {
		return
	}
	select {
	case c.s.readAhead.slots <- struct{}{}:
	default:
		return // the server holds enough pages already
	}
	ctx, cancel := c.s.storeCtx()
	defer cancel()
	feedAt, err := c.s.store.Cursor(ctx, account)
	var page syncproto.Changes
	if err == nil {
		page, err = c.s.store.Changes(ctx, account, after, limit, c.s.now())
	}
	if err != nil || c.closing.Load() { // a close queued meanwhile: nobody will ask
		<-c.s.readAhead.slots
		return
	}
	p := &aheadPage{account: account, after: after, limit: limit, feedAt: feedAt, page: page}
	c.ahead.mu.Lock()
	c.ahead.page = p
	p.timer = time.AfterFunc(readAheadTTL, func() { c.expireAhead(p) })
	c.ahead.mu.Unlock()
	c.s.readAhead.stored.Add(1)
}

// aheadFor returns the page read ahead if it answers a Pull of account from after with
// limit at now exactly as a fresh read would, and drops any page that does not.
func (c *conn) aheadFor(account syncproto.AccountID, after uint64, limit int, now time.Time) (syncproto.Changes, bool) {
	p := c.takeAhead()
	if p == nil {
		return syncproto.Changes{}, false
	}
	if p.account != account || p.after != after || p.limit != limit || grantExpired(&p.page, now) {
		c.s.readAhead.dropped.Add(1)
		return syncproto.Changes{}, false
	}
	ctx, cancel := c.s.storeCtx()
	defer cancel()
	if cur, err := c.s.store.Cursor(ctx, account); err != nil || cur != p.feedAt {
		c.s.readAhead.dropped.Add(1)
		return syncproto.Changes{}, false
	}
	c.s.readAhead.served.Add(1)
	return p.page, true
}

// grantExpired reports whether a grant in the page has expired at now, by the rule the
// store applies (live while expiry is 0 or after now, in whole seconds).
func grantExpired(page *syncproto.Changes, now time.Time) bool {
	for i := range page.Items {
		for _, g := range page.Items[i].Grants {
			if !g.Expires.IsZero() && g.Expires.Unix() <= now.Unix() {
				return true
			}
		}
	}
	return false
}
