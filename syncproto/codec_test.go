package syncproto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/frames.json from the tables in codec_test.go")

var raceEnabled bool // set by race_test.go

// seq returns n bytes counting up from first, so that vectors are readable in hex.
func seq(first byte, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = first + byte(i)
	}
	return p
}

func id16(first byte) (a [16]byte)  { copy(a[:], seq(first, 16)); return }
func arr32(first byte) (a [32]byte) { copy(a[:], seq(first, 32)); return }
func arr64(first byte) (a [64]byte) { copy(a[:], seq(first, 64)); return }

var (
	t0      = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	tMin    = time.Unix(minUnix, 0).UTC() // 0001-01-01T00:00:01Z
	tMax    = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tBefore = time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC) // a negative Unix time
)

type frameCase struct {
	name   string
	id     uint64
	msg    Message // a pointer, as Decode returns
	golden bool    // written to testdata/frames.json (false only for frames too big to be read there)
}

// frameCases is the round-trip table and the source of the golden vectors: every message
// type at least once, with representative, empty and extreme values.
func frameCases() []frameCase {
	emptyDigest := sha256.Sum256(nil)
	grant := GrantPush{Record: RecordID(id16(0x10)), Revision: 1, Recipient: AccountID(id16(0x20)),
		Expires: t0.Add(30 * 24 * time.Hour), Blob: seq(0xb0, 8)}
	cases := []frameCase{
		{"hello", 1, &Hello{Versions: []uint16{1}, Client: "interlude/0.1"}, true},
		{"hello_empty", 1, &Hello{}, true},
		{"hello_max", math.MaxUint64, &Hello{
			Versions: []uint16{math.MaxUint16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0},
			Client:   strings.Repeat("é", MaxClientName/2)}, true},
		{"welcome", 1, &Welcome{Version: 1, ServerTime: t0, Limits: Limits{
			MaxFrame: DefaultMaxFrame, MaxBatch: DefaultMaxBatch, MaxPullPage: DefaultMaxPullPage, MaxFetch: DefaultMaxFetch, MaxEnvelope: DefaultMaxEnvelope}}, true},
		{"welcome_max", 1, &Welcome{Version: math.MaxUint16, ServerTime: tMax, Limits: Limits{
			math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32}}, true},
		{"welcome_zero", 1, &Welcome{}, true},
		{"challenge_request", 2, &ChallengeRequest{}, true},
		{"challenge", 2, &Challenge{Nonce: arr32(0x40), Expires: t0.Add(60 * time.Second)}, true},
		{"challenge_zero_time", 2, &Challenge{}, true},
		{"signup", 3, &SignUp{
			Account: AccountID(id16(0x01)), LoginKey: arr32(0x11), RecoveryLoginKey: arr32(0x31),
			KDFParams: seq(0x51, 4), Keybag: seq(0x61, 3), RecoveryKeybag: seq(0x71, 3), Bundle: seq(0x81, 5),
			Fingerprint: arr32(0x91), DeviceLabel: seq(0xa1, 2), LoginSig: arr64(0x01), RecoverySig: arr64(0x41)}, true},
		{"signup_zero", 3, &SignUp{}, true},
		{"login_params_request", 4, &LoginParamsRequest{Account: AccountID(id16(0x01))}, true},
		{"login_params", 4, &LoginParams{KDFParams: seq(0x51, 24)}, true},
		{"login", 5, &Login{Account: AccountID(id16(0x01)), Role: RolePassphrase, Signature: arr64(0x01), DeviceLabel: seq(0xa1, 4)}, true},
		{"login_recovery", 5, &Login{Account: AccountID(id16(0x01)), Role: RoleRecovery, Signature: arr64(0x41)}, true},
		{"login_again", 5, &Login{Account: AccountID(id16(0x01)), Role: RolePassphrase, Signature: arr64(0x01), Device: DeviceID(id16(0xd0))}, true},
		{"resume", 6, &Resume{Token: seq(0xc0, 32)}, true},
		{"session", 5, &Session{Account: AccountID(id16(0x01)), Device: DeviceID(id16(0xd0)), Token: seq(0xc0, 32),
			Expires: t0.Add(12 * time.Hour), IdleTimeout: 15 * time.Minute, Keybag: seq(0x61, 3)}, true},
		{"session_resume", 6, &Session{Account: AccountID(id16(0x01)), Device: DeviceID(id16(0xd0)), Token: seq(0xc0, 32),
			Expires: t0.Add(12 * time.Hour), IdleTimeout: 15 * time.Minute}, true},
		{"session_max", 6, &Session{Token: seq(0, MaxTokenLen), Expires: tMax,
			IdleTimeout: time.Duration(maxDurationSeconds) * time.Second}, true},
		{"push", 7, &Push{
			Records: []RecordPush{
				{Record: RecordID(id16(0x10)), BaseRevision: 0, Revision: 1, Envelope: seq(0xe0, 6), OwnerKey: seq(0xf0, 4),
					Grants: []GrantPush{grant}},
				{Record: RecordID(id16(0x30)), BaseRevision: 4, Revision: 5, Delete: true},
			},
			Grants:  []GrantPush{{Record: RecordID(id16(0x50)), Revision: 2, Recipient: AccountID(id16(0x20)), Blob: seq(0xb8, 4)}},
			Revokes: []Revoke{{Record: RecordID(id16(0x60)), Recipient: AccountID(id16(0x70))}},
		}, true},
		{"push_empty", 7, &Push{}, true},
		{"push_max_values", 7, &Push{Records: []RecordPush{{Record: RecordID(id16(0xf0)),
			BaseRevision: math.MaxUint64 - 1, Revision: math.MaxUint64, Envelope: seq(0, 200),
			Grants: []GrantPush{{Revision: math.MaxUint64, Expires: tMax}, {Expires: tMin}, {Expires: tBefore}}}}}, true},
		{"push_blob_at_cap", 7, &Push{Records: []RecordPush{{Revision: 1, Envelope: bytes.Repeat([]byte{0xee}, MaxBlob),
			OwnerKey: bytes.Repeat([]byte{0xaa}, MaxOwnerKey),
			Grants:   []GrantPush{{Revision: 1, Blob: bytes.Repeat([]byte{0xbb}, MaxGrantBlob)}}}}}, false},
		{"push_result", 7, &PushResult{Results: []ItemResult{
			{Record: RecordID(id16(0x10)), Status: StatusAccepted, Seq: 1000, Revision: 1},
			{Record: RecordID(id16(0x30)), Status: StatusConflict, Revision: 6, Code: CodeConflict},
			{Record: RecordID(id16(0x50)), Status: StatusRejected, Code: CodeDeleted},
			{Record: RecordID(id16(0x60)), Status: StatusRejected, Seq: math.MaxUint64, Code: math.MaxUint16},
		}}, true},
		{"push_result_empty", 7, &PushResult{}, true},
		{"pull", 8, &Pull{Cursor: 1000, Limit: 500}, true},
		{"pull_zero", 8, &Pull{}, true},
		{"changes", 8, &Changes{Items: []Change{
			{Seq: 1001, Record: RecordID(id16(0x10)), Owner: AccountID(id16(0x01)), Revision: 1, State: StateLive,
				Envelope: seq(0xe0, 6), OwnerKey: seq(0xf0, 4), Grants: []GrantPush{grant}},
			{Seq: 1002, Record: RecordID(id16(0x30)), Owner: AccountID(id16(0x01)), Revision: 5, State: StateDeleted},
			{Seq: 1003, Record: RecordID(id16(0x50)), Owner: AccountID(id16(0x02)), Revision: 2, State: StateGone},
		}, Cursor: 1003, More: true}, true},
		{"changes_empty", 8, &Changes{Cursor: 42}, true},
		{"subscribe", 9, &Subscribe{}, true},
		{"notify", 0, &Notify{Cursor: 1004}, true},
		{"notify_max", 0, &Notify{Cursor: math.MaxUint64}, true},
		{"ping", 10, &Ping{}, true},
		{"pong", 10, &Pong{}, true},
		{"devices_request", 11, &DevicesRequest{}, true},
		{"devices", 11, &Devices{Items: []DeviceInfo{
			{Device: DeviceID(id16(0xd0)), Label: seq(0xa1, 4), Created: t0.Truncate(24 * time.Hour), LastSeen: t0, Current: true},
			{Device: DeviceID(id16(0xe0)), Created: tBefore, Revoked: true},
		}}, true},
		{"devices_empty", 11, &Devices{}, true},
		{"revoke_device", 12, &RevokeDevice{Device: DeviceID(id16(0xe0))}, true},
		{"bundle_request_account", 13, &BundleRequest{Account: AccountID(id16(0x02))}, true},
		{"bundle_request_fingerprint", 13, &BundleRequest{Fingerprint: seq(0x91, 10)}, true},
		{"bundle", 13, &Bundle{Account: AccountID(id16(0x02)), Bundle: seq(0x81, 5)}, true},
		{"update_login", 14, &UpdateLogin{LoginKey: arr32(0x21), KDFParams: seq(0x55, 4), Keybag: seq(0x65, 3), Signature: arr64(0x81),
			ProofRole: RolePassphrase, Proof: arr64(0x41)}, true},
		{"update_login_recovery", 14, &UpdateLogin{LoginKey: arr32(0x21), KDFParams: seq(0x55, 4), Keybag: seq(0x65, 3), Signature: arr64(0x81),
			ProofRole: RoleRecovery, Proof: arr64(0x01)}, true},
		{"digest_request", 15, &DigestRequest{}, true},
		{"digest", 15, &Digest{Count: 2, Hash: arr32(0x33), Cursor: 1004}, true},
		{"digest_empty", 15, &Digest{Hash: emptyDigest}, true},
		{"logout", 16, &Logout{}, true},
		{"fetch", 17, &Fetch{Records: []RecordID{RecordID(id16(0x10)), RecordID(id16(0x50))}}, true},
		{"fetch_empty", 17, &Fetch{}, true},
		{"records", 17, &Records{Items: []Change{
			{Seq: 1001, Record: RecordID(id16(0x10)), Owner: AccountID(id16(0x01)), Revision: 1, State: StateLive, Envelope: seq(0xe0, 6)},
			{Record: RecordID(id16(0x50)), State: StateGone},
		}}, true},
		{"records_empty", 17, &Records{}, true},
		{"ack", 12, &Ack{}, true},
		{"error", 5, &Error{Code: CodeAuthFailed, Message: "sign-in failed: check the passphrase and Secret Key"}, true},
		{"error_closing", 0, &Error{Code: CodeSessionExpired, Message: "session expired: sign in again"}, true},
		{"error_unicode", 5, &Error{Code: math.MaxUint16, Message: "réessayez — 再試行 🙂"}, true},
		{"error_at_cap", 5, &Error{Code: CodeTooLarge, Message: strings.Repeat("ab", MaxMessage/2)}, false},
		{"signup_at_caps", 3, &SignUp{KDFParams: seq(0, MaxKDFParams), Keybag: bytes.Repeat([]byte{1}, MaxKeybag),
			RecoveryKeybag: bytes.Repeat([]byte{2}, MaxKeybag), Bundle: bytes.Repeat([]byte{3}, MaxBundle),
			DeviceLabel: bytes.Repeat([]byte{4}, MaxLabel)}, false},
	}
	return cases
}

