package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"interlude/syncproto"
)

// RecoveryKit is what a person needs, with their passphrase, to reach their journal from a
// new device: the account, the server, the Secret Key, and the recovery code that opens a
// second copy of the keybag when the passphrase is forgotten. Sign-up makes it once; it is
// never sent to the server whole (the server sees the account ID and its URL only).
type RecoveryKit struct {
	Account      syncproto.AccountID
	Server       string
	SecretKey    string // crypto.SecretKey text form
	RecoveryCode string // crypto.RecoveryCode text form
	Created      time.Time
}

// String redacts the secrets so that a kit printed by mistake (a log line, an error) does
// not leak them.
func (k *RecoveryKit) String() string {
	return fmt.Sprintf("recovery kit for account %s on %s (secrets redacted)", k.Account, k.Server)
}

// GoString redacts like String.
func (k *RecoveryKit) GoString() string { return k.String() }

// The field labels in the kit file. They are the parse format too: one "Label: value" a
// line; everything else (the instructions) is ignored by ReadKit.
const (
	kitHeader       = "INTERLUDE RECOVERY KIT"
	kitAccount      = "Account ID"
	kitServer       = "Server"
	kitSecretKey    = "Secret Key"
	kitRecoveryCode = "Recovery code"
	kitCreated      = "Created"
)

// Text returns the kit as the text file WriteFile writes: plain instructions for a person,
// then the fields, one "Label: value" a line.
func (k *RecoveryKit) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", kitHeader)
	fmt.Fprintf(&b, "%s\n\n", strings.Repeat("=", len(kitHeader)))
	b.WriteString(`Print this page, or keep this file somewhere safe that is not this device
(a password manager, a USB stick in a drawer).

With your passphrase, this kit is the only way into your journal on a new
device. If you forget your passphrase, the recovery code below lets you set
a new one.

If you lose every device, this kit AND your passphrase, your journal is gone
for good: it is encrypted with keys that only you hold, and nobody,
including us, can recover it.

Keep it private: together with your passphrase it opens everything you wrote.

To sign in on a new device:   interlude login --kit FILE
If you forgot the passphrase: interlude recover --kit FILE

`)
	fmt.Fprintf(&b, "%s: %s\n", kitAccount, k.Account)
	fmt.Fprintf(&b, "%s: %s\n", kitServer, k.Server)
	fmt.Fprintf(&b, "%s: %s\n", kitSecretKey, k.SecretKey)
	fmt.Fprintf(&b, "%s: %s\n", kitRecoveryCode, k.RecoveryCode)
	if !k.Created.IsZero() {
		fmt.Fprintf(&b, "%s: %s\n", kitCreated, k.Created.UTC().Format("2006-01-02"))
	}
	return b.Bytes()
}

// WriteFile writes the kit to path, readable only by its owner (0600). It refuses to
// overwrite an existing file: an old kit may be the only copy of another account's.
func (k *RecoveryKit) WriteFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("write recovery kit: %s already exists; choose another file name", path)
		}
		return fmt.Errorf("write recovery kit: %w", err)
	}
	if _, err := f.Write(k.Text()); err != nil {
		f.Close()
		return fmt.Errorf("write recovery kit: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write recovery kit: %w", err)
	}
	return f.Close()
}

// ReadKit reads a kit file written by WriteFile (or typed back in by hand from a printout:
// labels are matched without regard to case and surrounding space).
func ReadKit(path string) (*RecoveryKit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read recovery kit: %w", err)
	}
	return ParseKit(b)
}

// ParseKit parses the text form of a kit.
func ParseKit(b []byte) (*RecoveryKit, error) {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		label, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		label = strings.ToLower(strings.TrimSpace(label))
		switch label {
		case strings.ToLower(kitAccount), strings.ToLower(kitServer), strings.ToLower(kitSecretKey),
			strings.ToLower(kitRecoveryCode), strings.ToLower(kitCreated):
			fields[label] = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read recovery kit: %w", err)
	}
	var missing []string
	for _, l := range []string{kitAccount, kitServer, kitSecretKey, kitRecoveryCode} {
		if fields[strings.ToLower(l)] == "" {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("recovery kit: missing %s; is this the file sign-up wrote?", strings.Join(missing, ", "))
	}
	account, err := syncproto.ParseAccountID(fields[strings.ToLower(kitAccount)])
	if err != nil {
		return nil, fmt.Errorf("recovery kit: %w", err)
	}
	k := &RecoveryKit{
		Account:      account,
		Server:       fields[strings.ToLower(kitServer)],
		SecretKey:    fields[strings.ToLower(kitSecretKey)],
		RecoveryCode: fields[strings.ToLower(kitRecoveryCode)],
	}
	if c := fields[strings.ToLower(kitCreated)]; c != "" {
		if t, err := time.Parse("2006-01-02", c); err == nil {
			k.Created = t
		}
	}
	return k, nil
}
