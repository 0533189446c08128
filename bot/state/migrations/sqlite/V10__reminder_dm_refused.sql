-- A review reminder that Discord refuses to deliver (403, code 50007: the user's DMs are closed
-- to the bot, or they blocked it) turns that user's reminders off; the time it was refused is kept
-- until their next /review command tells them so (or they turn reminders on or off themselves).
-- Without it the bot tried, and failed, once a day for ever.
ALTER TABLE review_reminders ADD COLUMN dm_refused_at TEXT;
