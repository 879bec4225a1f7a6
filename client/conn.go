package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"interlude/syncproto"
)

// ErrOffline means the server could not be reached. Local work (add, edit, list) goes on
// without it; sync later.
var ErrOffline = errors.New("server unreachable")

// clientName is what Hello tells the server.
const clientName = "interlude/0.1"

// conn is one WebSocket connection to the server: request/response by request ID, with
// Notify messages delivered on a channel. One goroutine reads; callers may send from
// several goroutines.
type conn struct {
	ws      *websocket.Conn
	limits  syncproto.Limits
	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan syncproto.Message
	err     error // why the reader stopped

	notify chan uint64
	done   chan struct{}
}

// wsURL turns a server URL as the user gave it (ws://, wss://, http://, https://, or a bare
// host:port) into the sync endpoint's URL.
func wsURL(server string) (string, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return "", errors.New("no server URL")
	}
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", server, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server URL %q: use ws:// or wss://", server)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q has no host", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + syncproto.Path
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// normalizeServer returns the server URL as stored in a profile and a kit: ws:// or
// wss://, no path.
func normalizeServer(server string) (string, error) {
	full, err := wsURL(server)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(full, syncproto.Path), nil
}

// dial connects, says Hello and returns a connection that knows the server's limits.
// A network failure is wrapped in ErrOffline.
func dial(ctx context.Context, server string) (*conn, error) {
	target, err := wsURL(server)
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{
		Subprotocols:     []string{syncproto.Subprotocol},
		HandshakeTimeout: 15 * time.Second,
		Proxy:            http.ProxyFromEnvironment,
	}
	ws, resp, err := d.DialContext(ctx, target, nil)
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		switch {
		case errors.As(err, &oe), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
			return nil, fmt.Errorf("%w: %s: %v", ErrOffline, server, err)
		case resp != nil:
			return nil, fmt.Errorf("%w: %s answered HTTP %s; is it an Interlude server?", ErrOffline, server, resp.Status)
		default:
			return nil, fmt.Errorf("%w: %s: %v", ErrOffline, server, err)
		}
	}
	if ws.Subprotocol() != syncproto.Subprotocol {
		ws.Close()
		return nil, fmt.Errorf("server %s does not speak %s", server, syncproto.Subprotocol)
	}
	ws.SetReadLimit(syncproto.DefaultMaxFrame + 1024)
	c := &conn{
		ws:      ws,
		pending: map[uint64]chan syncproto.Message{},
		notify:  make(chan uint64, 1),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	m, err := c.call(ctx, syncproto.Hello{Versions: []uint16{syncproto.ProtocolVersion}, Client: clientName})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	w, ok := as[syncproto.Welcome](m)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("hello: unexpected answer %T", m)
	}
	c.limits = w.Limits
	if c.limits.MaxBatch == 0 {
		c.limits.MaxBatch = syncproto.DefaultMaxBatch
	}
	if c.limits.MaxPullPage == 0 {
		c.limits.MaxPullPage = syncproto.DefaultMaxPullPage
	}
	if c.limits.MaxFetch == 0 {
		c.limits.MaxFetch = syncproto.DefaultMaxFetch
	}
	if c.limits.MaxFrame == 0 {
		c.limits.MaxFrame = syncproto.DefaultMaxFrame
	}
	ws.SetReadLimit(int64(c.limits.MaxFrame) + 1024)
	return c, nil
}

// as returns m as a T whether the codec produced a T or a *T.
func as[T any](m syncproto.Message) (T, bool) {
	switch v := any(m).(type) {
	case T:
		return v, true
	case *T:
		if v != nil {
			return *v, true
		}
	}
	var zero T
	return zero, false
}

func (c *conn) readLoop() {
	var err error
	// One buffer for every frame, grown to the largest page once: Decode copies every
	// field it returns, so the buffer is free again as soon as a frame is decoded.
	// (ReadMessage would allocate each frame afresh, growing it by doubling: for a
	// 600 KB page of changes that costs more than decoding it.)
	var buf bytes.Buffer
	for {
		var typ int
		var r io.Reader
		typ, r, err = c.ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			break
		}
		if typ != websocket.BinaryMessage {
			continue
		}
		id, m, derr := syncproto.Decode(buf.Bytes())
		if derr != nil {
			err = fmt.Errorf("undecodable frame from server: %w", derr)
			break
		}
		if n, ok := as[syncproto.Notify](m); ok && id == 0 {
			// Keep only the newest cursor: a pull catches up on everything before it.
			select {
			case <-c.notify:
			default:
			}
			c.notify <- n.Cursor
			continue
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
			continue
		}
		if e, ok := as[syncproto.Error](m); ok && id == 0 {
			err = &e
			break
		}
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	close(c.done)
}

// call sends m and waits for the message that answers it. An Error answer is returned as
// a *syncproto.Error.
func (c *conn) call(ctx context.Context, m syncproto.Message) (syncproto.Message, error) {
	ch := make(chan syncproto.Message, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: connection lost: %v", ErrOffline, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	frame, err := syncproto.Encode(id, m)
	if err != nil {
		c.forget(id)
		return nil, fmt.Errorf("encode %T: %w", m, err)
	}
	c.writeMu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		c.ws.SetWriteDeadline(dl)
	} else {
		c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	}
	err = c.ws.WriteMessage(websocket.BinaryMessage, frame)
	c.writeMu.Unlock()
	if err != nil {
		c.forget(id)
		return nil, fmt.Errorf("%w: send: %v", ErrOffline, err)
	}
	select {
	case r := <-ch:
		if e, ok := as[syncproto.Error](r); ok {
			return nil, &e
		}
		return r, nil
	case <-c.done:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		var se *syncproto.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("%w: connection lost: %v", ErrOffline, err)
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	}
}

func (c *conn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Close sends a close frame and closes the connection.
func (c *conn) Close() error {
	c.writeMu.Lock()
	c.ws.SetWriteDeadline(time.Now().Add(time.Second))
	c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.writeMu.Unlock()
	return c.ws.Close()
}

// expect calls m and returns the answer as a T, or an error naming what came instead.
func expect[T any](ctx context.Context, c *conn, m syncproto.Message) (T, error) {
	var zero T
	r, err := c.call(ctx, m)
	if err != nil {
		return zero, err
	}
	v, ok := as[T](r)
	if !ok {
		return zero, fmt.Errorf("%T: unexpected answer %T from server", m, r)
	}
	return v, nil
}

// serverCode returns the wire error code inside err, or CodeNone.
func serverCode(err error) syncproto.ErrorCode {
	var se *syncproto.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return syncproto.CodeNone
}
