-- What the study cog said to each recent question: its reply, the question logged for it, how
-- often edits changed it. It was kept in memory only, so after a restart edits and deletions of
-- questions asked before it did nothing (their replies stayed as they were, wrong or orphaned).
-- A row is needed only while its message may still be edited (5 minutes): `expires` says until
-- when, and rows past it are deleted as new ones are written, so the table stays small.
CREATE TABLE asked_messages (
    message_id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL,      -- /forget-me deletes their rows
    question TEXT NOT NULL,          -- the question as searched: an edit that keeps it changes nothing
    mentioned INTEGER NOT NULL,      -- asked of the bot directly
    created REAL NOT NULL,           -- the message's creation, Unix time
    counted INTEGER NOT NULL,        -- it was searched: its edits are answered without paying again
    reply_id INTEGER,
    question_id INTEGER,             -- the logged question its votes go to (no foreign key: purged apart)
    reanswers INTEGER NOT NULL,
    look TEXT,                       -- JSON: what the reply shows (text, embed, buttons)
    searches INTEGER NOT NULL,
    stopped INTEGER NOT NULL,
    used_by_others INTEGER NOT NULL,
    expires REAL NOT NULL            -- Unix time: edits are no longer followed, the row may go
);
CREATE INDEX asked_messages_expires ON asked_messages (expires);
CREATE INDEX asked_messages_author ON asked_messages (author_id);
