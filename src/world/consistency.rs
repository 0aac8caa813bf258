//! Copies of data kept eventually consistent by events: versions per
//! item, inconsistency windows and stale reads.
//!
//! The owner's write of an item bumps its version and travels as an event
//! carrying (item, version). A copy keeps, per item, the version it
//! applied and when. When a subscription's handler succeeds for such an
//! event (the first time per event and copy), the copy applies the version
//! if it is newer, and the write's inconsistency window is recorded: from
//! the write to the copy holding that version or a newer one (if a newer
//! one got there first, the window ended when it was applied). A read of
//! the copy is stale when the owner's version of the item is newer than
//! the copy's.
//!
//! Writes count by the time they were made (after the warm-up), reads by
//! the time they were done; each also falls "during faults" when some
//! fault's effect window `[at, effect_until)` contains that time.

use super::World;
use crate::engine::{rng, SimTime, Stream};
use crate::metrics::latency::LatencyStats;
use crate::metrics::messaging::{ConsistencyPeriod, CopySummary, CopyWindow};
use crate::model::messaging::{CopyId, DataId};
use crate::model::Model;
use indexmap::IndexMap;
use rand::RngExt;

/// Counts of one copy over one period (all, outside or during faults).
#[derive(Debug, Clone, Default)]
pub struct PeriodCounts {
    /// Writes of the owner.
    pub writes: u64,
    /// Of those, writes the copy caught up with.
    pub converged: u64,
    /// Their inconsistency windows.
    pub window: LatencyStats,
    /// Reads of the copy.
    pub reads: u64,
    /// Of those, stale.
    pub stale_reads: u64,
}

impl PeriodCounts {
    fn summary(&self) -> ConsistencyPeriod {
        ConsistencyPeriod {
            writes: self.writes,
            converged: self.converged,
            unconverged: self.writes - self.converged,
            window_ms: self.window.summary(),
            reads: self.reads,
            stale_reads: self.stale_reads,
            stale_read_rate: (self.reads > 0).then(|| self.stale_reads as f64 / self.reads as f64),
        }
    }
}

/// A data set's owner side.
#[derive(Debug, Clone)]
pub struct DataState {
    /// Per item: the owner's version (0: never written).
    pub versions: Vec<u32>,
    /// Which item each write picks (`data/NAME/writes`).
    pub rng: Stream,
}

/// One copy's state and meters.
#[derive(Debug, Clone)]
pub struct CopyState {
    /// Per item: the version the copy holds.
    pub applied: Vec<u32>,
    /// Per item: when the copy applied it.
    pub applied_at: Vec<SimTime>,
    /// Which item each read picks (`data/NAME@HOLDER/reads`).
    pub rng: Stream,
    /// The measured period.
    pub all: PeriodCounts,
    /// Writes and reads while no fault's effect lasted (with faults).
    pub outside: PeriodCounts,
    /// Writes and reads while some fault's effect lasted (with faults).
    pub during: PeriodCounts,
    /// Writes caught up with in the current window.
    pub win_converged: u64,
    /// Their windows (2 significant digits).
    pub win_window: LatencyStats,
    /// Reads in the current window.
    pub win_reads: u64,
    /// Stale reads in the current window.
    pub win_stale: u64,
}

impl CopyState {
    /// The periods a measured write or read counts in: the whole run, and
    /// (with faults) during or outside them, as `during` says.
    fn periods(&mut self, during: Option<bool>) -> [Option<&mut PeriodCounts>; 2] {
        let split = match during {
            Some(true) => Some(&mut self.during),
            Some(false) => Some(&mut self.outside),
            None => None,
        };
        [Some(&mut self.all), split]
    }
}

/// Run-time state of the data copies.
#[derive(Debug, Default)]
pub struct ConsistencyState {
    /// Per data set.
    pub data: Vec<DataState>,
    /// Per copy.
    pub copies: Vec<CopyState>,
}

impl ConsistencyState {
    /// Every item at version 0 everywhere, for `model`.
    pub fn new(model: &Model) -> Self {
        let m = &model.messaging;
        ConsistencyState {
            data: m
                .data
                .iter()
                .map(|d| DataState {
                    versions: vec![0; d.keys as usize],
                    rng: rng::stream(model.seed, &format!("data/{}/writes", d.name)),
                })
                .collect(),
            copies: m
                .copies
                .iter()
                .map(|c| {
                    let d = &m.data[c.data as usize];
                    CopyState {
                        applied: vec![0; d.keys as usize],
                        applied_at: vec![0; d.keys as usize],
                        rng: rng::stream(model.seed, &format!("data/{}/reads", model.copy_name(c))),
                        all: PeriodCounts::default(),
                        outside: PeriodCounts::default(),
                        during: PeriodCounts::default(),
                        win_converged: 0,
                        win_window: LatencyStats::with_digits(2),
                        win_reads: 0,
                        win_stale: 0,
                    }
                })
                .collect(),
        }
    }
}

