// Package servertest is a small client of Interlude's sync protocol for the server's
// tests and benchmarks and for cmd/interlude-load. It speaks the wire protocol and signs
// login challenges with throwaway Ed25519 keys; it holds no entry keys and does no
// encryption (envelopes, keybags and grants are whatever opaque bytes the caller
// passes). It is not the real client: that is package client.
//
// A Client is safe for concurrent use. Each call waits for the answer carrying its
// request ID; notifications (Notify, request ID 0) arrive on Notes, stamped with the time
// they were read, and unsolicited errors on Unsolicited.
package servertest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"interlude/syncproto"
)

// Note is one Notify and when it was read.
type Note struct {
	Cursor uint64
	At     time.Time
}

// DialOptions adjust Dial. The zero value offers the interlude.v1 subprotocol and sends
// no Origin, like a native client.
type DialOptions struct {
	Origin       string   // sent as the Origin header when not empty
	Subprotocols []string // nil: interlude.v1
	Header       http.Header
	TLS          *tls.Config // for wss:// (e.g. a test's self-signed certificate)
}

// Client is one WebSocket connection to the sync server.
type Client struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	next atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan syncproto.Message

	notes       chan Note
	unsolicited chan *syncproto.Error
	done        chan struct{}
	err         error // why reading stopped; set before done is closed
}

// Dial opens a WebSocket to url (ws://host:port/v1/sync) and starts reading. It does not
// send Hello.
func Dial(ctx context.Context, url string, opts *DialOptions) (*Client, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	d := websocket.Dialer{
		Subprotocols:     opts.Subprotocols,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  16 << 10,
		TLSClientConfig:  opts.TLS,
	}
	if d.Subprotocols == nil {
		d.Subprotocols = []string{syncproto.Subprotocol}
	}
	h := http.Header{}
	for k, v := range opts.Header {
		h[k] = v
	}
	if opts.Origin != "" {
		h.Set("Origin", opts.Origin)
	}
	ws, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		return nil, resp, err
	}
	c := &Client{
		ws:          ws,
		pending:     make(map[uint64]chan syncproto.Message),
		notes:       make(chan Note, 64),
		unsolicited: make(chan *syncproto.Error, 64),
		done:        make(chan struct{}),
	}
	go c.readLoop()
	return c, resp, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	var buf bytes.Buffer // one buffer for every frame: Decode copies what it keeps
	for {
		mt, r, err := c.ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.err = err
			return
		}
		data := buf.Bytes()
		at := time.Now()
		if mt != websocket.BinaryMessage {
			continue
		}
		id, msg, err := syncproto.Decode(data)
		if err != nil {
			c.err = fmt.Errorf("servertest: undecodable frame from the server: %w", err)
			c.ws.Close()
			return
		}
		if id == 0 {
			switch m := msg.(type) {
			case *syncproto.Notify:
				select {
				case c.notes <- Note{Cursor: m.Cursor, At: at}:
				default: // nobody is reading notes: they coalesce anyway
				}
			case *syncproto.Error:
				select {
				case c.unsolicited <- m:
				default:
				}
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	}
}

// Go sends msg and returns a channel that receives its answer (buffered; it never
// receives if the connection ends first: watch Done).
func (c *Client) Go(msg syncproto.Message) (<-chan syncproto.Message, error) {
	id := c.next.Add(1)
	data, err := syncproto.Encode(id, msg)
	if err != nil {
		return nil, err
	}
	ch := make(chan syncproto.Message, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.WriteFrame(websocket.BinaryMessage, data); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, err
	}
	return ch, nil
}

