package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"interlude/storage"
	"interlude/syncproto"
)

// accountRow is an accounts row as sqlx scans it.
type accountRow struct {
	ID               []byte `db:"id"`
	CreatedDay       int64  `db:"created_day"`
	Fingerprint      []byte `db:"fingerprint"`
	LoginKey         []byte `db:"login_key"`
	RecoveryLoginKey []byte `db:"recovery_login_key"`
	KDFParams        []byte `db:"kdf_params"`
	Keybag           []byte `db:"keybag"`
	RecoveryKeybag   []byte `db:"recovery_keybag"`
	Bundle           []byte `db:"bundle"`
}

const accountColumns = `id, created_day, fingerprint, login_key, recovery_login_key, kdf_params, keybag, recovery_keybag, bundle`

func (r *accountRow) account() (storage.Account, error) {
	a := storage.Account{
		KDFParams:      r.KDFParams,
		Keybag:         r.Keybag,
		RecoveryKeybag: r.RecoveryKeybag,
		Bundle:         r.Bundle,
		Created:        unixTime(r.CreatedDay),
	}
	for _, f := range []struct {
		dst fixed
		src []byte
	}{{a.ID[:], r.ID}, {a.Fingerprint[:], r.Fingerprint}, {a.LoginKey[:], r.LoginKey}, {a.RecoveryLoginKey[:], r.RecoveryLoginKey}} {
		if err := f.dst.Scan(f.src); err != nil {
			return storage.Account{}, fmt.Errorf("account row: %w", err)
		}
	}
	return a, nil
}

// CreateAccount stores a new account and its first device (ErrAccountExists if the ID is
// taken). Created times are kept to the day.
func (s *Store) CreateAccount(ctx context.Context, a storage.Account, first storage.Device) error {
	if a.ID.IsZero() || first.ID.IsZero() {
		return fmt.Errorf("create account: account and device IDs must be set")
	}
	if first.Account.IsZero() {
		first.Account = a.ID
	}
	if first.Account != a.ID {
		return fmt.Errorf("create account %s: first device belongs to account %s", a.ID, first.Account)
	}
	err := s.write(ctx, func(w *writer) error {
		taken, err := w.exists(`SELECT 1 FROM accounts WHERE id = ?`, a.ID[:])
		if err != nil {
			return err
		}
		if taken {
			return storage.ErrAccountExists
		}
		if _, err := w.exec(`INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID[:], coarse(a.Created, day), a.Fingerprint[:], a.LoginKey[:], a.RecoveryLoginKey[:],
			nonNil(a.KDFParams), nonNil(a.Keybag), nonNil(a.RecoveryKeybag), nonNil(a.Bundle)); err != nil {
			return err
		}
		return insertDevice(w, first)
	})
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return nil
}

// Account returns an account (ErrNotFound).
func (s *Store) Account(ctx context.Context, id syncproto.AccountID) (storage.Account, error) {
	var r accountRow
	err := s.read(func() error {
		return s.readers.GetContext(ctx, &r, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id[:])
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = storage.ErrNotFound
	}
	if err != nil {
		return storage.Account{}, fmt.Errorf("account %s: %w", id, err)
	}
	return r.account()
}

// AccountByFingerprint finds the one account whose fingerprint starts with prefix. An
// empty prefix, or one that more than one account shares, is ErrNotFound: a pairing code
// must name exactly one account.
func (s *Store) AccountByFingerprint(ctx context.Context, prefix []byte) (storage.Account, error) {
	if len(prefix) == 0 || len(prefix) > 32 {
		return storage.Account{}, fmt.Errorf("account by fingerprint: prefix of %d bytes: %w", len(prefix), storage.ErrNotFound)
	}
	// The prefix p covers the range [p, p+1), where p+1 increments p as a big-endian
	// number; a prefix of all 0xff bytes has no upper end. SQLite compares blobs with
	// memcmp, then by length, so this is an index range scan.
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE fingerprint >= ? ORDER BY fingerprint LIMIT 2`
	args := []any{prefix}
	if end, ok := prefixEnd(prefix); ok {
		q = `SELECT ` + accountColumns + ` FROM accounts WHERE fingerprint >= ? AND fingerprint < ? ORDER BY fingerprint LIMIT 2`
		args = append(args, end)
	}
	var rows []accountRow
	err := s.read(func() error { return s.readers.SelectContext(ctx, &rows, q, args...) })
	if err != nil {
		return storage.Account{}, fmt.Errorf("account by fingerprint: %w", err)
	}
	switch len(rows) {
	case 0:
		return storage.Account{}, fmt.Errorf("account by fingerprint: %w", storage.ErrNotFound)
	case 1:
		return rows[0].account()
	default:
		return storage.Account{}, fmt.Errorf("account by fingerprint: the prefix names more than one account: %w", storage.ErrNotFound)
	}
}

// prefixEnd returns the smallest byte string greater than every string starting with p,
// or false if there is none (p is all 0xff).
func prefixEnd(p []byte) ([]byte, bool) {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1], true
		}
	}
	return nil, false
}

