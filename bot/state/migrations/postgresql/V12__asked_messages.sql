-- PostgreSQL: the same migration as sqlite/V12__asked_messages.sql, with 64-bit ids.
-- What the study cog said to each recent question, so that a restart does not forget it; rows
-- expire with the edit window.
CREATE TABLE asked_messages (
    message_id BIGINT PRIMARY KEY,
    author_id BIGINT NOT NULL,
    question TEXT NOT NULL,
    mentioned BIGINT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    counted BIGINT NOT NULL,
    reply_id BIGINT,
    question_id BIGINT,
    reanswers BIGINT NOT NULL,
    look TEXT,
    searches BIGINT NOT NULL,
    stopped BIGINT NOT NULL,
    used_by_others BIGINT NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX asked_messages_expires ON asked_messages (expires);
CREATE INDEX asked_messages_author ON asked_messages (author_id);
