-- PostgreSQL: the same migration as sqlite/V15__question_sides.sql.
-- The entries a reply set side by side, as a JSON list in the order shown; NULL for one or none.
ALTER TABLE questions ADD COLUMN sides TEXT;
