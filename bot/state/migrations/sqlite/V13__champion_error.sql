-- Why the champion role could not be given, kept apart from `last_error`, which is the term of the
-- day's: sharing it, the next good daily post (or a new daily channel) wiped the champion role's
-- failure a few hours after it, and the admin never learnt why nobody held the role. It is cleared
-- only by a crowning that works or by setting the champion role again. An error of the champion
-- role's kept as the last error before moves here, without its "champion role: " prefix.
ALTER TABLE guild_config ADD COLUMN champion_error TEXT;
UPDATE guild_config SET champion_error = substr(last_error, 16), last_error = NULL
    WHERE last_error LIKE 'champion role: %';
