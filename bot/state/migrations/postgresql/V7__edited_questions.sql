-- PostgreSQL: the same migration as sqlite/V7__edited_questions.sql.
-- Edited questions: the earlier row of an edited question stays (with its votes) and names
-- the row logged for the new text, so reports count the question once.
ALTER TABLE questions ADD COLUMN replaced_by BIGINT;
