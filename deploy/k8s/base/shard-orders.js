// Shards the orders collection by hashed _id and creates the order service's
// own user (readWrite on its database only). deploy.sh runs it on every
// deploy, so every step is a no-op when already done. Sharding needs the
// enableSharding action, which the service's user lacks: the service only
// checks at start-up that this was done (and exits naming the step if not).
db.getSiblingDB('admin').auth('root', process.env.MONGODB_ROOT_PASSWORD);

const dbName = process.env.ORDERS_DB;
const ns = `${dbName}.${process.env.ORDERS_COLLECTION}`;
// The key the order service checks for (services/order/src/storage/mongo/
// sharding.rs). A hashed _id spreads orders evenly over the shards whatever
// their ids look like ("0".."n-1" from batch_init, or UUIDs), and a lookup by
// id still goes to exactly one shard.
const key = { _id: 'hashed' };

sh.enableSharding(dbName);
const existing = db.getSiblingDB('config').collections
  .findOne({ _id: ns, unsplittable: { $ne: true }, dropped: { $ne: true } });
if (existing === null) {
  sh.shardCollection(ns, key);
} else if (JSON.stringify(existing.key) !== JSON.stringify(key)) {
  // Fail the Job rather than leave the service to refuse to start.
  throw new Error(`${ns} is sharded by ${JSON.stringify(existing.key)}, not ${JSON.stringify(key)}: ` +
    'reshard it (reshardCollection) or drop it, then deploy again');
}

const orders = db.getSiblingDB(dbName);
const password = process.env.MONGODB_APP_PASSWORD;
if (orders.getUser('webshop') === null) {
  orders.createUser({ user: 'webshop', pwd: password, roles: [{ role: 'readWrite', db: dbName }] });
} else {
  orders.updateUser('webshop', { pwd: password });
}
print(`${ns} is sharded by hashed _id; user webshop is ready`);
