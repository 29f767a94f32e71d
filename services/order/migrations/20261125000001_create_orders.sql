-- The lines of an order are a JSON array of [item_id, quantity] pairs, in the
-- order they were added: exactly the shape the contract's `find` answers, one
-- row per order so `batch_init` writes 100 000 orders as 100 000 rows, and the
-- same document the MongoDB store keeps. A line's item may repeat; checkout
-- sums quantities per item.
CREATE TABLE orders (
    id         TEXT        PRIMARY KEY,
    user_id    TEXT        NOT NULL,
    paid       BOOLEAN     NOT NULL DEFAULT FALSE,
    items      JSONB       NOT NULL DEFAULT '[]'::jsonb,
    total_cost BIGINT      NOT NULL DEFAULT 0 CONSTRAINT orders_total_cost_not_negative CHECK (total_cost >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
