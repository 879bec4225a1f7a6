-- Pairing and sharing (docs/sharing.md). Like the rest of the store, nothing here is
-- plaintext of an entry: contact names and invitation secrets are sealed under the
-- profile key (crypto.SealLocal), bundles are public, grants and envelopes are ciphertext.

-- 0001 reserved contacts for this work; nothing ever wrote to it.
DROP TABLE contacts;

-- People paired in person. The bundle is pinned: every envelope and grant from the
-- contact is verified against it, and every key shared with them is wrapped to it.
CREATE TABLE contacts (
    account         BLOB    PRIMARY KEY,        -- 16 bytes
    bundle          BLOB    NOT NULL,           -- the pinned public bundle (crypto.PublicBundle)
    fingerprint     BLOB    NOT NULL,           -- its fingerprint
    name            BLOB    NOT NULL,           -- the name shown here, sealed under the profile key ("contact-name")
    role            TEXT    NOT NULL,           -- what they are to me: 'client' (I invited them) or 'clinician'
    state           TEXT    NOT NULL,           -- 'pending', 'paired', 'rejected' or 'ended'
    reason          TEXT    NOT NULL DEFAULT '',-- why rejected or ended
    pairing         BLOB,                       -- record ID of the link request that made the pairing
    seen_bundle     BLOB,                       -- a different bundle the server published since (not trusted)
    verified        INTEGER NOT NULL DEFAULT 0, -- unix seconds when the pairing completed
    created         INTEGER NOT NULL
) WITHOUT ROWID;

-- Pairing codes this device made (the clinician's side). Kept past expiry and use for a
-- week, so that a late or repeated request gets a precise answer.
CREATE TABLE invites (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    secret          BLOB    NOT NULL,           -- the code and the name to answer with, sealed ("pair-invite")
    expires         INTEGER NOT NULL,           -- unix seconds
    used            INTEGER NOT NULL DEFAULT 0, -- unix seconds when a request used it (0: unused)
    used_by         BLOB,                       -- the account that used it
    created         INTEGER NOT NULL
);

-- What a record is, found when it is opened (the plaintext says): '' an entry of the
-- journal; 'pair_request', 'pair_reply', 'pair_end' pairing messages; 'derived' a
-- scores-only or status-only copy of another record, whose ID is in link.
ALTER TABLE records ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN link BLOB;

-- grants (from 0001) holds both directions: grants this account made (recipient = a
-- contact; the current grantees of its records) and the grant by which a contact shared
-- a record with it (recipient = this account).

-- Grants nested in a pending record revision (a RecordPush carries the complete set).
CREATE TABLE outbox_grants (
    outbox          INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    recipient       BLOB    NOT NULL,
    expires         INTEGER NOT NULL DEFAULT 0,
    blob            BLOB    NOT NULL,           -- the signed grant
    PRIMARY KEY (outbox, recipient)
) WITHOUT ROWID;

-- Standalone grants and revokes not yet acknowledged: at most one per (record, recipient),
-- the latest intent. The blob is made once, so a retry sends the same bytes.
CREATE TABLE share_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    record          BLOB    NOT NULL,
    recipient       BLOB    NOT NULL,
    revoke          INTEGER NOT NULL DEFAULT 0,
    revision        INTEGER NOT NULL DEFAULT 0,
    expires         INTEGER NOT NULL DEFAULT 0,
    blob            BLOB,                       -- the signed grant (NULL for a revoke)
    created         INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_code       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (record, recipient)
);

-- Changes shared by accounts that are not (or no longer) verified contacts, kept until
-- this device has fetched the author's bundle and decided: a link request, or nothing
-- to show (dropped and reported).
CREATE TABLE inbox (
    record          BLOB    PRIMARY KEY,
    owner           BLOB    NOT NULL,
    revision        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    envelope        BLOB    NOT NULL,
    grant_blob      BLOB,
    received        INTEGER NOT NULL
) WITHOUT ROWID;

-- Records others share with this account that it deliberately does not keep (dropped
-- requests, leftovers of an ended pairing). Only their ID and revision, so that the
-- digest still matches what the server holds.
CREATE TABLE ignored (
    record          BLOB    PRIMARY KEY,
    owner           BLOB    NOT NULL,
    revision        INTEGER NOT NULL,
    grant_blob      BLOB                        -- the grant it came with: the same again is not looked at twice
) WITHOUT ROWID;
