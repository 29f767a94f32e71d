-- When the running saga was last driven: started, or driven again by the
-- watchdog. A saga still `checking_out` long after was stranded (an event
-- lost, parked or never published) and is driven again from its start;
-- every step answers a saga it has seen with the answer it gave.
ALTER TABLE orders ADD COLUMN saga_driven_at TIMESTAMPTZ;

CREATE INDEX orders_checking_out ON orders (saga_driven_at) WHERE status = 'checking_out';
