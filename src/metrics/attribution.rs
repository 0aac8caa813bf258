//! Latency attribution: where a workload's end-to-end latency goes.
//!
//! The engine follows each request's critical path (a parallel group counts
//! only the branch that ended it, the last to answer) and splits the
//! request's latency into components: per service, time queued for a
//! worker, time working and time lost on attempts that timed out or were
//! lost; plus network hops, registry lookups and retry backoff. The
//! components of one request add up to its latency exactly (integer
//! nanoseconds). Time that parallel siblings spent off the critical path
//! is kept apart ([`Kind::Parallel`]) and is not part of the sum.
//!
//! [`AttributionMeter`] accumulates requests in constant memory: totals for
//! all requests, and sums per latency bucket (128 per power of two, so a
//! bucket is at most 0.8% wide) from which the slowest 1% is taken once the
//! run's p99 is known.

use crate::model::{Deployment, Model};
use serde::{Deserialize, Serialize};

/// What a component of latency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Waiting for a worker of a service (its queue, or a continuation
    /// waiting for a worker again).
    Queue,
    /// A service's own work steps.
    Work,
    /// Attempts to a service that ended without an answer to attribute:
    /// timed out, dropped on the wire, or lost with a crashed replica.
    Lost,
    /// Network hops, both ways.
    Network,
    /// Registry lookups on the call path (service discovery).
    Lookup,
    /// Retry backoff waits.
    Backoff,
    /// Time parallel siblings spent off the critical path: shown for
    /// information, not part of the sum.
    Parallel,
}

impl Kind {
    /// Kinds that belong to one service, in component order.
    pub const PER_SERVICE: [Kind; 3] = [Kind::Queue, Kind::Work, Kind::Lost];
    /// Kinds of the whole request, in component order.
    pub const GLOBAL: [Kind; 4] = [Kind::Network, Kind::Lookup, Kind::Backoff, Kind::Parallel];

    /// Name in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Queue => "queue",
            Kind::Work => "work",
            Kind::Lost => "lost",
            Kind::Network => "network",
            Kind::Lookup => "lookup",
            Kind::Backoff => "backoff",
            Kind::Parallel => "parallel",
        }
    }

    /// The kind named `name` (the inverse of [`Kind::name`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::PER_SERVICE
            .into_iter()
            .chain(Kind::GLOBAL)
            .find(|k| k.name() == name)
    }
}

/// The dense layout of a model's components: in monolith mode first one
/// work component per module (see [`modules`]), then three per service
/// (queue, work, lost, in service order; the registry and brokers are
/// services too), then network, lookup, backoff and parallel. An
/// accumulator is a `[u64]` of [`Components::len`] nanosecond counts in
/// this order. A component's owner (the module or service it belongs to)
/// is an index into [`owners`]: the modules, then the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    services: usize,
    modules: usize,
}

/// The modules of a monolith that have their own work component: the
/// services the unit was built from, in scenario order, except one named
/// like the unit (its work is the unit's work, as when a one-service
/// scenario runs as a monolith of its name). Empty in microservices mode.
pub fn modules(model: &Model) -> Vec<&str> {
    match &model.deployment {
        Deployment::Microservices => Vec::new(),
        Deployment::Monolith { components, .. } => components
            .iter()
            .map(String::as_str)
            .filter(|c| !model.services.iter().any(|s| s.name == *c))
            .collect(),
    }
}

/// The names of the components' owners: [`modules`], then the services.
pub fn owners(model: &Model) -> Vec<&str> {
    let mut o = modules(model);
    o.extend(model.services.iter().map(|s| s.name.as_str()));
    o
}

impl Components {
    /// The layout for `model`.
    pub fn new(model: &Model) -> Self {
        Components {
            services: model.services.len(),
            modules: modules(model).len(),
        }
    }

    /// The layout for a model of `services` services (and no modules).
    pub fn with_services(services: usize) -> Self {
        Components {
            services,
            modules: 0,
        }
    }

    /// Number of components (accumulator length).
    pub fn len(&self) -> usize {
        self.modules + 3 * self.services + Kind::GLOBAL.len()
    }

    /// Never empty: the global components are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Index of a service's component (`kind` in [`Kind::PER_SERVICE`]).
    #[inline]
    pub fn service(&self, kind: Kind, service: usize) -> usize {
        let k = match kind {
            Kind::Queue => 0,
            Kind::Work => 1,
            Kind::Lost => 2,
            _ => panic!("{kind:?} is not a per-service component"),
        };
        self.modules + 3 * service + k
    }

