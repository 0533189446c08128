-- A term of the day's row is keyed by its local day *and the time zone it is a day in*. Keyed by
-- the day alone, a server that moved its zone west found its new zone's day taken by the old
-- zone's post of the same date (Tokyo's 2 June went out on 1 June in Los Angeles), and Los
-- Angeles's 2 June got no post. Rows from before take the server's zone now, the best guess
-- there is: the day a server posted in the zone it still has keeps its one post.
-- SQLite cannot change a primary key in place: the table is copied, columns in the same order.
CREATE TABLE daily_posts_v11 (
    guild_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    term TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    claimed_at TEXT,
    not_sent INTEGER NOT NULL DEFAULT 0,
    zone TEXT NOT NULL,
    PRIMARY KEY (guild_id, day, zone)
);
INSERT INTO daily_posts_v11 (guild_id, day, term, status, updated_at, claimed_at, not_sent, zone)
    SELECT p.guild_id, p.day, p.term, p.status, p.updated_at, p.claimed_at, p.not_sent,
           coalesce((SELECT g.timezone FROM guild_config g WHERE g.guild_id = p.guild_id), 'UTC')
    FROM daily_posts p;
DROP TABLE daily_posts;
ALTER TABLE daily_posts_v11 RENAME TO daily_posts;
