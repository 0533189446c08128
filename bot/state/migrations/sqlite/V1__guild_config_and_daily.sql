-- Release 0.1.0: per-server settings and the term of the day.
-- IF NOT EXISTS: a database made by 0.1.0 (before migrations were numbered) already has these.
CREATE TABLE IF NOT EXISTS guild_config (
    guild_id INTEGER PRIMARY KEY,
    study_channels TEXT NOT NULL DEFAULT '[]',
    daily_channel_id INTEGER,
    daily_time TEXT NOT NULL DEFAULT '09:00',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    daily_enabled INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS daily_order (
    guild_id INTEGER PRIMARY KEY,
    cycle INTEGER NOT NULL,
    terms TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_posts (
    guild_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    term TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, day)
);
