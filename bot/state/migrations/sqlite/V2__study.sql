-- Study mode (issue 12): review cards scheduled by FSRS, quiz points, active days, rounds,
-- reminders, and the per-server settings for them. Times are UTC ISO-8601 text.

ALTER TABLE guild_config ADD COLUMN daily_quiz INTEGER NOT NULL DEFAULT 0;
ALTER TABLE guild_config ADD COLUMN quiz_role_id INTEGER;
ALTER TABLE guild_config ADD COLUMN champion_role_id INTEGER;
ALTER TABLE guild_config ADD COLUMN champion_month TEXT;
ALTER TABLE guild_config ADD COLUMN champion_user_id INTEGER;

-- One card per user per term; the FSRS memory state lives in its columns. A user's deck is
-- the same in every server and in DMs.
CREATE TABLE review_cards (
    card_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    term TEXT NOT NULL,
    fsrs_state INTEGER NOT NULL,
    step INTEGER,
    stability REAL,
    difficulty REAL,
    due TEXT NOT NULL,
    last_review TEXT,
    reviews INTEGER NOT NULL DEFAULT 0,
    lapses INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    UNIQUE (user_id, term)
);
CREATE INDEX review_cards_due ON review_cards (user_id, due);

CREATE TABLE review_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,  -- 0: in a DM or the console
    term TEXT NOT NULL,
    rating INTEGER NOT NULL,
    reviewed_at TEXT NOT NULL
);
CREATE INDEX review_log_user ON review_log (user_id, reviewed_at);

CREATE TABLE review_reminders (
    user_id INTEGER PRIMARY KEY,
    enabled INTEGER NOT NULL,
    last_sent_day TEXT
);

-- Every scored quiz answer; `ref` names the question so that one cannot score twice.
CREATE TABLE quiz_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    ref TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    correct INTEGER NOT NULL,
    points INTEGER NOT NULL,
    UNIQUE (guild_id, user_id, ref)
);
CREATE INDEX quiz_answers_board ON quiz_answers (guild_id, answered_at);

-- A day counts towards a streak when the user answered a quiz or reviewed a card there.
CREATE TABLE active_days (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, day)
);

-- A quiz round in a channel; its questions are fixed when it starts, so it can resume.
CREATE TABLE quiz_rounds (
    round_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    started_by INTEGER NOT NULL,
    questions TEXT NOT NULL,       -- JSON: [[kind, answer term, [option terms]], ...]
    seconds INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    message_id INTEGER,            -- the open question's message
    opened_at TEXT,                -- when the open question was posted
    status TEXT NOT NULL,          -- running | finished | cancelled
    started_at TEXT NOT NULL
);
CREATE UNIQUE INDEX quiz_rounds_one_per_channel ON quiz_rounds (channel_id) WHERE status = 'running';
