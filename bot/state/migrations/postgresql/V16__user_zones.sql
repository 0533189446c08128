-- PostgreSQL: the same migration as sqlite/V16__user_zones.sql.
CREATE TABLE user_zones (
    user_id BIGINT PRIMARY KEY,
    zone TEXT NOT NULL
);
