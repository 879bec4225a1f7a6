-- Interlude server schema, version 3.
--
-- Changes sends an owner's records with their live grants, so it looks up the grants of
-- every record of the owner's in the page it serves. Most records are never shared, and
-- that lookup cost as much as a tenth of a catch-up. records.shared says whether a record
-- has a grant now (the writer keeps it so with every grant, revocation, expiry and new
-- revision), and records_shared lists the shared ones in feed order, so the lookup reads
-- only those, and next to nothing for a page with none. The flag says nothing the grants
-- table does not.
ALTER TABLE records ADD COLUMN
    shared INTEGER NOT NULL DEFAULT 0; -- flag: the record has a grant

UPDATE records SET shared = 1 WHERE id IN (SELECT record FROM grants);

CREATE INDEX records_shared ON records (owner, owner_seq, id) WHERE shared = 1;
