-- PostgreSQL: the same migration as sqlite/V9__daily_post_not_sent.sql.
-- 1: a failed term of the day that surely did not appear, so an admin's fix may send it once.
ALTER TABLE daily_posts ADD COLUMN not_sent INTEGER NOT NULL DEFAULT 0;
