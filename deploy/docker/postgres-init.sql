-- Run once by the postgres image on an empty volume
-- (/docker-entrypoint-initdb.d): one role per service, each owning only its
-- own database, none of them a superuser. The services connect as these; the
-- image's superuser is for the operator alone. Development passwords for a
-- throwaway local stack, like every credential in docker-compose.yml.
CREATE ROLE webshop_order LOGIN PASSWORD 'dev-only-order';
CREATE ROLE webshop_stock LOGIN PASSWORD 'dev-only-stock';
CREATE ROLE webshop_payment LOGIN PASSWORD 'dev-only-payment';

CREATE DATABASE order_db OWNER webshop_order;
CREATE DATABASE stock_db OWNER webshop_stock;
CREATE DATABASE payment_db OWNER webshop_payment;

-- Every role may connect to every database by default; only the owner may here.
REVOKE ALL ON DATABASE order_db, stock_db, payment_db FROM PUBLIC;
