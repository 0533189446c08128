-- Which key the users' hashes are made with (GLOSSARY_HASH_KEY, or state.db.key beside an SQLite
-- file): a keyed hash of a constant, never the key itself (feedback.key_check). A bot started with
-- another key would file every member under a new hash, their earlier questions and votes out of
-- /forget-me's reach (QA75): it is refused at start instead. One row, written by the first start.
CREATE TABLE state_key (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    key_check TEXT NOT NULL
);
