//! Validation of resilience policies (`[policies.NAME]` and inline fields
//! of call steps) and the grouping of calls into clients.

use super::error::{FieldPath, Invalid};
use super::schema::{RawPolicy, RawPolicyFields, RawStep};
use super::validate::{count, duration};
use crate::model::policy::BUDGET_BURST;
use crate::model::*;
use indexmap::IndexMap;
use std::collections::BTreeMap;

type R<T> = Result<T, Invalid>;

/// Largest bulkhead and retry count accepted.
const MAX_BULKHEAD: i64 = 10_000_000;
const MAX_ATTEMPTS: i64 = 100;
const MAX_HALF_OPEN: i64 = 10_000;
const MAX_MIN_CALLS: i64 = 10_000_000;

/// A validated named policy.
#[derive(Debug, Clone)]
pub struct Named {
    /// Its settings.
    pub policy: Policy,
    /// Whether calls under it are optional by default.
    pub optional: bool,
}

/// Validates every `[policies.NAME]` table.
pub fn named_policies(
    raw: &IndexMap<String, RawPolicy>,
    root: &FieldPath,
) -> R<IndexMap<String, Named>> {
    let mut out = IndexMap::new();
    for (name, p) in raw {
        let path = root.key("policies").key(name);
        super::validate::check_name(name, &path, "policy")?;
        let policy = policy(p.policy_fields(), &path)?;
        out.insert(
            name.clone(),
            Named {
                policy,
                optional: p.optional.unwrap_or(false),
            },
        );
    }
    Ok(out)
}

