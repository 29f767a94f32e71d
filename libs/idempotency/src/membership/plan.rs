//! The assignment rule, without I/O.
use std::collections::BTreeSet;

use outbox::{Partition, Partitions};

use super::Member;

/// What a member does after a beat.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Held and no longer assigned to it: let go after the current batch.
    pub release: Vec<Partition>,
    /// Assigned to it, not held, and held by no other live member: take.
    pub acquire: Vec<Partition>,
}

/// The partitions assigned to `me` among `me` and `others`: partition p goes
/// to the member numbered p mod m, members numbered in the order of their ids.
pub fn assigned(me: &str, others: &[Member], partitions: Partitions) -> BTreeSet<Partition> {
    let mut members: Vec<&str> = others.iter().map(|m| m.id.as_str()).collect();
    members.push(me);
    members.sort_unstable();
    members.dedup();
    let count = members.len();
    let index = members.iter().position(|m| *m == me).unwrap_or_default();
    partitions
        .all()
        .filter(|p| usize::from(*p) % count == index)
        .collect()
}

/// What `me`, holding `held`, does once it has read the `others`.
pub fn plan(me: &str, held: &BTreeSet<Partition>, others: &[Member], partitions: Partitions) -> Plan {
    let mine = assigned(me, others, partitions);
    let taken: BTreeSet<Partition> = others.iter().flat_map(|m| m.held.iter().copied()).collect();
    Plan {
        release: held.difference(&mine).copied().collect(),
        acquire: mine
            .iter()
            .filter(|p| !held.contains(p) && !taken.contains(p))
            .copied()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(count: u16) -> Partitions {
        count.to_string().parse().expect("partitions")
    }

    fn member(id: &str, held: &[Partition]) -> Member {
        Member {
            id: id.into(),
            held: held.to_vec(),
        }
    }

    fn set(partitions: &[Partition]) -> BTreeSet<Partition> {
        partitions.iter().copied().collect()
    }

    #[test]
    fn alone_a_member_takes_every_partition() {
        let plan = plan("a", &set(&[]), &[], n(8));

        assert_eq!(plan.acquire, (0..8).collect::<Vec<_>>());
        assert!(plan.release.is_empty());
    }

    #[test]
    fn eight_partitions_on_two_members_are_four_each() {
        let others = [member("b", &[])];

        assert_eq!(assigned("a", &others, n(8)), set(&[0, 2, 4, 6]));
        assert_eq!(assigned("b", &[member("a", &[])], n(8)), set(&[1, 3, 5, 7]));
    }

    #[test]
    fn a_member_that_joins_waits_until_the_holder_let_go() {
        let holder = member("a", &[0, 1, 2, 3, 4, 5, 6, 7]);

        let joiner = plan("b", &set(&[]), &[holder], n(8));

        assert!(joiner.acquire.is_empty(), "{joiner:?}");
    }

    #[test]
    fn the_holder_lets_go_of_what_is_assigned_to_the_member_that_joined() {
        let all = set(&[0, 1, 2, 3, 4, 5, 6, 7]);

        let holder = plan("a", &all, &[member("b", &[])], n(8));

        assert_eq!(holder.release, [1, 3, 5, 7]);
        assert!(holder.acquire.is_empty());
    }

    #[test]
    fn the_partitions_of_a_member_gone_silent_are_taken_by_the_rest() {
        // "b" is no longer among the live members the beat returned.
        let survivor = plan("a", &set(&[0, 2, 4, 6]), &[], n(8));

        assert_eq!(survivor.acquire, [1, 3, 5, 7]);
    }

    #[test]
    fn three_members_share_eight_as_three_three_two() {
        let ids = ["a", "b", "c"];
        let sizes: Vec<usize> = ids
            .iter()
            .map(|me| {
                let others: Vec<Member> = ids.iter().filter(|o| *o != me).map(|o| member(o, &[])).collect();
                assigned(me, &others, n(8)).len()
            })
            .collect();

        assert_eq!(sizes, [3, 3, 2]);
    }

    #[test]
    fn a_partition_two_members_hold_stays_with_the_one_it_is_assigned_to() {
        // "a" was paused past its lease; "b" took partition 2, then "a" came back.
        let a = plan("a", &set(&[0, 2]), &[member("b", &[1, 2, 3])], n(4));
        let b = plan("b", &set(&[1, 2, 3]), &[member("a", &[0, 2])], n(4));

        assert!(a.release.is_empty(), "{a:?}");
        assert_eq!(b.release, [2]);
    }
}
