package client

import (
	"bytes"
	"encoding/json"
	"fmt"

	"interlude/syncproto"
)

// Records are entries of a journal (journal documents, opaque to this package) or one of
// a few documents the client itself writes and reads: pairing messages and partial
// copies made for sharing. Those are JSON objects whose first member is "interlude",
// naming the document; a journal document never has that member. They are sealed,
// signed and shared exactly like entries, so the server cannot tell them apart.
//
//	{"interlude":"pair_request","v":1,"bundle":"<base64>","name":"Sam","mac":"<base64>"}
//	{"interlude":"pair_reply","v":1,"request":"<record ID>","accepted":true,"name":"Dr Lee","paired":1795430400}
//	{"interlude":"pair_reply","v":1,"request":"<record ID>","accepted":false,"reason":"expired"}
//	{"interlude":"pair_end","v":1,"pairing":"<record ID>","ended":1795430400}
//	{"interlude":"derived","v":1,"source":"<record ID>","level":"scores","entry":{...journal document...}}
//	{"interlude":"contact","v":1,"account":"<account ID>","bundle":"<base64>","role":"client","state":"paired","name":"Sam","pairing":"<record ID>","paired":1795430400}
//
// A contact document is never shared: it is how the account's devices tell each other
// whom the account paired with (contacts.go, publishContact).
// The role column of records says which a record is, so that lists need not open every
// record to leave these out.

// Record roles (records.role).
const (
	roleEntry       = ""             // an entry of the journal
	rolePairRequest = "pair_request" // a client's link request to a clinician
	rolePairReply   = "pair_reply"   // the clinician's device's answer
	rolePairEnd     = "pair_end"     // one side ended the pairing
	roleDerived     = "derived"      // a scores-only or status-only copy of another record
	roleContact     = "contact"      // a contact of this account, for its other devices (never shared)
)

// Derived levels: how much of the source a derived copy keeps.
const (
	LevelScores = "scores" // journal.Entry.ScoresOnly: the numbers, no free text
	LevelStatus = "status" // a homework response's status, no answer
)

// Reasons a clinician's device refuses a link request (pair_reply.reason).
const (
	ReasonExpired     = "expired"      // the code's time ran out
	ReasonUsed        = "used"         // the code was used already
	ReasonUnknownCode = "unknown_code" // no code of this device matches
)

const controlVersion = 1

// control is any of the documents above; the fields of the others are empty.
type control struct {
	Interlude string `json:"interlude"`
	V         int    `json:"v"`

	// pair_request
	Bundle []byte `json:"bundle,omitempty"`
	Name   string `json:"name,omitempty"` // pair_request, pair_reply: how the sender wants to be called
	MAC    []byte `json:"mac,omitempty"`

	// pair_reply
	Request  string `json:"request,omitempty"`
	Accepted bool   `json:"accepted,omitempty"`
	Reason   string `json:"reason,omitempty"`

	// pair_end; contact: the link request that made the pairing
	Pairing string `json:"pairing,omitempty"`

	// contact (with Bundle, the pinned one, and Name, the name the account shows)
	Account  string `json:"account,omitempty"`
	Role     string `json:"role,omitempty"`
	State    string `json:"state,omitempty"`
	PairedAt int64  `json:"paired,omitempty"` // contact, pair_reply: when the pairing completed (unix seconds, the clinician's clock)
	EndedAt  int64  `json:"ended,omitempty"`  // contact, pair_end: when the pairing ended (unix seconds, the writer's clock)

	// derived
	Source string          `json:"source,omitempty"`
	Level  string          `json:"level,omitempty"`
	Entry  json.RawMessage `json:"entry,omitempty"`
}

func (d *control) marshal() []byte {
	d.V = controlVersion
	b, err := json.Marshal(d)
	if err != nil {
		panic("client: marshal control document: " + err.Error()) // only plain fields
	}
	return b
}

// controlPrefix starts every document this package writes; json.Marshal keeps the
// field order of control, so "interlude" comes first.
var controlPrefix = []byte(`{"interlude":`)

// parseControl returns the document in pt, or nil when pt is not one (a journal entry).
// A document that names itself but does not parse, or that a newer client wrote, is an
// error.
func parseControl(pt []byte) (*control, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(pt, " \t\r\n"), controlPrefix) {
		return nil, nil
	}
	var d control
	if err := json.Unmarshal(pt, &d); err != nil {
		return nil, fmt.Errorf("a pairing or sharing document that does not parse: %w", err)
	}
	if d.V != controlVersion {
		return nil, fmt.Errorf("a %q document of version %d: update Interlude to read it", d.Interlude, d.V)
	}
	switch d.Interlude {
	case rolePairRequest, rolePairReply, rolePairEnd:
	case roleContact:
		if _, err := syncproto.ParseAccountID(d.Account); err != nil {
			return nil, fmt.Errorf("a contact document naming no account: %w", err)
		}
		if len(d.Bundle) == 0 {
			return nil, fmt.Errorf("a contact document without keys")
		}
		if r := ContactRole(d.Role); r != RoleClient && r != RoleClinician {
			return nil, fmt.Errorf("a contact document of unknown role %q", d.Role)
		}
		if s := ContactState(d.State); s != ContactPaired && s != ContactEnded {
			return nil, fmt.Errorf("a contact document of unknown state %q", d.State)
		}
	case roleDerived:
		if d.Level != LevelScores && d.Level != LevelStatus {
			return nil, fmt.Errorf("a derived copy of unknown level %q", d.Level)
		}
		if len(d.Entry) == 0 {
			return nil, fmt.Errorf("a derived copy without an entry")
		}
	default:
		return nil, fmt.Errorf("a document of unknown type %q: update Interlude to read it", d.Interlude)
	}
	return &d, nil
}

// recordRef parses a record ID a control document names.
func recordRef(s string) (syncproto.RecordID, error) {
	return syncproto.ParseRecordID(s)
}
