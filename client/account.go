package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"interlude/crypto"
	"interlude/syncproto"
)

// sessionLabel names the session token's SealLocal box.
const sessionLabel = "session-token"

// SignUpOptions tune SignUp.
type SignUpOptions struct {
	// KDFParams overrides the Argon2id parameters (nil: Options.NewKDFParams, else
	// crypto.NewKDFParams). Parameters below crypto.MinKDFParams are refused.
	KDFParams *crypto.KDFParams
	// KitPath, if set, is where the recovery kit is written (WriteFile) before the server
	// is contacted, so that an account never exists without its kit on disk. It is removed
	// again if sign-up fails.
	KitPath string
}

func (c *Client) newKDFParams() crypto.KDFParams {
	if c.opts.NewKDFParams != nil {
		return c.opts.NewKDFParams()
	}
	return crypto.NewKDFParams()
}

func checkNewPassphrase(p []byte) error {
	if len([]rune(string(p))) < MinPassphraseLen {
		return ErrWeakPassphrase
	}
	return nil
}

// SignUp creates an account: a new identity, Secret Key and recovery code, the passphrase
// and recovery keybags, and the account on the server (this needs the network: ErrOffline
// if the server cannot be reached; nothing is created then). It returns the recovery kit,
// which the person must keep: see RecoveryKit.
func (c *Client) SignUp(ctx context.Context, server string, passphrase []byte, opts SignUpOptions) (*RecoveryKit, error) {
	if ok, err := c.HasAccount(ctx); err != nil {
		return nil, err
	} else if ok {
		return nil, ErrProfileExists
	}
	if err := checkNewPassphrase(passphrase); err != nil {
		return nil, err
	}
	server, err := normalizeServer(server)
	if err != nil {
		return nil, err
	}
	params := c.newKDFParams()
	if opts.KDFParams != nil {
		params = *opts.KDFParams
	}
	if err := params.Check(); err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	id, err := crypto.NewIdentity()
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	account := syncproto.AccountID(id.Account)
	sk := crypto.NewSecretKey()
	rc := crypto.NewRecoveryCode()
	secrets, err := derivePassphrase(passphrase, sk, id.Account, params)
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	rsecrets, err := crypto.DeriveFromRecoveryCode(rc, id.Account)
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	pm := params.Marshal()
	keybag, err := crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, pm, id)
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	rkeybag, err := crypto.SealKeybag(rsecrets.KeybagKey, crypto.KeybagRecovery, nil, id)
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	kit := &RecoveryKit{Account: account, Server: server, SecretKey: sk.Text(), RecoveryCode: rc.Text(), Created: c.opts.Now()}
	if opts.KitPath != "" {
		if err := kit.WriteFile(opts.KitPath); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*RecoveryKit, error) {
		if opts.KitPath != "" {
			os.Remove(opts.KitPath)
		}
		return nil, err
	}

	cn, err := dial(ctx, server)
	if err != nil {
		return fail(fmt.Errorf("sign up needs the server: %w", err))
	}
	defer cn.Close()
	ch, err := expect[syncproto.Challenge](ctx, cn, syncproto.ChallengeRequest{})
	if err != nil {
		return fail(fmt.Errorf("sign up: %w", err))
	}
	msg := syncproto.SignUp{
		Account:     account,
		KDFParams:   pm,
		Keybag:      keybag,
		Bundle:      id.PublicBundle(),
		Fingerprint: id.Fingerprint(),
		DeviceLabel: c.deviceLabel(sk, account),
	}
	copy(msg.LoginKey[:], secrets.LoginPublic())
	copy(msg.RecoveryLoginKey[:], rsecrets.LoginPublic())
	msg.RecoveryKeybag = rkeybag
	msg.LoginSig = signLogin(secrets.Login, ch.Nonce, account, syncproto.RolePassphrase)
	msg.RecoverySig = signLogin(rsecrets.Login, ch.Nonce, account, syncproto.RoleRecovery)
	sess, err := expect[syncproto.Session](ctx, cn, msg)
	if err != nil {
		return fail(fmt.Errorf("sign up: %w", err))
	}
	k := &keys{id: id, secrets: secrets, profile: secrets.ProfileKey()}
	sealed, err := crypto.SealLocal(k.profile, sessionLabel, sess.Token)
	if err != nil {
		return fail(err)
	}
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO profile (id, account, server, device, secret_key, kdf_params,
			keybag, session, created) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
			account[:], server, sess.Device[:], sk.Text(), pm, keybag, sealed, c.opts.Now().Unix())
		return err
	})
	if err != nil {
		// The account exists on the server; the kit (if written) is the way back in.
		return kit, fmt.Errorf("signed up, but saving the profile on this device failed (log in with the kit): %w", err)
	}
	c.setKeys(k)
	c.log.Info("signed up", "account", account, "device", sess.Device)
	return kit, nil
}

