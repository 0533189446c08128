-- /quiz-stop (and a round's Stop button): who stopped a round. Set while the round is still
-- 'running', so its driver (after a restart too) closes the open question and posts the
-- summary, then marks it 'stopped'. NULL: nobody stopped it; 0: the stopper ran /forget-me.
ALTER TABLE quiz_rounds ADD COLUMN stopped_by INTEGER;
