// Package syncproto is the vocabulary of Interlude's sync protocol: identifiers, the
// messages a client and the server exchange over one WebSocket, their binary encoding,
// error codes and limits. It does no I/O and imports nothing else of Interlude, so a
// client, the server and test tools share one definition. docs/protocol.md is the
// specification a client in another language can be written from.
//
// The codec (codec.go) turns a message into one frame and back:
//
//	frame, err := syncproto.Encode(requestID, syncproto.Pull{Cursor: c})
//	id, m, err := syncproto.Decode(frame) // m is *syncproto.Changes, *syncproto.Error, …
//
// A frame is the type byte, the request ID as a uvarint, then the message's fields in
// declaration order. Decoding is strict and safe on hostile input: every failure wraps
// ErrMalformed (ErrTooLarge for a field over its cap, ErrUnknownType for an unknown
// type byte), and Decode then Encode gives back the same bytes. Test vectors for other
// implementations are in testdata/frames.json.
package syncproto
