-- The replicas consuming each saga stream, and the partitions each holds:
-- how a stream's partitions are spread over the live replicas (see
-- idempotency::membership). One row a replica, rewritten every beat. The
-- rewrites change no indexed column, so they are HOT updates that PostgreSQL
-- prunes within the page as it goes: the table stays a page or two with
-- autovacuum off.
CREATE TABLE consumer_members (
    stream  TEXT        NOT NULL,
    member  TEXT        NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    held    SMALLINT[]  NOT NULL,
    PRIMARY KEY (stream, member)
) WITH (fillfactor = 50);
