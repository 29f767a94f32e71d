-- Messages a consumer has applied, recorded in the same transaction as the
-- effect: a redelivered or republished message finds its row and is skipped.
-- Rows older than the retention (far longer than any redelivery) are pruned.
CREATE TABLE inbox (
    consumer     TEXT        NOT NULL,
    message_id   UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

CREATE INDEX inbox_processed_at ON inbox (processed_at);
