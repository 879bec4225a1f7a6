-- The local store of one profile (one account on one device). Nothing in it is plaintext
-- of an entry: envelopes and wrapped keys are ciphertext exactly as the server holds them,
-- and the keybag and session token are sealed. See docs/client.md.

-- One row: who this profile is and the material to unlock it offline.
CREATE TABLE profile (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    account         BLOB    NOT NULL,           -- 16 bytes
    server          TEXT    NOT NULL,           -- ws:// or wss:// base URL
    device          BLOB    NOT NULL,           -- 16 bytes, from the server's Session
    secret_key      TEXT    NOT NULL,           -- the Secret Key (alone it opens nothing)
    kdf_params      BLOB    NOT NULL,           -- pinned Argon2id parameters (crypto.KDFParams.Marshal)
    keybag          BLOB    NOT NULL,           -- passphrase keybag: the identity sealed under passphrase + Secret Key
    session         BLOB,                       -- session token sealed under the profile key
    cursor          INTEGER NOT NULL DEFAULT 0, -- feed position applied so far
    last_sync       INTEGER NOT NULL DEFAULT 0, -- unix seconds of the last complete sync (0: never)
    created         INTEGER NOT NULL
);

-- The latest local state of every record this device knows.
CREATE TABLE records (
    id              BLOB    PRIMARY KEY,        -- 16-byte record ID
    owner           BLOB    NOT NULL,           -- author account
    revision        INTEGER NOT NULL,           -- latest revision held here (may not be on the server yet)
    synced_revision INTEGER NOT NULL DEFAULT 0, -- latest revision known to be on the server (0: none)
    seq             INTEGER NOT NULL DEFAULT 0, -- feed sequence of synced_revision
    deleted         INTEGER NOT NULL DEFAULT 0, -- tombstone
    envelope        BLOB,                       -- signed, encrypted entry; NULL when deleted
    owner_key       BLOB                        -- entry key wrapped with the vault key; NULL when deleted
) WITHOUT ROWID;

-- Changes made here and not yet acknowledged by the server, in the order they were made.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    record          BLOB    NOT NULL,
    base_revision   INTEGER NOT NULL,
    revision        INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    envelope        BLOB,
    owner_key       BLOB,
    created         INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_code       INTEGER NOT NULL DEFAULT 0, -- syncproto.ErrorCode of the last rejection (0: none)
    last_error      TEXT    NOT NULL DEFAULT '',
    UNIQUE (record, revision)
);

-- Local versions that lost a race with another device's. The server's version is in
-- records; this one waits for the user to pick or merge.
CREATE TABLE conflicts (
    record          BLOB    PRIMARY KEY,
    base_revision   INTEGER NOT NULL,           -- the revision the local edits started from
    local_revision  INTEGER NOT NULL,           -- the revision the local version was sealed at
    local_deleted   INTEGER NOT NULL DEFAULT 0,
    local_envelope  BLOB,
    local_owner_key BLOB,
    created         INTEGER NOT NULL
) WITHOUT ROWID;

-- Incoming changes that failed verification and were not applied.
CREATE TABLE rejected (
    record          BLOB    NOT NULL,
    revision        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (record, revision)
) WITHOUT ROWID;

-- For sharing (later work): public key bundles pinned in person, and grants received.
CREATE TABLE contacts (
    account         BLOB    PRIMARY KEY,
    bundle          BLOB    NOT NULL,
    fingerprint     BLOB    NOT NULL,
    label           BLOB,                       -- the user's name for the contact, sealed under the profile key
    verified        INTEGER NOT NULL,           -- unix seconds when the safety code was compared
    created         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE grants (
    record          BLOB    NOT NULL,
    recipient       BLOB    NOT NULL,
    revision        INTEGER NOT NULL,
    expires         INTEGER NOT NULL DEFAULT 0,
    blob            BLOB    NOT NULL,
    PRIMARY KEY (record, recipient)
) WITHOUT ROWID;
