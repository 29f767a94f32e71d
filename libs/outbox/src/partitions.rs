//! A saga stream split into partitions, so that every replica of a service
//! can consume a share of it.
//!
//! An event's partition is `crc32(aggregate id) mod N`: every event of one
//! order lands in one partition, whose queue has a single active consumer,
//! so one order's events are still applied in the order they were sent. The
//! routing key carries the partition (`checkout.requested.3`) and each
//! partition's queue is bound with plain topic bindings, so any RabbitMQ,
//! 3.x or 4.x, routes it with no plugin, and anyone who knows N can tell
//! where an order's events go. Every process must be given the same N:
//! a publisher with another N sends an order's events to another queue.
use std::fmt;
use std::num::NonZeroU16;
use std::str::FromStr;

/// The zlib CRC-32, the one `zlib.crc32`, `java.util.zip.CRC32` and
/// `crc32` in PostgreSQL's extensions compute.
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// How many partitions each saga stream has: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Partitions(NonZeroU16);

/// One partition of a stream, below [`Partitions::count`].
pub type Partition = u16;

impl Partitions {
    pub const fn new(count: NonZeroU16) -> Self {
        Partitions(count)
    }

    pub fn count(self) -> u16 {
        self.0.get()
    }

    /// Every partition, in order.
    pub fn all(self) -> impl Iterator<Item = Partition> {
        0..self.count()
    }

    /// The partition of an aggregate's events.
    pub fn of(self, aggregate_id: &str) -> Partition {
        (CRC32.checksum(aggregate_id.as_bytes()) % u32::from(self.count())) as Partition
    }

    /// The routing key an event of `aggregate_id` is published with.
    pub fn routing_key(self, routing_key: &str, aggregate_id: &str) -> String {
        partitioned(routing_key, self.of(aggregate_id))
    }
}

/// `name` of one partition: a routing key or a queue's name with the
/// partition appended.
pub fn partitioned(name: &str, partition: Partition) -> String {
    format!("{name}.{partition}")
}

impl FromStr for Partitions {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<NonZeroU16>()
            .map(Partitions)
            .map_err(|_| format!("a whole number from 1 to {}", u16::MAX))
    }
}

impl fmt::Display for Partitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eight() -> Partitions {
        "8".parse().expect("8 partitions")
    }

    #[test]
    fn the_partition_is_the_zlib_crc32_of_the_id_modulo_n() {
        // zlib.crc32(b"order-1") == 0xe0b37fef, as Python prints it.
        assert_eq!(CRC32.checksum(b"order-1"), 0xe0b3_7fef);
        assert_eq!(eight().of("order-1"), (0xe0b3_7fefu32 % 8) as u16);
    }

    #[test]
    fn every_event_of_an_order_has_one_routing_key_suffix() {
        let n = eight();

        let requested = n.routing_key("checkout.requested", "o-42");
        let failed = n.routing_key("payment.failed", "o-42");

        let p = n.of("o-42");
        assert_eq!(requested, format!("checkout.requested.{p}"));
        assert_eq!(failed, format!("payment.failed.{p}"));
    }

    #[test]
    fn ids_spread_over_every_partition() {
        let n = eight();
        let mut counts = [0u32; 8];
        for i in 0..8000 {
            counts[usize::from(n.of(&format!("order-{i}")))] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }

    #[test]
    fn zero_partitions_are_refused() {
        assert!("0".parse::<Partitions>().is_err());
        assert!("x".parse::<Partitions>().is_err());
        assert_eq!(eight().all().collect::<Vec<_>>(), (0..8).collect::<Vec<_>>());
    }
}