    /// Index of module `module`'s work component (an index into
    /// [`modules`]).
    #[inline]
    pub fn module(&self, module: usize) -> usize {
        debug_assert!(module < self.modules);
        module
    }

    /// Index of a global component (`kind` in [`Kind::GLOBAL`]).
    #[inline]
    pub fn global(&self, kind: Kind) -> usize {
        let k = match kind {
            Kind::Network => 0,
            Kind::Lookup => 1,
            Kind::Backoff => 2,
            Kind::Parallel => 3,
            _ => panic!("{kind:?} is not a global component"),
        };
        self.modules + 3 * self.services + k
    }

    /// Index of [`Kind::Parallel`], the one component outside the sum.
    #[inline]
    pub fn parallel(&self) -> usize {
        self.modules + 3 * self.services + 3
    }

    /// What component `i` is: its kind and, for a module's or a service's
    /// component, its owner (an index into [`owners`]).
    pub fn describe(&self, i: usize) -> (Kind, Option<usize>) {
        let per_service = self.modules + 3 * self.services;
        if i < self.modules {
            (Kind::Work, Some(i))
        } else if i < per_service {
            let j = i - self.modules;
            (Kind::PER_SERVICE[j % 3], Some(self.modules + j / 3))
        } else {
            (Kind::GLOBAL[i - per_service], None)
        }
    }

    /// Per endpoint of `model`, the component its work is charged to: its
    /// module's in a monolith (see [`modules`]), else its service's.
    /// Computed once, so the engine charges work by one lookup.
    pub fn endpoint_work(&self, model: &Model) -> Vec<u32> {
        let module_of: Vec<Option<usize>> = match &model.deployment {
            Deployment::Microservices => Vec::new(),
            Deployment::Monolith {
                components,
                modules: of,
            } => {
                let own = modules(model);
                of.iter()
                    .map(|&m| own.iter().position(|o| *o == components[m as usize]))
                    .collect()
            }
        };
        model
            .endpoints
            .iter()
            .enumerate()
            .map(|(e, ep)| match module_of.get(e).copied().flatten() {
                Some(m) => self.module(m),
                None => self.service(Kind::Work, ep.service as usize),
            } as u32)
            .collect()
    }

    /// The sum of an accumulator's components on the critical path (all
    /// but [`Kind::Parallel`]): the request's latency.
    #[inline]
    pub fn critical_sum(&self, acc: &[u64]) -> u64 {
        let p = self.parallel();
        acc.iter()
            .enumerate()
            .filter(|&(i, _)| i != p)
            .fold(0u64, |s, (_, &v)| s.saturating_add(v))
    }
}

/// Sub-buckets per power of two of latency buckets: 2^7 = 128, so a bucket
/// spans at most 1/128 (0.8%) of its lower bound.
const SUB_BITS: u32 = 7;
/// Number of buckets that cover every `u64`.
const BUCKETS: usize = ((64 - SUB_BITS as usize) << SUB_BITS) + (1 << SUB_BITS);
/// `AttributionMeter::slots` for a bucket never hit.
const EMPTY: u32 = u32::MAX;

/// The latency bucket of `ns`: exact below 128 ns, then 128 per octave.
#[inline]
pub fn bucket(ns: u64) -> usize {
    if ns < (1 << SUB_BITS) {
        ns as usize
    } else {
        let e = 63 - ns.leading_zeros();
        let shift = e - SUB_BITS;
        (((shift + 1) as usize) << SUB_BITS) + ((ns >> shift) as usize - (1 << SUB_BITS))
    }
}

/// The smallest latency in bucket `b` (the inverse of [`bucket`]).
pub fn bucket_floor(b: usize) -> u64 {
    let sub = 1usize << SUB_BITS;
    if b < sub {
        b as u64
    } else {
        let shift = (b >> SUB_BITS) - 1;
        ((b & (sub - 1)) as u64 + sub as u64) << shift
    }
}

