package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"interlude/syncproto"
)

// connState is where a connection is in its handshake. The reader goroutine alone reads
// and writes it; whether the connection is signed in is conn.auth.
type connState uint8

const (
	stateNew  connState = iota // waiting for Hello
	stateOpen                  // Hello answered
)

// outFrame is one item of a connection's send queue: an answer for the writer to encode
// (msg, addressed to reqID), an encoded frame (data), or (when closeCode is set) a close
// frame after which nothing more is written.
type outFrame struct {
	msg       syncproto.Message
	reqID     uint64
	data      []byte
	closeCode int
	reason    string
}

// conn is one WebSocket connection. It is kept small: an idle connection costs its two
// goroutines, gorilla's 1 KiB read buffer and a few hundred bytes here.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	addr string // rate-limit key of the client address

	send     chan outFrame
	wake     chan struct{} // a notification is pending
	readDone chan struct{} // closed when the reader has returned

	closing    atomic.Bool   // a close is queued or the connection is being cut: handle nothing more
	subscribed atomic.Bool   // send Notify when the account's feed grows
	notifyAt   atomic.Uint64 // the highest cursor to announce
	announce   atomic.Bool   // send the cursor even if it was sent before (after Subscribe)
	opened     atomic.Int64  // unix nanoseconds (real time) of connecting
	auth       atomic.Pointer[authState]

	// Owned by the reader goroutine.
	state     connState
	challenge challenge
	then      func() // runs after the current reply is queued (notifications, closing revoked devices)
	endErr    error  // why reading stopped; read by the writer after readDone

	ahead aheadSlot // the next catch-up page, read ahead (readahead.go)
}

// challenge is the connection's current login challenge.
type challenge struct {
	nonce   [32]byte
	expires time.Time
	valid   bool
}

// authState is a signed-in connection's session.
type authState struct {
	account   syncproto.AccountID
	device    syncproto.DeviceID
	tokenHash [32]byte
	expires   time.Time // absolute end of the session

	mu       sync.Mutex
	lastSeen time.Time // last activity on this connection (idle timeout counts from here)
	stored   time.Time // LastSeen as last written to storage
	checked  time.Time // when storage last confirmed the session
}

func newConn(s *Server, ws *websocket.Conn, addr string) *conn {
	c := &conn{
		s:        s,
		ws:       ws,
		addr:     addr,
		send:     make(chan outFrame, sendQueueLen),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
	}
	c.opened.Store(time.Now().UnixNano())
	return c
}

func (c *conn) readTimeout() time.Duration { return 2 * c.s.cfg.PingInterval }

// readLoop reads and handles one frame at a time until the connection ends, then tears
// it down. Once a close is queued it handles nothing more and waits for the peer's close
// frame (the close handshake) for at most lingerTimeout.
func (c *conn) readLoop() {
	defer c.s.hub.wg.Done()
	defer c.teardown()
	c.ws.SetReadLimit(int64(c.s.limits.MaxFrame))
	c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.HelloTimeout))
	c.ws.SetPongHandler(func(string) error {
		// Handlers run on this goroutine, so c.state may be read. Before Hello the Hello
		// deadline stands: unsolicited pongs must not keep a silent connection open.
		if c.closing.Load() || c.state == stateNew {
			return nil
		}
		return c.ws.SetReadDeadline(time.Now().Add(c.readTimeout()))
	})
	lingering := false
	for {
		mt, r, err := c.ws.NextReader()
		var buf *bytes.Buffer
		if err == nil {
			buf = framePool.Get().(*bytes.Buffer)
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			putFrame(buf)
			c.endErr = err
			c.logEnd(err)
			var ne net.Error
			if c.state == stateNew && errors.As(err, &ne) && ne.Timeout() && c.closing.CompareAndSwap(false, true) {
				c.enqueue(outFrame{closeCode: websocket.ClosePolicyViolation, reason: "no Hello in time"})
			}
			return
		}
		switch {
		case c.closing.Load():
			// A close frame is queued or sent: handle nothing more, and wait only briefly
			// for the peer's close frame.
			if !lingering {
				lingering = true
				c.ws.SetReadDeadline(time.Now().Add(lingerTimeout))
			}
		case mt != websocket.BinaryMessage:
			c.reply(0, &syncproto.Error{Code: syncproto.CodeBadFrame, Message: "send binary frames: text frames are not part of the protocol"})
		default:
			c.handleFrame(buf.Bytes())
		}
		putFrame(buf)
		// Any frame shows the peer is alive; before Hello, the Hello deadline stands.
		if c.state != stateNew && !c.closing.Load() {
			c.ws.SetReadDeadline(time.Now().Add(c.readTimeout()))
		}
	}
}

// framePool recycles read buffers: Decode copies every field out of a frame, so the
// buffer is free again as soon as the frame is decoded.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putFrame(b *bytes.Buffer) {
	if b != nil && b.Cap() <= 1<<20 { // do not pin the memory of rare huge frames
		framePool.Put(b)
	}
}