// UpdateLogin replaces the passphrase login key, KDF parameters and keybag (ErrNotFound).
func (s *Store) UpdateLogin(ctx context.Context, id syncproto.AccountID, u storage.LoginUpdate) error {
	err := s.write(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE accounts SET login_key = ?, kdf_params = ?, keybag = ? WHERE id = ?`,
			u.LoginKey[:], nonNil(u.KDFParams), nonNil(u.Keybag), id[:])
		if err == nil && n == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update login of %s: %w", id, err)
	}
	return nil
}

// deviceRow is a devices row as sqlx scans it.
type deviceRow struct {
	Account      []byte `db:"account"`
	ID           []byte `db:"id"`
	CreatedDay   int64  `db:"created_day"`
	LastSeenHour int64  `db:"last_seen_hour"`
	Revoked      bool   `db:"revoked"`
	Label        []byte `db:"label"`
}

const deviceColumns = `account, id, created_day, last_seen_hour, revoked, label`

func (r *deviceRow) device() (storage.Device, error) {
	d := storage.Device{
		Label:    r.Label,
		Created:  unixTime(r.CreatedDay),
		LastSeen: unixTime(r.LastSeenHour),
		Revoked:  r.Revoked,
	}
	if err := fixed(d.Account[:]).Scan(r.Account); err != nil {
		return storage.Device{}, fmt.Errorf("device row: %w", err)
	}
	if err := fixed(d.ID[:]).Scan(r.ID); err != nil {
		return storage.Device{}, fmt.Errorf("device row: %w", err)
	}
	return d, nil
}

func insertDevice(w *writer, d storage.Device) error {
	taken, err := w.exists(`SELECT 1 FROM devices WHERE account = ? AND id = ?`, d.Account[:], d.ID[:])
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("device %s already exists", d.ID)
	}
	_, err = w.exec(`INSERT INTO devices (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		d.Account[:], d.ID[:], coarse(d.Created, day), coarse(d.LastSeen, hour), d.Revoked, nonNil(d.Label))
	return err
}

// AddDevice registers another device of an existing account (ErrNotFound if the account
// does not exist).
func (s *Store) AddDevice(ctx context.Context, d storage.Device) error {
	if d.ID.IsZero() {
		return fmt.Errorf("add device: device ID must be set")
	}
	err := s.write(ctx, func(w *writer) error {
		ok, err := w.exists(`SELECT 1 FROM accounts WHERE id = ?`, d.Account[:])
		if err != nil {
			return err
		}
		if !ok {
			return storage.ErrNotFound
		}
		return insertDevice(w, d)
	})
	if err != nil {
		return fmt.Errorf("add device %s to %s: %w", d.ID, d.Account, err)
	}
	return nil
}

// Device returns one device (ErrNotFound).
func (s *Store) Device(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) (storage.Device, error) {
	var r deviceRow
	err := s.read(func() error {
		return s.readers.GetContext(ctx, &r, `SELECT `+deviceColumns+` FROM devices WHERE account = ? AND id = ?`, account[:], id[:])
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = storage.ErrNotFound
	}
	if err != nil {
		return storage.Device{}, fmt.Errorf("device %s of %s: %w", id, account, err)
	}
	return r.device()
}

// Devices lists an account's devices, oldest first. Creation is kept to the day, so
// devices made on the same day come in device ID order.
func (s *Store) Devices(ctx context.Context, account syncproto.AccountID) ([]storage.Device, error) {
	var rows []deviceRow
	err := s.read(func() error {
		return s.readers.SelectContext(ctx, &rows,
			`SELECT `+deviceColumns+` FROM devices WHERE account = ? ORDER BY created_day, id`, account[:])
	})
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", account, err)
	}
	ds := make([]storage.Device, len(rows))
	for i := range rows {
		if ds[i], err = rows[i].device(); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// RevokeDevice marks a device revoked and deletes its sessions in one transaction
// (ErrNotFound). Revoking a revoked device succeeds.
func (s *Store) RevokeDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID) error {
	err := s.write(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE devices SET revoked = 1 WHERE account = ? AND id = ?`, account[:], id[:])
		if err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		_, err = w.exec(`DELETE FROM sessions WHERE account = ? AND device = ?`, account[:], id[:])
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke device %s of %s: %w", id, account, err)
	}
	return nil
}

// TouchDevice records that a device was seen, to the hour (ErrNotFound). It writes only
// when the hour moves forward.
func (s *Store) TouchDevice(ctx context.Context, account syncproto.AccountID, id syncproto.DeviceID, at time.Time) error {
	h := coarse(at, hour)
	err := s.write(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE devices SET last_seen_hour = ? WHERE account = ? AND id = ? AND last_seen_hour < ?`,
			h, account[:], id[:], h)
		if err != nil || n > 0 {
			return err
		}
		ok, err := w.exists(`SELECT 1 FROM devices WHERE account = ? AND id = ?`, account[:], id[:])
		if err == nil && !ok {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("touch device %s of %s: %w", id, account, err)
	}
	return nil
}

// sessionRow is a sessions row as sqlx scans it.
type sessionRow struct {
	TokenHash []byte `db:"token_hash"`
	Account   []byte `db:"account"`
	Device    []byte `db:"device"`
	Created   int64  `db:"created"`
	LastSeen  int64  `db:"last_seen"`
	Expires   int64  `db:"expires"`
}

const sessionColumns = `token_hash, account, device, created, last_seen, expires`

func (r *sessionRow) session() (storage.Session, error) {
	ss := storage.Session{
		Created:  unixTime(r.Created),
		LastSeen: unixTime(r.LastSeen),
		Expires:  unixTime(r.Expires),
	}
	for _, f := range []struct {
		dst fixed
		src []byte
	}{{ss.TokenHash[:], r.TokenHash}, {ss.Account[:], r.Account}, {ss.Device[:], r.Device}} {
		if err := f.dst.Scan(f.src); err != nil {
			return storage.Session{}, fmt.Errorf("session row: %w", err)
		}
	}
	return ss, nil
}

// CreateSession stores a session of a device that exists and is not revoked (else
// ErrNotFound). Its times are kept to the minute, rounded down, so a session may end up
// to a minute early, never late.
func (s *Store) CreateSession(ctx context.Context, ss storage.Session) error {
	err := s.write(ctx, func(w *writer) error {
		ok, err := w.exists(`SELECT 1 FROM devices WHERE account = ? AND id = ? AND revoked = 0`, ss.Account[:], ss.Device[:])
		if err != nil {
			return err
		}
		if !ok {
			return storage.ErrNotFound
		}
		_, err = w.exec(`INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			ss.TokenHash[:], ss.Account[:], ss.Device[:], coarse(ss.Created, minute), coarse(ss.LastSeen, minute), coarse(ss.Expires, minute))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session for device %s of %s: %w", ss.Device, ss.Account, err)
	}
	return nil
}

// Session returns the session with this token hash (ErrNotFound), expired or not: the
// caller checks Expires and LastSeen.
func (s *Store) Session(ctx context.Context, tokenHash [32]byte) (storage.Session, error) {
	var r sessionRow
	err := s.read(func() error {
		return s.readers.GetContext(ctx, &r, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, tokenHash[:])
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = storage.ErrNotFound
	}
	if err != nil {
		return storage.Session{}, fmt.Errorf("session: %w", err) // never print a token hash
	}
	return r.session()
}

// TouchSession moves a session's LastSeen to at, to the minute (ErrNotFound). It writes
// only when the minute moves forward.
func (s *Store) TouchSession(ctx context.Context, tokenHash [32]byte, at time.Time) error {
	m := coarse(at, minute)
	err := s.write(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?`, m, tokenHash[:], m)
		if err != nil || n > 0 {
			return err
		}
		ok, err := w.exists(`SELECT 1 FROM sessions WHERE token_hash = ?`, tokenHash[:])
		if err == nil && !ok {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session. Deleting a session that does not exist succeeds.
func (s *Store) DeleteSession(ctx context.Context, tokenHash [32]byte) error {
	err := s.write(ctx, func(w *writer) error {
		_, err := w.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash[:])
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions whose Expires is at or before now, or (if
// idle > 0) whose LastSeen is at or before now-idle, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	var n int64
	idleBefore := int64(-1 << 62) // no idle limit
	if idle > 0 {
		idleBefore = now.Add(-idle).Unix()
	}
	err := s.write(ctx, func(w *writer) error {
		var err error
		n, err = w.execN(`DELETE FROM sessions WHERE expires <= ? OR last_seen <= ?`, now.Unix(), idleBefore)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