// Call sends msg and waits for its answer, which may be a *syncproto.Error. The error
// result is for transport failures only.
func (c *Client) Call(ctx context.Context, msg syncproto.Message) (syncproto.Message, error) {
	ch, err := c.Go(msg)
	if err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		return m, nil
	case <-c.done:
		select {
		case m := <-ch:
			return m, nil
		default:
		}
		return nil, fmt.Errorf("servertest: connection ended before the answer: %w", c.err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WriteFrame writes one raw WebSocket message (for tests of malformed input).
func (c *Client) WriteFrame(messageType int, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return c.ws.WriteMessage(messageType, data)
}

// Notes delivers notifications. Undelivered ones are dropped when the buffer is full.
func (c *Client) Notes() <-chan Note { return c.notes }

// Unsolicited delivers Error messages with request ID 0 (a reason before a close, an
// answer to an undecodable frame).
func (c *Client) Unsolicited() <-chan *syncproto.Error { return c.unsolicited }

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended: a *websocket.CloseError when the server sent a close
// frame. Call it after Done is closed.
func (c *Client) Err() error { return c.err }

// CloseCode waits up to d for the connection to end and returns the close code the
// server sent, or -1 if it ended without a close frame or did not end.
func (c *Client) CloseCode(d time.Duration) int {
	select {
	case <-c.done:
	case <-time.After(d):
		return -1
	}
	var ce *websocket.CloseError
	if errors.As(c.err, &ce) {
		return ce.Code
	}
	return -1
}

// Close sends a normal close frame and closes the socket.
func (c *Client) Close() error {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

// Expect returns the answer as *T, or an error: the *syncproto.Error the server sent,
// a transport error, or a message of another type.
func Expect[T any](m syncproto.Message, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	if t, ok := any(m).(*T); ok {
		return t, nil
	}
	if e, ok := m.(*syncproto.Error); ok {
		return nil, e
	}
	var want T
	return nil, fmt.Errorf("servertest: got %T, want %T", m, &want)
}

// CodeOf returns the code of a *syncproto.Error (answer or error), or CodeNone.
func CodeOf(v any) syncproto.ErrorCode {
	switch e := v.(type) {
	case *syncproto.Error:
		return e.Code
	case error:
		var pe *syncproto.Error
		if errors.As(e, &pe) {
			return pe.Code
		}
	}
	return syncproto.CodeNone
}

// Hello negotiates version 1.
func (c *Client) Hello(ctx context.Context) (*syncproto.Welcome, error) {
	return Expect[syncproto.Welcome](c.Call(ctx, &syncproto.Hello{Versions: []uint16{syncproto.ProtocolVersion}, Client: "servertest/1"}))
}

// Challenge asks for a fresh challenge.
func (c *Client) Challenge(ctx context.Context) (*syncproto.Challenge, error) {
	return Expect[syncproto.Challenge](c.Call(ctx, &syncproto.ChallengeRequest{}))
}

// Identity is an account's login keys and the opaque blobs it signs up with.
type Identity struct {
	Account        syncproto.AccountID
	LoginKey       ed25519.PrivateKey
	RecoveryKey    ed25519.PrivateKey
	KDFParams      []byte
	Keybag         []byte
	RecoveryKeybag []byte
	Bundle         []byte
	Fingerprint    [32]byte
}

// NewIdentity makes an account with fresh login keys and random blobs of realistic
// sizes (26-byte KDF parameters, 1 KiB keybags, a 1.3 KiB bundle).
func NewIdentity() *Identity {
	_, lk, _ := ed25519.GenerateKey(rand.Reader)
	_, rk, _ := ed25519.GenerateKey(rand.Reader)
	id := &Identity{
		Account:        syncproto.NewAccountID(),
		LoginKey:       lk,
		RecoveryKey:    rk,
		KDFParams:      RandomBytes(26),
		Keybag:         RandomBytes(1024),
		RecoveryKeybag: RandomBytes(1024),
		Bundle:         RandomBytes(1300),
	}
	id.KDFParams[0] = 0x01
	rand.Read(id.Fingerprint[:])
	return id
}

// RandomBytes returns n random bytes.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Sign answers a challenge for account with key in role.
func Sign(key ed25519.PrivateKey, nonce [32]byte, account syncproto.AccountID, role syncproto.LoginRole) [64]byte {
	sig, err := key.Sign(nil, syncproto.LoginMessage(nonce, account, role), &ed25519.Options{Context: syncproto.LoginSignatureContext})
	if err != nil {
		panic(err) // only for a malformed key
	}
	return [64]byte(sig)
}

// Public returns the 32-byte public half of key.
func Public(key ed25519.PrivateKey) [32]byte { return [32]byte(key.Public().(ed25519.PublicKey)) }

// SignUpMessage builds a SignUp that answers nonce.
func (id *Identity) SignUpMessage(nonce [32]byte, label []byte) *syncproto.SignUp {
	return &syncproto.SignUp{
		Account: id.Account, LoginKey: Public(id.LoginKey), RecoveryLoginKey: Public(id.RecoveryKey),
		KDFParams: id.KDFParams, Keybag: id.Keybag, RecoveryKeybag: id.RecoveryKeybag, Bundle: id.Bundle,
		Fingerprint: id.Fingerprint, DeviceLabel: label,
		LoginSig:    Sign(id.LoginKey, nonce, id.Account, syncproto.RolePassphrase),
		RecoverySig: Sign(id.RecoveryKey, nonce, id.Account, syncproto.RoleRecovery),
	}
}

// SignUp asks for a challenge and signs the account up.
func (c *Client) SignUp(ctx context.Context, id *Identity) (*syncproto.Session, error) {
	ch, err := c.Challenge(ctx)
	if err != nil {
		return nil, err
	}
	return Expect[syncproto.Session](c.Call(ctx, id.SignUpMessage(ch.Nonce, RandomBytes(48))))
}

// Login asks for a challenge and signs in a new device with the key of role.
func (c *Client) Login(ctx context.Context, id *Identity, role syncproto.LoginRole) (*syncproto.Session, error) {
	ch, err := c.Challenge(ctx)
	if err != nil {
		return nil, err
	}
	key := id.LoginKey
	if role == syncproto.RoleRecovery {
		key = id.RecoveryKey
	}
	return Expect[syncproto.Session](c.Call(ctx, &syncproto.Login{
		Account: id.Account, Role: role, Signature: Sign(key, ch.Nonce, id.Account, role), DeviceLabel: RandomBytes(48),
	}))
}

// Resume signs in with a session token.
func (c *Client) Resume(ctx context.Context, token []byte) (*syncproto.Session, error) {
	return Expect[syncproto.Session](c.Call(ctx, &syncproto.Resume{Token: token}))
}

// Envelope returns an opaque stand-in for a padded entry envelope: 1 KiB + 177 random
// bytes, the size of a short journal entry after padding and the envelope header.
func Envelope() []byte { return RandomBytes(1024 + 177) }

// NewRecord returns a first revision of a fresh record with a random envelope and
// owner key.
func NewRecord(now time.Time) syncproto.RecordPush {
	return syncproto.RecordPush{Record: syncproto.NewRecordID(now), Revision: 1, Envelope: Envelope(), OwnerKey: RandomBytes(72)}
}