func (c *Client) setKeys(k *keys) {
	c.mu.Lock()
	c.keys = k
	c.mu.Unlock()
}

// signLogin signs a login challenge with Ed25519ctx under syncproto.LoginSignatureContext.
func signLogin(priv ed25519.PrivateKey, nonce [32]byte, account syncproto.AccountID, role syncproto.LoginRole) [64]byte {
	sig, err := priv.Sign(nil, syncproto.LoginMessage(nonce, account, role), &ed25519.Options{Context: syncproto.LoginSignatureContext})
	if err != nil {
		panic(err) // only for a malformed key or options, both fixed here
	}
	var out [64]byte
	copy(out[:], sig)
	return out
}

// loginWith answers a fresh challenge with a login key. With a zero device it registers
// a new device, named by label (sealed, or nil); otherwise it signs that existing device
// in again.
func loginWith(ctx context.Context, cn *conn, priv ed25519.PrivateKey, account syncproto.AccountID, role syncproto.LoginRole, device syncproto.DeviceID, label []byte) (syncproto.Session, error) {
	ch, err := expect[syncproto.Challenge](ctx, cn, syncproto.ChallengeRequest{})
	if err != nil {
		return syncproto.Session{}, err
	}
	sess, err := expect[syncproto.Session](ctx, cn, syncproto.Login{
		Account:     account,
		Role:        role,
		Signature:   signLogin(priv, ch.Nonce, account, role),
		Device:      device,
		DeviceLabel: label,
	})
	if err != nil {
		if serverCode(err) == syncproto.CodeAuthFailed {
			return sess, fmt.Errorf("%w (%v)", ErrAuthFailed, err)
		}
		return sess, err
	}
	return sess, nil
}

// checkProfileFor refuses to sign a second account into a profile. Signing the same
// account in again (after recovery, say) keeps the local entries and outbox.
func (c *Client) checkProfileFor(ctx context.Context, account syncproto.AccountID) error {
	p, err := loadProfile(ctx, c.db)
	if errors.Is(err, ErrNoProfile) {
		return nil
	}
	if err != nil {
		return err
	}
	if syncproto.AccountID(p.Account) != account {
		return ErrProfileExists
	}
	return nil
}

