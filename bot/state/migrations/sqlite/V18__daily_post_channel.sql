-- The channel a day's post was claimed for: a post in doubt after a restart (the bot stopped while
-- sending it) is looked for there, and only there. NULL for posts claimed before this.
ALTER TABLE daily_posts ADD COLUMN channel_id INTEGER;
