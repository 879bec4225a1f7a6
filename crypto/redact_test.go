package crypto_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"interlude/crypto"
)

// secretPattern is recognisable in any encoding: 32 distinct bytes.
var secretPattern = func() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(0xA0 + i)
	}
	return b
}()

// leaks reports whether s shows any 4-byte window of secret in hex (either
// case), as a decimal byte list, or raw.
func leaks(s string, secret []byte) bool {
	lower := strings.ToLower(s)
	for i := 0; i+4 <= len(secret); i++ {
		w := secret[i : i+4]
		if strings.Contains(lower, hex.EncodeToString(w)) || strings.Contains(s, string(w)) ||
			strings.Contains(s, fmt.Sprintf("%d %d %d %d", w[0], w[1], w[2], w[3])) ||
			strings.Contains(s, fmt.Sprintf("0x%x, 0x%x, 0x%x, 0x%x", w[0], w[1], w[2], w[3])) {
			return true
		}
	}
	return false
}

func TestRedaction(t *testing.T) {
	mustV := func(v any, err error) any {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	vk := mustV(crypto.VaultKeyFromBytes(secretPattern)).(crypto.VaultKey)
	ek := mustV(crypto.EntryKeyFromBytes(secretPattern)).(crypto.EntryKey)
	kk := mustV(crypto.KeybagKeyFromBytes(secretPattern)).(crypto.KeybagKey)
	pk := mustV(crypto.ProfileKeyFromBytes(secretPattern)).(crypto.ProfileKey)
	sig := mustV(crypto.SigningKeyFromSeed(secretPattern)).(crypto.SigningKey)
	share := mustV(crypto.ShareKeyFromBytes(secretPattern)).(crypto.ShareKey)
	sk := mustV(crypto.SecretKeyFromBytes(secretPattern[:16])).(crypto.SecretKey)
	rc := mustV(crypto.RecoveryCodeFromBytes(secretPattern[:20])).(crypto.RecoveryCode)
	id := &crypto.Identity{Account: crypto.AccountID{1}, Vault: vk, Signing: sig, Share: share}
	secrets, err := crypto.DeriveFromRecoveryCode(rc, crypto.AccountID{1})
	if err != nil {
		t.Fatal(err)
	}
	loginSeed := secrets.Login.Seed()

	cases := []struct {
		name   string
		v      any
		secret []byte
	}{
		{"VaultKey", vk, secretPattern},
		{"*VaultKey", &vk, secretPattern},
		{"EntryKey", ek, secretPattern},
		{"KeybagKey", kk, secretPattern},
		{"ProfileKey", pk, secretPattern},
		{"SigningKey", sig, secretPattern},
		{"ShareKey", share, secretPattern},
		{"SecretKey", sk, secretPattern[:16]},
		{"RecoveryCode", rc, secretPattern[:20]},
		{"Identity", *id, secretPattern},
		{"*Identity", id, secretPattern},
		{"AccountSecrets", *secrets, loginSeed},
		{"*AccountSecrets", secrets, loginSeed},
		{"struct field", struct{ K crypto.VaultKey }{vk}, secretPattern},
		{"slice", []crypto.EntryKey{ek}, secretPattern},
		{"map", map[string]crypto.SigningKey{"k": sig}, secretPattern},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%[1]T %[1]v"} {
				out := fmt.Sprintf(verb, c.v)
				if leaks(out, c.secret) {
					t.Errorf("%s leaks: %s", verb, out)
				}
				if !strings.Contains(out, "REDACTED") {
					t.Errorf("%s does not say REDACTED: %s", verb, out)
				}
			}
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "k", c.v)
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "k", c.v)
			if leaks(buf.String(), c.secret) {
				t.Errorf("slog leaks: %s", buf.String())
			}
			j, _ := json.Marshal(c.v)
			if leaks(string(j), c.secret) {
				t.Errorf("json leaks: %s", j)
			}
		})
	}
	if got := vk.String(); got != "crypto.VaultKey(REDACTED)" {
		t.Errorf("String() = %q", got)
	}
	if got := fmt.Sprintf("%#v", sk); got != "crypto.SecretKey(REDACTED)" {
		t.Errorf("%%#v = %q", got)
	}
	if got := id.String(); !strings.Contains(got, "Account: 01000000") || !strings.Contains(got, "crypto.ShareKey(REDACTED)") {
		t.Errorf("Identity.String() = %q", got)
	}
	// The leak check itself can fail.
	if !leaks(fmt.Sprintf("%x", secretPattern), secretPattern) {
		t.Fatal("leaks() misses plain hex")
	}
}