// saveLogin writes (or replaces) the profile's login material.
func (c *Client) saveLogin(ctx context.Context, account syncproto.AccountID, server string, device syncproto.DeviceID,
	sk crypto.SecretKey, pm, keybag, sealedToken []byte) error {
	return inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO profile (id, account, server, device, secret_key, kdf_params,
			keybag, session, created) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET server = excluded.server, device = excluded.device,
			secret_key = excluded.secret_key, kdf_params = excluded.kdf_params, keybag = excluded.keybag,
			session = excluded.session`,
			account[:], server, device[:], sk.Text(), pm, keybag, sealedToken, c.opts.Now().Unix())
		return err
	})
}

// Login signs this device in to an existing account with the recovery kit and the
// passphrase: it fetches the account's KDF parameters (refusing any below the floor),
// derives the login key, answers a challenge, and opens the keybag the server returns.
// The server URL is kit.Server (callers may override it). Entries arrive with Sync.
func (c *Client) Login(ctx context.Context, kit *RecoveryKit, passphrase []byte) error {
	if err := c.checkProfileFor(ctx, kit.Account); err != nil {
		return err
	}
	server, err := normalizeServer(kit.Server)
	if err != nil {
		return err
	}
	sk, err := crypto.ParseSecretKey(kit.SecretKey)
	if err != nil {
		return fmt.Errorf("the kit's Secret Key: %w", err)
	}
	cn, err := dial(ctx, server)
	if err != nil {
		return fmt.Errorf("log in needs the server: %w", err)
	}
	defer cn.Close()
	lp, err := expect[syncproto.LoginParams](ctx, cn, syncproto.LoginParamsRequest{Account: kit.Account})
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	params, err := crypto.ParseKDFParams(lp.KDFParams)
	if err != nil {
		return fmt.Errorf("log in: the server sent unusable key derivation parameters: %w", err)
	}
	if err := params.Check(); err != nil {
		return fmt.Errorf("log in: refusing the server's key derivation parameters: %w", err)
	}
	secrets, err := derivePassphrase(passphrase, sk, crypto.AccountID(kit.Account), params)
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	sess, err := loginWith(ctx, cn, secrets.Login, kit.Account, syncproto.RolePassphrase, syncproto.DeviceID{}, c.deviceLabel(sk, kit.Account))
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	id, err := crypto.OpenKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, crypto.AccountID(kit.Account), lp.KDFParams, sess.Keybag)
	if err != nil {
		return fmt.Errorf("log in: the server's keybag does not open with this passphrase (it may have been altered): %w", err)
	}
	k := &keys{id: id, secrets: secrets, profile: secrets.ProfileKey()}
	sealed, err := crypto.SealLocal(k.profile, sessionLabel, sess.Token)
	if err != nil {
		return err
	}
	if err := c.saveLogin(ctx, kit.Account, server, sess.Device, sk, lp.KDFParams, sess.Keybag, sealed); err != nil {
		return fmt.Errorf("log in: save profile: %w", err)
	}
	c.setKeys(k)
	c.log.Info("logged in", "account", kit.Account, "device", sess.Device)
	return nil
}

// Recover signs this device in with the kit's recovery code, when the passphrase is
// forgotten, and sets newPassphrase: new KDF parameters, login key and passphrase keybag
// replace the old ones on the server (UpdateLogin), so the old passphrase stops working
// for sign-in everywhere. Other devices keep their local profiles until they sign in again.
func (c *Client) Recover(ctx context.Context, kit *RecoveryKit, newPassphrase []byte) error {
	if err := checkNewPassphrase(newPassphrase); err != nil {
		return err
	}
	if err := c.checkProfileFor(ctx, kit.Account); err != nil {
		return err
	}
	server, err := normalizeServer(kit.Server)
	if err != nil {
		return err
	}
	sk, err := crypto.ParseSecretKey(kit.SecretKey)
	if err != nil {
		return fmt.Errorf("the kit's Secret Key: %w", err)
	}
	rc, err := crypto.ParseRecoveryCode(kit.RecoveryCode)
	if err != nil {
		return fmt.Errorf("the kit's recovery code: %w", err)
	}
	account := crypto.AccountID(kit.Account)
	rsecrets, err := crypto.DeriveFromRecoveryCode(rc, account)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	params := c.newKDFParams()
	if err := params.Check(); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	secrets, err := derivePassphrase(newPassphrase, sk, account, params)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	cn, err := dial(ctx, server)
	if err != nil {
		return fmt.Errorf("recovery needs the server: %w", err)
	}
	defer cn.Close()
	sess, err := loginWith(ctx, cn, rsecrets.Login, kit.Account, syncproto.RoleRecovery, syncproto.DeviceID{}, c.deviceLabel(sk, kit.Account))
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	id, err := crypto.OpenKeybag(rsecrets.KeybagKey, crypto.KeybagRecovery, account, nil, sess.Keybag)
	if err != nil {
		return fmt.Errorf("recover: the recovery keybag does not open (it may have been altered): %w", err)
	}
	pm := params.Marshal()
	keybag, err := crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, pm, id)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	// The recovery key proves the right to replace the passphrase login.
	if err := updateLogin(ctx, cn, secrets, kit.Account, pm, keybag, rsecrets.Login, syncproto.RoleRecovery); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	k := &keys{id: id, secrets: secrets, profile: secrets.ProfileKey()}
	sealed, err := crypto.SealLocal(k.profile, sessionLabel, sess.Token)
	if err != nil {
		return err
	}
	if err := c.saveLogin(ctx, kit.Account, server, sess.Device, sk, pm, keybag, sealed); err != nil {
		return fmt.Errorf("recovered and set the new passphrase, but saving the profile failed (log in with the kit and the new passphrase): %w", err)
	}
	c.setKeys(k)
	c.log.Info("recovered", "account", kit.Account, "device", sess.Device)
	return nil
}

// updateLogin replaces the account's passphrase login on the server. Both the new login
// key and a current one (proofKey, the account's key of proofRole: the old passphrase key
// or the recovery key) sign a fresh challenge, so that a session token alone could not do
// this. A refusal (auth_failed) wraps ErrAuthFailed.
func updateLogin(ctx context.Context, cn *conn, secrets *crypto.AccountSecrets, account syncproto.AccountID, pm, keybag []byte,
	proofKey ed25519.PrivateKey, proofRole syncproto.LoginRole) error {
	ch, err := expect[syncproto.Challenge](ctx, cn, syncproto.ChallengeRequest{})
	if err != nil {
		return err
	}
	u := syncproto.UpdateLogin{KDFParams: pm, Keybag: keybag,
		Signature: signLogin(secrets.Login, ch.Nonce, account, syncproto.RolePassphrase),
		ProofRole: proofRole,
		Proof:     signLogin(proofKey, ch.Nonce, account, proofRole)}
	copy(u.LoginKey[:], secrets.LoginPublic())
	_, err = expect[syncproto.Ack](ctx, cn, u)
	if serverCode(err) == syncproto.CodeAuthFailed {
		return fmt.Errorf("%w (%v)", ErrAuthFailed, err)
	}
	return err
}

// ChangePassphrase checks old, then re-wraps the keybag under new (with fresh KDF
// parameters) and replaces the login on the server, proving old to it (a signature by
// old's login key) as well. Entries are not touched: only the keybag changes. It needs
// the network, so that the server and this device agree. If the server no longer takes
// old (the passphrase was changed on another device), it fails with ErrAuthFailed and
// changes nothing.
func (c *Client) ChangePassphrase(ctx context.Context, old, new []byte) error {
	if err := checkNewPassphrase(new); err != nil {
		return err
	}
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return err
	}
	oldKeys, err := unlockProfile(p, old)
	if err != nil {
		return err
	}
	c.setKeys(oldKeys)
	sk, err := crypto.ParseSecretKey(p.SecretKey)
	if err != nil {
		return err
	}
	params := c.newKDFParams()
	if err := params.Check(); err != nil {
		return err
	}
	account := syncproto.AccountID(p.Account)
	secrets, err := derivePassphrase(new, sk, crypto.AccountID(account), params)
	if err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	pm := params.Marshal()
	keybag, err := crypto.SealKeybag(secrets.KeybagKey, crypto.KeybagPassphrase, pm, oldKeys.id)
	if err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	cn, token, err := c.connect(ctx)
	if err != nil {
		return fmt.Errorf("changing the passphrase needs the server: %w", err)
	}
	defer cn.Close()
	// The old passphrase's login key proves the right to replace it.
	if err := updateLogin(ctx, cn, secrets, account, pm, keybag, oldKeys.secrets.Login, syncproto.RolePassphrase); err != nil {
		if errors.Is(err, ErrAuthFailed) {
			return fmt.Errorf("change passphrase: %w; the server no longer accepts the old passphrase: if it was changed on another device, sign out here and log in with the new one", err)
		}
		return fmt.Errorf("change passphrase: %w", err)
	}
	k := &keys{id: oldKeys.id, secrets: secrets, profile: secrets.ProfileKey()}
	sealed, err := crypto.SealLocal(k.profile, sessionLabel, token)
	if err != nil {
		return err
	}
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE profile SET kdf_params = ?, keybag = ?, session = ? WHERE id = 1`, pm, keybag, sealed); err != nil {
			return err
		}
		return resealLocal(ctx, tx, oldKeys.profile, k.profile)
	})
	if err != nil {
		return fmt.Errorf("the server has the new passphrase, but saving it on this device failed: %w", err)
	}
	c.setKeys(k)
	return nil
}