/// Validates a policy's settings; `p` is the table holding them.
pub fn policy(f: RawPolicyFields, p: &FieldPath) -> R<Policy> {
    let timeout = match f.timeout {
        None => None,
        Some(t) => {
            let t = duration(t, &p.key("timeout"))?;
            if t == 0 {
                return Err(Invalid::new(
                    &p.key("timeout"),
                    "must be greater than zero (leave it out to wait forever)",
                ));
            }
            Some(t)
        }
    };
    let retry = match f.retries {
        None => None,
        Some(r) => {
            let rp = p.key("retries");
            if r.attempts == 1 {
                return Err(Invalid::new(
                    &rp.key("attempts"),
                    "attempts = 1 means no retry at all; use 2 or more (the first attempt counts), or remove `retries`",
                ));
            }
            let attempts = count(Some(r.attempts), &rp.key("attempts"), 2, 2, MAX_ATTEMPTS)?;
            let base = match &r.base {
                Some(b) => duration(b, &rp.key("base"))?,
                None => 0,
            };
            let backoff = match r.backoff.as_deref() {
                None | Some("constant") => {
                    if r.max_delay.is_some() {
                        return Err(Invalid::new(
                            &rp.key("max_delay"),
                            "max_delay only applies to backoff = \"exponential\"; a constant backoff always waits `base`",
                        ));
                    }
                    Backoff::Constant { base }
                }
                Some("exponential") => {
                    if base == 0 {
                        return Err(Invalid::new(
                            &rp,
                            "an exponential backoff needs `base` greater than zero (the first wait, e.g. base = \"50ms\")",
                        ));
                    }
                    let max = match &r.max_delay {
                        Some(m) => duration(m, &rp.key("max_delay"))?,
                        None => u64::MAX,
                    };
                    if max < base {
                        return Err(Invalid::new(
                            &rp.key("max_delay"),
                            "must be at least `base`",
                        ));
                    }
                    Backoff::Exponential { base, max }
                }
                Some(o) => {
                    return Err(Invalid::new(
                        &rp.key("backoff"),
                        format!("unknown backoff `{o}`; expected constant or exponential"),
                    ))
                }
            };
            let jitter = match r.jitter.as_deref() {
                None | Some("none") => Jitter::None,
                Some(j @ ("full" | "equal")) => {
                    if base == 0 {
                        return Err(Invalid::new(
                            &rp.key("jitter"),
                            format!("jitter = \"{j}\" randomises the backoff wait, but there is none: set `base`"),
                        ));
                    }
                    if j == "full" {
                        Jitter::Full
                    } else {
                        Jitter::Equal
                    }
                }
                Some(o) => {
                    return Err(Invalid::new(
                        &rp.key("jitter"),
                        format!("unknown jitter `{o}`; expected none, full or equal"),
                    ))
                }
            };
            let on = match &r.on {
                None => CauseSet::transient(),
                Some(list) => {
                    if list.is_empty() {
                        return Err(Invalid::new(
                            &rp.key("on"),
                            "an empty list retries nothing; list causes or remove `retries`",
                        ));
                    }
                    let mut set = CauseSet::default();
                    for (i, name) in list.iter().enumerate() {
                        let Some(c) = Cause::from_name(name) else {
                            let known: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
                            return Err(Invalid::new(
                                &rp.key("on").index(i),
                                format!(
                                    "unknown cause `{name}`; expected one of: {}",
                                    known.join(", ")
                                ),
                            ));
                        };
                        set = set.with(c);
                    }
                    set
                }
            };
            let budget = match r.budget {
                None => None,
                Some(b) if b > 0.0 && b <= 1.0 => Some(b),
                Some(b) => {
                    return Err(Invalid::new(
                        &rp.key("budget"),
                        format!("must be a fraction of calls, greater than 0 and at most 1 (0.1 = retries at most 10% of calls, with up to {BUDGET_BURST} saved up), got {b}"),
                    ))
                }
            };
            Some(Retry {
                attempts,
                backoff,
                jitter,
                on,
                budget,
            })
        }
    };
    let breaker = match f.circuit_breaker {
        None => None,
        Some(b) => {
            let bp = p.key("circuit_breaker");
            let failure_rate = b.failure_rate;
            if !(failure_rate > 0.0 && failure_rate <= 1.0) {
                return Err(Invalid::new(
                    &bp.key("failure_rate"),
                    format!("must be a failure fraction greater than 0 and at most 1 (0.5 = open when half the calls fail), got {failure_rate}"),
                ));
            }
            let window = match &b.window {
                Some(w) => duration(w, &bp.key("window"))?,
                None => 10 * crate::engine::time::NS_PER_SEC,
            };
            if window == 0 {
                return Err(Invalid::new(&bp.key("window"), "must be greater than zero"));
            }
            let open_for = match &b.open_for {
                Some(o) => duration(o, &bp.key("open_for"))?,
                None => 5 * crate::engine::time::NS_PER_SEC,
            };
            if open_for == 0 {
                return Err(Invalid::new(
                    &bp.key("open_for"),
                    "must be greater than zero",
                ));
            }
            Some(BreakerConfig {
                failure_rate,
                window,
                min_calls: count(b.min_calls, &bp.key("min_calls"), 20, 1, MAX_MIN_CALLS)?,
                open_for,
                half_open_calls: count(
                    b.half_open_calls,
                    &bp.key("half_open_calls"),
                    3,
                    1,
                    MAX_HALF_OPEN,
                )?,
            })
        }
    };
    let bulkhead = match f.bulkhead {
        None => None,
        Some(n) => Some(count(Some(n), &p.key("bulkhead"), 1, 1, MAX_BULKHEAD)?),
    };
    Ok(Policy {
        timeout,
        retry,
        breaker,
        bulkhead,
    })
}

/// Where a call's policy comes from; calls with equal keys towards the same
/// service from the same service share a client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    None,
    Named(String),
    Inline(String),
    /// The built-in policy of saga compensations
    /// ([`compensation_policy`]).
    Compensation,
    /// A saga's `compensation_policy = "NAME"`: a client of its own, so
    /// the compensating calls keep their own dependency row even when a
    /// forward call to the same service uses the same policy.
    NamedCompensation(String),
}

/// The policy of a saga's compensating calls when its endpoint names no
/// `compensation_policy`: an undo must not be given up lightly, so it is
/// retried (5 attempts, exponential backoff from 100ms to 2s, on every
/// transient cause), and each attempt is bounded (1s) so a dropped call
/// cannot hang the saga.
pub fn compensation_policy() -> Policy {
    Policy {
        timeout: Some(crate::engine::time::NS_PER_SEC),
        retry: Some(Retry {
            attempts: 5,
            backoff: Backoff::Exponential {
                base: 100_000_000,
                max: 2 * crate::engine::time::NS_PER_SEC,
            },
            jitter: Jitter::None,
            on: CauseSet::transient(),
            budget: None,
        }),
        breaker: None,
        bulkhead: None,
    }
}

/// The named policy `name`, or an error at `p` listing the known ones.
fn named_policy<'a>(name: &str, named: &'a IndexMap<String, Named>, p: &FieldPath) -> R<&'a Named> {
    named.get(name).ok_or_else(|| {
        let known: Vec<&str> = named.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "no [policies.NAME] tables are defined".to_string()
        } else {
            format!("expected one of: {}", known.join(", "))
        };
        Invalid::new(p, format!("unknown policy `{name}`; {hint}"))
    })
}