func TestRoundTrip(t *testing.T) {
	for _, c := range frameCases() {
		t.Run(c.name, func(t *testing.T) {
			frame, err := Encode(c.id, c.msg)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if Type(frame[0]) != c.msg.Type() {
				t.Fatalf("first byte 0x%02x, want %s", frame[0], c.msg.Type())
			}
			id, got, err := Decode(frame)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if id != c.id {
				t.Errorf("request ID %d, want %d", id, c.id)
			}
			if !reflect.DeepEqual(got, c.msg) {
				t.Errorf("decoded\n%#v\nwant\n%#v", got, c.msg)
			}
			again, err := Encode(id, got)
			if err != nil || !bytes.Equal(again, frame) {
				t.Errorf("re-encoding differs (err %v)", err)
			}
			// The value form encodes exactly like the pointer form.
			value := reflect.ValueOf(c.msg).Elem().Interface().(Message)
			if v, err := Encode(c.id, value); err != nil || !bytes.Equal(v, frame) {
				t.Errorf("Encode(%T) differs from Encode(%T) (err %v)", value, c.msg, err)
			}
		})
	}
}

// TestEveryType guards the table: each known type has a case, a name, and decodes to itself.
func TestEveryType(t *testing.T) {
	seen := map[Type]bool{}
	for _, c := range frameCases() {
		seen[c.msg.Type()] = true
	}
	known := 0
	for i := range 256 {
		typ := Type(i)
		m := newMessage(typ)
		if m == nil {
			if _, ok := typeNames[typ]; ok {
				t.Errorf("%s has a name but no decoder", typ)
			}
			continue
		}
		known++
		if m.Type() != typ {
			t.Errorf("newMessage(0x%02x).Type() = %s", i, m.Type())
		}
		if !seen[typ] {
			t.Errorf("no round-trip case for %s", typ)
		}
		if strings.HasPrefix(typ.String(), "type_") {
			t.Errorf("type 0x%02x has no name", i)
		}
	}
	if known != len(typeNames) || known != 31 {
		t.Errorf("%d types decode, %d are named; messages.go declares 31", known, len(typeNames))
	}
}

