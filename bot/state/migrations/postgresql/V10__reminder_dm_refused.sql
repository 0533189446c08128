-- PostgreSQL: the same migration as sqlite/V10__reminder_dm_refused.sql.
-- A review reminder Discord refuses to deliver (403, code 50007) turns the user's reminders off;
-- the time it was refused is kept until their next /review command tells them so.
ALTER TABLE review_reminders ADD COLUMN dm_refused_at TEXT;