// connect dials the profile's server and authenticates: Resume with the stored session
// token, or, when it has expired or was never stored, a fresh login with the unlocked
// login key (transparent to the caller; the new token is stored). It returns the
// connection and the session token in use.
func (c *Client) connect(ctx context.Context) (*conn, []byte, error) {
	k, err := c.unlocked()
	if err != nil {
		return nil, nil, err
	}
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return nil, nil, err
	}
	cn, err := dial(ctx, p.Server)
	if err != nil {
		return nil, nil, err
	}
	account := syncproto.AccountID(p.Account)
	if len(p.Session) > 0 {
		token, oerr := crypto.OpenLocal(k.profile, sessionLabel, p.Session)
		if oerr != nil {
			c.log.Warn("stored session token does not open; logging in again", "err", oerr)
		} else {
			_, err := expect[syncproto.Session](ctx, cn, syncproto.Resume{Token: token})
			switch serverCode(err) {
			case syncproto.CodeNone:
				if err == nil {
					return cn, token, nil
				}
				cn.Close()
				return nil, nil, err
			case syncproto.CodeDeviceRevoked:
				cn.Close()
				return nil, nil, ErrDeviceRevoked
			case syncproto.CodeSessionExpired, syncproto.CodeAuthFailed:
				c.log.Info("session ended; logging in again", "reason", err)
			default:
				cn.Close()
				return nil, nil, err
			}
		}
	}
	// Sign this same device in again (its ID stays, so the device list does not grow with
	// every expired session); a server that no longer knows the device gets a new one.
	sess, err := loginWith(ctx, cn, k.secrets.Login, account, syncproto.RolePassphrase, syncproto.DeviceID(p.Device), nil)
	if serverCode(err) == syncproto.CodeNotFound {
		var label []byte
		if sk, perr := crypto.ParseSecretKey(p.SecretKey); perr == nil {
			label = c.deviceLabel(sk, account)
		}
		sess, err = loginWith(ctx, cn, k.secrets.Login, account, syncproto.RolePassphrase, syncproto.DeviceID{}, label)
	}
	if serverCode(err) == syncproto.CodeDeviceRevoked {
		cn.Close()
		return nil, nil, ErrDeviceRevoked
	}
	if err != nil {
		cn.Close()
		if errors.Is(err, ErrAuthFailed) {
			return nil, nil, fmt.Errorf("%w; if the passphrase was changed on another device, sign out here and log in with the new one", err)
		}
		return nil, nil, err
	}
	sealed, err := crypto.SealLocal(k.profile, sessionLabel, sess.Token)
	if err != nil {
		cn.Close()
		return nil, nil, err
	}
	if _, err := c.db.ExecContext(ctx, `UPDATE profile SET session = ?, device = ? WHERE id = 1`, sealed, sess.Device[:]); err != nil {
		cn.Close()
		return nil, nil, err
	}
	return cn, sess.Token, nil
}

