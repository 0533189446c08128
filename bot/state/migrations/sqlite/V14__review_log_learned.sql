-- Whether a rating was given to a learned card (past its learning steps): "Recalled (30 days)"
-- counts only those, as Anki's retention does, since "Again" on a card seen a minute ago for the
-- first time says nothing about what the learner remembers. Ratings logged before are unknown
-- (NULL) and still counted, as they were.
ALTER TABLE review_log ADD COLUMN learned INTEGER;
