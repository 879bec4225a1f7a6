package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"
)

// The binary encoding, in brief (docs/protocol.md is the full specification):
//
//	frame    = type (1 byte) | request ID (uvarint) | body
//	body     = the message's fields in declaration order, nothing between or after them
//	uint16, uint32, uint64, ErrorCode
//	         = uvarint: 7 bits a byte, least significant group first, high bit set on every
//	           byte but the last; minimal (no trailing 0x80…00 groups), at most 10 bytes,
//	           and within the field's width
//	LoginRole, ItemStatus, RecordState (byte enums)
//	         = one byte, one of the values declared; anything else is malformed
//	bool     = one byte, 0x00 or 0x01
//	[N]byte  = N raw bytes (IDs, keys, nonces, hashes, signatures)
//	[]byte   = uvarint length | bytes, length at most the field's cap
//	string   = uvarint length | UTF-8 bytes, length at most the field's cap
//	time     = signed Unix seconds, zigzag-encoded then uvarint (the rule of Go's
//	           binary.AppendVarint); 0 is the zero time.Time
//	duration = whole seconds as uvarint
//	[]T      = uvarint count | count elements
//
// Encoding is deterministic (one message has one encoding) and decoding is strict (it
// accepts only that encoding), so Decode then Encode gives back the very bytes decoded.

// Field caps, enforced by Decode and Encode alike. They are part of protocol version 1:
// raising one needs a new version, because an older peer rejects the larger field.
const (
	MaxVersions    = 16       // entries in Hello.Versions
	MaxClientName  = 64       // bytes of Hello.Client
	MaxMessage     = 1024     // bytes of Error.Message
	MaxTokenLen    = 64       // bytes of Resume.Token and Session.Token (tokens are 32)
	MaxLabel       = 256      // bytes of an encrypted device label
	MaxBlob        = 2 << 20  // bytes of one envelope (RecordPush.Envelope, Change.Envelope)
	MaxOwnerKey    = 4 << 10  // bytes of a wrapped owner key (RecordPush.OwnerKey, Change.OwnerKey)
	MaxGrantBlob   = 4 << 10  // bytes of GrantPush.Blob
	MaxKDFParams   = 64       // bytes of KDF parameters
	MaxKeybag      = 16 << 10 // bytes of a keybag
	MaxBundle      = 8 << 10  // bytes of a public key bundle
	MaxFingerprint = 32       // bytes of BundleRequest.Fingerprint (a prefix of a SHA-256)
)

// Decoding errors. Every error Decode returns wraps ErrMalformed; a field over its cap
// also wraps ErrTooLarge, and an unknown first byte ErrUnknownType. A server answers the
// first with CodeBadFrame and ErrTooLarge with CodeTooLarge. Encode refuses a message
// that Decode would refuse, with the same errors.
var (
	ErrMalformed   = errors.New("syncproto: malformed frame")
	ErrTooLarge    = fmt.Errorf("%w: field over its cap", ErrMalformed)
	ErrUnknownType = fmt.Errorf("%w: unknown message type", ErrMalformed)
)

// Bounds of a time on the wire: 0001-01-01T00:00:01Z to 9999-12-31T23:59:59Z, so that
// every value round-trips through time.Time and RFC 3339. The first second of year 1 is
// excluded because it is time.Time's zero, which is sent as 0.
const (
	minUnix = -62135596799
	maxUnix = 253402300799
	// maxDurationSeconds is the most whole seconds a time.Duration holds.
	maxDurationSeconds = math.MaxInt64 / int64(time.Second)
)

// Smallest encodings of slice elements, used to refuse a count that the rest of the frame
// could not hold before anything is allocated. TestMinSizes keeps them true.
const (
	minRecordPush = 16 + 1 + 1 + 1 + 1 + 1 + 1      // Record, BaseRevision, Revision, Delete, Envelope, OwnerKey, Grants
	minGrantPush  = 16 + 1 + 16 + 1 + 1             // Record, Revision, Recipient, Expires, Blob
	minRevoke     = 16 + 16                         // Record, Recipient
	minItemResult = 16 + 1 + 1 + 1 + 1              // Record, Status, Seq, Revision, Code
	minChange     = 1 + 16 + 16 + 1 + 1 + 1 + 1 + 1 // Seq, Record, Owner, Revision, State, Envelope, OwnerKey, Grants
	minDeviceInfo = 16 + 1 + 1 + 1 + 1 + 1          // Device, Label, Created, LastSeen, Revoked, Current
	minRecordID   = 16
	minUint16     = 1
)

