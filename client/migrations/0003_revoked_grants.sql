-- Grants this account revoked (Unshare, ending a pairing): the SHA-256 of each signed
-- grant blob withdrawn. The server keeps every grant it was sent and could serve one
-- back with the record; a grant listed here is never taken back as a current share, so
-- that the next revision is not wrapped to a contact it was withdrawn from. A new share
-- signs a new blob (fresh HPKE), so it is not affected.
CREATE TABLE revoked_grants (
    record          BLOB    NOT NULL,
    recipient       BLOB    NOT NULL,
    blob_hash       BLOB    NOT NULL,           -- SHA-256 of the revoked grant blob
    PRIMARY KEY (record, recipient, blob_hash)
) WITHOUT ROWID;