// TestEmptyIsNil: empty and nil slices encode alike, and decode to nil.
func TestEmptyIsNil(t *testing.T) {
	a, _ := Encode(1, Push{Records: []RecordPush{{Envelope: []byte{}, Grants: []GrantPush{}}}, Grants: []GrantPush{}, Revokes: []Revoke{}})
	b, _ := Encode(1, Push{Records: []RecordPush{{}}})
	if !bytes.Equal(a, b) {
		t.Fatalf("empty slices encode as %x, nil as %x", a, b)
	}
	_, m, err := Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	p := m.(*Push)
	if p.Grants != nil || p.Revokes != nil || p.Records[0].Envelope != nil || p.Records[0].Grants != nil {
		t.Errorf("decoded empty slices are not nil: %#v", p)
	}
}

// TestDecodeCopies: decoded bytes do not share memory with the frame.
func TestDecodeCopies(t *testing.T) {
	frame, _ := Encode(1, &Resume{Token: seq(1, 32)})
	_, m, _ := Decode(frame)
	for i := range frame {
		frame[i] = 0xff
	}
	if !bytes.Equal(m.(*Resume).Token, seq(1, 32)) {
		t.Fatal("decoded token changed with the frame")
	}

	// Fields share Decode's own copy of the frame, each capped: appending to one field
	// must not write over the next.
	push := &Push{Records: []RecordPush{
		{Record: RecordID{1}, Revision: 1, Envelope: seq(1, 40), OwnerKey: seq(2, 8)},
		{Record: RecordID{2}, Revision: 1, Envelope: seq(3, 40), OwnerKey: seq(4, 8)},
	}}
	frame, _ = Encode(1, push)
	_, m, _ = Decode(frame)
	got := m.(*Push)
	for i := range got.Records {
		got.Records[i].Envelope = append(got.Records[i].Envelope, 0xee, 0xee, 0xee)
	}
	for i, rp := range got.Records {
		if !bytes.Equal(rp.OwnerKey, push.Records[i].OwnerKey) {
			t.Fatalf("record %d: appending to an envelope changed the owner key after it", i)
		}
	}
}

