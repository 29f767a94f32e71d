-- Each of the floor's three databases (order, stock, payment): the one row a
-- step changes, its outbox and its inbox, with the keys the services' own
-- tables have. An order's `balance` counts its steps (start, then finish);
-- an item's stock and a user's credit fall by one a checkout.
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    balance bigint NOT NULL CHECK (balance >= 0)
);
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL,
    payload jsonb NOT NULL
);
CREATE TABLE inbox (
    message_id uuid PRIMARY KEY
);
