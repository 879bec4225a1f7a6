// Package server is Interlude's sync server: one WebSocket endpoint (/v1/sync,
// subprotocol interlude.v1) that authenticates devices by Ed25519 challenge–response,
// stores and relays opaque signed envelopes through a storage.Store, keeps each
// account's change feed and pushes live notifications. It is crypto-blind: it verifies
// login signatures over bytes with the standard library and never holds, parses or logs
// a key that opens an entry.
//
// # Shape
//
// A Server owns a hub (account → live connections) and a sweeper (grant expiry and
// session expiry, once a minute). Each WebSocket costs two goroutines: a reader, which
// decodes one frame at a time and runs its handler to completion (so a connection's
// requests are answered in order), and a writer, which owns every write, sends
// keep-alive pings and coalesces notifications so that a slow reader can never block a
// pusher. A connection whose bounded send queue fills is dropped.
//
// # Connection states
//
//	new ──Hello──► open ──SignUp | Login | Resume──► authenticated
//	 │               │                                   │
//	 │               ├─ session-only requests:           ├─ Logout, or revoking its own device:
//	 │               │  Error unauthenticated            │  Ack, close 1000
//	 │               ├─ too many connections: Error,     └─ session expired or logged out
//	 │               │  close 1008                          elsewhere, device revoked, shutdown:
//	 │               └─ not signed in after 2 min:          Error (ID 0), close 1008/1001
//	 │                  Error (ID 0), close 1008
//	 └─ anything else, no common version: close 1002;
//	    no Hello within 10 s: close 1008
//
// Undecodable frames and text messages are answered Error bad_frame in every state and
// change nothing.
//
// Every authenticated message re-checks the session: its absolute lifetime, its idle
// timeout (every message but Ping counts as activity) and whether the device was
// revoked. The session's LastSeen is written to storage at most once a minute per
// connection and once more when the connection ends. docs/protocol.md is the contract
// these states implement.
//
// # Push
//
// A batch over MaxBatch items is refused whole (batch_too_large, nothing written).
// Otherwise malformed items (a zero ID, a Revision that is not BaseRevision+1, an
// envelope over MaxEnvelope, a deletion with data, a live record without an envelope, a
// grant to nobody or to oneself, …) are refused one by one before any work (Rejected,
// bad_request or too_large: never a conflict), the rest go to storage.Store.Push in one
// durable transaction, and the answer lists every item in request order. Only then are
// the subscribed connections of every account whose feed grew notified.
//
// # Pull
//
// Pages come from storage.Store.Changes. When a page ends with More, the connection's
// reader reads the next page as soon as the answer is queued, and answers the next Pull
// from it only if a fresh read would return the same page (readahead.go says how that is
// checked, and how memory is bounded).
//
// # What the server logs
//
// Event names, sizes, counts and durations; account and device IDs at debug level only.
// Never envelopes, keybags, bundles, grant blobs, tokens, signatures or any other
// payload byte.
package server
