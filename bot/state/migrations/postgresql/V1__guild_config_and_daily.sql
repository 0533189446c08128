-- PostgreSQL: the same migration as sqlite/V1__guild_config_and_daily.sql, with 64-bit ids.
-- Release 0.1.0: per-server settings and the term of the day.
-- IF NOT EXISTS: a database made by 0.1.0 (before migrations were numbered) already has these.
CREATE TABLE IF NOT EXISTS guild_config (
    guild_id BIGINT PRIMARY KEY,
    study_channels TEXT NOT NULL DEFAULT '[]',
    daily_channel_id BIGINT,
    daily_time TEXT NOT NULL DEFAULT '09:00',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    daily_enabled BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS daily_order (
    guild_id BIGINT PRIMARY KEY,
    cycle BIGINT NOT NULL,
    terms TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_posts (
    guild_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    term TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, day)
);
