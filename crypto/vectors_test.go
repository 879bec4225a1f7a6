package crypto_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"interlude/crypto"
)

// The walker reads testdata/vectors.json with its own types and checks every
// vector through the exported API only, as another implementation would.

type vector struct {
	Name    string            `json:"name"`
	Op      string            `json:"op"`
	Inputs  map[string]string `json:"inputs"`
	Outputs map[string]string `json:"outputs"`
	Result  string            `json:"result"`
}

var errorsByName = map[string]error{
	"ErrTruncated":      crypto.ErrTruncated,
	"ErrTrailingData":   crypto.ErrTrailingData,
	"ErrUnknownVersion": crypto.ErrUnknownVersion,
	"ErrBadSignature":   crypto.ErrBadSignature,
	"ErrDecrypt":        crypto.ErrDecrypt,
	"ErrKeyCommitment":  crypto.ErrKeyCommitment,
	"ErrWrongRecipient": crypto.ErrWrongRecipient,
	"ErrWeakKDFParams":  crypto.ErrWeakKDFParams,
	"ErrTooLarge":       crypto.ErrTooLarge,
	"ErrMalformed":      crypto.ErrMalformed,
	"ErrZeroKey":        crypto.ErrZeroKey,
}

func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 100 {
		t.Fatalf("only %d vectors", len(file.Vectors))
	}
	ops := map[string]int{}
	results := map[string]int{}
	for _, v := range file.Vectors {
		ops[v.Op]++
		results[v.Result]++
		t.Run(v.Name, func(t *testing.T) { checkVector(t, v) })
	}
	// Every operation and every error the vectors are meant to cover is present.
	for _, op := range []string{"padded_length", "seal_entry_length", "open_entry", "unwrap_vault", "unwrap_recipient",
		"open_grant", "public_bundle", "pair_safety_code", "kdf_params", "derive_passphrase", "derive_recovery",
		"open_keybag", "open_local", "parse_secret_key", "parse_recovery_code", "open_device_label"} {
		if ops[op] == 0 {
			t.Errorf("no vector for op %s", op)
		}
	}
	for name := range errorsByName {
		if name != "ErrZeroKey" && results[name] == 0 {
			t.Errorf("no vector expects %s", name)
		}
	}
}

// vin decodes the vector's inputs; a bad vector file fails the test, which
// must not be confused with the operation failing.
type vin struct {
	t *testing.T
	m map[string]string
}

func (in vin) str(k string) string {
	in.t.Helper()
	s, ok := in.m[k]
	if !ok {
		in.t.Fatalf("vector has no %q", k)
	}
	return s
}

func (in vin) hex(k string) []byte {
	in.t.Helper()
	b, err := hex.DecodeString(in.str(k))
	if err != nil {
		in.t.Fatalf("%s: %v", k, err)
	}
	return b
}

func (in vin) num(k string) uint64 {
	in.t.Helper()
	n, err := strconv.ParseUint(in.str(k), 10, 64)
	if err != nil {
		in.t.Fatalf("%s: %v", k, err)
	}
	return n
}

func (in vin) record(k string) (r crypto.RecordID)   { copy(r[:], in.fixed(k, 16)); return }
func (in vin) account(k string) (a crypto.AccountID) { copy(a[:], in.fixed(k, 16)); return }
func (in vin) signPub(k string) (p crypto.SigningPublicKey) {
	copy(p[:], in.fixed(k, 32))
	return
}

func (in vin) fixed(k string, n int) []byte {
	in.t.Helper()
	b := in.hex(k)
	if len(b) != n {
		in.t.Fatalf("%s: %d bytes, want %d", k, len(b), n)
	}
	return b
}

func (in vin) shareKey(k string) crypto.ShareKey {
	in.t.Helper()
	sk, err := crypto.ShareKeyFromBytes(in.hex(k))
	if err != nil {
		in.t.Fatalf("%s: %v", k, err)
	}
	return sk
}

