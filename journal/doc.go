// Package journal is Interlude's domain model: the kinds of entry a client or
// clinician writes, the validated measures and their scoring, and the trends,
// summaries, charts and exports computed from entries.
//
// Everything here runs on a device, over decrypted entries. The package does
// no I/O beyond the io.Writer and io.Reader it is handed, imports nothing
// else of Interlude's, and never sends anything anywhere. It makes no
// clinical decision: scores, bands and flags are published cut-offs shown to
// people, who decide.
//
// # The entry document
//
// An entry is the plaintext inside one encrypted envelope: a JSON object,
// encoded by Marshal and decoded by Unmarshal.
//
//	{"v":1,"kind":"checkin",
//	 "created":"2026-03-02T21:14:05-05:00","updated":"2026-03-02T21:20:41-05:00",
//	 "links":{"assignment":"01JN7ZQ4K0M4T1X6W9PZ2C8R3D"},
//	 "body":{"mood":4,"anxiety":6,"emotions":["sad","tired"],"triggers":["work"],
//	         "coping":[{"skill":"walk","helped":"yes"}],"sleepHours":6.5,"note":"long day"}}
//
// The members are:
//
//   - v: the format version, 1. A document with a higher version is refused
//     with ErrNewerVersion, so that an old client never edits what it cannot
//     read.
//   - kind: one of the kinds listed by Kinds.
//   - created, updated: RFC 3339 times with the user's local offset. The
//     calendar day in that offset is the entry's day for trends.
//   - links: record IDs of related records (prompt, assignment, replyTo).
//   - body: the kind's fields (see the body types and Kinds).
//
// Forward compatibility: members that this version does not know, at the top
// level, in links, in the body or in any object inside it, are kept in
// UnknownFields and written back byte for byte, so a client that has not been
// updated can edit an entry without losing what a newer one added. A kind
// this version does not know is kept whole as a *RawBody. Adding fields keeps
// v at 1; changing the meaning of a body means a new kind name.
//
// Marshal writes compact JSON: the known members in a fixed order, then the
// unknown ones sorted by name. It does not validate; Validate does, and
// reports each bad field with the allowed range.
//
// # Safety
//
// A PHQ-9 with item 9 (thoughts of being better off dead or of self-harm)
// answered above "Not at all" sets Result.SafetyFlag whatever the total. The
// client then shows CrisisResources for the user's locale straight away,
// offline. This package sends nothing; any alert to a clinician is a rule the
// client agreed to at intake and is evaluated elsewhere.
//
// See docs/journal.md for every kind, the measures' wording and licences,
// and what the trends and summaries compute.
package journal
