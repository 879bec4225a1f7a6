-- Interlude server schema, version 2.
--
-- Deleting a record appends to the feed of every account whose feed lists it (its former
-- grantees as well as its current ones), so that each sees StateDeleted, with the
-- author's signed deletion statement, at a new position of its own feed, and so that an
-- account's feed position moves with every change to what it may see. The writer finds
-- those accounts by record.
CREATE INDEX changes_record ON changes (record);