func (in vin) entryKey(k string) crypto.EntryKey {
	in.t.Helper()
	ek, err := crypto.EntryKeyFromBytes(in.hex(k))
	if err != nil {
		in.t.Fatalf("%s: %v", k, err)
	}
	return ek
}

// checkVector runs one vector's operation and compares the first error (or
// the outputs) with what the vector expects.
func checkVector(t *testing.T, v vector) {
	in := vin{t, v.Inputs}
	out := vin{t, v.Outputs}
	var err error
	eq := func(what string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Errorf("%s = %x, want %x", what, got, want)
		}
	}
	eqs := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	switch v.Op {
	case "padded_length":
		n := int(in.num("n"))
		eqs("padded length", strconv.Itoa(crypto.PaddedLength(n)), out.str("padded_length"))
		eqs("envelope length", strconv.Itoa(crypto.EnvelopeOverhead+crypto.PaddedLength(n)), out.str("envelope_length"))

	case "seal_entry_length":
		id, e := crypto.NewIdentity()
		if e != nil {
			t.Fatal(e)
		}
		var env []byte
		env, _, err = crypto.SealEntry(id, crypto.RecordID{1}, 1, make([]byte, in.num("n")))
		if err == nil {
			eqs("envelope length", strconv.Itoa(len(env)), out.str("envelope_length"))
		}

	case "open_entry":
		envBytes := in.hex("envelope")
		var opened *crypto.OpenedEntry
		opened, err = crypto.OpenEntry(envBytes, in.entryKey("entry_key"), in.signPub("author_signing_public_key"))
		if err == nil {
			eq("record", opened.Record[:], out.hex("record"))
			eq("author", opened.Author[:], out.hex("author"))
			eqs("revision", strconv.FormatUint(opened.Revision, 10), out.str("revision"))
			eq("plaintext", opened.Plaintext, out.hex("plaintext"))
			// The keyless view the audit tool uses agrees.
			e, perr := crypto.ParseEnvelope(envBytes)
			if perr != nil {
				t.Fatalf("ParseEnvelope after a successful open: %v", perr)
			}
			eq("key commitment", e.KeyCommitment[:], out.hex("key_commitment"))
			eq("nonce", e.Nonce[:], out.hex("nonce"))
			eq("signature", e.Signature[:], out.hex("signature"))
			eq("re-encoding", e.Marshal(), envBytes)
			if verr := e.VerifySignature(in.signPub("author_signing_public_key")); verr != nil {
				t.Errorf("VerifySignature: %v", verr)
			}
		}

	case "unwrap_vault":
		vk, e := crypto.VaultKeyFromBytes(in.hex("vault_key"))
		if e != nil {
			t.Fatal(e)
		}
		var ek crypto.EntryKey
		ek, err = crypto.UnwrapWithVault(vk, in.record("record"), in.num("revision"), in.hex("wrapped"))
		if err == nil && !ek.Equal(out.entryKey("entry_key")) {
			t.Errorf("unwrapped a different entry key")
		}

	case "unwrap_recipient":
		var ek crypto.EntryKey
		wrapped := in.hex("wrapped")
		ek, err = crypto.UnwrapForRecipient(in.shareKey("share_private_key"), in.record("record"), in.num("revision"),
			in.account("recipient"), crypto.Purpose(in.num("purpose")), wrapped)
		if err == nil {
			if !ek.Equal(out.entryKey("entry_key")) {
				t.Errorf("unwrapped a different entry key")
			}
			eqs("wrapped length", strconv.Itoa(len(wrapped)), out.str("wrapped_length"))
		}

	case "open_grant":
		raw := in.hex("grant")
		var g *crypto.Grant
		g, err = crypto.ParseGrant(raw)
		if err == nil {
			err = g.Verify(in.signPub("grantor_signing_public_key"))
		}
		var ek crypto.EntryKey
		if err == nil {
			ek, err = g.Open(in.shareKey("share_private_key"), in.account("me"))
		}
		if err == nil {
			eq("record", g.Record[:], out.hex("record"))
			eqs("revision", strconv.FormatUint(g.Revision, 10), out.str("revision"))
			eq("grantor", g.Grantor[:], out.hex("grantor"))
			eq("recipient", g.Recipient[:], out.hex("recipient"))
			eq("recipient key hash", g.RecipientKeyHash[:], out.hex("recipient_key_hash"))
			var exp uint64
			if !g.Expires.IsZero() {
				exp = uint64(g.Expires.Unix())
			}
			eqs("expires", strconv.FormatUint(exp, 10), out.str("expires"))
			eqs("grant length", strconv.Itoa(len(raw)), out.str("grant_length"))
			if !ek.Equal(out.entryKey("entry_key")) {
				t.Errorf("opened a different entry key")
			}
			re, merr := g.Marshal()
			if merr != nil || !bytes.Equal(re, raw) {
				t.Errorf("re-encoding differs (%v)", merr)
			}
			if exp != 0 && (!g.Expired(time.Unix(int64(exp), 0)) || g.Expired(time.Unix(int64(exp)-1, 0))) {
				t.Errorf("Expired is wrong around the expiry")
			}
		}

	case "verify_deletion":
		var d *crypto.Deletion
		d, err = crypto.ParseDeletion(in.hex("deletion"))
		if err == nil {
			err = d.Verify(in.signPub("author_signing_public_key"))
		}
		if err == nil {
			eq("record", d.Record[:], out.hex("record"))
			eq("author", d.Author[:], out.hex("author"))
			eqs("revision", strconv.FormatUint(d.Revision, 10), out.str("revision"))
		}

	case "public_bundle":
		raw := in.hex("bundle")
		var p *crypto.PublicBundle
		p, err = crypto.ParsePublicBundle(raw)
		if err == nil {
			eq("account", p.Account[:], out.hex("account"))
			eq("signing public key", p.Signing[:], out.hex("signing_public_key"))
			eq("share public key", p.Share.Bytes(), out.hex("share_public_key"))
			fp := p.Fingerprint()
			eq("fingerprint", fp[:], out.hex("fingerprint"))
			eqs("safety code", fp.SafetyCode(), out.str("safety_code"))
			eq("re-encoding", p.Bytes(), raw)
			share, perr := crypto.ParseSharePublicKey(out.hex("share_public_key"))
			if perr != nil || !share.Equal(p.Share) {
				t.Errorf("ParseSharePublicKey of the share key: %v", perr)
			}
		}

	case "pair_safety_code":
		var a, b crypto.Fingerprint
		copy(a[:], in.fixed("a", 32))
		copy(b[:], in.fixed("b", 32))
		eqs("pair safety code", crypto.PairSafetyCode(a, b), out.str("safety_code"))

	case "kdf_params":
		raw := in.hex("params")
		var p crypto.KDFParams
		p, err = crypto.ParseKDFParams(raw)
		if err == nil {
			eqs("memory", strconv.FormatUint(uint64(p.MemoryKiB), 10), out.str("memory_kib"))
			eqs("time", strconv.FormatUint(uint64(p.Time), 10), out.str("time"))
			eqs("threads", strconv.FormatUint(uint64(p.Threads), 10), out.str("threads"))
			eq("salt", p.Salt[:], out.hex("salt"))
			eq("re-encoding", p.Marshal(), raw)
		}

	case "derive_passphrase", "derive_recovery":
		var s *crypto.AccountSecrets
		if v.Op == "derive_passphrase" {
			sk, e := crypto.ParseSecretKey(in.str("secret_key"))
			if e != nil {
				t.Fatal(e)
			}
			p, e := crypto.ParseKDFParams(in.hex("params"))
			if e != nil {
				t.Fatal(e)
			}
			s, err = crypto.DeriveFromPassphrase(in.hex("passphrase"), sk, in.account("account"), p)
		} else {
			rc, e := crypto.ParseRecoveryCode(in.str("recovery_code"))
			if e != nil {
				t.Fatal(e)
			}
			s, err = crypto.DeriveFromRecoveryCode(rc, in.account("account"))
		}
		if err == nil {
			kk, e1 := crypto.KeybagKeyFromBytes(out.hex("keybag_key"))
			pk, e2 := crypto.ProfileKeyFromBytes(out.hex("profile_key"))
			if e1 != nil || e2 != nil {
				t.Fatal(e1, e2)
			}
			if !s.KeybagKey.Equal(kk) {
				t.Errorf("derived a different keybag key")
			}
			if !s.ProfileKey().Equal(pk) {
				t.Errorf("derived a different profile key")
			}
			eq("login public key", s.LoginPublic(), out.hex("login_public_key"))
		}

	case "open_keybag":
		k, e := crypto.KeybagKeyFromBytes(in.hex("keybag_key"))
		if e != nil {
			t.Fatal(e)
		}
		bag := in.hex("keybag")
		var id *crypto.Identity
		id, err = crypto.OpenKeybag(k, crypto.KeybagKind(in.num("kind")), in.account("account"), in.hex("params"), bag)
		if err == nil {
			vk, e := crypto.VaultKeyFromBytes(out.hex("vault_key"))
			if e != nil {
				t.Fatal(e)
			}
			if !id.Vault.Equal(vk) {
				t.Errorf("keybag holds a different vault key")
			}
			sp := id.Signing.Public()
			eq("signing public key", sp[:], out.hex("signing_public_key"))
			eq("share public key", id.Share.Public().Bytes(), out.hex("share_public_key"))
			eqs("keybag length", strconv.Itoa(len(bag)), out.str("keybag_length"))
		}

	case "open_local":
		k, e := crypto.ProfileKeyFromBytes(in.hex("profile_key"))
		if e != nil {
			t.Fatal(e)
		}
		var pt []byte
		pt, err = crypto.OpenLocal(k, in.str("label"), in.hex("sealed"))
		if err == nil {
			eq("plaintext", pt, out.hex("plaintext"))
		}

	case "open_device_label":
		sk, e := crypto.SecretKeyFromBytes(in.hex("secret_key"))
		if e != nil {
			t.Fatal(e)
		}
		var account crypto.AccountID
		copy(account[:], in.hex("account"))
		var name string
		name, err = crypto.OpenDeviceLabel(sk, account, in.hex("sealed"))
		if err == nil {
			eqs("name", name, out.str("name"))
		}

	case "parse_secret_key":
		var sk crypto.SecretKey
		sk, err = crypto.ParseSecretKey(in.str("text"))
		if err == nil {
			want, e := crypto.SecretKeyFromBytes(out.hex("bytes"))
			if e != nil {
				t.Fatal(e)
			}
			if !sk.Equal(want) {
				t.Errorf("parsed a different Secret Key")
			}
			eqs("text", sk.Text(), out.str("text"))
		}

	case "parse_recovery_code":
		var rc crypto.RecoveryCode
		rc, err = crypto.ParseRecoveryCode(in.str("text"))
		if err == nil {
			want, e := crypto.RecoveryCodeFromBytes(out.hex("bytes"))
			if e != nil {
				t.Fatal(e)
			}
			if !rc.Equal(want) {
				t.Errorf("parsed a different recovery code")
			}
			eqs("text", rc.Text(), out.str("text"))
		}

	default:
		t.Fatalf("unknown op %q", v.Op)
	}
	if got := resultName(err); got != v.Result {
		t.Errorf("result %s, want %s (error: %v)", got, v.Result, err)
	}
}

// resultName names the sentinel err wraps, or "ok". An error that wraps no
// sentinel, or more than one, is a bug.
func resultName(err error) string {
	if err == nil {
		return "ok"
	}
	found := ""
	for name, sentinel := range errorsByName {
		if errors.Is(err, sentinel) {
			if found != "" {
				return fmt.Sprintf("ambiguous(%s,%s)", found, name)
			}
			found = name
		}
	}
	if found == "" {
		return "unnamed(" + err.Error() + ")"
	}
	return found
}
