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
	LastSeen  time.Time // idle timeout counts from here
	Expires   time.Time // Created + absolute lifetime
	// All three are kept to the minute, rounded down: a session may end up to a
	// minute early, never late.
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
	// AccountByFingerprint finds the one account whose fingerprint starts with prefix
	// (ErrNotFound if none does, if more than one does, or if prefix is empty).
	AccountByFingerprint(ctx context.Context, prefix []byte) (Account, error)
	// UpdateLogin replaces the passphrase login key, KDF parameters and keybag (ErrNotFound).
	UpdateLogin(ctx context.Context, id syncproto.AccountID, u LoginUpdate) error

	// AddDevice registers another device of an existing account (ErrNotFound if the
	// account does not exist).
	AddDevice(ctx context.Context, d Device) error
	// Device returns one device (ErrNotFound).
	Device(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) (Device, error)
	// Devices lists an account's devices, oldest first (creation is kept to the day;
	// devices of the same day come in device ID order).
	Devices(ctx context.Context, account syncproto.AccountID) ([]Device, error)
	// RevokeDevice marks a device revoked and deletes its sessions in one transaction
	// (ErrNotFound). Revoking a revoked device succeeds.
	RevokeDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) error
	// TouchDevice records that a device was seen (hour precision, never moving back;
	// ErrNotFound).
	TouchDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID, at time.Time) error

	// CreateSession stores a session of a device that exists and is not revoked (else
	// ErrNotFound).
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this token hash (ErrNotFound), expired or not:
	// the caller checks Expires and LastSeen.
	Session(ctx context.Context, tokenHash [32]byte) (Session, error)
	// TouchSession moves a session's LastSeen forward (ErrNotFound).
	TouchSession(ctx context.Context, tokenHash [32]byte, at time.Time) error
	// DeleteSession ends one session. Deleting a missing session succeeds.
	DeleteSession(ctx context.Context, tokenHash [32]byte) error
	// DeleteExpiredSessions removes sessions whose Expires is at or before now, or whose
	// LastSeen is at or before now-idle (idle <= 0: no idle limit), and says how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)

	// Push applies a batch from owner in one durable transaction (backends may group
	// several callers' batches into one commit). An error (ErrNotFound for an unknown
	// owner, ErrClosed, I/O) means nothing of the batch was written. Rules, per item:
	//  - a new record needs BaseRevision 0; an existing one needs BaseRevision == its
	//    revision, else StatusConflict with the current Revision (0 if there is no
	//    record; a deleted record answers StatusRejected, CodeDeleted);
	//  - replaying an accepted revision with identical bytes answers the same Seq and
	//    writes nothing (idempotent); different bytes at that revision is a conflict;
	//  - only the owner may push a record (CodeForbidden otherwise, without saying whether
	//    it exists: answer exactly as for any other account's record);
	//  - a record push replaces all grants with the ones it carries (current grantees
	//    only); recipients that lose a grant see StateGone in their feed;
	//  - grants name the record's current revision (else StatusRejected, CodeConflict,
	//    with the current Revision); revokes delete a grant; only the owner may grant or
	//    revoke (CodeForbidden, the same for a record that does not exist); replaying an
	//    identical grant, or revoking a grant that does not exist, is accepted and writes
	//    nothing (Seq is then the record's position in the owner's feed);
	//  - an item malformed whatever the record's state (zero ID, Revision !=
	//    BaseRevision+1, a deletion carrying bytes, a live push without an envelope, a
	//    grant naming the owner, another record or revision, a recipient twice, or an
	//    expiry not after now) is StatusRejected, CodeBadRequest, checked first so that
	//    the answer says nothing of the record; so is deleting a record never pushed; a
	//    grant to an account that does not exist is CodeNotFound; grant expiry is kept to
	//    the second;
	//  - every change appends to the feed of the owner and of each affected recipient.
	// ErrQuota-style refusals are per item (CodeQuotaExceeded), never the whole batch:
	// an account may own at most a backend-configured number of live (undeleted) records.
	Push(ctx context.Context, owner syncproto.AccountID, p syncproto.Push, now time.Time) (PushOutcome, error)

	// Changes returns the account's feed after cursor: at most limit items (limit <= 0:
	// syncproto.DefaultMaxPullPage), the latest state of each record once (a record's
	// revision is never split across pages), in sequence order, and whether more follow.
	// The page's Cursor is its last item's Seq, or after if it is empty. Grants past
	// expiry are treated as absent. What an account sees: the owner everything (OwnerKey,
	// every live grant); a recipient with a live grant the envelope and its own grant
	// only; a former recipient StateDeleted once the record is deleted, else StateGone
	// with zero Owner and Revision.
	Changes(ctx context.Context, account syncproto.AccountID, after uint64, limit int, now time.Time) (syncproto.Changes, error)
	// Records returns the current state of the given records as the account may see them,
	// one answer per ID in order, by the rule of Changes; Seq is the record's position in
	// the account's feed. Anything not visible (missing, other owner without a live
	// grant) is exactly {Record, StateGone}: an invisible record and a missing one answer
	// alike.
	Records(ctx context.Context, account syncproto.AccountID, ids []syncproto.RecordID, now time.Time) ([]syncproto.Change, error)
	// Digest summarises the live records visible to the account.
	Digest(ctx context.Context, account syncproto.AccountID, now time.Time) (syncproto.Digest, error)
	// Cursor returns the account's current feed position: the Seq of the newest change in
	// its feed. Since every change to what an account may see appends to its feed, the
	// position advances with every such change (the server relies on this to tell
	// whether a page it read ahead is still current).
	Cursor(ctx context.Context, account syncproto.AccountID) (uint64, error)
	// ExpireGrants deletes grants whose expiry is at or before now, appends StateGone to
	// each recipient's feed (and the change to the owner's, whose grant list shrank), and
	// returns the accounts whose feeds grew.
	ExpireGrants(ctx context.Context, now time.Time) (map[syncproto.AccountID]uint64, error)

	// Ping checks that the database answers (for /healthz).
	Ping(ctx context.Context) error
	// Close waits for writes in flight and closes the database. Every later call returns
	// ErrClosed; a second Close returns nil.
	Close() error
}
