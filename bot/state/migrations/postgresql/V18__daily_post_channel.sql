-- PostgreSQL: the same migration as sqlite/V18__daily_post_channel.sql.
-- The channel a day's post was claimed for; NULL for posts claimed before this.
ALTER TABLE daily_posts ADD COLUMN channel_id BIGINT;