func (c *conn) logEnd(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		c.s.log.Debug("connection closed by peer", "event", "conn_closed", "close_code", ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		c.s.log.Info("frame over the limit: connection closed", "event", "frame_too_large", "limit", c.s.limits.MaxFrame)
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.s.log.Debug("connection timed out", "event", "conn_timeout")
		} else {
			c.s.log.Debug("connection ended", "event", "conn_ended", "err", err)
		}
	}
}

// handleFrame decodes one frame, dispatches it and queues the answer.
func (c *conn) handleFrame(frame []byte) {
	reqID, msg, err := syncproto.Decode(frame)
	if err != nil {
		c.s.log.Debug("undecodable frame", "event", "bad_frame", "size", len(frame))
		text := err.Error()
		if len(text) > 200 {
			text = strings.ToValidUTF8(text[:200], "")
		}
		code := syncproto.CodeBadFrame
		if errors.Is(err, syncproto.ErrTooLarge) {
			code = syncproto.CodeTooLarge
		}
		c.reply(reqID, &syncproto.Error{Code: code, Message: "the frame could not be decoded (" + text + "): check it against docs/protocol.md"})
		return
	}
	if reqID == 0 {
		c.reply(0, &syncproto.Error{Code: syncproto.CodeBadRequest, Message: "request ID 0 is reserved for the server's own messages: number requests from 1"})
		return
	}
	start := time.Now()
	resp, err := c.dispatch(msg)
	if err != nil {
		code, text, closeCode := toWire(err)
		if code == syncproto.CodeInternal {
			c.s.log.Error("request failed", "event", "internal_error", "type", msg.Type().String(), "err", err)
		} else {
			c.s.log.Debug("request refused", "event", "refused", "type", msg.Type().String(), "code", code.String())
		}
		if closeCode != 0 {
			var we *wireError
			if errors.As(err, &we) && we.own {
				reqID = 0
			}
			c.s.endAll(c.auth.Load(), err)
			c.closeWith(reqID, err)
		} else {
			c.reply(reqID, &syncproto.Error{Code: code, Message: text})
		}
	} else if resp != nil {
		c.reply(reqID, resp)
	}
	if then := c.then; then != nil {
		c.then = nil
		then()
	}
	if d := time.Since(start); d > time.Second {
		c.s.log.Warn("slow request", "event", "slow_request", "type", msg.Type().String(), "duration", d)
	}
}

// reply queues msg as the answer to reqID. The writer encodes it, so that the reader can
// go on at once (after a Changes page, to read the next page ahead while the writer
// encodes and sends this one). msg must not change once queued.
func (c *conn) reply(reqID uint64, msg syncproto.Message) {
	c.enqueue(outFrame{msg: msg, reqID: reqID})
}

// encodeAnswer encodes msg as the answer to reqID into buf, or an Error if msg cannot be
// encoded or would pass the frame limit.
func (c *conn) encodeAnswer(buf []byte, reqID uint64, msg syncproto.Message) []byte {
	data, err := syncproto.AppendFrame(buf[:0], reqID, msg)
	if err != nil {
		c.s.log.Error("encoding a reply failed", "event", "encode_failed", "type", msg.Type().String(), "err", err)
		data, _ = syncproto.AppendFrame(data[:0], reqID, &syncproto.Error{Code: syncproto.CodeInternal, Message: msgInternal})
	}
	if len(data) > c.s.limits.MaxFrame {
		// Only a Fetch of many large records can get here: the client asks for fewer.
		c.s.log.Info("answer over the frame limit", "event", "answer_too_large", "type", msg.Type().String(), "size", len(data))
		data, _ = syncproto.AppendFrame(data[:0], reqID, &syncproto.Error{Code: syncproto.CodeTooLarge,
			Message: "the answer would be larger than the frame limit (Welcome.Limits.MaxFrame): ask for fewer records at once"})
	}
	return data
}

// outBufs recycles encoded answers: a Changes page is hundreds of kilobytes, and
// allocating (and zeroing) one per page keeps the allocator, the garbage collector and
// the scavenger busy. A bounded free list rather than a sync.Pool, because the garbage
// of a page (its envelopes) triggers collections that would empty a pool every other
// page. At most 8 buffers of at most 1 MiB are kept.
var outBufs = make(chan *[]byte, 8)

func getOut() *[]byte {
	select {
	case b := <-outBufs:
		return b
	default:
		return new([]byte)
	}
}

func putOut(b *[]byte) {
	if b == nil || cap(*b) > 1<<20 {
		return
	}
	select {
	case outBufs <- b:
	default:
	}
}

