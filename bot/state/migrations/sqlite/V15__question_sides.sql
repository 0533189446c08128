-- The entries a reply set side by side ("lora vs qlora": LoRA, QLoRA), as a JSON list in the
-- order shown; NULL for a reply about one entry (answer_term) or none. A 👍 on such a reply
-- confirms every one of them, and `feedback export` expects them all. Questions logged before
-- are unknown (NULL) and export as they did.
ALTER TABLE questions ADD COLUMN sides TEXT;
