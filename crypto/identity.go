package crypto

import (
	"fmt"
	"log/slog"
)

// Identity is everything an account's keybag holds: the account ID and the
// three long-term keys. It is created once, at sign-up, by NewIdentity, and
// afterwards only ever loaded with OpenKeybag.
type Identity struct {
	Account AccountID  // random, opaque account ID
	Vault   VaultKey   // wraps the account's own entry keys
	Signing SigningKey // signs envelopes, grants and the public bundle
	Share   ShareKey   // receives entry keys others share (HPKE)
}

// NewIdentity returns an identity with a fresh random AccountID and fresh
// vault, signing and share keys, all from crypto/rand.
func NewIdentity() (*Identity, error) {
	share, err := NewShareKey()
	if err != nil {
		return nil, fmt.Errorf("crypto: new identity: %w", err)
	}
	return &Identity{
		Account: NewAccountID(),
		Vault:   NewVaultKey(),
		Signing: NewSigningKey(),
		Share:   share,
	}, nil
}

// complete reports ErrZeroKey unless every key of id is initialised.
func (id *Identity) complete(op string) error {
	switch {
	case id == nil:
		return fmt.Errorf("crypto: %s: nil identity: %w", op, ErrZeroKey)
	case id.Vault.IsZero():
		return fmt.Errorf("crypto: %s: identity has no vault key: %w", op, ErrZeroKey)
	case id.Signing.IsZero():
		return fmt.Errorf("crypto: %s: identity has no signing key: %w", op, ErrZeroKey)
	case id.Share.IsZero():
		return fmt.Errorf("crypto: %s: identity has no share key: %w", op, ErrZeroKey)
	}
	return nil
}

// canSign reports ErrZeroKey unless id has a signing key.
func (id *Identity) canSign(op string) error {
	if id == nil || id.Signing.IsZero() {
		return fmt.Errorf("crypto: %s: identity has no signing key: %w", op, ErrZeroKey)
	}
	return nil
}

// String prints the account ID in hex and redacts every key. The methods
// have value receivers so that Identity and *Identity both redact.
func (id Identity) String() string {
	return fmt.Sprintf("crypto.Identity{Account: %x, Vault: %s, Signing: %s, Share: %s}",
		id.Account[:], id.Vault, id.Signing, id.Share)
}

// GoString is String.
func (id Identity) GoString() string { return id.String() }

// Format prints String for every verb, so %x or %#v cannot reach the keys.
func (id Identity) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(id.String())) }

// LogValue makes log/slog print the account ID and redact the keys.
func (id Identity) LogValue() slog.Value { return slog.StringValue(id.String()) }
