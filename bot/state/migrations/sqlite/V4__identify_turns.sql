-- Shards across processes (issue 14): when each IDENTIFY rate-limit bucket last identified,
-- so that a process started right after another one died still waits out Discord's 5 s.
-- (Kept on SQLite too, so that both dialects share one history; one process needs no turns.)
CREATE TABLE identify_turns (
    bucket INTEGER PRIMARY KEY,
    identified_at REAL NOT NULL     -- Unix time
);
