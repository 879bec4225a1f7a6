-- Interlude server schema, version 1.
--
-- The server is zero-knowledge: it keeps identifiers, revisions, sequence numbers, sizes,
-- coarse times, public keys, wrapped keys and opaque blobs, and nothing else.
-- interlude-audit compares this schema with an allow-list, so every column names its class:
--
--   random-id    16 bytes: crypto/rand (accounts, devices), or a ULID whose time part is a
--                UTC day and whose entropy is random (records)
--   public-key   an Ed25519 public key, or the SHA-256 fingerprint of a public key bundle
--   wrapped-key  key material sealed by the client (keybags, owner keys)
--   opaque-blob  ciphertext or signed data the server cannot read
--   hash         SHA-256 of a secret (session token) or of pushed bytes
--   seq          a feed sequence number, a revision or a counter
--   flag         0 or 1
--   coarse-time  unix seconds, a multiple of the unit the column's comment names
--   client-time  unix seconds chosen and signed by the client (grant expiry; 0 = never)
--
-- Besides these tables the database holds schema_migrations(version seq, applied_day
-- coarse-time), created by the migration runner.
--
-- Feeds: every account has its own feed, numbered by its own counter (1, 2, 3, ...), so
-- the seqs an account sees say nothing of other accounts' activity. An owner's feed is
-- served from records itself (owner_seq, indexed by records_feed); changes holds only the
-- entries of recipients (grantees, and former grantees who must see StateGone or
-- StateDeleted). The two share the account's counter, so they interleave without collision.
-- The writer keeps each counter in memory, loaded as the maximum of both; no row is ever
-- deleted from either and a change only moves a row to a higher seq, so that maximum never
-- falls and a restart never issues a seq twice.
--
-- Tables are STRICT, so a value of the wrong type (text where a blob belongs) is refused.
-- Small tables are WITHOUT ROWID, so no hidden rowid records their insertion order. The
-- tables holding envelopes and grant blobs (records, grants) keep a rowid: SQLite stores
-- rows larger than about 1/20 of a page far better in rowid tables (a 1 KiB envelope would
-- spill to an overflow page in a WITHOUT ROWID table), and their insertion order is no
-- finer than the feed seq they carry anyway.

-- One row per account: public keys and blobs the client sealed.
CREATE TABLE accounts (
    id                 BLOB    NOT NULL PRIMARY KEY, -- random-id
    created_day        INTEGER NOT NULL,             -- coarse-time (day)
    fingerprint        BLOB    NOT NULL,             -- public-key: fingerprint of the bundle
    login_key          BLOB    NOT NULL,             -- public-key: Ed25519, passphrase role
    recovery_login_key BLOB    NOT NULL,             -- public-key: Ed25519, recovery role
    kdf_params         BLOB    NOT NULL,             -- opaque-blob: Argon2id salt and parameters
    keybag             BLOB    NOT NULL,             -- wrapped-key: sealed under the passphrase key
    recovery_keybag    BLOB    NOT NULL,             -- wrapped-key: sealed under the recovery key
    bundle             BLOB    NOT NULL              -- opaque-blob: signed public key bundle
) STRICT, WITHOUT ROWID;

-- Pairing codes carry a fingerprint prefix: looked up as fingerprint >= p AND fingerprint < p+1.
CREATE INDEX accounts_fingerprint ON accounts (fingerprint);

CREATE TABLE devices (
    account        BLOB    NOT NULL REFERENCES accounts (id), -- random-id
    id             BLOB    NOT NULL,                          -- random-id
    created_day    INTEGER NOT NULL,                          -- coarse-time (day)
    last_seen_hour INTEGER NOT NULL,                          -- coarse-time (hour)
    revoked        INTEGER NOT NULL DEFAULT 0,                -- flag
    label          BLOB    NOT NULL,                          -- opaque-blob: name sealed by the client
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY, -- hash: SHA-256 of the session token
    account    BLOB    NOT NULL,             -- random-id
    device     BLOB    NOT NULL,             -- random-id
    created    INTEGER NOT NULL,             -- coarse-time (minute)
    last_seen  INTEGER NOT NULL,             -- coarse-time (minute)
    expires    INTEGER NOT NULL,             -- coarse-time (minute)
    FOREIGN KEY (account, device) REFERENCES devices (account, id)
) STRICT, WITHOUT ROWID;

-- RevokeDevice deletes a device's sessions.
CREATE INDEX sessions_device ON sessions (account, device);

-- One row per record: its latest revision. A deleted record keeps its row as a tombstone:
-- owner_key NULL, and in envelope the author's signed deletion statement (105 bytes, no
-- ciphertext), which devices verify before dropping their copies (secure_delete scrubs the
-- old envelope's bytes).
CREATE TABLE records (
    id            BLOB    NOT NULL PRIMARY KEY,              -- random-id (day ULID)
    owner         BLOB    NOT NULL REFERENCES accounts (id), -- random-id
    revision      INTEGER NOT NULL,                          -- seq
    deleted       INTEGER NOT NULL DEFAULT 0,                -- flag
    seq           INTEGER NOT NULL,                          -- seq: owner's feed seq of this revision (replay answers)
    owner_seq     INTEGER NOT NULL,                          -- seq: the record's position in its owner's feed (latest change)
    received_hour INTEGER NOT NULL,                          -- coarse-time (hour)
    envelope_hash BLOB    NOT NULL,                          -- hash: of the pushed envelope and owner key
    owner_key     BLOB,                                      -- wrapped-key: entry key under the owner's vault key
    envelope      BLOB                                       -- opaque-blob: signed, encrypted entry
) STRICT;

-- The owner's feed, in its owner's seq order. owner_seq only grows within an owner, so a
-- change is appended to its owner's range: about one page per owner per commit. deleted
-- makes it covering for the writer's count of an account's live records (the quota, once
-- after each start), and the writer's next seq is the maximum of the range.
CREATE INDEX records_feed ON records (owner, owner_seq, deleted);

-- A record's current grants; every grant names the record's current revision.
CREATE TABLE grants (
    record    BLOB    NOT NULL REFERENCES records (id),  -- random-id
    recipient BLOB    NOT NULL REFERENCES accounts (id), -- random-id
    revision  INTEGER NOT NULL,                          -- seq
    expires   INTEGER NOT NULL,                          -- client-time (0 = never)
    blob      BLOB    NOT NULL,                          -- opaque-blob: signed grant with the wrapped entry key
    PRIMARY KEY (record, recipient)
) STRICT;

-- Digest and visibility checks by recipient; ExpireGrants by expiry.
CREATE INDEX grants_recipient ON grants (recipient, record);
CREATE INDEX grants_expires ON grants (expires) WHERE expires > 0;

-- Recipients' feed entries: one row per (account, record), the latest change only, at the
-- account's own seq. A new change moves the row to the account's next seq, so a pull returns
-- each record's latest state once. An account's own records are not here (records_feed).
CREATE TABLE changes (
    account BLOB    NOT NULL REFERENCES accounts (id), -- random-id
    record  BLOB    NOT NULL REFERENCES records (id),  -- random-id
    seq     INTEGER NOT NULL,                          -- seq: the account's feed seq
    PRIMARY KEY (account, record)
) STRICT, WITHOUT ROWID;

-- Changes pages through one account's entries in seq order; covering (the primary key's
-- columns are in every index of a WITHOUT ROWID table).
CREATE INDEX changes_feed ON changes (account, seq);
