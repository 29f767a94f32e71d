-- The checkout saga's state on the order. `paid` stays, as the contract's
-- `find` answers it, and is true exactly when status is 'paid'.
--   open          items may be added; checkout may start
--   checking_out  a saga runs (saga_id); items are frozen
--   paid          final
--   failed        the last saga failed (failure_reason); may be retried
ALTER TABLE orders
    ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
        CONSTRAINT orders_status_known CHECK (status IN ('open', 'checking_out', 'paid', 'failed')),
    ADD COLUMN saga_id UUID,
    ADD COLUMN failure_reason TEXT,
    ADD CONSTRAINT orders_paid_means_status_paid CHECK (paid = (status = 'paid'));

-- Every step of every saga, as the order service learnt of it, for
-- GET /orders/status/{order_id}.
CREATE TABLE saga_events (
    id          BIGSERIAL   PRIMARY KEY,
    order_id    TEXT        NOT NULL,
    saga_id     UUID        NOT NULL,
    service     TEXT        NOT NULL,
    event       TEXT        NOT NULL,
    detail      TEXT,
    occurred_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX saga_events_order ON saga_events (order_id, id);
