-- PostgreSQL: the same migration as sqlite/V14__review_log_learned.sql.
-- Whether a rating was given to a learned card; "Recalled (30 days)" counts only those.
ALTER TABLE review_log ADD COLUMN learned INTEGER;
