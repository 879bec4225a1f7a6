package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/gorilla/websocket"

	"interlude/storage"
	"interlude/syncproto"
)

// wireError is an error that crosses the wire as a syncproto.Error. When closeCode is
// set, the connection is closed with that WebSocket close code after the Error is sent.
type wireError struct {
	code      syncproto.ErrorCode
	msg       string
	closeCode int
	// own: the Error is the server's own notice (request ID 0) rather than an answer to
	// the request that found the problem, as for an expired session or a revoked device.
	own bool
}

func (e *wireError) Error() string { return fmt.Sprintf("%s: %s", e.code, e.msg) }

// fail returns an error that answers the request with code and message; the connection
// survives.
func fail(code syncproto.ErrorCode, format string, args ...any) error {
	return &wireError{code: code, msg: fmt.Sprintf(format, args...)}
}

// fatal returns an error that answers with code and message and then closes the
// connection with closeCode.
func fatal(code syncproto.ErrorCode, closeCode int, format string, args ...any) error {
	return &wireError{code: code, msg: fmt.Sprintf(format, args...), closeCode: closeCode}
}

// Messages that more than one place sends, so that they stay identical.
const (
	// msgAuthFailed is the one answer to an unknown account, a wrong key, a wrong role's
	// key and a bad token, so that an observer cannot tell them apart.
	msgAuthFailed      = "sign-in failed: check the account, passphrase and Secret Key (or recovery code), then ask for a new challenge and try again"
	msgSessionExpired  = "your session has expired: sign in again"
	msgDeviceRevoked   = "this device was revoked: sign in again to register it anew"
	msgInternal        = "the server failed; nothing was acknowledged; retry"
	msgShuttingDown    = "the server is stopping; reconnect in a moment"
	msgUnauthenticated = "sign in first: send Login, SignUp or Resume"
)

// Errors reused as values.
var (
	errAuthFailed     = fail(syncproto.CodeAuthFailed, msgAuthFailed)
	errSessionExpired = &wireError{code: syncproto.CodeSessionExpired, msg: msgSessionExpired, closeCode: websocket.ClosePolicyViolation, own: true}
	errDeviceRevoked  = &wireError{code: syncproto.CodeDeviceRevoked, msg: msgDeviceRevoked, closeCode: websocket.ClosePolicyViolation, own: true}
)

// toWire maps any error a handler returns to the code and message a client sees and
// the WebSocket close code to follow (0: the connection survives). It is the one place
// where Go errors become wire codes; storage errors are described without their text,
// which stays in the server's log.
func toWire(err error) (syncproto.ErrorCode, string, int) {
	var we *wireError
	switch {
	case errors.As(err, &we):
		return we.code, we.msg, we.closeCode
	case errors.Is(err, storage.ErrNotFound):
		return syncproto.CodeNotFound, "nothing there (or nothing you may see)", 0
	case errors.Is(err, storage.ErrAccountExists):
		return syncproto.CodeAccountExists, "that account ID is taken: make a new random account ID and sign up again", 0
	case errors.Is(err, storage.ErrQuota):
		return syncproto.CodeQuotaExceeded, "the account holds the most records it may: delete some before adding more", 0
	case errors.Is(err, storage.ErrClosed), errors.Is(err, context.Canceled):
		return syncproto.CodeShuttingDown, msgShuttingDown, websocket.CloseGoingAway
	default:
		return syncproto.CodeInternal, msgInternal, 0
	}
}
