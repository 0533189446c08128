-- PostgreSQL: the same migration as sqlite/V8__reminder_sent_at.sql.
-- Review reminders at most one per 24 hours, not one per UTC date: the time the last one went,
-- not its day; a day stored before this keeps the day's first second (see the SQLite file).
ALTER TABLE review_reminders RENAME COLUMN last_sent_day TO last_sent_at;
UPDATE review_reminders SET last_sent_at = last_sent_at || 'T00:00:00+00:00' WHERE last_sent_at IS NOT NULL;
