package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// Errors callers act on (test with errors.Is).
var (
	// ErrNoProfile means the profile directory holds no account yet: sign up or log in.
	ErrNoProfile = errors.New("no account on this device yet: run `interlude signup` or `interlude login`")
	// ErrProfileExists means SignUp or Login into a directory that already has another account.
	ErrProfileExists = errors.New("this profile already belongs to an account: sign out first, or use another --home")
	// ErrLocked means the operation needs the keys: call Unlock first.
	ErrLocked = errors.New("locked: unlock with your passphrase first")
	// ErrWrongPassphrase means the passphrase (with this device's Secret Key) does not open the keybag.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrWeakPassphrase means a new passphrase shorter than MinPassphraseLen.
	ErrWeakPassphrase = fmt.Errorf("passphrase too short: use at least %d characters (a few unrelated words work well)", MinPassphraseLen)
	// ErrNotFound means no such entry on this device.
	ErrNotFound = errors.New("no such entry")
	// ErrConflicted means the entry has an unresolved conflict; resolve it first.
	ErrConflicted = errors.New("entry has an unresolved conflict: run `interlude conflicts`, then `interlude resolve`")
	// ErrPendingChanges means SignOut would lose changes not yet on the server.
	ErrPendingChanges = errors.New("changes not yet synced would be lost")
	// ErrDeviceRevoked means the server revoked this device.
	ErrDeviceRevoked = errors.New("this device was revoked from another device: sign out, then log in again")
	// ErrAuthFailed means the server refused the account's login key (a wrong passphrase or kit,
	// or the passphrase was changed on another device).
	ErrAuthFailed = errors.New("the server did not accept the sign-in: check the passphrase and the recovery kit")
)

// MinPassphraseLen is the shortest passphrase SignUp, Recover and ChangePassphrase accept.
const MinPassphraseLen = 8

// Options tune a Client. The zero value is ready to use.
type Options struct {
	// Now returns the time; nil means time.Now. Used for record IDs and local timestamps.
	Now func() time.Time
	// Logger receives diagnostics (never payloads, keys or tokens); nil discards them.
	Logger *slog.Logger
	// BatchSize caps the records in one Push below the server's MaxBatch; 0 means MaxBatch.
	BatchSize int
	// AfterPush, if set, runs after each Push is answered and before its results are
	// recorded locally. Tests use it to pause (and kill) a sync at the worst moment: the
	// server has committed a batch the client has not yet recorded.
	AfterPush func(batch int)
	// NewKDFParams makes the Argon2id parameters for a new passphrase (sign-up, recovery,
	// passphrase change); nil means crypto.NewKDFParams. Parameters below
	// crypto.MinKDFParams are refused whatever this returns.
	NewKDFParams func() crypto.KDFParams
	// DeviceName is the name this device gives itself when it signs up, logs in or
	// recovers, so that the account's device list tells devices apart. It is sealed with
	// the account's Secret Key (crypto.SealDeviceLabel): the server cannot read it. A
	// name over crypto.MaxDeviceName bytes is cut at a character boundary; empty sends
	// no name.
	DeviceName string
}

// Client is one profile: an account on this device. Its methods are safe for concurrent
// use; several processes may also share a profile directory (SQLite WAL).
type Client struct {
	dir  string
	db   *sqlx.DB
	opts Options
	log  *slog.Logger

	mu   sync.Mutex
	keys *keys // nil while locked
}

// keys is what Unlock puts in memory. Nothing here is ever written to disk in clear.
type keys struct {
	id      *crypto.Identity
	secrets *crypto.AccountSecrets // passphrase-derived: login key and profile key
	profile crypto.ProfileKey
}

// Open opens (creating if needed) the profile in dir. It needs no passphrase and no
// network; most operations then need Unlock.
func Open(dir string, opts Options) (*Client, error) {
	db, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Client{dir: dir, db: db, opts: opts, log: log.With("component", "client")}, nil
}

