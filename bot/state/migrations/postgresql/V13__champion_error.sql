-- PostgreSQL: the same migration as sqlite/V13__champion_error.sql.
-- Why the champion role could not be given, kept apart from the term of the day's last_error.
ALTER TABLE guild_config ADD COLUMN champion_error TEXT;
UPDATE guild_config SET champion_error = substr(last_error, 16), last_error = NULL
    WHERE last_error LIKE 'champion role: %';
