//! The engine's index of applied event ids: which entry of the log has a given id.
//!
//! Every `apply` looks its event's id up and, when it is new, adds it, while the index
//! keeps growing with the log. A map keyed by the id itself hashes the text twice per call
//! and, each time the table grows, reads every id again (one cache miss per applied event)
//! to rehash it. This index keys its table by the id's 64-bit hash, computed once per call
//! with a per-engine random seed (so hostile ids cannot aim at one bucket), and checks
//! the id itself in the log; growing the table then moves plain numbers. Two different ids
//! with the same hash (in practice never) are told apart by a map keyed by the text.

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::engine::HashMap;
use crate::input::Event;

/// Event id → its index in the log.
#[derive(Clone, Debug, Default)]
pub(super) struct Ids {
    seed: foldhash::fast::RandomState,
    /// Hash of an id → the index of the first logged event with that hash.
    by_hash: HashMap<u64, usize>,
    /// Ids whose hash a different, earlier id has.
    collided: HashMap<Arc<str>, usize>,
}

impl Ids {
    /// The hash the index files `id` under.
    pub(super) fn hash(&self, id: &str) -> u64 {
        self.seed.hash_one(id)
    }

    /// The index in `log` of the event with id `id` (of hash `h`), if any.
    pub(super) fn get(&self, log: &[Event], h: u64, id: &str) -> Option<usize> {
        match self.by_hash.get(&h) {
            Some(&j) if *log[j].id == *id => Some(j),
            Some(_) if !self.collided.is_empty() => self.collided.get(id).copied(),
            _ => None,
        }
    }

    /// Files `id` (of hash `h`) as the event at index `j` of `log`; an id filed already now
    /// points to `j`, as a map's insert does.
    pub(super) fn insert(&mut self, log: &[Event], h: u64, id: &Arc<str>, j: usize) {
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(j);
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if *log[*o.get()].id == **id {
                    o.insert(j);
                } else {
                    self.collided.insert(id.clone(), j);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Body, Event};

    fn event(id: &str) -> Event {
        Event {
            id: id.into(),
            at: crate::time::parse_instant("2026-01-15T12:00:00Z").expect("instant"),
            body: Body::Chargeback {
                payment: "p1".into(),
                currency: None,
            },
        }
    }

    /// Ids under the same hash (a collision, forced here by filing them under one) are
    /// told apart, and an id filed again points to its new place, as a map's would.
    #[test]
    fn collisions_and_refiling() {
        let log = vec![event("a"), event("b"), event("a")];
        let mut ids = Ids::default();
        ids.insert(&log, 7, &log[0].id, 0);
        assert_eq!(ids.get(&log, 7, "b"), None);
        ids.insert(&log, 7, &log[1].id, 1);
        assert_eq!(ids.get(&log, 7, "a"), Some(0));
        assert_eq!(ids.get(&log, 7, "b"), Some(1));
        assert_eq!(ids.get(&log, 8, "a"), None);
        ids.insert(&log, 7, &log[2].id, 2);
        assert_eq!(ids.get(&log, 7, "a"), Some(2));
        assert_eq!(ids.get(&log, 7, "b"), Some(1));
        let h = ids.hash("b");
        assert_eq!(h, ids.clone().hash("b"), "a clone files ids alike");
    }
}
