//! The future event list.
//!
//! Ordered by `(time, seq)` where `seq` is a global insertion counter, so
//! events at equal times pop first-in-first-out and a run is reproducible.
//! Kept behind this small type so the binary heap can be swapped for a
//! calendar or ladder queue if benchmarks ever call for it.
//!
//! `seq` is 32 bits, so that an entry (time, seq, a 12-byte event) packs
//! into 24 bytes instead of 32: the heap moves entries on every push and
//! pop, and that traffic is a good part of the engine's time. Before the
//! counter would wrap, the pending entries are renumbered 0..n in their
//! current order, which keeps the order exact; it happens once per four
//! billion events and costs one sort of what is pending.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    seq: u32,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest entry.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A priority queue of events keyed by simulated time with FIFO tie-breaking.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u32,
    /// Renumber when `seq` reaches this (`u32::MAX`; lower in tests).
    limit: u32,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_renumber_limit(u32::MAX)
    }

    fn with_renumber_limit(limit: u32) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            limit,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        if self.seq == self.limit {
            self.renumber();
        }
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Gives the pending entries the sequence numbers 0..n in their
    /// current order, so the counter can go on without wrapping.
    #[cold]
    fn renumber(&mut self) {
        // Ascending `Ord` is latest first (the order is reversed for the
        // max-heap); renumber from the earliest.
        let mut entries = std::mem::take(&mut self.heap).into_sorted_vec();
        entries.reverse();
        for (i, e) in entries.iter_mut().enumerate() {
            e.seq = i as u32;
        }
        self.seq = entries.len() as u32;
        assert!(
            self.seq < self.limit,
            "more than {} events pending at once",
            self.limit
        );
        self.heap = BinaryHeap::from(entries);
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_on_ties() {
        let mut q = EventQueue::new();
        q.push(5, 'a');
        q.push(1, 'b');
        q.push(5, 'c');
        q.push(3, 'd');
        q.push(5, 'e');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c', 'e']);
    }

    #[test]
    fn renumbering_keeps_fifo_order_across_the_counter_limit() {
        // A limit of 32 forces several renumberings; ties at time 10 must
        // still pop in insertion order, interleaved with other times.
        let mut q = EventQueue::with_renumber_limit(32);
        let mut expected = Vec::new();
        for i in 0..90u32 {
            let t = if i % 3 == 0 {
                10
            } else {
                20 + u64::from(i % 5)
            };
            q.push(t, i);
            expected.push((t, i));
            if i % 4 != 0 {
                // Pop one now and then so the pending set changes.
                expected.sort_by_key(|&(t, i)| (t, i));
                let (et, ei) = expected.remove(0);
                assert_eq!(q.pop(), Some((et, ei)));
            }
        }
        expected.sort_by_key(|&(t, i)| (t, i));
        let rest: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, expected);
    }
}
