-- One row per charged checkout saga: what was taken from whom, and when.
CREATE TABLE payments (
    saga_id    UUID        PRIMARY KEY,
    order_id   TEXT        NOT NULL,
    user_id    TEXT        NOT NULL,
    amount     BIGINT      NOT NULL,
    charged_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
