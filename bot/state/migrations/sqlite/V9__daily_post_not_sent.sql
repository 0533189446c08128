-- A failed term of the day that surely did not appear: Discord refused it (403, 404 and the
-- like) or its term was gone. When an admin then fixes the channel, that day's term may go out
-- after all, once. 0 (every row before this, and a post interrupted mid-send, which may have
-- reached Discord): the day stays done, at most one post a day.
ALTER TABLE daily_posts ADD COLUMN not_sent INTEGER NOT NULL DEFAULT 0;
