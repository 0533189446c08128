-- Review reminders at most one per 24 hours, not one per UTC date (which let one go at 23:59 and
-- the next at 00:00): the time the last one went, not its day. A day stored before this keeps
-- the day's first second: the old rule (one a UTC date) holds across the upgrade, where its last
-- second kept the upgrade day's reminder from anyone reminded the day before (QA69).
ALTER TABLE review_reminders RENAME COLUMN last_sent_day TO last_sent_at;
UPDATE review_reminders SET last_sent_at = last_sent_at || 'T00:00:00+00:00' WHERE last_sent_at IS NOT NULL;