// Encode returns one frame holding m, answering (or asking) requestID. m is a message
// value or a non-nil pointer to one (Push or *Push). It fails, wrapping ErrMalformed, on a
// message that Decode would refuse: a field over its cap, invalid UTF-8, an enum out of
// range, a time outside years 1–9999 or at exactly 1970-01-01T00:00:00Z, a negative
// duration, or a Notify with a request ID other than 0. Times and durations lose their
// fractions of a second.
func Encode(requestID uint64, m Message) ([]byte, error) {
	return AppendFrame(nil, requestID, m)
}

// AppendFrame appends the frame Encode would return to dst, growing it at most once. On
// error it returns dst unchanged.
func AppendFrame(dst []byte, requestID uint64, m Message) ([]byte, error) {
	e, ok := m.(encoder)
	if !ok {
		return dst, fmt.Errorf("syncproto: cannot encode %T: not a message of this package", m)
	}
	t := m.Type()
	if t == TypeNotify && requestID != 0 {
		return dst, fmt.Errorf("%w: Notify: request ID %d, want 0", ErrMalformed, requestID)
	}
	// First pass: validate and count; second: write into exactly the room needed.
	w := e.encode(writer{sizing: true, path: path{root: t}})
	if w.err != nil {
		return dst, w.err
	}
	n := 1 + uvarintLen(requestID) + w.n
	w = writer{b: slices.Grow(dst, n), path: path{root: t}}
	w.b = append(w.b, byte(t))
	w.uvarint(requestID)
	w = e.encode(w)
	return w.b, nil
}

// Decode parses one frame. It returns a pointer to the message (*Push, *Error, …), so a
// type switch over the result uses pointer cases; *Error also satisfies error. Decoded
// byte slices never share memory with frame, and empty ones are nil. They share one copy
// of the frame with each other (one allocation per frame rather than one per field, which
// matters for a page of hundreds of envelopes), each capped at its length so that an
// append to one never reaches the next: a caller that keeps one field of a large frame for
// long keeps the whole copy, and should clone the field instead. On error, requestID is still the frame's request ID if the header could be read
// (so that a server can address its Error answer), and m is nil.
//
// Decode accepts every type, whichever way it travels; refusing a message that arrives
// from the wrong side is the caller's job (CodeUnexpectedMessage).
func Decode(frame []byte) (requestID uint64, m Message, err error) {
	if len(frame) == 0 {
		return 0, nil, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	t := Type(frame[0])
	r := reader{b: bytes.Clone(frame[1:]), path: path{root: t}}
	requestID = r.uvarint("request ID")
	if r.err != nil {
		return 0, nil, r.err
	}
	d := newMessage(t)
	if d == nil {
		return requestID, nil, fmt.Errorf("%w: first byte 0x%02x", ErrUnknownType, byte(t))
	}
	if t == TypeNotify && requestID != 0 {
		return requestID, nil, fmt.Errorf("%w: Notify: request ID %d, want 0", ErrMalformed, requestID)
	}
	r = d.decode(r)
	if r.err == nil && len(r.b) != 0 {
		r.fail(ErrMalformed, "%s: %d trailing bytes after the body", t, len(r.b))
	}
	if r.err != nil {
		return requestID, nil, r.err
	}
	return requestID, d, nil
}

// encoder is implemented by every message type (value receivers, so both T and *T).
//
// encode and decode take their writer or reader by value and return it: through an
// interface call a pointer would escape and cost an allocation per frame.
type encoder interface {
	Message
	encode(w writer) writer
}

// decoder is implemented by a pointer to every message type.
type decoder interface {
	Message
	decode(r reader) reader
}

// newMessage returns a new zero message of type t, or nil if t is unknown.
func newMessage(t Type) decoder {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeChallengeReq:
		return new(ChallengeRequest)
	case TypeSignUp:
		return new(SignUp)
	case TypeLoginParamsReq:
		return new(LoginParamsRequest)
	case TypeLogin:
		return new(Login)
	case TypeResume:
		return new(Resume)
	case TypePush:
		return new(Push)
	case TypePull:
		return new(Pull)
	case TypeSubscribe:
		return new(Subscribe)
	case TypePing:
		return new(Ping)
	case TypeDevicesReq:
		return new(DevicesRequest)
	case TypeRevokeDevice:
		return new(RevokeDevice)
	case TypeBundleReq:
		return new(BundleRequest)
	case TypeUpdateLogin:
		return new(UpdateLogin)
	case TypeDigestReq:
		return new(DigestRequest)
	case TypeLogout:
		return new(Logout)
	case TypeFetch:
		return new(Fetch)
	case TypeWelcome:
		return new(Welcome)
	case TypeChallenge:
		return new(Challenge)
	case TypeLoginParams:
		return new(LoginParams)
	case TypeSession:
		return new(Session)
	case TypePushResult:
		return new(PushResult)
	case TypeChanges:
		return new(Changes)
	case TypeNotify:
		return new(Notify)
	case TypePong:
		return new(Pong)
	case TypeDevices:
		return new(Devices)
	case TypeBundle:
		return new(Bundle)
	case TypeAck:
		return new(Ack)
	case TypeDigest:
		return new(Digest)
	case TypeError:
		return new(Error)
	case TypeRecords:
		return new(Records)
	}
	return nil
}

