-- One checkout as one PostgreSQL transaction (pgbench script): lock the
-- order, take its items in id order (two checkouts never deadlock), take the
-- credit, mark it paid; all or nothing. A paid order changes nothing.
SELECT ((nextval('next_order') - 1) % :scale)::text AS id \gset
BEGIN;
SELECT user_id, item_a, item_b, total_cost, paid::int AS paid FROM orders WHERE id = :id FOR UPDATE \gset
\if :paid
ROLLBACK;
\else
UPDATE items SET stock = stock - CASE WHEN :item_a::text = :item_b::text THEN 2 ELSE 1 END
    WHERE id = least(:item_a::text, :item_b::text);
UPDATE items SET stock = stock - 1
    WHERE id = greatest(:item_a::text, :item_b::text) AND :item_a::text <> :item_b::text;
UPDATE users SET credit = credit - :total_cost WHERE id = :user_id;
UPDATE orders SET paid = TRUE WHERE id = :id;
COMMIT;
\endif
