-- PostgreSQL: the same migration as sqlite/V6__round_stops.sql.
-- Who stopped a quiz round (NULL: nobody; 0: the stopper ran /forget-me).
ALTER TABLE quiz_rounds ADD COLUMN stopped_by BIGINT;
