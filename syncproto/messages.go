package syncproto

import "time"

// ProtocolVersion is the one version of the protocol this package speaks.
//
// History (append-only):
//
//	1  2026-11-23  first version
//	1  2026-11-23  UpdateLogin carries proof of a current login key (ProofRole, Proof);
//	               still version 1: nothing had shipped
const ProtocolVersion = 1

// Subprotocol is the WebSocket subprotocol name a client must offer.
const Subprotocol = "interlude.v1"

// Path is the one WebSocket endpoint.
const Path = "/v1/sync"

// Limits the server enforces. Welcome tells a client the values in force.
const (
	DefaultMaxFrame          = 4 << 20 // bytes in one WebSocket message
	DefaultMaxBatch          = 256     // records + grants + revokes in one Push
	DefaultMaxPullPage       = 500     // changes in one Changes page
	DefaultMaxRecordsAccount = 100_000 // live records one account may own
	DefaultMaxConnsAccount   = 16      // concurrent connections of one account
	DefaultMaxFetch          = 256     // IDs in one Fetch
	// DefaultMaxEnvelope is the largest valid entry envelope: a 1 MiB plaintext padded
	// (Padmé) to 1,081,344 bytes plus 177 bytes of header, nonce, tag and signature. It must
	// equal crypto.MaxEnvelopeSize (client tests check), so that anything a client can seal
	// the server accepts.
	DefaultMaxEnvelope = 1_081_521
	// MaxDeletionStatement caps the Envelope of a deletion: an author's signed statement
	// that the record is deleted (105 bytes in crypto format v1).
	MaxDeletionStatement      = 256
	DefaultAuthAttemptsPerMin = 10 // failed logins per account (and per client address) per minute
)

// Type is the first byte of every frame.
type Type byte

// Message types. Client-to-server types have the high bit clear; server-to-client types
// have it set. The list is append-only: a number once used is never reused.
const (
	TypeHello          Type = 0x01
	TypeChallengeReq   Type = 0x02
	TypeSignUp         Type = 0x03
	TypeLoginParamsReq Type = 0x04
	TypeLogin          Type = 0x05
	TypeResume         Type = 0x06
	TypePush           Type = 0x07
	TypePull           Type = 0x08
	TypeSubscribe      Type = 0x09
	TypePing           Type = 0x0A
	TypeDevicesReq     Type = 0x0B
	TypeRevokeDevice   Type = 0x0C
	TypeBundleReq      Type = 0x0D
	TypeUpdateLogin    Type = 0x0E
	TypeDigestReq      Type = 0x0F
	TypeLogout         Type = 0x10
	TypeFetch          Type = 0x11

	TypeWelcome     Type = 0x81
	TypeChallenge   Type = 0x82
	TypeLoginParams Type = 0x83
	TypeSession     Type = 0x84
	TypePushResult  Type = 0x85
	TypeChanges     Type = 0x86
	TypeNotify      Type = 0x87
	TypePong        Type = 0x88
	TypeDevices     Type = 0x89
	TypeBundle      Type = 0x8A
	TypeAck         Type = 0x8B
	TypeDigest      Type = 0x8C
	TypeError       Type = 0x8D
	TypeRecords     Type = 0x8E
)

// Message is any protocol message. Every frame is: Type (1 byte) | request ID (uvarint) |
// body. A response carries the request ID of its request; server-initiated messages
// (Notify) carry 0.
type Message interface {
	Type() Type
}

// LoginRole says which login key signed a challenge.
type LoginRole byte

const (
	RolePassphrase LoginRole = 1 // the key derived from passphrase + Secret Key
	RoleRecovery   LoginRole = 2 // the key derived from the recovery code
)

// LoginSignatureContext is the Ed25519ctx context under which login keys sign challenges.
const LoginSignatureContext = "interlude/v1/login"

// LoginMessage is what a login key signs (Ed25519ctx, LoginSignatureContext) to answer a
// challenge: the nonce, the account and the role, so that a signature can be used for
// nothing but this one login.
func LoginMessage(nonce [32]byte, account AccountID, role LoginRole) []byte {
	m := make([]byte, 0, 32+16+1)
	m = append(m, nonce[:]...)
	m = append(m, account[:]...)
	return append(m, byte(role))
}

// Hello opens every connection.
type Hello struct {
	Versions []uint16 // protocol versions the client speaks
	Client   string   // software name and version, e.g. "interlude/0.1"; at most 64 bytes
}

// Welcome answers Hello with the chosen version and the limits in force.
type Welcome struct {
	Version    uint16
	ServerTime time.Time // whole seconds
	Limits     Limits
}

// Limits tells a client what the server will refuse.
type Limits struct {
	MaxFrame    uint32
	MaxBatch    uint32
	MaxPullPage uint32
	MaxFetch    uint32
	MaxEnvelope uint32 // bytes in one record envelope
}

// ChallengeRequest asks for a fresh single-use nonce bound to this connection.
type ChallengeRequest struct{}

