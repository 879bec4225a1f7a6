package server

import (
	"sync"

	"interlude/syncproto"
)

// hub knows every live connection and, for each account, its authenticated ones. It
// never blocks on a connection: notifying one only stores a cursor and wakes its writer.
type hub struct {
	mu       sync.RWMutex
	conns    map[*conn]struct{}
	accounts map[syncproto.AccountID][]*conn
	closing  bool
	wg       sync.WaitGroup // two per connection: reader and writer
}

func newHub() *hub {
	return &hub{conns: make(map[*conn]struct{}), accounts: make(map[syncproto.AccountID][]*conn)}
}

// add registers a new connection and counts its two goroutines; false once closing.
func (h *hub) add(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(2)
	return true
}

// remove forgets a connection that has ended.
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	if a := c.auth.Load(); a != nil {
		h.detachLocked(c, a.account)
	}
}

// attach counts c among account's connections unless the account already has max.
func (h *hub) attach(c *conn, account syncproto.AccountID, max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.accounts[account]
	if len(list) >= max {
		return false
	}
	h.accounts[account] = append(list, c)
	return true
}

// detach undoes attach.
func (h *hub) detach(c *conn, account syncproto.AccountID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.detachLocked(c, account)
}

func (h *hub) detachLocked(c *conn, account syncproto.AccountID) {
	list := h.accounts[account]
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(h.accounts, account)
	} else {
		h.accounts[account] = list
	}
}

// notify tells every subscribed connection of account that its feed is at cursor.
func (h *hub) notify(account syncproto.AccountID, cursor uint64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.accounts[account] {
		if c.subscribed.Load() {
			c.notify(cursor)
		}
	}
}

// deviceConns returns the live connections of one device.
func (h *hub) deviceConns(account syncproto.AccountID, device syncproto.DeviceID) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*conn
	for _, c := range h.accounts[account] {
		if a := c.auth.Load(); a != nil && a.device == device {
			out = append(out, c)
		}
	}
	return out
}

// sessionConns returns the live connections signed in with one session.
func (h *hub) sessionConns(account syncproto.AccountID, tokenHash [32]byte) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*conn
	for _, c := range h.accounts[account] {
		if a := c.auth.Load(); a != nil && a.tokenHash == tokenHash {
			out = append(out, c)
		}
	}
	return out
}

// snapshot returns every live connection.
func (h *hub) snapshot() []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// close refuses new connections and returns the live ones.
func (h *hub) close() []*conn {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	return h.snapshot()
}

func (h *hub) isClosing() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closing
}

// count returns the number of live connections and of accounts with one signed in.
func (h *hub) count() (conns, accounts int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns), len(h.accounts)
}
