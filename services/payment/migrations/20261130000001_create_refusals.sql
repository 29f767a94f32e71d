-- One row per checkout saga whose charge was refused, with the reason. A
-- saga asked again (re-driven by the order service, or a replayed message)
-- gets the answer it got the first time, never a decision on today's credit:
-- its stock was given back on that first refusal.
CREATE TABLE refusals (
    saga_id    UUID        PRIMARY KEY,
    order_id   TEXT        NOT NULL,
    reason     TEXT        NOT NULL,
    refused_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