// Challenge is a single-use nonce that expires (60 s).
type Challenge struct {
	Nonce   [32]byte
	Expires time.Time
}

// SignUp creates an account and its first device. Both login keys sign the connection's
// current challenge (LoginMessage with their role) to prove possession.
type SignUp struct {
	Account          AccountID
	LoginKey         [32]byte // Ed25519 public key derived from passphrase + Secret Key
	RecoveryLoginKey [32]byte // Ed25519 public key derived from the recovery code
	KDFParams        []byte   // Argon2id salt and parameters (opaque to the server)
	Keybag           []byte   // keys sealed under the passphrase-derived key
	RecoveryKeybag   []byte   // keys sealed under the recovery-code-derived key
	Bundle           []byte   // signed public key bundle
	Fingerprint      [32]byte // of the bundle; lets a peer find the bundle from a pairing code
	DeviceLabel      []byte   // device name, encrypted by the client; opaque
	LoginSig         [64]byte
	RecoverySig      [64]byte
}

// LoginParamsRequest asks for the KDF parameters of an account. The answer never reveals
// whether the account exists: unknown accounts get deterministic fake parameters.
type LoginParamsRequest struct{ Account AccountID }

// LoginParams carries an account's KDF parameters (or well-formed fake ones).
type LoginParams struct{ KDFParams []byte }

// Login signs the connection's challenge with a login key. It registers a new device
// (named by DeviceLabel), or, when Device is set, signs that existing device in again once
// its session has ended.
type Login struct {
	Account     AccountID
	Role        LoginRole
	Signature   [64]byte
	DeviceLabel []byte
	Device      DeviceID // zero: a new device; else a device of this account from an earlier Session
}

// Resume authenticates a new connection with a session token from an earlier Session.
type Resume struct{ Token []byte }

// Session answers SignUp, Login and Resume. Keybag is set only after Login (the keybag
// that matches the role), so that a new device can unlock its keys.
type Session struct {
	Account     AccountID
	Device      DeviceID
	Token       []byte // 32 random bytes; the server stores only its SHA-256
	Expires     time.Time
	IdleTimeout time.Duration // whole seconds on the wire
	Keybag      []byte
}

// RecordPush is one record revision (or deletion) in a Push.
type RecordPush struct {
	Record       RecordID
	BaseRevision uint64 // the revision this one replaces; 0 for a new record
	Revision     uint64 // must be BaseRevision+1
	Delete       bool   // a deletion: Envelope is the author's signed deletion statement; OwnerKey is empty
	Envelope     []byte // signed, encrypted entry (or, with Delete, a deletion statement)
	OwnerKey     []byte // the entry key wrapped with the owner's vault key
	Grants       []GrantPush
}

// GrantPush shares one revision of a record with one recipient. The fields repeat what the
// signed Blob says, so that the server routes without parsing crypto; clients check they agree.
type GrantPush struct {
	Record    RecordID
	Revision  uint64
	Recipient AccountID
	Expires   time.Time // zero: never
	Blob      []byte    // signed grant with the wrapped entry key
}

// Revoke withdraws a recipient's access to a record.
type Revoke struct {
	Record    RecordID
	Recipient AccountID
}

// Push sends a batch. Records are applied in order, then Grants (for records already at
// that revision), then Revokes. Each item gets one ItemResult, in that order.
type Push struct {
	Records []RecordPush
	Grants  []GrantPush
	Revokes []Revoke
}

// ItemStatus is the outcome of one pushed item.
type ItemStatus byte

const (
	StatusAccepted ItemStatus = 1 // committed durably at Seq
	StatusConflict ItemStatus = 2 // the record is at Revision, not the base given
	StatusRejected ItemStatus = 3 // refused for Code; nothing written
)

// ItemResult answers one item of a Push.
type ItemResult struct {
	Record   RecordID
	Status   ItemStatus
	Seq      uint64 // when accepted
	Revision uint64 // the record's current revision (accepted or conflict)
	Code     ErrorCode
}

// PushResult answers a Push, acknowledging only what has committed durably.
type PushResult struct{ Results []ItemResult }

// Pull asks for changes after Cursor.
type Pull struct {
	Cursor uint64
	Limit  uint32
}

// RecordState is what a Change says about a record as the requesting account may see it.
type RecordState byte

const (
	StateLive    RecordState = 1 // Envelope (and keys) present
	StateDeleted RecordState = 2 // the owner deleted it: Envelope is the signed deletion statement; drop every copy once it verifies
	StateGone    RecordState = 3 // no longer visible to you (grant revoked or expired)
)

// Change is the state of one record as the requesting account sees it. The owner gets its
// OwnerKey and every grant; a grantee gets only its own grant.
type Change struct {
	Seq      uint64
	Record   RecordID
	Owner    AccountID
	Revision uint64
	State    RecordState
	Envelope []byte
	OwnerKey []byte
	Grants   []GrantPush
}

// Changes is one page of an account's feed. More says another page follows at once.
type Changes struct {
	Items  []Change
	Cursor uint64
	More   bool
}