// closeWith queues err (as an Error answering reqID) and a close frame, and stops the
// reader from handling anything more. It may be called from any goroutine; only the
// first close counts.
func (c *conn) closeWith(reqID uint64, err error) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	code, text, closeCode := toWire(err)
	if closeCode == 0 {
		closeCode = websocket.ClosePolicyViolation
	}
	c.s.log.Debug("closing connection", "event", "conn_close", "code", code.String(), "close_code", closeCode)
	data, encErr := syncproto.Encode(reqID, &syncproto.Error{Code: code, Message: text})
	if encErr == nil && !c.enqueue(outFrame{data: data}) {
		return
	}
	reason := code.String() // the close reason is short; the Error frame says the rest
	c.enqueue(outFrame{closeCode: closeCode, reason: reason})
}

// closeNormal queues a normal close frame (1000) without an Error, after whatever is
// already queued (the Ack of a Logout).
func (c *conn) closeNormal(reason string) {
	if c.closing.CompareAndSwap(false, true) {
		c.enqueue(outFrame{closeCode: websocket.CloseNormalClosure, reason: reason})
	}
}

// enqueue queues a frame for the writer without blocking. A connection whose queue is
// full is not keeping up and is dropped.
func (c *conn) enqueue(f outFrame) bool {
	select {
	case c.send <- f:
		return true
	default:
		c.s.log.Info("send queue full: dropping a slow connection", "event", "slow_consumer")
		c.kill()
		return false
	}
}

// kill cuts the connection at once; the reader and writer then end.
func (c *conn) kill() {
	c.closing.Store(true)
	c.ws.NetConn().Close()
}

// notify records that the account's feed is at cursor and wakes the writer. Pending
// notifications coalesce: only the highest cursor is sent.
func (c *conn) notify(cursor uint64) {
	for {
		old := c.notifyAt.Load()
		if cursor <= old || c.notifyAt.CompareAndSwap(old, cursor) {
			break
		}
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop owns every write to the connection: queued frames, notifications and
// pings. When the reader has returned it flushes the queue and closes the socket.
func (c *conn) writeLoop() {
	defer c.s.hub.wg.Done()
	ping := time.NewTicker(c.s.cfg.PingInterval)
	defer ping.Stop()
	var sent uint64 // highest cursor announced
	closed := false // a close frame was written, or writing failed
	write := func(f outFrame) {
		if closed {
			return
		}
		deadline := time.Now().Add(c.s.cfg.WriteTimeout)
		var err error
		if f.closeCode != 0 {
			err = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(f.closeCode, f.reason), deadline)
			closed = true
			// Give the peer a moment to answer the close; then the reader ends.
			c.ws.NetConn().SetReadDeadline(time.Now().Add(lingerTimeout))
		} else {
			data, buf := f.data, (*[]byte)(nil)
			if f.msg != nil {
				buf = getOut()
				*buf = c.encodeAnswer(*buf, f.reqID, f.msg)
				data = *buf
			}
			c.ws.SetWriteDeadline(deadline)
			err = c.ws.WriteMessage(websocket.BinaryMessage, data)
			putOut(buf)
		}
		if err != nil {
			closed = true
			c.kill()
		}
	}
	for {
		select {
		case f := <-c.send:
			write(f)
		case <-c.wake:
			if cur := c.notifyAt.Load(); (cur > sent || c.announce.Swap(false)) && !c.closing.Load() {
				sent = cur
				data, err := syncproto.Encode(0, &syncproto.Notify{Cursor: cur})
				if err == nil {
					write(outFrame{data: data})
				}
			}
		case <-ping.C:
			if !closed {
				if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
					closed = true
					c.kill()
				}
			}
		case <-c.readDone:
			for {
				select {
				case f := <-c.send:
					write(f)
					continue
				default:
				}
				break
			}
			c.finish()
			return
		}
	}
}

// finish closes the socket once the reader has returned. If the reader stopped in the
// middle of the peer's data (an oversized frame, a protocol error), it first drains what
// the peer still sends for a moment: closing a socket with unread data resets it, and
// the reset could destroy the close frame before the peer reads it.
func (c *conn) finish() {
	nc := c.ws.NetConn()
	var ce *websocket.CloseError
	var ne net.Error
	switch err := c.endErr; {
	case errors.As(err, &ce), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		// The close handshake is done, or the peer is gone: nothing to drain.
	default:
		nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.CopyN(io.Discard, nc, maxLingerDrain)
	}
	nc.Close()
}

// teardown runs when the reader returns: it forgets the connection, writes the
// session's last activity and releases the writer.
func (c *conn) teardown() {
	c.s.hub.remove(c)
	c.dropAhead()
	if a := c.auth.Load(); a != nil {
		a.mu.Lock()
		last, stored := a.lastSeen, a.stored
		a.mu.Unlock()
		if last.After(stored) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.s.store.TouchSession(ctx, a.tokenHash, last)
			cancel()
		}
	}
	close(c.readDone)
}