// Device is one device of the account, as the server lists it.
type Device struct {
	ID syncproto.DeviceID
	// Name is the name the device gave itself (Options.DeviceName), opened with the
	// Secret Key; empty if it gave none. NameUnreadable: it gave one that does not open
	// (sealed with another Secret Key, or altered).
	Name           string
	NameUnreadable bool
	Created        time.Time // day precision
	LastSeen       time.Time // hour precision
	Revoked        bool
	Current        bool // this device
}

// Devices lists the account's devices (needs the network).
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	cn, _, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	ds, err := expect[syncproto.Devices](ctx, cn, syncproto.DevicesRequest{})
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	p, err := loadProfile(ctx, c.db)
	if err != nil {
		return nil, err
	}
	sk, err := crypto.ParseSecretKey(p.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("devices: this profile's Secret Key: %w", err)
	}
	out := make([]Device, 0, len(ds.Items))
	for _, d := range ds.Items {
		dev := Device{ID: d.Device, Created: d.Created, LastSeen: d.LastSeen, Revoked: d.Revoked, Current: d.Current}
		if len(d.Label) > 0 {
			name, err := crypto.OpenDeviceLabel(sk, crypto.AccountID(p.Account), d.Label)
			// Fitted again for display: another implementation may have sealed control
			// characters, which a terminal would obey.
			dev.Name, dev.NameUnreadable = DeviceNameFit(name), err != nil
		}
		out = append(out, dev)
	}
	return out, nil
}

