-- Closing the loop (issue 13): questions and votes for the gaps report and feedback, kept
-- GLOSSARY_LOG_RETENTION_DAYS; server aliases and notes, apart from the glossary, with a log
-- of who changed them. Users appear only as salted hashes (`user_hash`, `by_hash`).

ALTER TABLE guild_config ADD COLUMN editor_role_id INTEGER;

-- Every free-form question and /define lookup, with what the bot did.
CREATE TABLE questions (
    question_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,     -- 0: in a DM
    user_hash TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    source TEXT NOT NULL,          -- ask | define | study
    query TEXT NOT NULL,
    band TEXT NOT NULL,            -- answer | suggest | not_found
    answer_term TEXT,              -- the entry answered, if any
    matched_by TEXT,               -- how: exact, alias, server_alias, semantic, …
    candidates TEXT NOT NULL       -- JSON: the nearest terms, best first
);
CREATE INDEX questions_time ON questions (asked_at);
CREATE INDEX questions_guild_time ON questions (guild_id, asked_at);

-- One vote per user per answer, changeable; `wanted` is the entry a 👎 voter chose
-- ('' = none of these / not in the glossary; NULL = not said).
CREATE TABLE votes (
    question_id INTEGER NOT NULL REFERENCES questions (question_id) ON DELETE CASCADE,
    user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL,
    wanted TEXT,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_hash)
);

CREATE TABLE server_aliases (
    guild_id INTEGER NOT NULL,
    alias_key TEXT NOT NULL,       -- the alias as lookups compare it
    alias TEXT NOT NULL,
    term TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, alias_key)
);

CREATE TABLE server_notes (
    guild_id INTEGER NOT NULL,
    term TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, term)
);

CREATE TABLE server_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    by_hash TEXT NOT NULL,
    by_name TEXT NOT NULL,         -- the moderator's name at the time, for people reading the log
    action TEXT NOT NULL,          -- alias add | alias remove | note set | note remove
    detail TEXT NOT NULL
);
CREATE INDEX server_changes_guild ON server_changes (guild_id, changed_at);
