-- When each term of the day was claimed (UTC, ISO), so that a server that changes its time zone
-- is not posted to twice in one local day: its earlier post's `day` is a date in the old zone.
ALTER TABLE daily_posts ADD COLUMN claimed_at TEXT;
