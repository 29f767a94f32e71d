-- Stock and price are BIGINT because the contract's amounts are 64-bit. The
-- named CHECK constraints are the last line of defence: whatever a request
-- races with, the database refuses a negative stock, and the service reads the
-- constraint name to answer "not enough stock".
CREATE TABLE items (
    id    TEXT   PRIMARY KEY,
    stock BIGINT NOT NULL DEFAULT 0 CONSTRAINT items_stock_not_negative CHECK (stock >= 0),
    price BIGINT NOT NULL           CONSTRAINT items_price_not_negative CHECK (price >= 0)
);
