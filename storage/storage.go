// Package storage declares what the Interlude server needs from persistence: the Store
// interface, the records it keeps, and the sentinel errors callers act on. It knows
// nothing of encryption: everything it holds is an ID, a number, a time bucket, a public
// key or an opaque blob. Backends live in subpackages (storage/sqlite is the embedded
// default) and prove themselves with the conformance suite in storage/storagetest.
package storage

import (
	"context"
	"errors"
	"time"

	"interlude/syncproto"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAccountExists = errors.New("account already exists")
	ErrQuota         = errors.New("account record quota reached")
	ErrClosed        = errors.New("store is closed")
)

// Account is what the server keeps of an account: public keys and opaque blobs.
type Account struct {
	ID               syncproto.AccountID
	LoginKey         [32]byte // Ed25519 public key (passphrase role)
	RecoveryLoginKey [32]byte // Ed25519 public key (recovery role)
	KDFParams        []byte
	Keybag           []byte
	RecoveryKeybag   []byte
	Bundle           []byte
	Fingerprint      [32]byte
	Created          time.Time // day precision
}

// Device is one device of an account.
type Device struct {
	ID       syncproto.DeviceID
	Account  syncproto.AccountID
	Label    []byte    // encrypted by the client
	Created  time.Time // day precision
	LastSeen time.Time // hour precision
	Revoked  bool
}

// Session is a login of one device. Only the SHA-256 of its token is stored.
type Session struct {
	TokenHash [32]byte
	Account   syncproto.AccountID
	Device    syncproto.DeviceID
	Created   time.Time // absolute lifetime counts from here
	LastSeen  time.Time // idle timeout counts from here (minute precision is enough)
	Expires   time.Time // Created + absolute lifetime
}

// LoginUpdate replaces an account's passphrase login key, KDF parameters and keybag.
type LoginUpdate struct {
	LoginKey  [32]byte
	KDFParams []byte
	Keybag    []byte
}

// PushOutcome is what a Push did: one result per item (records, then grants, then
// revokes, in request order) and the accounts whose feeds grew, with their new cursor,
// so that the server can notify their connections.
type PushOutcome struct {
	Results []syncproto.ItemResult
	Fed     map[syncproto.AccountID]uint64
}

// Store is the persistence the server needs. Implementations must be safe for concurrent
// use. Every method that writes returns only after its transaction has committed durably.
type Store interface {
	// CreateAccount stores a new account with its first device (ErrAccountExists if taken).
	CreateAccount(ctx context.Context, a Account, first Device) error
	// Account returns an account (ErrNotFound).
	Account(ctx context.Context, id syncproto.AccountID) (Account, error)
	// AccountByFingerprint finds the account whose fingerprint starts with prefix (ErrNotFound).
	AccountByFingerprint(ctx context.Context, prefix []byte) (Account, error)
	// UpdateLogin replaces the passphrase login key, KDF parameters and keybag.
	UpdateLogin(ctx context.Context, id syncproto.AccountID, u LoginUpdate) error

	// AddDevice registers another device of an existing account.
	AddDevice(ctx context.Context, d Device) error
	// Device returns one device (ErrNotFound).
	Device(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) (Device, error)
	// Devices lists an account's devices, oldest first.
	Devices(ctx context.Context, account syncproto.AccountID) ([]Device, error)
	// RevokeDevice marks a device revoked and deletes its sessions in one transaction.
	RevokeDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) error
	// TouchDevice records that a device was seen (hour precision).
	TouchDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID, at time.Time) error

	// CreateSession stores a session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this token hash (ErrNotFound).
	Session(ctx context.Context, tokenHash [32]byte) (Session, error)
	// TouchSession moves a session's LastSeen.
	TouchSession(ctx context.Context, tokenHash [32]byte, at time.Time) error
	// DeleteSession ends one session.
	DeleteSession(ctx context.Context, tokenHash [32]byte) error
	// DeleteExpiredSessions removes sessions past their absolute or idle limit.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)

	// Push applies a batch from owner in one durable transaction (backends may group
	// several callers' batches into one commit). Rules, per item:
	//  - a new record needs BaseRevision 0 and Revision 1; an existing one needs
	//    BaseRevision == its revision and Revision == BaseRevision+1, else StatusConflict
	//    with the current Revision (a deleted record answers StatusRejected, CodeDeleted);
	//  - replaying an accepted revision with identical bytes answers the same Seq and
	//    writes nothing (idempotent); different bytes at that revision is a conflict;
	//  - only the owner may push a record (CodeForbidden otherwise, without saying whether
	//    it exists: answer exactly as for any other account's record);
	//  - a record push replaces all grants with the ones it carries (current grantees
	//    only); recipients that lose a grant see StateGone in their feed;
	//  - grants name the record's current revision; revokes delete a grant;
	//  - every change appends to the feed of the owner and of each affected recipient.
	// ErrQuota-style refusals are per item (CodeQuotaExceeded), never the whole batch.
	Push(ctx context.Context, owner syncproto.AccountID, p syncproto.Push, now time.Time) (PushOutcome, error)

	// Changes returns the account's feed after cursor: at most limit items, the latest
	// state of each record once (a record's revision is never split across pages), in
	// sequence order, and whether more follow. Grants past expiry are treated as absent.
	Changes(ctx context.Context, account syncproto.AccountID, after uint64, limit int, now time.Time) (syncproto.Changes, error)
	// Records returns the current state of the given records as the account may see them;
	// anything not visible (missing, other owner without a live grant) is StateGone.
	Records(ctx context.Context, account syncproto.AccountID, ids []syncproto.RecordID, now time.Time) ([]syncproto.Change, error)
	// Digest summarises the live records visible to the account.
	Digest(ctx context.Context, account syncproto.AccountID, now time.Time) (syncproto.Digest, error)
	// Cursor returns the account's current feed position.
	Cursor(ctx context.Context, account syncproto.AccountID) (uint64, error)
	// ExpireGrants deletes grants whose expiry has passed, appends StateGone to each
	// recipient's feed, and returns the accounts whose feeds grew.
	ExpireGrants(ctx context.Context, now time.Time) (map[syncproto.AccountID]uint64, error)

	// Ping checks that the database answers (for /healthz).
	Ping(ctx context.Context) error
	// Close waits for writes in flight and closes the database.
	Close() error
}
