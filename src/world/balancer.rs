//! Load balancing: which replica of a service gets an incoming call.

use super::registry::Instance;
use super::service::Replica;
use crate::engine::Stream;
use crate::model::Balancer;
use rand::Rng;

/// Picks a replica among `replicas` (a service's slice) and returns its
/// offset in the slice. `rr` is the service's round-robin cursor.
#[inline]
pub fn pick(policy: Balancer, replicas: &[Replica], rr: &mut u32, rng: &mut Stream) -> usize {
    let n = replicas.len();
    if n == 1 {
        return 0;
    }
    match policy {
        Balancer::RoundRobin => {
            let i = *rr as usize % n;
            *rr = ((i + 1) % n) as u32;
            i
        }
        Balancer::Random => below(rng, n),
        Balancer::LeastOutstanding => {
            // Ties go to the replica after the last one chosen, so equal
            // replicas share load instead of the first taking it all.
            let start = *rr as usize % n;
            let mut best = start;
            for k in 1..n {
                let i = (start + k) % n;
                if replicas[i].outstanding < replicas[best].outstanding {
                    best = i;
                }
            }
            *rr = ((best + 1) % n) as u32;
            best
        }
        Balancer::PowerOfTwo => {
            let a = below(rng, n);
            let mut b = below(rng, n - 1);
            if b >= a {
                b += 1;
            }
            if replicas[b].outstanding < replicas[a].outstanding {
                b
            } else {
                a
            }
        }
    }
}

/// Like [`pick`], but only among the replicas for which `ok` holds (the
/// others are down, starting or ejected); `None` when there is none. Slower
/// (it scans the replicas), so used only while some replica is unavailable.
pub fn pick_where(
    policy: Balancer,
    replicas: &[Replica],
    rr: &mut u32,
    rng: &mut Stream,
    ok: impl Fn(&Replica) -> bool,
) -> Option<usize> {
    let n = replicas.len();
    let count = replicas.iter().filter(|r| ok(r)).count();
    if count == 0 {
        return None;
    }
    Some(pick_eligible(
        policy,
        n,
        count,
        rr,
        rng,
        |i| ok(&replicas[i]),
        |i| replicas[i].outstanding,
    ))
}

/// A client-side pick: the index in `list` (instances the caller knows,
/// some perhaps dead) of the instance to call, with the callee's balancing
/// policy; `None` when the list is empty. `rr` is the caller's own cursor.
/// The client sees an instance's load only while it is alive (a dead one
/// looks idle, so least-loaded policies favour it: the classic black hole
/// of least-request balancing), and skips instances it has ejected as
/// outliers unless every known one is. `any_ejected` says whether the
/// callee has an ejected replica at all (else the scan for them is
/// skipped: the common case, and the hot path).
pub fn pick_instance(
    policy: Balancer,
    any_ejected: bool,
    list: &[Instance],
    replicas: &[Replica],
    dead_ejected: impl Fn(Instance) -> bool,
    rr: &mut u32,
    rng: &mut Stream,
) -> Option<usize> {
    let n = list.len();
    if n <= 1 {
        return (n == 1).then_some(0);
    }
    let state = |i: usize| {
        let inst = list[i];
        let rep = &replicas[inst.replica as usize];
        let alive = rep.epoch == inst.epoch && rep.running();
        let ejected = if alive {
            rep.ejected
        } else {
            any_ejected && dead_ejected(inst)
        };
        (alive, ejected, if alive { rep.outstanding } else { 0 })
    };
    if !any_ejected && policy == Balancer::RoundRobin {
        let i = *rr as usize % n;
        *rr = ((i + 1) % n) as u32;
        return Some(i);
    }
    let ejected = if any_ejected {
        (0..n).filter(|&i| state(i).1).count()
    } else {
        0
    };
    let skip_ejected = ejected > 0 && ejected < n;
    let eligible = |i: usize| !skip_ejected || !state(i).1;
    let count = (0..n).filter(|&i| eligible(i)).count();
    Some(pick_eligible(policy, n, count, rr, rng, eligible, |i| {
        state(i).2
    }))
}

/// The balancing policies over positions `0..n` of which `count` (at
/// least one) are `eligible`, by their `load`: what server-side picks
/// among available replicas and client-side picks among known instances
/// share. Ties in load go to the position after the last one chosen.
fn pick_eligible(
    policy: Balancer,
    n: usize,
    count: usize,
    rr: &mut u32,
    rng: &mut Stream,
    eligible: impl Fn(usize) -> bool,
    load: impl Fn(usize) -> u32,
) -> usize {
    // The k-th eligible position.
    let nth = |k: usize| (0..n).filter(|&i| eligible(i)).nth(k).expect("k < count");
    match policy {
        Balancer::RoundRobin => {
            let start = *rr as usize % n;
            let i = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| eligible(i))
                .expect("count > 0");
            *rr = ((i + 1) % n) as u32;
            i
        }
        Balancer::Random => nth(below(rng, count)),
        Balancer::LeastOutstanding => {
            let start = *rr as usize % n;
            let best = (0..n)
                .map(|k| (start + k) % n)
                .filter(|&i| eligible(i))
                .reduce(|best, i| if load(i) < load(best) { i } else { best })
                .expect("count > 0");
            *rr = ((best + 1) % n) as u32;
            best
        }
        Balancer::PowerOfTwo => {
            if count == 1 {
                return nth(0);
            }
            let a = below(rng, count);
            let mut b = below(rng, count - 1);
            if b >= a {
                b += 1;
            }
            let (a, b) = (nth(a), nth(b));
            if load(b) < load(a) {
                b
            } else {
                a
            }
        }
    }
}