/// Attribution of one workload's measured successful requests (the ones
/// its latency percentiles count), in constant memory.
///
/// Recording is on the engine's path once per request, so it is one pass of
/// `u64` additions into the request's latency bucket (which vectorise);
/// totals for all requests are summed from the buckets at the end. A row
/// whose latency sum would overflow 64 bits first moves into a 128-bit
/// spill row: every component of a request is at most its latency, so
/// checking the latency sum keeps every column exact.
#[derive(Debug, Clone)]
pub struct AttributionMeter {
    /// Components (accumulator length).
    len: usize,
    /// Requests recorded.
    count: u64,
    /// Per latency bucket, its row in `sums` ([`EMPTY`] until hit).
    /// Allocated on the first request, so a workload that never
    /// completes one costs nothing.
    slots: Vec<u32>,
    /// Per row: count, latency sum, then the components' sums.
    sums: Vec<u64>,
    /// Rows moved out of `sums` before they overflowed (same layout;
    /// empty until needed).
    spill: Vec<u128>,
}

impl AttributionMeter {
    /// An empty meter for accumulators of `components`.
    pub fn new(components: Components) -> Self {
        AttributionMeter {
            len: components.len(),
            count: 0,
            slots: Vec::new(),
            sums: Vec::new(),
            spill: Vec::new(),
        }
    }

    /// Records one request of `latency` ns whose components are `acc`.
    #[inline]
    pub fn record(&mut self, latency: u64, acc: &[u64]) {
        debug_assert_eq!(acc.len(), self.len);
        self.count += 1;
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; BUCKETS];
        }
        let b = bucket(latency);
        let stride = self.len + 2;
        let slot = match self.slots[b] {
            EMPTY => {
                let s = self.sums.len() / stride;
                self.sums.resize(self.sums.len() + stride, 0);
                self.slots[b] = s as u32;
                s
            }
            s => s as usize,
        };
        let at = slot * stride;
        if self.sums[at + 1].checked_add(latency).is_none() {
            self.spill_row(at);
        }
        let row = &mut self.sums[at..at + stride];
        row[0] += 1;
        row[1] += latency;
        for (t, &v) in row[2..].iter_mut().zip(acc) {
            *t += v;
        }
    }

    /// Moves the row at `at` into the spill rows.
    #[cold]
    fn spill_row(&mut self, at: usize) {
        if self.spill.len() < self.sums.len() {
            self.spill.resize(self.sums.len(), 0);
        }
        let stride = self.len + 2;
        for i in at..at + stride {
            self.spill[i] += u128::from(std::mem::take(&mut self.sums[i]));
        }
    }

    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Count, latency sum and component sums of the buckets from `from`
    /// up.
    fn totals(&self, from: usize) -> (u64, u128, Vec<u128>) {
        let stride = self.len + 2;
        let mut row = vec![0u128; stride];
        for &slot in &self.slots[from..] {
            if slot == EMPTY {
                continue;
            }
            let at = slot as usize * stride;
            for (i, t) in row.iter_mut().enumerate() {
                *t += u128::from(self.sums[at + i]);
                if let Some(&v) = self.spill.get(at + i) {
                    *t += v;
                }
            }
        }
        let comps = row.split_off(2);
        (row[0] as u64, row[1], comps)
    }

    /// The summary for all requests and, given the workload's p99 in ns,
    /// for the requests at or above it (to the bucket's resolution).
    pub fn summary(&self, model: &Model, p99: Option<u64>) -> Option<WorkloadAttribution> {
        if self.count == 0 {
            return None;
        }
        let comps = Components::new(model);
        let owners = owners(model);
        let (count, latency, totals) = self.totals(0);
        let all = breakdown(&owners, comps, count, latency, &totals, 0);
        let slowest = p99.map(|p| {
            let from = bucket(p);
            let (count, latency, totals) = self.totals(from);
            breakdown(&owners, comps, count, latency, &totals, bucket_floor(from))
        });
        Some(WorkloadAttribution { all, slowest })
    }
}