var typeNames = map[Type]string{
	TypeHello: "Hello", TypeChallengeReq: "ChallengeRequest", TypeSignUp: "SignUp",
	TypeLoginParamsReq: "LoginParamsRequest", TypeLogin: "Login", TypeResume: "Resume",
	TypePush: "Push", TypePull: "Pull", TypeSubscribe: "Subscribe", TypePing: "Ping",
	TypeDevicesReq: "DevicesRequest", TypeRevokeDevice: "RevokeDevice", TypeBundleReq: "BundleRequest",
	TypeUpdateLogin: "UpdateLogin", TypeDigestReq: "DigestRequest", TypeLogout: "Logout",
	TypeFetch: "Fetch", TypeWelcome: "Welcome", TypeChallenge: "Challenge",
	TypeLoginParams: "LoginParams", TypeSession: "Session", TypePushResult: "PushResult",
	TypeChanges: "Changes", TypeNotify: "Notify", TypePong: "Pong", TypeDevices: "Devices",
	TypeBundle: "Bundle", TypeAck: "Ack", TypeDigest: "Digest", TypeError: "Error",
	TypeRecords: "Records",
}

// String returns the Go name of the message type, e.g. "Push", or "type_0x42".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type_0x%02x", byte(t))
}

// path names the field being read or written, for error messages only: it is formatted
// only when something fails, so the success path does not allocate.
type path struct {
	root  Type
	elems [3]pathElem // deepest nesting: Push.Records[i].Grants[j]
	depth int
}

type pathElem struct {
	name  string
	index int
}

func (p *path) push(name string, index int) {
	p.elems[p.depth] = pathElem{name, index}
	p.depth++
}

func (p *path) pop() { p.depth-- }

// field returns e.g. "Push.Records[3].Envelope".
func (p *path) field(name string) string {
	s := p.root.String()
	for _, e := range p.elems[:p.depth] {
		s += fmt.Sprintf(".%s[%d]", e.name, e.index)
	}
	if name != "" {
		s += "." + name
	}
	return s
}

// writer appends a body. In its sizing pass it checks the message and counts bytes
// without writing; the writing pass then trusts that the checks passed.
type writer struct {
	b      []byte
	n      int
	sizing bool
	err    error
	path   path
}

func (w *writer) fail(sentinel error, format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
	}
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (w *writer) uvarint(v uint64) {
	if w.sizing {
		w.n += uvarintLen(v)
		return
	}
	for v >= 0x80 {
		w.b = append(w.b, byte(v)|0x80)
		v >>= 7
	}
	w.b = append(w.b, byte(v))
}

func (w *writer) u8(v byte) {
	if w.sizing {
		w.n++
		return
	}
	w.b = append(w.b, v)
}

func (w *writer) raw(p []byte) {
	if w.sizing {
		w.n += len(p)
		return
	}
	w.b = append(w.b, p...)
}

func (w *writer) bool(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

// enum writes a one-byte enum whose valid values are 1…last.
func (w *writer) enum(name string, v, last byte) {
	if w.sizing && (v < 1 || v > last) {
		w.fail(ErrMalformed, "%s: value %d out of range 1–%d", w.path.field(name), v, last)
	}
	w.u8(v)
}

func (w *writer) blob(name string, p []byte, max int) {
	if w.sizing && len(p) > max {
		w.fail(ErrTooLarge, "%s: length %d over cap %d", w.path.field(name), len(p), max)
	}
	w.uvarint(uint64(len(p)))
	w.raw(p)
}

func (w *writer) str(name string, s string, max int) {
	if w.sizing {
		if len(s) > max {
			w.fail(ErrTooLarge, "%s: length %d over cap %d", w.path.field(name), len(s), max)
		} else if !utf8.ValidString(s) {
			w.fail(ErrMalformed, "%s: invalid UTF-8", w.path.field(name))
		}
		w.n += uvarintLen(uint64(len(s))) + len(s)
		return
	}
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) time(name string, t time.Time) {
	var s int64
	if !t.IsZero() {
		s = t.Unix()
		if w.sizing && (s == 0 || s < minUnix || s > maxUnix) {
			w.fail(ErrMalformed, "%s: time %s cannot be sent (0 means no time; years 1–9999 only)",
				w.path.field(name), t.UTC().Format(time.RFC3339))
		}
	}
	w.uvarint(uint64(s<<1) ^ uint64(s>>63))
}

func (w *writer) duration(name string, d time.Duration) {
	if w.sizing && d < 0 {
		w.fail(ErrMalformed, "%s: negative duration %s", w.path.field(name), d)
	}
	w.uvarint(uint64(d / time.Second))
}

// count writes a slice length; the caller writes the elements.
func (w *writer) count(n int) { w.uvarint(uint64(n)) }

// reader consumes a frame. Its first failure sticks: later reads return zero values and
// do nothing, so decoding functions check r.err only where they loop.
type reader struct {
	b    []byte // what is left
	err  error
	path path
}

func (r *reader) fail(sentinel error, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
		r.b = nil
	}
}

