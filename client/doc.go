// Package client is Interlude's local-first client: one profile (an account on this
// device) in a local SQLite store, an outbox of changes, and the sync engine that pushes
// them to the server and pulls everyone else's.
//
// Writing never waits for the network: Add, Edit and Delete seal the entry with package
// crypto and commit it, with its outbox row, in one local transaction. Sync pushes the
// outbox in batches, pulls the feed from a cursor, verifies every incoming envelope's
// signature before storing it, keeps both versions when two devices edited the same
// entry (Conflicts, Resolve), and ends with a digest check. Every step commits before the
// next, so a sync killed at any point resumes with nothing lost and nothing doubled.
//
// Nothing on disk is plaintext of an entry: the store holds envelopes and wrapped keys as
// the server does, the passphrase keybag, the Secret Key and a sealed session token.
// Unlock derives the keys from the passphrase, offline, and keeps them in memory only.
//
//	c, err := client.Open(dir, client.Options{})
//	err = c.Unlock(passphrase)
//	id, err := c.Add(ctx, plaintext)  // local, immediate
//	report, err := c.Sync(ctx)        // when online
//
// Pairing in person pins a contact's keys (NewInvite, AcceptPairCode, Contacts); sharing is
// entry by entry and explicit (Share, ShareScoresOnly, Unshare, AddShared, ListFrom), every
// grant signed and wrapped to the pinned key, every shared record verified against it.
//
// docs/client.md describes the store, the sync algorithm and why it is crash-safe;
// docs/sharing.md describes pairing, sharing, homework and messages.
package client
