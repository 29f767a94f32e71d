-- Events waiting to be published, written in the same transaction as the
-- state change they describe. A row lives from commit until the broker has
-- confirmed the message, so the table stays small under any load.
--
-- `position` orders the events of one aggregate as they were committed; the
-- relay only ever takes the oldest waiting event of each aggregate.
CREATE TABLE outbox (
    position       BIGSERIAL   PRIMARY KEY,
    message_id     UUID        NOT NULL UNIQUE,
    exchange       TEXT        NOT NULL,
    routing_key    TEXT        NOT NULL,
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    payload        JSONB       NOT NULL,
    traceparent    TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX outbox_aggregate_position ON outbox (aggregate_id, position);
