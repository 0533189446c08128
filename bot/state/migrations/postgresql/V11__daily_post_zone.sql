-- PostgreSQL: the same migration as sqlite/V11__daily_post_zone.sql.
-- A term of the day's row is keyed by its local day and the time zone it is a day in, so that a
-- server that moved its zone west gets its new zone's day that bears the old zone's last date.
ALTER TABLE daily_posts ADD COLUMN zone TEXT NOT NULL DEFAULT 'UTC';
UPDATE daily_posts p SET zone = g.timezone FROM guild_config g WHERE g.guild_id = p.guild_id;
ALTER TABLE daily_posts ALTER COLUMN zone DROP DEFAULT;
ALTER TABLE daily_posts DROP CONSTRAINT daily_posts_pkey;
ALTER TABLE daily_posts ADD PRIMARY KEY (guild_id, day, zone);