/// Uniform integer in `0..n` (Lemire's multiply-shift; the bias is below
/// 2^-32 for any replica count this tool allows).
#[inline]
fn below(rng: &mut Stream, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn replicas(outstanding: &[u32]) -> Vec<Replica> {
        outstanding
            .iter()
            .map(|&o| Replica {
                outstanding: o,
                ..Replica::new(0)
            })
            .collect()
    }

    #[test]
    fn round_robin_cycles() {
        let r = replicas(&[0, 0, 0]);
        let mut rr = 0;
        let mut rng = stream(1, "t");
        let picks: Vec<usize> = (0..6)
            .map(|_| pick(Balancer::RoundRobin, &r, &mut rr, &mut rng))
            .collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn least_outstanding_picks_the_idlest() {
        let r = replicas(&[3, 1, 2]);
        let mut rr = 0;
        let mut rng = stream(1, "t");
        assert_eq!(pick(Balancer::LeastOutstanding, &r, &mut rr, &mut rng), 1);
    }

    #[test]
    fn least_outstanding_rotates_among_equals() {
        let r = replicas(&[0, 0, 0]);
        let mut rr = 0;
        let mut rng = stream(1, "t");
        let picks: Vec<usize> = (0..4)
            .map(|_| pick(Balancer::LeastOutstanding, &r, &mut rr, &mut rng))
            .collect();
        assert_eq!(picks, vec![0, 1, 2, 0]);
    }

    #[test]
    fn power_of_two_never_picks_the_busiest_of_two() {
        let r = replicas(&[10, 0]);
        let mut rr = 0;
        let mut rng = stream(1, "t");
        for _ in 0..100 {
            assert_eq!(pick(Balancer::PowerOfTwo, &r, &mut rr, &mut rng), 1);
        }
    }

    #[test]
    fn unavailable_replicas_are_never_picked() {
        let mut r = replicas(&[0, 5, 0, 1]);
        r[0].down = 1;
        r[2].ejected = true;
        let mut rng = stream(1, "t");
        for policy in [
            Balancer::RoundRobin,
            Balancer::Random,
            Balancer::LeastOutstanding,
            Balancer::PowerOfTwo,
        ] {
            let mut rr = 0;
            let mut seen = [0; 4];
            for _ in 0..200 {
                let i = pick_where(policy, &r, &mut rr, &mut rng, Replica::available).unwrap();
                seen[i] += 1;
            }
            assert_eq!((seen[0], seen[2]), (0, 0), "{policy:?}: {seen:?}");
            if policy == Balancer::LeastOutstanding {
                assert_eq!(seen[3], 200, "the idlest available replica");
            }
        }
        r[1].down = 1;
        r[3].starting = true;
        let mut rr = 0;
        assert_eq!(
            pick_where(
                Balancer::RoundRobin,
                &r,
                &mut rr,
                &mut rng,
                Replica::available
            ),
            None
        );
    }

    #[test]
    fn clients_pick_from_their_own_list_and_dead_instances_look_idle() {
        let mut reps = replicas(&[5, 5, 5]);
        reps[1].epoch = 1; // crashed and restarted: instance (1, 0) is dead
        let list = [0, 1, 2].map(|replica| Instance { replica, epoch: 0 });
        let mut rng = stream(1, "t");
        let mut rr = 0;
        assert_eq!(
            pick_instance(
                Balancer::LeastOutstanding,
                false,
                &list,
                &reps,
                |_| false,
                &mut rr,
                &mut rng
            ),
            Some(1),
            "a dead address has no requests in progress"
        );
        let picks: Vec<_> = (0..4)
            .map(|_| {
                pick_instance(
                    Balancer::RoundRobin,
                    false,
                    &list,
                    &reps,
                    |_| false,
                    &mut rr,
                    &mut rng,
                )
            })
            .collect();
        assert_eq!(picks, [Some(2), Some(0), Some(1), Some(2)]);
        assert_eq!(
            pick_instance(
                Balancer::Random,
                false,
                &[],
                &reps,
                |_| false,
                &mut rr,
                &mut rng
            ),
            None
        );
        // A dead instance the callers' outlier detection ejected is
        // skipped too.
        for _ in 0..10 {
            let i = pick_instance(
                Balancer::RoundRobin,
                true,
                &list,
                &reps,
                |i| i.replica == 1,
                &mut rr,
                &mut rng,
            );
            assert_ne!(i, Some(1));
        }
        // Ejected instances are skipped while others are left.
        reps[0].ejected = true;
        for policy in [Balancer::RoundRobin, Balancer::Random, Balancer::PowerOfTwo] {
            for _ in 0..50 {
                let i = pick_instance(policy, true, &list, &reps, |_| false, &mut rr, &mut rng)
                    .unwrap();
                assert_ne!(i, 0, "{policy:?}");
            }
        }
    }

    #[test]
    fn random_covers_all_replicas() {
        let r = replicas(&[0, 0, 0, 0]);
        let mut rr = 0;
        let mut rng = stream(1, "t");
        let mut seen = [0; 4];
        for _ in 0..4_000 {
            seen[pick(Balancer::Random, &r, &mut rr, &mut rng)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }
}
