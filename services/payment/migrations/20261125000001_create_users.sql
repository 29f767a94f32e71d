-- Credit is BIGINT because the contract's amounts are 64-bit. The named CHECK
-- constraint is what keeps credit from going below zero under any race; the
-- service reads its name to answer "not enough credit".
CREATE TABLE users (
    id     TEXT   PRIMARY KEY,
    credit BIGINT NOT NULL DEFAULT 0 CONSTRAINT users_credit_not_negative CHECK (credit >= 0)
);