func (r *reader) uvarint(name string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) > 0 && r.b[0] < 0x80 { // one byte: the common case
		v := r.b[0]
		r.b = r.b[1:]
		return uint64(v)
	}
	var v uint64
	for i, c := range r.b {
		if i == 10 {
			break
		}
		if c < 0x80 {
			if i == 9 && c > 1 {
				r.fail(ErrMalformed, "%s: varint overflows 64 bits", r.path.field(name))
				return 0
			}
			if c == 0 {
				r.fail(ErrMalformed, "%s: varint not minimal", r.path.field(name))
				return 0
			}
			r.b = r.b[i+1:]
			return v | uint64(c)<<(7*i)
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	if len(r.b) >= 10 {
		r.fail(ErrMalformed, "%s: varint longer than 10 bytes", r.path.field(name))
	} else {
		r.fail(ErrMalformed, "%s: truncated varint", r.path.field(name))
	}
	return 0
}

func (r *reader) u16(name string) uint16 {
	v := r.uvarint(name)
	if v > math.MaxUint16 {
		r.fail(ErrMalformed, "%s: %d does not fit 16 bits", r.path.field(name), v)
	}
	return uint16(v)
}

func (r *reader) u32(name string) uint32 {
	v := r.uvarint(name)
	if v > math.MaxUint32 {
		r.fail(ErrMalformed, "%s: %d does not fit 32 bits", r.path.field(name), v)
	}
	return uint32(v)
}

func (r *reader) u8(name string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(ErrMalformed, "%s: truncated", r.path.field(name))
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bool(name string) bool {
	v := r.u8(name)
	if v > 1 {
		r.fail(ErrMalformed, "%s: bool byte %d, want 0 or 1", r.path.field(name), v)
	}
	return v == 1
}

// enum reads a one-byte enum whose valid values are 1…last.
func (r *reader) enum(name string, last byte) byte {
	v := r.u8(name)
	if r.err == nil && (v < 1 || v > last) {
		r.fail(ErrMalformed, "%s: value %d out of range 1–%d", r.path.field(name), v, last)
	}
	return v
}

// array fills dst with the next len(dst) bytes.
func (r *reader) array(name string, dst []byte) {
	if r.err != nil {
		return
	}
	if len(r.b) < len(dst) {
		r.fail(ErrMalformed, "%s: %d bytes needed, %d remain", r.path.field(name), len(dst), len(r.b))
		return
	}
	copy(dst, r.b)
	r.b = r.b[len(dst):]
}

// length reads a byte length and checks it against max and the bytes left.
func (r *reader) length(name string, max int) int {
	n := r.uvarint(name)
	if r.err != nil {
		return 0
	}
	if n > uint64(max) {
		r.fail(ErrTooLarge, "%s: length %d over cap %d", r.path.field(name), n, max)
		return 0
	}
	if n > uint64(len(r.b)) {
		r.fail(ErrMalformed, "%s: length %d exceeds remaining %d bytes", r.path.field(name), n, len(r.b))
		return 0
	}
	return int(n)
}

// blob returns a copy of a length-prefixed byte string, or nil if it is empty.
func (r *reader) blob(name string, max int) []byte {
	n := r.length(name, max)
	if n == 0 {
		return nil
	}
	p := r.b[:n:n] // Decode's own copy of the frame, capped
	r.b = r.b[n:]
	return p
}

func (r *reader) str(name string, max int) string {
	n := r.length(name, max)
	if n == 0 {
		return ""
	}
	p := r.b[:n]
	if !utf8.Valid(p) {
		r.fail(ErrMalformed, "%s: invalid UTF-8", r.path.field(name))
		return ""
	}
	r.b = r.b[n:]
	return string(p)
}

func (r *reader) time(name string) time.Time {
	u := r.uvarint(name)
	if r.err != nil || u == 0 {
		return time.Time{}
	}
	s := int64(u>>1) ^ -int64(u&1)
	if s < minUnix || s > maxUnix {
		r.fail(ErrMalformed, "%s: %d seconds is outside years 1–9999", r.path.field(name), s)
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func (r *reader) duration(name string) time.Duration {
	s := r.uvarint(name)
	if s > uint64(maxDurationSeconds) {
		r.fail(ErrMalformed, "%s: %d seconds overflows a duration", r.path.field(name), s)
		return 0
	}
	return time.Duration(s) * time.Second
}

// count reads a slice length and refuses one that the bytes left could not hold at
// minSize bytes an element, so that a tiny frame cannot make Decode allocate much.
func (r *reader) count(name string, minSize, max int) int {
	n := r.uvarint(name)
	if r.err != nil {
		return 0
	}
	if max > 0 && n > uint64(max) {
		r.fail(ErrTooLarge, "%s: count %d over cap %d", r.path.field(name), n, max)
		return 0
	}
	if n > uint64(len(r.b)/minSize) {
		r.fail(ErrMalformed, "%s: count %d exceeds what the remaining %d bytes can hold",
			r.path.field(name), n, len(r.b))
		return 0
	}
	return int(n)
}

// Message bodies, in the order of messages.go. Each encode lists the fields in
// declaration order; its decode mirrors it line for line.

func (m Hello) encode(w writer) writer {
	if w.sizing && len(m.Versions) > MaxVersions {
		w.fail(ErrTooLarge, "%s: count %d over cap %d", w.path.field("Versions"), len(m.Versions), MaxVersions)
	}
	w.count(len(m.Versions))
	for _, v := range m.Versions {
		w.uvarint(uint64(v))
	}
	w.str("Client", m.Client, MaxClientName)
	return w
}

func (m *Hello) decode(r reader) reader {
	if n := r.count("Versions", minUint16, MaxVersions); n > 0 {
		m.Versions = make([]uint16, n)
		for i := range m.Versions {
			m.Versions[i] = r.u16("Versions")
		}
	}
	m.Client = r.str("Client", MaxClientName)
	return r
}

func (m Welcome) encode(w writer) writer {
	w.uvarint(uint64(m.Version))
	w.time("ServerTime", m.ServerTime)
	w.uvarint(uint64(m.Limits.MaxFrame))
	w.uvarint(uint64(m.Limits.MaxBatch))
	w.uvarint(uint64(m.Limits.MaxPullPage))
	w.uvarint(uint64(m.Limits.MaxFetch))
	w.uvarint(uint64(m.Limits.MaxEnvelope))
	return w
}

func (m *Welcome) decode(r reader) reader {
	m.Version = r.u16("Version")
	m.ServerTime = r.time("ServerTime")
	m.Limits.MaxFrame = r.u32("Limits.MaxFrame")
	m.Limits.MaxBatch = r.u32("Limits.MaxBatch")
	m.Limits.MaxPullPage = r.u32("Limits.MaxPullPage")
	m.Limits.MaxFetch = r.u32("Limits.MaxFetch")
	m.Limits.MaxEnvelope = r.u32("Limits.MaxEnvelope")
	return r
}

func (ChallengeRequest) encode(w writer) writer  { return w }
func (*ChallengeRequest) decode(r reader) reader { return r }

func (m Challenge) encode(w writer) writer {
	w.raw(m.Nonce[:])
	w.time("Expires", m.Expires)
	return w
}

func (m *Challenge) decode(r reader) reader {
	r.array("Nonce", m.Nonce[:])
	m.Expires = r.time("Expires")
	return r
}

func (m SignUp) encode(w writer) writer {
	w.raw(m.Account[:])
	w.raw(m.LoginKey[:])
	w.raw(m.RecoveryLoginKey[:])
	w.blob("KDFParams", m.KDFParams, MaxKDFParams)
	w.blob("Keybag", m.Keybag, MaxKeybag)
	w.blob("RecoveryKeybag", m.RecoveryKeybag, MaxKeybag)
	w.blob("Bundle", m.Bundle, MaxBundle)
	w.raw(m.Fingerprint[:])
	w.blob("DeviceLabel", m.DeviceLabel, MaxLabel)
	w.raw(m.LoginSig[:])
	w.raw(m.RecoverySig[:])
	return w
}

func (m *SignUp) decode(r reader) reader {
	r.array("Account", m.Account[:])
	r.array("LoginKey", m.LoginKey[:])
	r.array("RecoveryLoginKey", m.RecoveryLoginKey[:])
	m.KDFParams = r.blob("KDFParams", MaxKDFParams)
	m.Keybag = r.blob("Keybag", MaxKeybag)
	m.RecoveryKeybag = r.blob("RecoveryKeybag", MaxKeybag)
	m.Bundle = r.blob("Bundle", MaxBundle)
	r.array("Fingerprint", m.Fingerprint[:])
	m.DeviceLabel = r.blob("DeviceLabel", MaxLabel)
	r.array("LoginSig", m.LoginSig[:])
	r.array("RecoverySig", m.RecoverySig[:])
	return r
}

func (m LoginParamsRequest) encode(w writer) writer  { w.raw(m.Account[:]); return w }
func (m *LoginParamsRequest) decode(r reader) reader { r.array("Account", m.Account[:]); return r }

func (m LoginParams) encode(w writer) writer {
	w.blob("KDFParams", m.KDFParams, MaxKDFParams)
	return w
}
func (m *LoginParams) decode(r reader) reader {
	m.KDFParams = r.blob("KDFParams", MaxKDFParams)
	return r
}

func (m Login) encode(w writer) writer {
	w.raw(m.Account[:])
	w.enum("Role", byte(m.Role), byte(RoleRecovery))
	w.raw(m.Signature[:])
	w.blob("DeviceLabel", m.DeviceLabel, MaxLabel)
	w.raw(m.Device[:])
	return w
}

func (m *Login) decode(r reader) reader {
	r.array("Account", m.Account[:])
	m.Role = LoginRole(r.enum("Role", byte(RoleRecovery)))
	r.array("Signature", m.Signature[:])
	m.DeviceLabel = r.blob("DeviceLabel", MaxLabel)
	r.array("Device", m.Device[:])
	return r
}

func (m Resume) encode(w writer) writer  { w.blob("Token", m.Token, MaxTokenLen); return w }
func (m *Resume) decode(r reader) reader { m.Token = r.blob("Token", MaxTokenLen); return r }

func (m Session) encode(w writer) writer {
	w.raw(m.Account[:])
	w.raw(m.Device[:])
	w.blob("Token", m.Token, MaxTokenLen)
	w.time("Expires", m.Expires)
	w.duration("IdleTimeout", m.IdleTimeout)
	w.blob("Keybag", m.Keybag, MaxKeybag)
	return w
}

func (m *Session) decode(r reader) reader {
	r.array("Account", m.Account[:])
	r.array("Device", m.Device[:])
	m.Token = r.blob("Token", MaxTokenLen)
	m.Expires = r.time("Expires")
	m.IdleTimeout = r.duration("IdleTimeout")
	m.Keybag = r.blob("Keybag", MaxKeybag)
	return r
}

func (w *writer) recordPush(p *RecordPush) {
	w.raw(p.Record[:])
	w.uvarint(p.BaseRevision)
	w.uvarint(p.Revision)
	w.bool(p.Delete)
	w.blob("Envelope", p.Envelope, MaxBlob)
	w.blob("OwnerKey", p.OwnerKey, MaxOwnerKey)
	w.grants(p.Grants)
}

func (r *reader) recordPush(p *RecordPush) {
	r.array("Record", p.Record[:])
	p.BaseRevision = r.uvarint("BaseRevision")
	p.Revision = r.uvarint("Revision")
	p.Delete = r.bool("Delete")
	p.Envelope = r.blob("Envelope", MaxBlob)
	p.OwnerKey = r.blob("OwnerKey", MaxOwnerKey)
	p.Grants = r.grants()
}

func (w *writer) grants(gs []GrantPush) {
	w.count(len(gs))
	for i := range gs {
		w.path.push("Grants", i)
		g := &gs[i]
		w.raw(g.Record[:])
		w.uvarint(g.Revision)
		w.raw(g.Recipient[:])
		w.time("Expires", g.Expires)
		w.blob("Blob", g.Blob, MaxGrantBlob)
		w.path.pop()
	}
}

func (r *reader) grants() []GrantPush {
	n := r.count("Grants", minGrantPush, 0)
	if n == 0 {
		return nil
	}
	gs := make([]GrantPush, n)
	for i := range gs {
		r.path.push("Grants", i)
		g := &gs[i]
		r.array("Record", g.Record[:])
		g.Revision = r.uvarint("Revision")
		r.array("Recipient", g.Recipient[:])
		g.Expires = r.time("Expires")
		g.Blob = r.blob("Blob", MaxGrantBlob)
		r.path.pop()
		if r.err != nil {
			return nil
		}
	}
	return gs
}

func (m Push) encode(w writer) writer {
	w.count(len(m.Records))
	for i := range m.Records {
		w.path.push("Records", i)
		w.recordPush(&m.Records[i])
		w.path.pop()
	}
	w.grants(m.Grants)
	w.count(len(m.Revokes))
	for i := range m.Revokes {
		w.raw(m.Revokes[i].Record[:])
		w.raw(m.Revokes[i].Recipient[:])
	}
	return w
}

func (m *Push) decode(r reader) reader {
	if n := r.count("Records", minRecordPush, 0); n > 0 {
		m.Records = make([]RecordPush, n)
		for i := range m.Records {
			r.path.push("Records", i)
			r.recordPush(&m.Records[i])
			r.path.pop()
			if r.err != nil {
				return r
			}
		}
	}
	m.Grants = r.grants()
	if n := r.count("Revokes", minRevoke, 0); n > 0 {
		m.Revokes = make([]Revoke, n)
		for i := range m.Revokes { // the count check left room for every one
			r.array("Revokes.Record", m.Revokes[i].Record[:])
			r.array("Revokes.Recipient", m.Revokes[i].Recipient[:])
		}
	}
	return r
}

func (m PushResult) encode(w writer) writer {
	w.count(len(m.Results))
	for i := range m.Results {
		w.path.push("Results", i)
		v := &m.Results[i]
		w.raw(v.Record[:])
		w.enum("Status", byte(v.Status), byte(StatusRejected))
		w.uvarint(v.Seq)
		w.uvarint(v.Revision)
		w.uvarint(uint64(v.Code))
		w.path.pop()
	}
	return w
}

func (m *PushResult) decode(r reader) reader {
	n := r.count("Results", minItemResult, 0)
	if n == 0 {
		return r
	}
	m.Results = make([]ItemResult, n)
	for i := range m.Results {
		r.path.push("Results", i)
		v := &m.Results[i]
		r.array("Record", v.Record[:])
		v.Status = ItemStatus(r.enum("Status", byte(StatusRejected)))
		v.Seq = r.uvarint("Seq")
		v.Revision = r.uvarint("Revision")
		v.Code = ErrorCode(r.u16("Code"))
		r.path.pop()
		if r.err != nil {
			return r
		}
	}
	return r
}

func (m Pull) encode(w writer) writer {
	w.uvarint(m.Cursor)
	w.uvarint(uint64(m.Limit))
	return w
}

func (m *Pull) decode(r reader) reader {
	m.Cursor = r.uvarint("Cursor")
	m.Limit = r.u32("Limit")
	return r
}

func (w *writer) changes(name string, cs []Change) {
	w.count(len(cs))
	for i := range cs {
		w.path.push(name, i)
		c := &cs[i]
		w.uvarint(c.Seq)
		w.raw(c.Record[:])
		w.raw(c.Owner[:])
		w.uvarint(c.Revision)
		w.enum("State", byte(c.State), byte(StateGone))
		w.blob("Envelope", c.Envelope, MaxBlob)
		w.blob("OwnerKey", c.OwnerKey, MaxOwnerKey)
		w.grants(c.Grants)
		w.path.pop()
	}
}

func (r *reader) changes(name string) []Change {
	n := r.count(name, minChange, 0)
	if n == 0 {
		return nil
	}
	cs := make([]Change, n)
	for i := range cs {
		r.path.push(name, i)
		c := &cs[i]
		c.Seq = r.uvarint("Seq")
		r.array("Record", c.Record[:])
		r.array("Owner", c.Owner[:])
		c.Revision = r.uvarint("Revision")
		c.State = RecordState(r.enum("State", byte(StateGone)))
		c.Envelope = r.blob("Envelope", MaxBlob)
		c.OwnerKey = r.blob("OwnerKey", MaxOwnerKey)
		c.Grants = r.grants()
		r.path.pop()
		if r.err != nil {
			return nil
		}
	}
	return cs
}

func (m Changes) encode(w writer) writer {
	w.changes("Items", m.Items)
	w.uvarint(m.Cursor)
	w.bool(m.More)
	return w
}

func (m *Changes) decode(r reader) reader {
	m.Items = r.changes("Items")
	m.Cursor = r.uvarint("Cursor")
	m.More = r.bool("More")
	return r
}

func (Subscribe) encode(w writer) writer  { return w }
func (*Subscribe) decode(r reader) reader { return r }

func (m Notify) encode(w writer) writer  { w.uvarint(m.Cursor); return w }
func (m *Notify) decode(r reader) reader { m.Cursor = r.uvarint("Cursor"); return r }

func (Ping) encode(w writer) writer  { return w }
func (*Ping) decode(r reader) reader { return r }

func (Pong) encode(w writer) writer  { return w }
func (*Pong) decode(r reader) reader { return r }

func (DevicesRequest) encode(w writer) writer  { return w }
func (*DevicesRequest) decode(r reader) reader { return r }

func (m Devices) encode(w writer) writer {
	w.count(len(m.Items))
	for i := range m.Items {
		w.path.push("Items", i)
		d := &m.Items[i]
		w.raw(d.Device[:])
		w.blob("Label", d.Label, MaxLabel)
		w.time("Created", d.Created)
		w.time("LastSeen", d.LastSeen)
		w.bool(d.Revoked)
		w.bool(d.Current)
		w.path.pop()
	}
	return w
}

func (m *Devices) decode(r reader) reader {
	n := r.count("Items", minDeviceInfo, 0)
	if n == 0 {
		return r
	}
	m.Items = make([]DeviceInfo, n)
	for i := range m.Items {
		r.path.push("Items", i)
		d := &m.Items[i]
		r.array("Device", d.Device[:])
		d.Label = r.blob("Label", MaxLabel)
		d.Created = r.time("Created")
		d.LastSeen = r.time("LastSeen")
		d.Revoked = r.bool("Revoked")
		d.Current = r.bool("Current")
		r.path.pop()
		if r.err != nil {
			return r
		}
	}
	return r
}

func (m RevokeDevice) encode(w writer) writer  { w.raw(m.Device[:]); return w }
func (m *RevokeDevice) decode(r reader) reader { r.array("Device", m.Device[:]); return r }

func (m BundleRequest) encode(w writer) writer {
	w.raw(m.Account[:])
	w.blob("Fingerprint", m.Fingerprint, MaxFingerprint)
	return w
}

func (m *BundleRequest) decode(r reader) reader {
	r.array("Account", m.Account[:])
	m.Fingerprint = r.blob("Fingerprint", MaxFingerprint)
	return r
}

func (m Bundle) encode(w writer) writer {
	w.raw(m.Account[:])
	w.blob("Bundle", m.Bundle, MaxBundle)
	return w
}

func (m *Bundle) decode(r reader) reader {
	r.array("Account", m.Account[:])
	m.Bundle = r.blob("Bundle", MaxBundle)
	return r
}

func (m UpdateLogin) encode(w writer) writer {
	w.raw(m.LoginKey[:])
	w.blob("KDFParams", m.KDFParams, MaxKDFParams)
	w.blob("Keybag", m.Keybag, MaxKeybag)
	w.raw(m.Signature[:])
	w.enum("ProofRole", byte(m.ProofRole), byte(RoleRecovery))
	w.raw(m.Proof[:])
	return w
}

func (m *UpdateLogin) decode(r reader) reader {
	r.array("LoginKey", m.LoginKey[:])
	m.KDFParams = r.blob("KDFParams", MaxKDFParams)
	m.Keybag = r.blob("Keybag", MaxKeybag)
	r.array("Signature", m.Signature[:])
	m.ProofRole = LoginRole(r.enum("ProofRole", byte(RoleRecovery)))
	r.array("Proof", m.Proof[:])
	return r
}

func (DigestRequest) encode(w writer) writer  { return w }
func (*DigestRequest) decode(r reader) reader { return r }

func (m Digest) encode(w writer) writer {
	w.uvarint(m.Count)
	w.raw(m.Hash[:])
	w.uvarint(m.Cursor)
	return w
}

func (m *Digest) decode(r reader) reader {
	m.Count = r.uvarint("Count")
	r.array("Hash", m.Hash[:])
	m.Cursor = r.uvarint("Cursor")
	return r
}

func (Logout) encode(w writer) writer  { return w }
func (*Logout) decode(r reader) reader { return r }

func (m Fetch) encode(w writer) writer {
	w.count(len(m.Records))
	for i := range m.Records {
		w.raw(m.Records[i][:])
	}
	return w
}

func (m *Fetch) decode(r reader) reader {
	n := r.count("Records", minRecordID, 0)
	if n == 0 {
		return r
	}
	m.Records = make([]RecordID, n)
	for i := range m.Records {
		r.array("Records", m.Records[i][:])
	}
	return r
}

func (m Records) encode(w writer) writer  { w.changes("Items", m.Items); return w }
func (m *Records) decode(r reader) reader { m.Items = r.changes("Items"); return r }

func (Ack) encode(w writer) writer  { return w }
func (*Ack) decode(r reader) reader { return r }

func (m Error) encode(w writer) writer {
	w.uvarint(uint64(m.Code))
	w.str("Message", m.Message, MaxMessage)
	return w
}

func (m *Error) decode(r reader) reader {
	m.Code = ErrorCode(r.u16("Code"))
	m.Message = r.str("Message", MaxMessage)
	return r
}