/// Clients built while the call steps are validated.
#[derive(Debug, Default)]
pub struct Clients {
    list: Vec<Client>,
    index: BTreeMap<(ServiceId, ServiceId, Key), ClientId>,
    keys: Vec<Key>,
}

impl Clients {
    /// The call site of step `s` (a `call`), from `caller` to `target`.
    #[allow(clippy::too_many_arguments)]
    pub fn call_site(
        &mut self,
        s: &RawStep,
        p: &FieldPath,
        caller: ServiceId,
        callee: ServiceId,
        target: EndpointId,
        named: &IndexMap<String, Named>,
    ) -> R<CallSite> {
        let inline = s.policy_fields();
        let (key, policy, optional) = match &s.policy {
            Some(name) => {
                if let Some(field) = inline.set_fields().first() {
                    return Err(Invalid::new(
                        &p.key(field),
                        format!("`{field}` cannot be combined with policy = \"{name}\": set it in [policies.{name}], or drop `policy` and give every setting inline"),
                    ));
                }
                let n = named_policy(name, named, &p.key("policy"))?;
                (Key::Named(name.clone()), n.policy.clone(), n.optional)
            }
            None if inline.set_fields().is_empty() => (Key::None, Policy::default(), false),
            None => (Key::Inline(p.to_string()), policy(inline, p)?, false),
        };
        let optional = s.optional.unwrap_or(optional);
        let client = self.client(caller, callee, key, policy);
        Ok(CallSite {
            target,
            client,
            optional,
            local: false,
        })
    }

    /// The compensating call of a saga step, from `caller` to `target`,
    /// under the endpoint's `compensation_policy` (`policy`, at `p`) or
    /// the built-in [`compensation_policy`]. Never optional: a failed
    /// compensation leaves the saga inconsistent.
    pub fn compensation_site(
        &mut self,
        policy: Option<&String>,
        p: &FieldPath,
        caller: ServiceId,
        callee: ServiceId,
        target: EndpointId,
        named: &IndexMap<String, Named>,
    ) -> R<CallSite> {
        let (key, policy) = match policy {
            None => (Key::Compensation, compensation_policy()),
            Some(name) => (
                Key::NamedCompensation(name.clone()),
                named_policy(name, named, p)?.policy.clone(),
            ),
        };
        Ok(CallSite {
            target,
            client: self.client(caller, callee, key, policy),
            optional: false,
            local: false,
        })
    }

    /// The client for calls from `caller` to `callee` under `key`, made
    /// on first use.
    fn client(
        &mut self,
        caller: ServiceId,
        callee: ServiceId,
        key: Key,
        policy: Policy,
    ) -> ClientId {
        let k = (caller, callee, key);
        match self.index.get(&k) {
            Some(&c) => c,
            None => {
                let id = self.list.len() as ClientId;
                self.list.push(Client {
                    name: String::new(),
                    caller,
                    callee,
                    policy_name: match &k.2 {
                        Key::Named(n) | Key::NamedCompensation(n) => Some(n.clone()),
                        _ => None,
                    },
                    policy,
                });
                self.keys.push(k.2.clone());
                self.index.insert(k, id);
                id
            }
        }
    }

    /// The clients, named `caller->callee`, with the policy added where a
    /// service calls the same dependency under several policies.
    pub fn finish(mut self, services: &[Service]) -> Vec<Client> {
        let mut per_edge: BTreeMap<(ServiceId, ServiceId), usize> = BTreeMap::new();
        for c in &self.list {
            *per_edge.entry((c.caller, c.callee)).or_default() += 1;
        }
        for (c, key) in self.list.iter_mut().zip(&self.keys) {
            let edge = format!(
                "{}->{}",
                services[c.caller as usize].name, services[c.callee as usize].name
            );
            c.name = if per_edge[&(c.caller, c.callee)] == 1 {
                edge
            } else {
                match key {
                    Key::None => format!("{edge} (no policy)"),
                    Key::Named(n) => format!("{edge} (policy {n})"),
                    Key::Inline(at) => format!("{edge} (policy at {at})"),
                    Key::Compensation => format!("{edge} (compensation)"),
                    Key::NamedCompensation(n) => format!("{edge} (compensation, policy {n})"),
                }
            };
        }
        self.list
    }
}
