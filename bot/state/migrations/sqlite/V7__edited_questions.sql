-- Edited questions: a study-channel question edited within minutes is answered again, and
-- the new text is logged as a question of its own. The earlier row stays (votes cast on
-- its answer stay with it) and names the row that replaced it, so reports count the
-- question once. No foreign key: a row refers to a newer row of its own table, which a
-- copy in id order (state migrate) would insert after it.
ALTER TABLE questions ADD COLUMN replaced_by INTEGER;
