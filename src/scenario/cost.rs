//! `[cost]` and the `price_per_hour` fields of services and the registry:
//! read into a [`CostModel`]. Every price must be a finite number, zero or
//! more; an error names the field.

use super::error::{FieldPath, Invalid};
use super::schema::RawScenario;
use crate::model::cost::{CostModel, DEFAULT_CURRENCY};
use crate::model::Service;
use serde::Deserialize;

type R<T> = Result<T, Invalid>;

/// `[cost]`: prices that apply to every service.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a cost table such as { currency = \"USD\", replica_hour = 0.10, network_per_million = 0.5, platform_per_service_hour = 2.0 }"
)]
pub struct RawCost {
    /// `currency`: a label for the amounts; default "USD".
    pub currency: Option<String>,
    /// `replica_hour`: price per replica-hour of a service without its own
    /// `price_per_hour`; default 0.
    pub replica_hour: Option<f64>,
    /// `network_per_million`: price per million network calls (request
    /// hops into a service, registry lookups included); default 0.
    pub network_per_million: Option<f64>,
    /// `platform_per_service_hour`: fixed overhead of operating one
    /// deployable unit (pipelines, monitoring, on-call) per hour; default 0.
    pub platform_per_service_hour: Option<f64>,
}

/// The largest price accepted.
const MAX_PRICE: f64 = 1e12;

/// Checks a price: finite, zero or more, at most [`MAX_PRICE`]. `None`
/// stays `None` (the caller picks the default).
pub fn price(v: Option<f64>, p: &FieldPath) -> R<Option<f64>> {
    match v {
        None => Ok(None),
        Some(x) if !x.is_finite() => Err(Invalid::new(
            p,
            format!("must be a finite price (a number, zero or more), got {x}"),
        )),
        Some(x) if x < 0.0 => Err(Invalid::new(
            p,
            format!("must be zero or more (a price), got {x}"),
        )),
        // Far above any real price, and far below where totals overflow.
        Some(x) if x > MAX_PRICE => Err(Invalid::new(
            p,
            format!("must be at most {MAX_PRICE:e} (a price), got {x:e}"),
        )),
        Some(x) => Ok(Some(x)),
    }
}

/// The cost model of a scenario whose `services` (the registry last, if
/// enabled) are validated.
pub fn cost(raw: &RawScenario, root: &FieldPath, services: &[Service]) -> R<CostModel> {
    let cp = root.key("cost");
    let c = raw.cost.as_ref();
    let get = |f: fn(&RawCost) -> Option<f64>, name: &str| -> R<f64> {
        Ok(price(c.and_then(f), &cp.key(name))?.unwrap_or(0.0))
    };
    let replica_hour = get(|c| c.replica_hour, "replica_hour")?;
    let network_per_million = get(|c| c.network_per_million, "network_per_million")?;
    let platform_per_service_hour =
        get(|c| c.platform_per_service_hour, "platform_per_service_hour")?;
    let currency = match c.and_then(|c| c.currency.as_deref()) {
        None => DEFAULT_CURRENCY.to_string(),
        Some(s) if s.trim().is_empty() => {
            return Err(Invalid::new(
                &cp.key("currency"),
                "must not be empty (a label such as \"USD\")",
            ))
        }
        Some(s) => s.to_string(),
    };
    let sp = root.key("services");
    let mut prices: Vec<f64> = raw
        .services
        .iter()
        .map(|(name, s)| {
            let own = price(s.price_per_hour, &sp.key(name).key("price_per_hour"))?;
            Ok(own.unwrap_or(replica_hour))
        })
        .collect::<R<_>>()?;
    // The brokers, appended after the user's services.
    for (name, b) in &raw.brokers {
        let own = price(
            b.price_per_hour,
            &root.key("brokers").key(name).key("price_per_hour"),
        )?;
        prices.push(own.unwrap_or(replica_hour));
    }
    if services.len() > prices.len() {
        // The registry, appended last when enabled.
        let own = raw.registry.as_ref().and_then(|r| r.price_per_hour);
        let own = price(own, &root.key("registry").key("price_per_hour"))?;
        prices.push(own.unwrap_or(replica_hour));
    }
    debug_assert_eq!(prices.len(), services.len());
    Ok(CostModel {
        currency,
        replica_hour: prices,
        network_per_million,
        platform_per_service_hour,
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::test_model;

    const BASE: &str = r#"
        [simulation]
        duration = "10s"
        [services.api.endpoints.get]
        work = "1ms"
        [services.db]
        replicas = 2
        [services.db.endpoints.q]
        work = "1ms"
        [[workloads]]
        name = "w"
        target = "api.get"
        arrival = { process = "constant", rate = 10 }
    "#;

    #[test]
    fn no_prices_means_cost_off() {
        let m = test_model(BASE);
        assert!(!m.cost.on());
        assert_eq!(m.cost.replica_hour, vec![0.0, 0.0]);
        assert_eq!(m.cost.currency, "USD");
    }

    #[test]
    fn a_service_price_overrides_the_default_and_the_registry_is_priced() {
        let text = BASE.replace(
            "[services.db]\n",
            "[services.db]\n        price_per_hour = 0.5\n",
        ) + r#"
        [cost]
        currency = "EUR"
        replica_hour = 0.1
        network_per_million = 3
        [registry]
        price_per_hour = 0.02
        [discovery]
        mode = "per_request"
        "#;
        let m = test_model(&text);
        assert!(m.cost.on());
        assert_eq!(m.cost.replica_hour, vec![0.1, 0.5, 0.02]);
        assert_eq!(m.cost.network_per_million, 3.0);
        assert_eq!(m.cost.platform_per_service_hour, 0.0);
        assert_eq!(m.cost.currency, "EUR");
    }

    #[test]
    fn the_registry_takes_the_default_price() {
        let text = BASE.to_string() + "[cost]\nreplica_hour = 0.25\n[registry]\n";
        let m = test_model(&text);
        assert_eq!(m.cost.replica_hour, vec![0.25, 0.25, 0.25]);
    }
}