// deviceLabel seals Options.DeviceName for the account, or returns nil if there is no
// name (or, never in practice, sealing fails: a device without a name still works).
func (c *Client) deviceLabel(sk crypto.SecretKey, account syncproto.AccountID) []byte {
	name := DeviceNameFit(c.opts.DeviceName)
	if name == "" {
		return nil
	}
	label, err := crypto.SealDeviceLabel(sk, crypto.AccountID(account), name)
	if err != nil {
		c.log.Warn("device name not sent", "err", err)
		return nil
	}
	return label
}

// DeviceNameFit returns name made fit for a device label: surrounding space trimmed,
// control characters and invalid UTF-8 dropped, and cut at a character boundary to at
// most crypto.MaxDeviceName bytes.
func DeviceNameFit(name string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(name) {
		if r == utf8.RuneError || unicode.IsControl(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > crypto.MaxDeviceName {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// RevokeDevice revokes one of the account's devices: its sessions end at once and it can
// no longer sync (needs the network).
func (c *Client) RevokeDevice(ctx context.Context, id syncproto.DeviceID) error {
	cn, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	if _, err := expect[syncproto.Ack](ctx, cn, syncproto.RevokeDevice{Device: id}); err != nil {
		return fmt.Errorf("revoke device %s: %w", id, err)
	}
	return nil
}

// SignOut ends this device's session on the server (best effort, when unlocked and
// online) and wipes the profile: keys, Secret Key, keybag, token, and every local copy.
// It refuses while changes wait in the outbox (ErrPendingChanges) unless force is set.
func (c *Client) SignOut(ctx context.Context, force bool) error {
	pending, err := c.pendingCount(ctx)
	if err != nil {
		return err
	}
	var conflicts int
	if err := c.db.GetContext(ctx, &conflicts, `SELECT count(*) FROM conflicts`); err != nil {
		return err
	}
	if (pending > 0 || conflicts > 0) && !force {
		return fmt.Errorf("%w: %d change(s) not yet synced and %d unresolved conflict(s); sync (and resolve) first, or force", ErrPendingChanges, pending, conflicts)
	}
	if c.Unlocked() {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if cn, _, err := c.connect(octx); err == nil {
			if _, err := expect[syncproto.Ack](octx, cn, syncproto.Logout{}); err != nil {
				c.log.Warn("logout", "err", err)
			}
			cn.Close()
		}
		cancel()
	}
	err = inTx(ctx, c.db, func(tx *sqlx.Tx) error {
		for _, t := range []string{"profile", "records", "outbox_grants", "outbox", "share_outbox", "conflicts", "rejected",
			"contacts", "grants", "invites", "inbox", "ignored"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	c.setKeys(nil)
	// Leave no copy of the wiped pages in the WAL or the free list.
	if _, err := c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		c.log.Warn("checkpoint after sign-out", "err", err)
	}
	if _, err := c.db.ExecContext(ctx, `VACUUM`); err != nil {
		c.log.Warn("vacuum after sign-out", "err", err)
	}
	return nil
}
