-- When a pairing ended (unix seconds; 0 while it stands). Contact documents order a
-- pairing and an ending by their times (client/contacts.go, newerThan), so that an ending
-- written on one device beats a pairing completed before it on another.
ALTER TABLE contacts ADD COLUMN ended INTEGER NOT NULL DEFAULT 0;
