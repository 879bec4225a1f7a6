package syncproto

import (
	"encoding/json"
	"testing"
	"time"
)

// The benchmark messages are the two that carry nearly all of sync's bytes: a full Push
// from a client back online, and a Changes page for a device catching up. Envelopes are
// 1 KiB (the Padmé floor that most entries pad to; with its header and signature a real
// envelope is then 1,201 bytes); owner keys are 73 bytes and grant blobs 1,338 bytes, the
// fixed sizes docs/crypto.md gives (VaultWrapSize, GrantSize).
//
// docs/performance.md (## syncproto) records the figures and the command.

func benchPush() *Push {
	p := &Push{Records: make([]RecordPush, 64)}
	for i := range p.Records {
		p.Records[i] = RecordPush{
			Record:   RecordID(id16(byte(i))),
			Revision: 1,
			Envelope: seq(byte(i), 1024),
			OwnerKey: seq(byte(i), 73),
		}
	}
	return p
}

func benchChanges() *Changes {
	c := &Changes{Items: make([]Change, 500), Cursor: 1500, More: true}
	for i := range c.Items {
		c.Items[i] = Change{
			Seq:      uint64(1001 + i),
			Record:   RecordID(id16(byte(i))),
			Owner:    AccountID(id16(0x01)),
			Revision: uint64(1 + i%3),
			State:    StateLive,
			Envelope: seq(byte(i), 1024),
			OwnerKey: seq(byte(i), 73),
		}
		if i%10 == 0 { // one record in ten is shared with a clinician
			c.Items[i].Grants = []GrantPush{{Record: c.Items[i].Record, Revision: c.Items[i].Revision,
				Recipient: AccountID(id16(0x20)), Expires: t0.Add(30 * 24 * time.Hour), Blob: seq(byte(i), 1338)}}
		}
	}
	return c
}

func BenchmarkPush64(b *testing.B) {
	benchCodecs(b, benchPush(), func() any { return new(Push) })
}

func BenchmarkChanges500(b *testing.B) {
	benchCodecs(b, benchChanges(), func() any { return new(Changes) })
}

// benchCodecs measures m through this codec and through encoding/json (which renders
// []byte as base64, [16]byte IDs as arrays of numbers and times as RFC 3339 strings).
func benchCodecs(b *testing.B, m Message, fresh func() any) {
	frame, err := Encode(1, m)
	if err != nil {
		b.Fatal(err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(1, m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(frame)), "frame-bytes")
	})
	b.Run("binary/append", func(b *testing.B) { // into a reused buffer: the codec's own cost
		b.ReportAllocs()
		buf := make([]byte, 0, len(frame))
		for b.Loop() {
			if _, err := AppendFrame(buf[:0], 1, m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(frame)), "frame-bytes")
	})
	b.Run("binary/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Decode(frame); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(frame)), "frame-bytes")
	})
	b.Run("json/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "frame-bytes")
	})
	b.Run("json/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := json.Unmarshal(js, fresh()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "frame-bytes")
	})
}
