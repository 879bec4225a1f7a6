package syncproto

import "fmt"

// ErrorCode is a stable, append-only error number that crosses the wire.
type ErrorCode uint16

// Error codes. Never renumber; only append.
const (
	CodeNone               ErrorCode = 0
	CodeBadFrame           ErrorCode = 1  // the frame could not be decoded
	CodeUnsupportedVersion ErrorCode = 2  // no protocol version in common
	CodeUnauthenticated    ErrorCode = 3  // this request needs a session: Login, SignUp or Resume first
	CodeAuthFailed         ErrorCode = 4  // wrong key, unknown account, bad or expired token (deliberately one code)
	CodeRateLimited        ErrorCode = 5  // too many attempts; wait and retry
	CodeTooLarge           ErrorCode = 6  // a frame, envelope or field is over its limit
	CodeBatchTooLarge      ErrorCode = 7  // more items than MaxBatch
	CodeQuotaExceeded      ErrorCode = 8  // the account holds the most records it may
	CodeConflict           ErrorCode = 9  // the base revision is stale
	CodeNotFound           ErrorCode = 10 // nothing there (or nothing you may see)
	CodeForbidden          ErrorCode = 11 // you may not change this
	CodeSessionExpired     ErrorCode = 12 // idle or absolute lifetime passed: sign in again
	CodeInternal           ErrorCode = 13 // the server failed; nothing was acknowledged; retry
	CodeBadRequest         ErrorCode = 14 // well-formed frame, invalid content (the message says which)
	CodeAccountExists      ErrorCode = 15 // sign-up for an account ID already taken
	CodeDeviceRevoked      ErrorCode = 16 // this device was revoked: sign in again
	CodeTooManyConnections ErrorCode = 17 // the account has the most connections it may
	CodeChallengeExpired   ErrorCode = 18 // ask for a new challenge
	CodeShuttingDown       ErrorCode = 19 // the server is stopping; reconnect later
	CodeUnexpectedMessage  ErrorCode = 20 // a message of a type the server does not accept now
	CodeDeleted            ErrorCode = 21 // the record was deleted; it cannot be changed
)

var codeNames = map[ErrorCode]string{
	CodeNone: "none", CodeBadFrame: "bad_frame", CodeUnsupportedVersion: "unsupported_version",
	CodeUnauthenticated: "unauthenticated", CodeAuthFailed: "auth_failed", CodeRateLimited: "rate_limited",
	CodeTooLarge: "too_large", CodeBatchTooLarge: "batch_too_large", CodeQuotaExceeded: "quota_exceeded",
	CodeConflict: "conflict", CodeNotFound: "not_found", CodeForbidden: "forbidden",
	CodeSessionExpired: "session_expired", CodeInternal: "internal", CodeBadRequest: "bad_request",
	CodeAccountExists: "account_exists", CodeDeviceRevoked: "device_revoked",
	CodeTooManyConnections: "too_many_connections", CodeChallengeExpired: "challenge_expired",
	CodeShuttingDown: "shutting_down", CodeUnexpectedMessage: "unexpected_message", CodeDeleted: "deleted",
}

// String returns the code's stable snake_case name.
func (c ErrorCode) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", uint16(c))
}

// Error lets a received Error be returned as a Go error.
func (e *Error) Error() string { return fmt.Sprintf("server: %s: %s", e.Code, e.Message) }