impl World<'_> {
    /// Whether time `t` lies in some fault's effect window; `None` when
    /// the scenario has no faults.
    fn during_faults(&self, t: SimTime) -> Option<bool> {
        let faults = &self.model.faults;
        (!faults.is_empty()).then(|| faults.iter().any(|f| f.at <= t && t < f.effect_until))
    }

    /// The owner of data set `data` writes a random item now: returns the
    /// item and its new version. `counted`: the write is after the
    /// warm-up.
    pub(super) fn write_data(&mut self, data: DataId, counted: bool) -> (u32, u32) {
        let d = &mut self.consistency.data[data as usize];
        let key = d.rng.random_range(0..d.versions.len() as u32);
        d.versions[key as usize] += 1;
        let version = d.versions[key as usize];
        if counted {
            let during = self.during_faults(self.now);
            for &c in &self.model.messaging.data[data as usize].copies {
                let cs = &mut self.consistency.copies[c as usize];
                cs.all.writes += 1;
                match during {
                    Some(true) => cs.during.writes += 1,
                    Some(false) => cs.outside.writes += 1,
                    None => {}
                }
            }
        }
        (key, version)
    }

    /// Copy `copy` hears of the write of version `version` of item `key`,
    /// made at `written_at`: it applies it if newer, and the write's
    /// window is recorded.
    pub(super) fn apply_write(
        &mut self,
        copy: CopyId,
        key: u32,
        version: u32,
        written_at: SimTime,
        counted: bool,
    ) {
        let now = self.now;
        let during = if counted {
            self.during_faults(written_at)
        } else {
            None
        };
        let cs = &mut self.consistency.copies[copy as usize];
        let k = key as usize;
        let window = if version > cs.applied[k] {
            cs.applied[k] = version;
            cs.applied_at[k] = now;
            now - written_at
        } else {
            // A newer version got there first: this write was covered
            // from then on.
            cs.applied_at[k].saturating_sub(written_at)
        };
        cs.win_converged += 1;
        cs.win_window.record(window);
        if counted {
            for p in cs.periods(during).into_iter().flatten() {
                p.converged += 1;
                p.window.record(window);
            }
        }
    }

    /// A read step reads one item of copy `copy`.
    pub(super) fn read_copy(&mut self, copy: CopyId) {
        let data = self.model.messaging.copies[copy as usize].data as usize;
        let counted = self.measuring();
        let during = if counted {
            self.during_faults(self.now)
        } else {
            None
        };
        let cs = &mut self.consistency.copies[copy as usize];
        let key = cs.rng.random_range(0..cs.applied.len() as u32) as usize;
        let stale = cs.applied[key] < self.consistency.data[data].versions[key];
        cs.win_reads += 1;
        cs.win_stale += u64::from(stale);
        if counted {
            for p in cs.periods(during).into_iter().flatten() {
                p.reads += 1;
                p.stale_reads += u64::from(stale);
            }
        }
    }

    /// Appends the copies' time-series rows of the window closing now.
    pub(super) fn close_consistency_window(&mut self, start_s: f64, end_s: f64) {
        let model = self.model;
        let m = &model.messaging;
        for (c, cs) in m.copies.iter().zip(&mut self.consistency.copies) {
            let ms = |v: Option<u64>| v.map(|ns| ns as f64 / 1e6);
            self.windows.series.copies.push(CopyWindow {
                start_s,
                end_s,
                copy: model.copy_name(c),
                converged: cs.win_converged,
                window_p50_ms: ms(cs.win_window.quantile(0.5)),
                window_p99_ms: ms(cs.win_window.quantile(0.99)),
                window_max_ms: ms(cs.win_window.quantile(1.0)),
                reads: cs.win_reads,
                stale_reads: cs.win_stale,
            });
            cs.win_converged = 0;
            cs.win_window.reset();
            cs.win_reads = 0;
            cs.win_stale = 0;
        }
    }

    /// Per copy, `DATA@HOLDER`, its inconsistency over the measured
    /// period.
    pub(super) fn copy_summaries(&self) -> IndexMap<String, CopySummary> {
        let model = self.model;
        let m = &model.messaging;
        let faults = !model.faults.is_empty();
        m.copies
            .iter()
            .zip(&self.consistency.copies)
            .map(|(c, cs)| {
                let d = &m.data[c.data as usize];
                let versions = &self.consistency.data[c.data as usize].versions;
                (
                    model.copy_name(c),
                    CopySummary {
                        data: d.name.clone(),
                        owner: model.services[d.owner as usize].name.clone(),
                        holder: model.services[c.holder as usize].name.clone(),
                        topic: m.topics[d.topic as usize].name.clone(),
                        keys: d.keys,
                        all: cs.all.summary(),
                        outside_faults: faults.then(|| cs.outside.summary()),
                        during_faults: faults.then(|| cs.during.summary()),
                        stale_keys_at_end: cs
                            .applied
                            .iter()
                            .zip(versions)
                            .filter(|(a, v)| a < v)
                            .count() as u64,
                    },
                )
            })
            .collect()
    }
}
