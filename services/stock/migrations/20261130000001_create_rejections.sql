-- One row per checkout saga that stock refused, with the reason. A saga
-- asked again (re-driven by the order service, or a replayed message) gets
-- the answer it got the first time, never a decision on today's stock: its
-- order may have been failed on that first refusal.
CREATE TABLE rejections (
    saga_id     UUID        PRIMARY KEY,
    order_id    TEXT        NOT NULL,
    reason      TEXT        NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
