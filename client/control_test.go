package client

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"interlude/syncproto"
)

// FuzzParseControl: parseControl never panics, a document it accepts parses again once
// written back, as the same type, and writing settles after one round (json.Marshal
// normalises a derived copy's embedded entry, escaping "&" and the like, once).
func FuzzParseControl(f *testing.F) {
	acct := syncproto.NewAccountID()
	for _, d := range []*control{
		{Interlude: rolePairEnd, Pairing: syncproto.NewRecordID(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)).String()},
		{Interlude: roleDerived, Source: "x", Level: LevelScores, Entry: []byte(`{"kind":"checkin"}`)},
		{Interlude: roleContact, Account: acct.String(), Bundle: []byte{1, 2, 3}, Role: string(RoleClient),
			State: string(ContactPaired), Name: "Sam", PairedAt: 1795430400},
	} {
		f.Add(d.marshal())
	}
	f.Add([]byte(`{"interlude":"contact","v":1,"account":"nope"}`))
	f.Add([]byte(`{"kind":"checkin"}`))
	f.Fuzz(func(t *testing.T, pt []byte) {
		d, err := parseControl(pt)
		if err != nil || d == nil {
			return
		}
		again, err := parseControl(d.marshal())
		if err != nil {
			t.Fatalf("a parsed document does not parse once written back: %v", err)
		}
		if again.Interlude != d.Interlude || again.Account != d.Account || !bytes.Equal(again.Bundle, d.Bundle) {
			t.Fatalf("written back and parsed again:\n%+v\n%+v", d, again)
		}
		third, err := parseControl(again.marshal())
		if err != nil || !reflect.DeepEqual(again, third) {
			t.Fatalf("writing does not settle:\n%+v\n%+v (%v)", again, third, err)
		}
	})
}

// TestParseContactDocument checks what a contact document must hold.
func TestParseContactDocument(t *testing.T) {
	acct := syncproto.NewAccountID().String()
	for _, tt := range []struct {
		doc string
		ok  bool
	}{
		{`{"interlude":"contact","v":1,"account":"` + acct + `","bundle":"AQID","role":"client","state":"paired"}`, true},
		{`{"interlude":"contact","v":1,"account":"` + acct + `","bundle":"AQID","role":"clinician","state":"ended"}`, true},
		{`{"interlude":"contact","v":1,"account":"x","bundle":"AQID","role":"client","state":"paired"}`, false},
		{`{"interlude":"contact","v":1,"account":"` + acct + `","role":"client","state":"paired"}`, false},
		{`{"interlude":"contact","v":1,"account":"` + acct + `","bundle":"AQID","role":"friend","state":"paired"}`, false},
		{`{"interlude":"contact","v":1,"account":"` + acct + `","bundle":"AQID","role":"client","state":"pending"}`, false},
	} {
		if _, err := parseControl([]byte(tt.doc)); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.doc, err)
		}
	}
}