// Close forgets the keys and closes the local store.
func (c *Client) Close() error {
	c.mu.Lock()
	c.keys = nil
	c.mu.Unlock()
	return c.db.Close()
}

// Dir returns the profile directory.
func (c *Client) Dir() string { return c.dir }

// HasAccount reports whether the profile holds an account.
func (c *Client) HasAccount(ctx context.Context) (bool, error) {
	_, err := loadProfile(ctx, c.db)
	if errors.Is(err, ErrNoProfile) {
		return false, nil
	}
	return err == nil, err
}

// Account returns the profile's account ID.
func (c *Client) Account(ctx context.Context) (syncproto.AccountID, error) {
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return syncproto.AccountID{}, err
	}
	return syncproto.AccountID(p.Account), nil
}

// Unlock derives the keys from the passphrase and this device's Secret Key and opens the
// keybag stored in the profile. It works offline. The keys stay in memory until Close.
func (c *Client) Unlock(passphrase []byte) error {
	ctx := context.Background()
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return err
	}
	k, err := unlockProfile(p, passphrase)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.keys = k
	c.mu.Unlock()
	return nil
}

// Unlocked reports whether Unlock has succeeded in this process.
func (c *Client) Unlocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys != nil
}

func unlockProfile(p *profileRow, passphrase []byte) (*keys, error) {
	sk, err := crypto.ParseSecretKey(p.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("profile's Secret Key is damaged: %w", err)
	}
	params, err := crypto.ParseKDFParams(p.KDFParams)
	if err != nil {
		return nil, fmt.Errorf("profile's key derivation parameters are damaged: %w", err)
	}
	account := crypto.AccountID(p.Account)
	secrets, err := derivePassphrase(passphrase, sk, account, params)
	if err != nil {
		if errors.Is(err, crypto.ErrMalformed) && len(passphrase) == 0 {
			return nil, fmt.Errorf("%w: the passphrase is empty", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("derive keys: %w", err)
	}
	id, err := crypto.OpenKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, account, p.KDFParams, p.Keybag)
	if err != nil {
		if errors.Is(err, crypto.ErrDecrypt) {
			return nil, ErrWrongPassphrase
		}
		return nil, fmt.Errorf("open keybag: %w", err)
	}
	return &keys{id: id, secrets: secrets, profile: secrets.ProfileKey()}, nil
}

// unlocked returns the keys or ErrLocked.
func (c *Client) unlocked() (*keys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		return nil, ErrLocked
	}
	return c.keys, nil
}

// Status is a summary of the profile that needs no passphrase and no network.
type Status struct {
	Account   syncproto.AccountID
	Device    syncproto.DeviceID
	Server    string
	Entries   int       // live entries on this device
	Pending   int       // changes waiting in the outbox
	Refused   int       // of those, how many the server refused last time (see SyncReport)
	Conflicts int       // unresolved conflicts
	Invalid   int       // incoming changes that failed verification and were not applied
	Cursor    uint64    // feed position applied
	LastSync  time.Time // zero: never
}

// Status summarises the profile.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return nil, err
	}
	s := &Status{
		Account: syncproto.AccountID(p.Account),
		Device:  syncproto.DeviceID(p.Device),
		Server:  p.Server,
		Cursor:  p.Cursor,
	}
	if p.LastSync != 0 {
		s.LastSync = time.Unix(p.LastSync, 0)
	}
	for _, q := range []struct {
		dst *int
		sql string
	}{
		{&s.Entries, `SELECT count(*) FROM records WHERE deleted = 0 AND role = '' AND owner = (SELECT account FROM profile WHERE id = 1)`},
		{&s.Pending, `SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM share_outbox)`},
		{&s.Refused, `SELECT (SELECT count(*) FROM outbox WHERE last_code != 0) + (SELECT count(*) FROM share_outbox WHERE last_code != 0)`},
		{&s.Conflicts, `SELECT count(*) FROM conflicts`},
		{&s.Invalid, `SELECT count(*) FROM rejected`},
	} {
		if err := c.db.GetContext(ctx, q.dst, q.sql); err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
	}
	return s, nil
}