func TestEncodeTruncatesFractions(t *testing.T) {
	frame, err := Encode(1, Session{Expires: t0.Add(999 * time.Millisecond), IdleTimeout: 90*time.Second + 999*time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ := Decode(frame)
	s := m.(*Session)
	if !s.Expires.Equal(t0) || s.IdleTimeout != 90*time.Second {
		t.Errorf("got %s, %s; want %s, 1m30s", s.Expires, s.IdleTimeout, t0)
	}
	// Local times arrive as UTC.
	frame, _ = Encode(1, Challenge{Expires: t0.In(time.FixedZone("EST", -5*3600))})
	_, m, _ = Decode(frame)
	if got := m.(*Challenge).Expires; got != t0 {
		t.Errorf("got %v, want %v", got, t0)
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		id   uint64
		msg  Message
		want error
		text string
	}{
		{"nil", 1, nil, nil, "cannot encode <nil>"},
		{"notify id", 1, Notify{}, ErrMalformed, "Notify: request ID 1, want 0"},
		{"client cap", 1, Hello{Client: strings.Repeat("a", MaxClientName+1)}, ErrTooLarge, "Hello.Client: length 65 over cap 64"},
		{"versions cap", 1, Hello{Versions: make([]uint16, MaxVersions+1)}, ErrTooLarge, "Hello.Versions: count 17 over cap 16"},
		{"utf8", 1, Error{Message: "\xff"}, ErrMalformed, "Error.Message: invalid UTF-8"},
		{"envelope cap", 1, Push{Records: []RecordPush{{}, {}, {}, {Envelope: make([]byte, MaxBlob+1)}}}, ErrTooLarge,
			"Push.Records[3].Envelope: length 2097153 over cap 2097152"},
		{"nested grant cap", 1, Changes{Items: []Change{{State: StateLive, Grants: []GrantPush{{}, {Blob: make([]byte, MaxGrantBlob+1)}}}}}, ErrTooLarge,
			"Changes.Items[0].Grants[1].Blob: length 4097 over cap 4096"},
		{"role", 1, Login{}, ErrMalformed, "Login.Role: value 0 out of range 1–2"},
		{"proof role", 1, UpdateLogin{ProofRole: 3}, ErrMalformed, "UpdateLogin.ProofRole: value 3 out of range 1–2"},
		{"status", 1, PushResult{Results: []ItemResult{{Status: 4}}}, ErrMalformed, "PushResult.Results[0].Status: value 4 out of range 1–3"},
		{"state", 1, Records{Items: []Change{{}}}, ErrMalformed, "Records.Items[0].State: value 0 out of range 1–3"},
		{"epoch", 1, Challenge{Expires: time.Unix(0, 0)}, ErrMalformed, "Challenge.Expires: time 1970-01-01T00:00:00Z cannot be sent"},
		{"year 10000", 1, Challenge{Expires: tMax.Add(time.Second)}, ErrMalformed, "Challenge.Expires: time 10000-01-01"},
		{"negative duration", 1, Session{IdleTimeout: -time.Second}, ErrMalformed, "Session.IdleTimeout: negative duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendFrame(dst, tt.id, tt.msg)
			if err == nil {
				t.Fatalf("encoded %x", out)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q is not %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed to %q", out)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	a, _ := Encode(7, Pull{Cursor: 300, Limit: 500})
	b, err := AppendFrame([]byte{0xaa}, 7, &Pull{Cursor: 300, Limit: 500})
	if err != nil || !bytes.Equal(b, append([]byte{0xaa}, a...)) {
		t.Fatalf("AppendFrame = %x, %v; want aa%x", b, err, a)
	}
	if raceEnabled {
		return
	}
	// Encode allocates the frame once, at its size (rounded up to the allocator's class).
	var m Message = &Push{Records: make([]RecordPush, 64)}
	if n := testing.AllocsPerRun(20, func() { Encode(7, m) }); n != 1 {
		t.Errorf("Encode(Push) made %v allocations, want 1", n)
	}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(20, func() { AppendFrame(buf, 7, m) }); n != 0 {
		t.Errorf("AppendFrame into room made %v allocations, want 0", n)
	}
}

// hx builds a frame from hex with spaces for readability.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

type badFrame struct {
	name  string
	frame []byte
	want  error // ErrMalformed, ErrTooLarge or ErrUnknownType
	text  string
}

func badFrames() []badFrame {
	var longClient []byte
	longClient = append(longClient, 0x01, 0x01, 0x00, 65)
	longClient = append(longClient, bytes.Repeat([]byte{'a'}, 65)...)
	return []badFrame{
		{"empty frame", nil, ErrMalformed, "empty frame"},
		{"unknown type 0x00", hx("00 01"), ErrUnknownType, "first byte 0x00"},
		{"unknown type 0x12", hx("12 01"), ErrUnknownType, "first byte 0x12"},
		{"unknown type 0xff", hx("ff 01"), ErrUnknownType, "first byte 0xff"},
		{"no request ID", hx("0a"), ErrMalformed, "Ping.request ID: truncated varint"},
		{"trailing byte", hx("0a 01 00"), ErrMalformed, "Ping: 1 trailing bytes after the body"},
		{"non-minimal varint", hx("0a 81 00"), ErrMalformed, "Ping.request ID: varint not minimal"},
		{"non-minimal zero", hx("0a 80 00"), ErrMalformed, "varint not minimal"},
		{"varint overflows", hx("0a ff ff ff ff ff ff ff ff ff 02"), ErrMalformed, "varint overflows 64 bits"},
		{"varint over 10 bytes", hx("0a ff ff ff ff ff ff ff ff ff 81 00"), ErrMalformed, "varint longer than 10 bytes"},
		{"truncated varint", hx("08 01 80"), ErrMalformed, "Pull.Cursor: truncated varint"},
		{"notify with request ID", hx("87 01 05"), ErrMalformed, "Notify: request ID 1, want 0"},
		{"huge count", hx("07 01 ff ff ff ff 0f"), ErrMalformed, "Push.Records: count 4294967295 exceeds what the remaining 0 bytes can hold"},
		{"huge count, max varint", hx("11 01 ff ff ff ff ff ff ff ff ff 01 00 00 00 00"), ErrMalformed, "Fetch.Records: count 18446744073709551615 exceeds"},
		{"count one too many", append(hx("11 01 02"), make([]byte, 31)...), ErrMalformed, "Fetch.Records: count 2 exceeds what the remaining 31 bytes can hold"},
		{"length beyond frame", hx("06 01 20 00 01"), ErrMalformed, "Resume.Token: length 32 exceeds remaining 2 bytes"},
		{"huge length", hx("06 01 ff ff ff ff ff ff ff ff ff 01"), ErrTooLarge, "Resume.Token: length 18446744073709551615 over cap 64"},
		{"token over cap", append(hx("06 01 41"), make([]byte, 65)...), ErrTooLarge, "Resume.Token: length 65 over cap 64"},
		{"client over cap", longClient, ErrTooLarge, "Hello.Client: length 65 over cap 64"},
		{"versions over cap", append(hx("01 01 11"), make([]byte, 18)...), ErrTooLarge, "Hello.Versions: count 17 over cap 16"},
		{"version over 16 bits", hx("01 01 01 80 80 04 00"), ErrMalformed, "Hello.Versions: 65536 does not fit 16 bits"},
		{"limit over 32 bits", hx("08 01 00 80 80 80 80 10"), ErrMalformed, "Pull.Limit: 4294967296 does not fit 32 bits"},
		{"invalid UTF-8", hx("8d 01 04 02 c3 28"), ErrMalformed, "Error.Message: invalid UTF-8"},
		{"UTF-16 surrogate", hx("8d 01 04 03 ed a0 80"), ErrMalformed, "Error.Message: invalid UTF-8"},
		{"code over 16 bits", hx("8d 01 80 80 04 00"), ErrMalformed, "Error.Code: 65536 does not fit 16 bits"},
		{"bad bool", hx("86 01 00 00 02"), ErrMalformed, "Changes.More: bool byte 2, want 0 or 1"},
		{"bad bool in item", append(append(hx("89 01 01"), make([]byte, 16)...), hx("00 00 00 01 ff")...), ErrMalformed,
			"Devices.Items[0].Current: bool byte 255"},
		{"role 0", append(hx("05 01"), make([]byte, 16+1+64+1+16)...), ErrMalformed, "Login.Role: value 0 out of range 1–2"},
		{"role 3", append(append(hx("05 01"), make([]byte, 16)...), append([]byte{3}, make([]byte, 64+1+16)...)...), ErrMalformed,
			"Login.Role: value 3 out of range 1–2"},
		{"update_login without proof", append(append(hx("0e 01"), make([]byte, 32)...), append(hx("00 00"), make([]byte, 64)...)...), ErrMalformed,
			"UpdateLogin.ProofRole: truncated"},
		{"proof role 0", append(append(hx("0e 01"), make([]byte, 32)...), append(hx("00 00"), make([]byte, 64+1+64)...)...), ErrMalformed,
			"UpdateLogin.ProofRole: value 0 out of range 1–2"},
		{"proof role 3", append(append(hx("0e 01"), make([]byte, 32)...), append(append(hx("00 00"), make([]byte, 64)...), append([]byte{3}, make([]byte, 64)...)...)...),
			ErrMalformed, "UpdateLogin.ProofRole: value 3 out of range 1–2"},
		{"proof truncated", append(append(hx("0e 01"), make([]byte, 32)...), append(append(hx("00 00"), make([]byte, 64)...), append([]byte{1}, make([]byte, 63)...)...)...),
			ErrMalformed, "UpdateLogin.Proof: 64 bytes needed, 63 remain"},
		{"status 0", append(hx("85 01 01"), make([]byte, 20)...), ErrMalformed, "PushResult.Results[0].Status: value 0 out of range 1–3"},
		{"state 4", append(append(hx("86 01 01 01"), make([]byte, 33)...), hx("04 00 00 00 00 00")...), ErrMalformed,
			"Changes.Items[0].State: value 4 out of range 1–3"},
		{"time past 9999", appendUvarint(append(hx("82 01"), make([]byte, 32)...), uint64(maxUnix+1)<<1), ErrMalformed,
			"Challenge.Expires: 253402300800 seconds is outside years 1–9999"},
		{"time before year 1", appendUvarint(append(hx("82 01"), make([]byte, 32)...), uint64(-(minUnix-1))<<1-1), ErrMalformed,
			"Challenge.Expires: -62135596800 seconds is outside years 1–9999"},
		{"duration overflow", append(appendUvarint(append(hx("84 01"), make([]byte, 32+2)...), uint64(maxDurationSeconds)+1), 0),
			ErrMalformed, "Session.IdleTimeout: 9223372037 seconds overflows a duration"},
		{"truncated array", hx("04 01 00 01 02"), ErrMalformed, "LoginParamsRequest.Account: 16 bytes needed, 3 remain"},
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	var w writer
	w.b = b
	w.uvarint(v)
	return w.b
}

func TestDecodeRefuses(t *testing.T) {
	for _, tt := range badFrames() {
		t.Run(tt.name, func(t *testing.T) {
			id, m, err := Decode(tt.frame)
			if err == nil {
				t.Fatalf("decoded %x as %#v", tt.frame, m)
			}
			if m != nil {
				t.Errorf("message %#v returned with an error", m)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q is not %q", err, tt.want)
			}
			if tt.want == ErrMalformed && (errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnknownType)) {
				t.Errorf("error %q is more specific than expected", err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if len(tt.frame) > 2 && tt.frame[1] == 0x01 && id != 1 {
				t.Errorf("request ID %d, want 1 even on error", id)
			}
		})
	}
}

// TestTruncated cuts multi-field frames at every offset: each prefix must fail cleanly,
// and each frame with a byte appended too.
func TestTruncated(t *testing.T) {
	for _, c := range frameCases() {
		if !c.golden {
			continue
		}
		frame, _ := Encode(c.id, c.msg)
		for n := range len(frame) {
			if _, m, err := Decode(frame[:n]); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownType) {
				t.Errorf("%s cut to %d of %d bytes: %v, %#v", c.name, n, len(frame), err, m)
			}
		}
		if _, _, err := Decode(append(frame, 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("%s with a byte appended: %v", c.name, err)
		}
	}
}

// TestDecodeAllocationBound: a frame packed with the smallest elements of each list makes
// Decode allocate about 6 times the frame (5 for the structs, 1 for Decode's copy of the
// frame; docs/performance.md), never more than 7.
func TestDecodeAllocationBound(t *testing.T) {
	const size = 64 << 10
	tests := []struct {
		name   string
		prefix []byte // type, request ID
		min    int
		suffix []byte // the fields after the list
	}{
		{"Push.Records", hx("07 01"), minRecordPush, hx("00 00")},
		{"Push.Grants", hx("07 01 00"), minGrantPush, hx("00")},
		{"PushResult.Results", hx("85 01"), minItemResult, nil},
		{"Changes.Items", hx("86 01"), minChange, hx("00 00")},
		{"Devices.Items", hx("89 01"), minDeviceInfo, nil},
		{"Fetch.Records", hx("11 01"), minRecordID, nil},
	}
	for _, tt := range tests {
		n := (size - len(tt.prefix) - len(tt.suffix) - 3) / tt.min
		frame := appendUvarint(append([]byte(nil), tt.prefix...), uint64(n))
		elem := make([]byte, tt.min)
		if tt.name == "PushResult.Results" || tt.name == "Changes.Items" {
			state := 16 // ItemResult.Status follows the ID; Change.State follows Seq, ID, Owner, Revision
			if tt.name == "Changes.Items" {
				state = 1 + 16 + 16 + 1
			}
			elem[state] = 1
		}
		for range n {
			frame = append(frame, elem...)
		}
		frame = append(frame, tt.suffix...)

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, m, err := Decode(frame)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		runtime.KeepAlive(m)
		if got := after.TotalAlloc - before.TotalAlloc; got > 7*uint64(len(frame)) {
			t.Errorf("%s: %d elements in %d bytes allocated %d bytes (%.1f×)", tt.name, n, len(frame), got,
				float64(got)/float64(len(frame)))
		}
	}
}

// TestMinSizes proves the min* constants are the smallest encodings of their elements.
func TestMinSizes(t *testing.T) {
	size := func(m Message) int {
		b, err := Encode(0, m)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	tests := []struct {
		name       string
		empty, one Message
		min        int
	}{
		{"RecordPush", Push{}, Push{Records: make([]RecordPush, 1)}, minRecordPush},
		{"GrantPush", Push{}, Push{Grants: make([]GrantPush, 1)}, minGrantPush},
		{"Revoke", Push{}, Push{Revokes: make([]Revoke, 1)}, minRevoke},
		{"ItemResult", PushResult{}, PushResult{Results: []ItemResult{{Status: StatusAccepted}}}, minItemResult},
		{"Change", Changes{}, Changes{Items: []Change{{State: StateLive}}}, minChange},
		{"DeviceInfo", Devices{}, Devices{Items: make([]DeviceInfo, 1)}, minDeviceInfo},
		{"RecordID", Fetch{}, Fetch{Records: make([]RecordID, 1)}, minRecordID},
		{"uint16", Hello{}, Hello{Versions: make([]uint16, 1)}, minUint16},
	}
	for _, tt := range tests {
		if got := size(tt.one) - size(tt.empty); got != tt.min {
			t.Errorf("smallest %s is %d bytes, constant says %d", tt.name, got, tt.min)
		}
	}
}

// The golden file lets another implementation check itself: every vector names its
// expected result; "ok" vectors also give the message as Go's encoding/json renders it.
type vector struct {
	Name      string          `json:"name"`
	Result    string          `json:"result"` // ok, malformed, too_large, unknown_type
	Type      string          `json:"type,omitempty"`
	RequestID *uint64         `json:"request_id,omitempty"`
	Message   json.RawMessage `json:"message,omitempty"`
	Frame     string          `json:"frame"`
}

type vectorFile struct {
	Comment []string `json:"comment"`
	Vectors []vector `json:"vectors"`
}

const goldenPath = "testdata/frames.json"

func resultName(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrUnknownType):
		return "unknown_type"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	}
	return "error: " + err.Error()
}

func buildVectors(t *testing.T) vectorFile {
	f := vectorFile{Comment: []string{
		"Interlude sync protocol v1 test vectors; see docs/protocol.md.",
		"Generated by `go test ./syncproto -run TestGoldenFrames -update`; do not edit by hand.",
		"frame is lowercase hex. For result ok, decoding frame must give type, request_id and message,",
		"and encoding that message must give frame byte for byte. message is Go's encoding/json:",
		"[N]byte fields are arrays of numbers, []byte is base64, times are RFC 3339 (the zero time",
		"is 0001-01-01T00:00:00Z), IdleTimeout is nanoseconds. Any other result means decoding",
		"must fail: malformed, too_large (a field over its cap) or unknown_type.",
	}}
	for _, c := range frameCases() {
		if !c.golden {
			continue
		}
		frame, err := Encode(c.id, c.msg)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := json.Marshal(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		id := c.id
		f.Vectors = append(f.Vectors, vector{Name: c.name, Result: "ok", Type: c.msg.Type().String(),
			RequestID: &id, Message: msg, Frame: hex.EncodeToString(frame)})
	}
	for _, b := range badFrames() {
		f.Vectors = append(f.Vectors, vector{Name: b.name, Result: resultName(b.want), Frame: hex.EncodeToString(b.frame)})
	}
	return f
}

// TestGoldenFrames compares testdata/frames.json with the tables; -update rewrites it.
func TestGoldenFrames(t *testing.T) {
	want, err := json.MarshalIndent(buildVectors(t), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the tables: the encoding changed, or the file was edited. "+
			"If the change is intended, run go test ./syncproto -run TestGoldenFrames -update and document it in docs/protocol.md", goldenPath)
	}
}

// TestVectors walks the golden file as another implementation would, independently of
// the tables that made it.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	types := map[Type]bool{}
	for _, v := range f.Vectors {
		frame, err := hex.DecodeString(v.Frame)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		id, m, err := Decode(frame)
		if got := resultName(err); got != v.Result {
			t.Errorf("%s: result %s (%v), want %s", v.Name, got, err, v.Result)
			continue
		}
		if err != nil {
			continue
		}
		types[m.Type()] = true
		if m.Type().String() != v.Type || v.RequestID == nil || id != *v.RequestID {
			t.Errorf("%s: decoded %s id %d, want %s id %v", v.Name, m.Type(), id, v.Type, v.RequestID)
		}
		// Rebuild the message from its JSON and encode it.
		want := newMessage(m.Type())
		if err := json.Unmarshal(v.Message, want); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if !reflect.DeepEqual(m, normalizeJSON(want)) {
			t.Errorf("%s: decoded %#v, message says %#v", v.Name, m, want)
		}
		out, err := Encode(*v.RequestID, want)
		if err != nil || !bytes.Equal(out, frame) {
			t.Errorf("%s: encoding the message gives %x (%v), want %s", v.Name, out, err, v.Frame)
		}
	}
	if len(types) != len(typeNames) {
		t.Errorf("vectors cover %d of %d types", len(types), len(typeNames))
	}
}

// normalizeJSON turns what encoding/json leaves as empty non-nil slices into nil, as Decode
// returns them, by a round trip through the codec.
func normalizeJSON(m Message) Message {
	b, err := Encode(0, m)
	if err != nil {
		return m
	}
	_, n, err := Decode(b)
	if err != nil {
		return m
	}
	return n
}

func FuzzDecode(f *testing.F) {
	for _, c := range frameCases() {
		if c.golden {
			frame, _ := Encode(c.id, c.msg)
			f.Add(frame)
		}
	}
	for _, b := range badFrames() {
		f.Add(b.frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		id, m, err := Decode(frame)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %q does not wrap ErrMalformed", err)
			}
			if m != nil {
				t.Fatalf("message with error %v", err)
			}
			return
		}
		// Strict decoding and deterministic encoding: exactly the same bytes come back.
		out, err := Encode(id, m)
		if err != nil {
			t.Fatalf("Encode(Decode(%x)): %v", frame, err)
		}
		if !bytes.Equal(out, frame) {
			t.Fatalf("Encode(Decode(x)) != x\n x   %x\n got %x", frame, out)
		}
		id2, m2, err := Decode(out)
		if err != nil || id2 != id || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %v, %#v != %#v", err, m2, m)
		}
	})
}

// Example shows a Pull frame: type 0x08, request ID 7, Cursor 300, Limit 500.
func ExampleEncode() {
	frame, err := Encode(7, Pull{Cursor: 300, Limit: 500})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", frame)
	id, m, err := Decode(frame)
	fmt.Println(id, m.(*Pull).Cursor, m.(*Pull).Limit, err)
	// Output:
	// 08 07 ac 02 f4 03
	// 7 300 500 <nil>
}