// Subscribe asks for Notify messages whenever the account's feed grows.
type Subscribe struct{}

// Notify tells a subscribed connection the feed has grown to Cursor (request ID 0).
type Notify struct{ Cursor uint64 }

// Ping is an application-level keep-alive; the server answers Pong.
type Ping struct{}

// Pong answers Ping.
type Pong struct{}

// DevicesRequest asks for the account's devices.
type DevicesRequest struct{}

// DeviceInfo describes one device.
type DeviceInfo struct {
	Device   DeviceID
	Label    []byte    // encrypted by the client
	Created  time.Time // day precision
	LastSeen time.Time // hour precision
	Revoked  bool
	Current  bool // the device of this connection
}

// Devices lists the account's devices.
type Devices struct{ Items []DeviceInfo }

// RevokeDevice revokes a device and ends all its sessions at once.
type RevokeDevice struct{ Device DeviceID }

// BundleRequest asks for an account's public key bundle, by account or by a fingerprint
// prefix (at least 10 bytes) from a pairing code. Exactly one is set.
type BundleRequest struct {
	Account     AccountID
	Fingerprint []byte
}

// Bundle answers BundleRequest.
type Bundle struct {
	Account AccountID
	Bundle  []byte
}

// UpdateLogin replaces the passphrase login key, KDF parameters and keybag (a passphrase
// change, or a reset after recovery). Two signatures of the connection's current
// challenge authorise it: the new key's (LoginMessage with RolePassphrase), proving it is
// held, and a current login key's (LoginMessage with ProofRole), proving the sender knows
// the passphrase or the recovery code and not merely a session token: the passphrase key
// the server holds now (ProofRole RolePassphrase, as a passphrase change does) or the
// recovery key (RoleRecovery, as a reset after recovery does).
type UpdateLogin struct {
	LoginKey  [32]byte // the new passphrase login key
	KDFParams []byte
	Keybag    []byte
	Signature [64]byte  // by LoginKey, of LoginMessage(nonce, account, RolePassphrase)
	ProofRole LoginRole // which current login key signed Proof
	Proof     [64]byte  // by the account's current key of ProofRole, of LoginMessage(nonce, account, ProofRole)
}

// DigestRequest asks for a digest of everything the account should hold.
type DigestRequest struct{}

// Digest lets a client prove it is missing nothing: Count live records visible to the
// account, and Hash = SHA-256 over their (record ID ‖ revision u64 BE), sorted by record ID,
// as of feed position Cursor.
type Digest struct {
	Count  uint64
	Hash   [32]byte
	Cursor uint64
}

// Logout ends this connection's session.
type Logout struct{}

// Fetch asks for the current state of specific records. Records the account may not see
// come back as StateGone, exactly like records that do not exist.
type Fetch struct{ Records []RecordID }

// Records answers Fetch.
type Records struct{ Items []Change }

// Ack answers requests that return nothing else.
type Ack struct{}

// Error answers a request that failed, or tells why a connection is closing.
type Error struct {
	Code    ErrorCode
	Message string // for people: what went wrong and what to do; never secrets
}

func (Hello) Type() Type              { return TypeHello }
func (ChallengeRequest) Type() Type   { return TypeChallengeReq }
func (SignUp) Type() Type             { return TypeSignUp }
func (LoginParamsRequest) Type() Type { return TypeLoginParamsReq }
func (Login) Type() Type              { return TypeLogin }
func (Resume) Type() Type             { return TypeResume }
func (Push) Type() Type               { return TypePush }
func (Pull) Type() Type               { return TypePull }
func (Subscribe) Type() Type          { return TypeSubscribe }
func (Ping) Type() Type               { return TypePing }
func (DevicesRequest) Type() Type     { return TypeDevicesReq }
func (RevokeDevice) Type() Type       { return TypeRevokeDevice }
func (BundleRequest) Type() Type      { return TypeBundleReq }
func (UpdateLogin) Type() Type        { return TypeUpdateLogin }
func (DigestRequest) Type() Type      { return TypeDigestReq }
func (Logout) Type() Type             { return TypeLogout }
func (Fetch) Type() Type              { return TypeFetch }
func (Welcome) Type() Type            { return TypeWelcome }
func (Challenge) Type() Type          { return TypeChallenge }
func (LoginParams) Type() Type        { return TypeLoginParams }
func (Session) Type() Type            { return TypeSession }
func (PushResult) Type() Type         { return TypePushResult }
func (Changes) Type() Type            { return TypeChanges }
func (Notify) Type() Type             { return TypeNotify }
func (Pong) Type() Type               { return TypePong }
func (Devices) Type() Type            { return TypeDevices }
func (Bundle) Type() Type             { return TypeBundle }
func (Ack) Type() Type                { return TypeAck }
func (Digest) Type() Type             { return TypeDigest }
func (Error) Type() Type              { return TypeError }
func (Records) Type() Type            { return TypeRecords }
