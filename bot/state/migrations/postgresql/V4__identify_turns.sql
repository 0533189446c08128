-- PostgreSQL: the same migration as sqlite/V4__identify_turns.sql.
-- When each IDENTIFY rate-limit bucket last identified, so that a process started right after
-- another one died still waits out Discord's 5 s.
CREATE TABLE identify_turns (
    bucket BIGINT PRIMARY KEY,
    identified_at DOUBLE PRECISION NOT NULL     -- Unix time
);
