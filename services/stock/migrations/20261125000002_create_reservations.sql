-- What each checkout saga took, so that a failed payment gives back exactly
-- that, once. `released_at` is set by the compensation.
CREATE TABLE reservations (
    saga_id     UUID        PRIMARY KEY,
    order_id    TEXT        NOT NULL,
    lines       JSONB       NOT NULL,
    reserved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_at TIMESTAMPTZ
);
