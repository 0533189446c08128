-- A user's own time zone (`/review timezone`), an IANA name as daily.zone_name stores it. Their
-- days (streaks, the day's scored quiz questions, "due today") are that zone's dates, and review
-- reminders reach them only in its daytime. Without a row a user's days are their server's,
-- or UTC's where there is none (a DM). /forget-me deletes the row (study.USER_TABLES).
CREATE TABLE user_zones (
    user_id INTEGER PRIMARY KEY,
    zone TEXT NOT NULL
);
