-- The ceiling reference for `make bench`: the three services' tables in one
-- database, shaped like theirs (text ids, the same CHECK constraints, orders
-- of two items of quantity one, as batch_init makes them), so one local
-- transaction does the same checkout the saga does with events.
-- Run by psql with `-v scale=N`.
CREATE TABLE items (
    id text PRIMARY KEY,
    stock bigint NOT NULL CONSTRAINT stock_not_negative CHECK (stock >= 0),
    price bigint NOT NULL
);
CREATE TABLE users (
    id text PRIMARY KEY,
    credit bigint NOT NULL CONSTRAINT credit_not_negative CHECK (credit >= 0)
);
CREATE TABLE orders (
    id text PRIMARY KEY,
    user_id text NOT NULL,
    item_a text NOT NULL,
    item_b text NOT NULL,
    total_cost bigint NOT NULL,
    paid boolean NOT NULL DEFAULT FALSE
);
-- Hands each checkout the next order, as the saga's stress clients do.
CREATE SEQUENCE next_order;

INSERT INTO items SELECT i::text, 1000000000, 1 FROM generate_series(0, :scale - 1) AS i;
INSERT INTO users SELECT i::text, 1000000000 FROM generate_series(0, :scale - 1) AS i;
INSERT INTO orders
SELECT i::text,
       floor(random() * :scale)::bigint::text,
       floor(random() * :scale)::bigint::text,
       floor(random() * :scale)::bigint::text,
       2,
       FALSE
FROM generate_series(0, :scale - 1) AS i;
VACUUM ANALYZE;
