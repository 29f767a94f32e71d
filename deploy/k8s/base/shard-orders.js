// Shards the orders collection by hashed _id and creates the order service's
// own user (readWrite on its database only). deploy.sh runs it on every
// deploy, so every step is a no-op when already done.
db.getSiblingDB('admin').auth('root', process.env.MONGODB_ROOT_PASSWORD);

const dbName = process.env.ORDERS_DB;
const ns = `${dbName}.${process.env.ORDERS_COLLECTION}`;

sh.enableSharding(dbName);
// A hashed _id spreads orders evenly over the shards whatever their ids look
// like ("0".."n-1" from batch_init, or UUIDs), and a lookup by id still goes
// to exactly one shard.
const sharded = db.getSiblingDB('config').collections
  .countDocuments({ _id: ns, unsplittable: { $ne: true } });
if (sharded === 0) {
  sh.shardCollection(ns, { _id: 'hashed' });
}

const orders = db.getSiblingDB(dbName);
const password = process.env.MONGODB_APP_PASSWORD;
if (orders.getUser('webshop') === null) {
  orders.createUser({ user: 'webshop', pwd: password, roles: [{ role: 'readWrite', db: dbName }] });
} else {
  orders.updateUser('webshop', { pwd: password });
}
print(`${ns} is sharded by hashed _id; user webshop is ready`);
