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
-- coarse-time), created by the migration runner, and SQLite's own sqlite_sequence, which
-- AUTOINCREMENT uses to remember the highest feed seq ever issued.
--
-- Tables are STRICT, so a value of the wrong type (text where a blob belongs) is refused.
-- Small tables are WITHOUT ROWID, so no hidden rowid records their insertion order. The
-- tables holding envelopes and grant blobs (records, grants) keep a rowid: SQLite stores
-- rows larger than about 1/20 of a page far better in rowid tables (a 1 KiB envelope would
-- spill to an overflow page in a WITHOUT ROWID table), and their insertion order is no
-- finer than the feed seq they carry anyway. changes needs its rowid: it is the seq.

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
    seq           INTEGER NOT NULL,                          -- seq: owner's feed seq of this revision
    received_hour INTEGER NOT NULL,                          -- coarse-time (hour)
    envelope_hash BLOB    NOT NULL,                          -- hash: of the pushed envelope and owner key
    owner_key     BLOB,                                      -- wrapped-key: entry key under the owner's vault key
    envelope      BLOB                                       -- opaque-blob: signed, encrypted entry
) STRICT;

-- The writer counts an account's live records (the quota) once after each start, here.
-- Its entries are (owner, rowid) and rowids only grow, so a new record is appended to
-- its owner's range: about one page per owner per commit, where an index on (owner, id)
-- would cost a write at a random place for every record.
CREATE INDEX records_live ON records (owner) WHERE deleted = 0;

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

-- The change feed: one row per (account, record), the latest change only. A new change
-- deletes the old row and inserts one at a new seq, so a pull returns each record's
-- latest state once. AUTOINCREMENT guarantees a seq is never issued twice, even when the
-- row holding the highest seq is replaced. Every record has a row in its owner's feed,
-- so UNIQUE (account, record) also lists an account's own records in ID order (Digest).
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,        -- seq
    account BLOB    NOT NULL REFERENCES accounts (id), -- random-id
    record  BLOB    NOT NULL REFERENCES records (id),  -- random-id
    UNIQUE (account, record)
) STRICT;

-- Changes pages through one account's feed in seq order; covering, so a page reads no table rows.
CREATE INDEX changes_feed ON changes (account, seq, record);
