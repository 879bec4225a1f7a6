// Package syncproto is the vocabulary of Interlude's sync protocol: identifiers, the
// messages a client and the server exchange over one WebSocket, their binary encoding,
// error codes and limits. It does no I/O and imports nothing else of Interlude, so a
// client, the server and test tools share one definition. docs/protocol.md is the
// specification a client in another language can be written from.
package syncproto
