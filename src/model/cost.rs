//! The cost model: what running the system costs, so a scenario can put a
//! price next to its latency and availability (scaling only the bottleneck
//! against scaling everything, many small services against one unit).
//!
//! Three kinds of money are counted, per service (the registry included,
//! as it is deployed and operated like any service):
//! - replicas: `price per replica-hour x replica-hours provisioned`;
//! - network: `price per million x calls sent over the network to it`;
//! - platform: `overhead per service-hour x hours`, the fixed cost of
//!   operating one more deployable unit (pipelines, monitoring, on-call),
//!   independent of its replica count.

use super::ServiceId;

/// Nanoseconds in an hour: prices are per hour, simulated time is in ns.
pub const NS_PER_HOUR: f64 = 3.6e12;

/// Prices of a scenario, validated. Every scenario has one; it is all
/// zeros when the scenario prices nothing, and then [`CostModel::on`] is
/// false and the results carry no cost section (so outputs of scenarios
/// written before cost existed stay as they were).
#[derive(Debug, Clone, PartialEq)]
pub struct CostModel {
    /// Label of the currency (`cost.currency`), e.g. "USD"; only shown.
    pub currency: String,
    /// Price per replica-hour, indexed by [`ServiceId`]: the service's
    /// `price_per_hour`, or else `cost.replica_hour`.
    pub replica_hour: Vec<f64>,
    /// Price per million network calls (request hops into a service,
    /// registry lookups included).
    pub network_per_million: f64,
    /// Fixed operating overhead per service (deployable unit) per hour.
    pub platform_per_service_hour: f64,
}

/// One service's cost over a span of time, split by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CostParts {
    /// Replica-hours provisioned in the span.
    pub replica_hours: f64,
    /// Money for those replica-hours.
    pub replicas: f64,
    /// Money for the network calls into the service.
    pub network: f64,
    /// The service's share of platform overhead for the span.
    pub platform: f64,
}

impl CostParts {
    /// Everything the service cost in the span.
    pub fn total(&self) -> f64 {
        self.replicas + self.network + self.platform
    }
}

impl CostModel {
    /// A model that prices nothing, for `services` services.
    pub fn free(services: usize) -> Self {
        CostModel {
            currency: DEFAULT_CURRENCY.to_string(),
            replica_hour: vec![0.0; services],
            network_per_million: 0.0,
            platform_per_service_hour: 0.0,
        }
    }

    /// Whether the scenario prices anything: only then do results carry
    /// cost (a run that costs nothing needs no cost section).
    pub fn on(&self) -> bool {
        self.network_per_million > 0.0
            || self.platform_per_service_hour > 0.0
            || self.replica_hour.iter().any(|p| *p > 0.0)
    }

    /// What `service` cost over a span of `span_ns` nanoseconds in which
    /// its provisioned replicas integrate to `replica_ns` (replicas x ns)
    /// and `calls` network calls reached it.
    pub fn parts(
        &self,
        service: ServiceId,
        replica_ns: u128,
        span_ns: u64,
        calls: u64,
    ) -> CostParts {
        let replica_hours = replica_ns as f64 / NS_PER_HOUR;
        CostParts {
            replica_hours,
            replicas: self.replica_hour[service as usize] * replica_hours,
            network: self.network_per_million * calls as f64 / 1e6,
            platform: self.platform_per_service_hour * span_ns as f64 / NS_PER_HOUR,
        }
    }

    /// The cost model of one deployable unit that replaces the services
    /// `members` (monolith mode): its replica price is `unit_price` when
    /// given, else the sum of the members' per-replica prices (what one
    /// unit replica holding one replica of each costs); the network and
    /// platform prices stay, so the platform overhead is paid once instead
    /// of once per service. The result prices one service (id 0).
    pub fn unit(&self, unit_price: Option<f64>, members: &[ServiceId]) -> CostModel {
        let price = unit_price
            .unwrap_or_else(|| members.iter().map(|s| self.replica_hour[*s as usize]).sum());
        CostModel {
            currency: self.currency.clone(),
            replica_hour: vec![price],
            network_per_million: self.network_per_million,
            platform_per_service_hour: self.platform_per_service_hour,
        }
    }
}

/// `cost.currency` when not given.
pub const DEFAULT_CURRENCY: &str = "USD";

#[cfg(test)]
mod tests {
    use super::*;

    fn priced() -> CostModel {
        CostModel {
            currency: "EUR".into(),
            replica_hour: vec![0.125, 0.25, 0.0],
            network_per_million: 2.0,
            platform_per_service_hour: 1.5,
        }
    }

    #[test]
    fn parts_price_replica_time_calls_and_overhead() {
        let m = priced();
        // 3 replicas for 2 hours, 500,000 calls, over 2 hours.
        let two_hours = 7_200_000_000_000u64;
        let p = m.parts(1, 3 * u128::from(two_hours), two_hours, 500_000);
        assert_eq!(p.replica_hours, 6.0);
        assert_eq!(p.replicas, 1.5);
        assert_eq!(p.network, 1.0);
        assert_eq!(p.platform, 3.0);
        assert_eq!(p.total(), 5.5);
    }

    #[test]
    fn only_a_positive_price_turns_cost_on() {
        assert!(!CostModel::free(3).on());
        assert!(priced().on());
        let mut m = CostModel::free(2);
        m.replica_hour[1] = 0.01;
        assert!(m.on());
        let mut m = CostModel::free(2);
        m.network_per_million = 0.5;
        assert!(m.on());
    }

    #[test]
    fn a_unit_costs_the_sum_of_its_members_unless_priced() {
        let m = priced();
        let u = m.unit(None, &[0, 1, 2]);
        assert_eq!(u.replica_hour, vec![0.375]);
        assert_eq!(u.platform_per_service_hour, 1.5);
        assert_eq!(u.currency, "EUR");
        assert_eq!(m.unit(Some(0.2), &[0, 1]).replica_hour, vec![0.2]);
        assert!(!CostModel::free(2).unit(None, &[0, 1]).on());
        assert!(CostModel::free(2).unit(Some(1.0), &[0, 1]).on());
    }
}