/// Mean components of `count` requests whose sums are `totals`; `owners`
/// names the modules and services (see [`owners`]).
fn breakdown(
    owners: &[&str],
    comps: Components,
    count: u64,
    latency: u128,
    totals: &[u128],
    from: u64,
) -> Breakdown {
    let n = count.max(1) as f64;
    let mean_ns = latency as f64 / n;
    let components = totals
        .iter()
        .enumerate()
        .filter(|&(i, &v)| v > 0 && i != comps.parallel())
        .map(|(i, &v)| {
            let (kind, service) = comps.describe(i);
            ComponentShare {
                kind: kind.name().to_string(),
                service: service.map(|s| owners[s].to_string()),
                mean_ms: v as f64 / n / 1e6,
                share: if latency > 0 {
                    v as f64 / latency as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    Breakdown {
        requests: count,
        from_ms: from as f64 / 1e6,
        mean_ms: mean_ns / 1e6,
        components,
        off_critical_path_ms: totals[comps.parallel()] as f64 / n / 1e6,
    }
}

/// One workload's latency attribution (`summary.json` `attribution`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadAttribution {
    /// All measured successful requests.
    pub all: Breakdown,
    /// The slowest 1%: requests at or above the workload's p99 (to 0.8%
    /// resolution, so ties and near-ties at p99 are in).
    pub slowest: Option<Breakdown>,
}

/// Mean latency of a set of requests split into components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Requests in the set.
    pub requests: u64,
    /// The set's lower latency bound, in ms (0 for all requests).
    pub from_ms: f64,
    /// Their mean end-to-end latency, in ms.
    pub mean_ms: f64,
    /// The non-zero components on the critical path, in component order
    /// (in a monolith, its modules' work first, in scenario order; per
    /// service in service order; then network, lookup, backoff).
    /// Their `mean_ms` add up to `mean_ms` and their shares to 1.
    pub components: Vec<ComponentShare>,
    /// Mean time parallel siblings spent off the critical path, in ms: work
    /// hidden by parallelism, not part of the latency.
    pub off_critical_path_ms: f64,
}

/// One component's part of a [`Breakdown`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentShare {
    /// [`Kind::name`]: queue, work, lost, network, lookup or backoff.
    pub kind: String,
    /// The service, for queue, work and lost; in a monolith, the module
    /// (the service it was built from) for its modules' work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Mean per request, in ms.
    pub mean_ms: f64,
    /// Share of the set's total latency (0..=1).
    pub share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_narrow_and_invertible() {
        let mut last = 0;
        for ns in (0..5000u64).chain((1..200).map(|i| i * 7_919_993)) {
            let b = bucket(ns);
            assert!(b >= last || ns < 5000, "monotone");
            last = b;
            let lo = bucket_floor(b);
            assert!(lo <= ns, "{ns} in bucket {b} from {lo}");
            assert_eq!(bucket(lo), b);
            // The next bucket starts within 1/128 of this one's floor.
            let next = bucket_floor(b + 1);
            assert!(ns < next);
            assert!((next - lo) as f64 <= (lo as f64 / 128.0).max(1.0));
        }
        assert!(bucket(u64::MAX) < BUCKETS);
    }

    #[test]
    fn rows_near_overflow_spill_and_stay_exact() {
        let comps = Components::with_services(1);
        let mut m = AttributionMeter::new(comps);
        // Latencies of about 2^62 ns: the fifth overflows a u64 row.
        let big = 1u64 << 62;
        let mut acc = vec![0u64; comps.len()];
        acc[comps.service(Kind::Work, 0)] = big - 10;
        acc[comps.global(Kind::Network)] = 10;
        for _ in 0..9 {
            m.record(big, &acc);
        }
        let (count, latency, totals) = m.totals(0);
        assert_eq!(count, 9);
        assert_eq!(latency, 9 * u128::from(big));
        assert_eq!(
            totals[comps.service(Kind::Work, 0)],
            9 * u128::from(big - 10)
        );
        assert_eq!(totals[comps.global(Kind::Network)], 90);
    }

    #[test]
    fn components_map_both_ways() {
        let c = Components::with_services(3);
        assert_eq!(c.len(), 13);
        for i in 0..c.len() {
            let back = match c.describe(i) {
                (k, Some(s)) => c.service(k, s),
                (k, None) => c.global(k),
            };
            assert_eq!(back, i);
        }
        let mut acc = vec![1u64; c.len()];
        acc[c.parallel()] = 100;
        assert_eq!(c.critical_sum(&acc), 12);
        // A monolith of three modules: their work first, owners 0..3; the
        // unit is owner 3.
        let c = Components {
            services: 1,
            modules: 3,
        };
        assert_eq!(c.len(), 10);
        assert_eq!(c.describe(c.module(2)), (Kind::Work, Some(2)));
        assert_eq!(
            c.describe(c.service(Kind::Queue, 0)),
            (Kind::Queue, Some(3))
        );
        assert_eq!(c.describe(c.global(Kind::Network)), (Kind::Network, None));
        assert_eq!(c.parallel(), 9);
    }
}
