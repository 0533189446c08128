-- PostgreSQL: the same migration as sqlite/V19__state_key.sql.
CREATE TABLE state_key (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    key_check TEXT NOT NULL
);
