//! One request's way through a route: which members can serve it at all (request-aware
//! selection), and in which order the rest are tried (the strategy, then open circuits last).

use std::fmt;
use std::sync::atomic::Ordering;

use super::circuit::CircuitState;
use super::{Route, RouteKind, Target};
use crate::config::Strategy;

/// Every how many requests `least_latency` tries the member it has heard from least recently
/// first, so a provider that recovered (or got faster) is noticed.
pub const PROBE_EVERY: u64 = 10;

/// What a request needs from the model that serves it, as far as the door can tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Image parts in the input.
    pub image: bool,
    /// Tool definitions.
    pub tools: bool,
    /// Estimated prompt tokens plus the output asked for, checked against context windows.
    pub tokens: Option<u64>,
    /// A stream: latency is judged by time to first token.
    pub stream: bool,
}

/// What the router knows a target can do. `None`: unknown, so it is not held against it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caps {
    pub image: Option<bool>,
    pub tools: Option<bool>,
    pub context_window: Option<u64>,
    /// Dollars per million tokens, input and output added: what `cheapest` compares.
    pub price: Option<f64>,
}

/// Why a member was not tried for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Image,
    Tools,
    Context,
}

impl Skip {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Tools => "tools",
            Self::Context => "context",
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Caps {
    /// The first reason this target cannot serve a request with these needs.
    pub fn refuses(&self, needs: &Needs) -> Option<Skip> {
        if needs.image && self.image == Some(false) {
            return Some(Skip::Image);
        }
        if needs.tools && self.tools == Some(false) {
            return Some(Skip::Tools);
        }
        match (needs.tokens, self.context_window) {
            (Some(asked), Some(window)) if asked > window => Some(Skip::Context),
            _ => None,
        }
    }
}

/// The order to try a route's members in for one request, and who was left out and why.
#[derive(Debug)]
pub struct Plan<'r> {
    pub order: Vec<&'r Target>,
    pub skipped: Vec<(&'r Target, Skip)>,
}

impl Route {
    /// Plans one request. A pinned route (`provider/model`, or a bare id one provider serves) is
    /// never second-guessed.
    pub fn plan(&self, needs: &Needs) -> Plan<'_> {
        self.plan_with(needs, true)
    }

    /// The order the next plain request would get, without counting it as a turn: what
    /// `/admin/routing` shows.
    pub fn preview(&self) -> Vec<&Target> {
        self.plan_with(&Needs::default(), false).order
    }

    fn plan_with(&self, needs: &Needs, advance: bool) -> Plan<'_> {
        if self.kind == RouteKind::Pinned {
            return Plan {
                order: self.targets.iter().collect(),
                skipped: Vec::new(),
            };
        }
        let mut order = Vec::with_capacity(self.targets.len());
        let mut skipped = Vec::new();
        for t in &self.targets {
            match t.caps.refuses(needs) {
                Some(why) => skipped.push((t, why)),
                None => order.push(t),
            }
        }
        if order.len() > 1 {
            self.arrange(&mut order, needs, advance);
            // Paused members go last, in the strategy's order.
            order.sort_by_key(|t| t.breaker.state() == CircuitState::Open);
        }
        Plan { order, skipped }
    }

    fn arrange(&self, order: &mut [&Target], needs: &Needs, advance: bool) {
        match self.strategy {
            Strategy::Ordered => {}
            Strategy::RoundRobin => {
                let turn = self.turn(advance);
                order.rotate_left(usize::try_from(turn % order.len() as u64).unwrap_or(0));
            }
            Strategy::Weighted if advance => weighted(order),
            // A preview does not draw: the heaviest first.
            Strategy::Weighted => order.sort_by_key(|t| std::cmp::Reverse(t.weight)),
            Strategy::LeastLatency => {
                let turn = self.turn(advance);
                // Never measured sorts first, so every member gets a first sample.
                order.sort_by_key(|t| t.stats.effective_latency(needs.stream));
                if turn % PROBE_EVERY == PROBE_EVERY - 1
                    && let Some(stalest) = (1..order.len()).max_by_key(|&i| {
                        (
                            order[i].breaker.state() != CircuitState::Open,
                            order[i].stats.staleness_us(),
                        )
                    })
                {
                    order[..=stalest].rotate_right(1);
                }
            }
            Strategy::LeastBusy => {
                // Rotate first so that members equally busy take turns.
                let turn = self.turn(advance);
                order.rotate_left(usize::try_from(turn % order.len() as u64).unwrap_or(0));
                order.sort_by_key(|t| t.stats.in_flight());
            }
            Strategy::Cheapest => {
                order.sort_by(|a, b| match (a.caps.price, b.caps.price) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
            }
        }
    }

    fn turn(&self, advance: bool) -> u64 {
        if advance {
            self.turns.fetch_add(1, Ordering::Relaxed)
        } else {
            self.turns.load(Ordering::Relaxed)
        }
    }
}

/// Draws members one by one, each with a chance proportional to its weight; members of weight
/// 0 follow in the order written.
fn weighted(order: &mut [&Target]) {
    let mut start = 0;
    while start < order.len() {
        let total: u64 = order[start..].iter().map(|t| u64::from(t.weight)).sum();
        if total == 0 {
            break;
        }
        let mut draw = fastrand::u64(0..total);
        let mut pick = start;
        for (i, t) in order.iter().enumerate().skip(start) {
            let w = u64::from(t.weight);
            if draw < w {
                pick = i;
                break;
            }
            draw -= w;
        }
        order[start..=pick].rotate_right(1);
        start += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::routing::{Health, Runtime};

    /// Four providers serving `m`, with the alias `a` over them by `strategy`.
    fn runtime(strategy: &str, extra: &str) -> Runtime {
        let mut text = String::new();
        for i in 0..4 {
            text.push_str(&format!(
                "[[providers]]\nname = \"p{i}\"\nkind = \"openai\"\nbase_url = \"http://10.0.0.{i}/v1\"\nmodels = [\"m\"]\n{}\n",
                if i == 3 {
                    "capabilities = { m = { input = [\"text\"], tools = false, context_window = 1000 } }"
                } else {
                    ""
                }
            ));
        }
        text.push_str(&format!(
            "[[aliases]]\nname = \"a\"\nstrategy = \"{strategy}\"\ntargets = [\"p0/m\", \"p1/m\", \"p2/m\", \"p3/m\"]\n{extra}"
        ));
        let config = Config::from_toml(&text).unwrap();
        let store = config.secret_store();
        Runtime::build(config, Arc::new(Health::default()), &store, &HashMap::new()).unwrap()
    }

    fn labels(order: &[&Target]) -> Vec<String> {
        order.iter().map(|t| t.label.clone()).collect()
    }

    fn first(route: &Route) -> String {
        route.plan(&Needs::default()).order[0].label.clone()
    }

    #[test]
    fn ordered_keeps_the_written_order_and_pinned_routes_are_never_second_guessed() {
        let rt = runtime("ordered", "");
        let route = rt.resolve("a").unwrap();
        assert_eq!(
            labels(&route.plan(&Needs::default()).order),
            ["p0/m", "p1/m", "p2/m", "p3/m"]
        );
        let pinned = rt.resolve("p3/m").unwrap();
        let image = Needs {
            image: true,
            tools: true,
            tokens: Some(10_000),
            stream: false,
        };
        let plan = pinned.plan(&image);
        assert_eq!(
            (labels(&plan.order), plan.skipped.len()),
            (vec!["p3/m".to_owned()], 0)
        );
    }

    #[test]
    fn needs_skip_only_what_is_known_to_be_missing() {
        let rt = runtime("ordered", "");
        let route = rt.resolve("a").unwrap();
        for (needs, why) in [
            (
                Needs {
                    image: true,
                    ..Needs::default()
                },
                Skip::Image,
            ),
            (
                Needs {
                    tools: true,
                    ..Needs::default()
                },
                Skip::Tools,
            ),
            (
                Needs {
                    tokens: Some(1001),
                    ..Needs::default()
                },
                Skip::Context,
            ),
        ] {
            let plan = route.plan(&needs);
            // p0..p2 serve "m", whose capabilities nobody declared: not held against them.
            assert_eq!(labels(&plan.order), ["p0/m", "p1/m", "p2/m"]);
            assert_eq!(plan.skipped.len(), 1);
            assert_eq!(
                (plan.skipped[0].0.label.as_str(), plan.skipped[0].1),
                ("p3/m", why)
            );
        }
        let fits = route.plan(&Needs {
            tokens: Some(1000),
            ..Needs::default()
        });
        assert!(fits.skipped.is_empty());
    }

    #[test]
    fn round_robin_rotates_the_first_choice() {
        let rt = runtime("round_robin", "");
        let route = rt.resolve("a").unwrap();
        let firsts: Vec<String> = (0..8).map(|_| first(&route)).collect();
        assert_eq!(
            firsts,
            [
                "p0/m", "p1/m", "p2/m", "p3/m", "p0/m", "p1/m", "p2/m", "p3/m"
            ]
        );
        // The rest follow in rotation: failover order after p2 is p3, p0, p1.
        assert_eq!(
            labels(&route.plan(&Needs::default()).order),
            ["p0/m", "p1/m", "p2/m", "p3/m"]
        );
        assert_eq!(
            labels(&route.plan(&Needs::default()).order),
            ["p1/m", "p2/m", "p3/m", "p0/m"]
        );
    }

    #[test]
    fn weighted_draws_by_weight_and_weight_zero_comes_last() {
        let text = "[[aliases]]\nname = \"w\"\nstrategy = \"weighted\"\ntargets = [{ model = \"p0/m\", weight = 6 }, { model = \"p1/m\", weight = 3 }, { model = \"p2/m\", weight = 1 }, { model = \"p3/m\", weight = 0 }]\n";
        let rt = runtime("ordered", text);
        let route = rt.resolve("w").unwrap();
        let mut counts: HashMap<String, u32> = HashMap::new();
        for _ in 0..10_000 {
            let order = route.plan(&Needs::default()).order;
            assert_eq!(order[3].label, "p3/m", "weight 0 is only for failover");
            *counts.entry(order[0].label.clone()).or_default() += 1;
        }
        // Expected 6000 / 3000 / 1000; the standard deviation is under 50 each.
        for (label, expected) in [("p0/m", 6000), ("p1/m", 3000), ("p2/m", 1000)] {
            let n = i64::from(counts[label]);
            assert!((n - expected).abs() < 300, "{counts:?}");
        }
    }

    #[test]
    fn least_latency_picks_the_fastest_and_probes_the_stalest_every_tenth_request() {
        let rt = runtime("least_latency", "");
        let route = rt.resolve("a").unwrap();
        let t = &route.targets;
        // Never measured sorts first, so a new member gets its first sample.
        t[0].stats.success(false, Duration::from_millis(40));
        t[1].stats.success(false, Duration::from_millis(10));
        t[2].stats.success(false, Duration::from_millis(20));
        assert_eq!(first(&route), "p3/m");
        t[3].stats.success(false, Duration::from_millis(30));
        let mut firsts = Vec::new();
        for _ in 0..10 {
            firsts.push(first(&route));
        }
        // Turns 1..=9 pick the fastest; turn 9 (the tenth) probes the member heard from
        // least recently: p0, sampled first.
        assert_eq!(
            firsts.iter().filter(|f| *f == "p1/m").count(),
            9,
            "{firsts:?}"
        );
        assert_eq!(firsts[8], "p0/m", "{firsts:?}");
        // Streams go by time to first token when there is one.
        t[0].stats.success(true, Duration::from_millis(1));
        let stream = Needs {
            stream: true,
            ..Needs::default()
        };
        assert_eq!(route.plan(&stream).order[0].label, "p0/m");
    }

    #[test]
    fn least_busy_counts_requests_in_flight() {
        let rt = runtime("least_busy", "");
        let route = rt.resolve("a").unwrap();
        let t = &route.targets;
        let _busy = [
            t[0].stats.busy(),
            t[1].stats.busy(),
            t[1].stats.busy(),
            t[3].stats.busy(),
        ];
        assert_eq!(first(&route), "p2/m");
        let order = labels(&route.plan(&Needs::default()).order);
        assert_eq!(order.last().map(String::as_str), Some("p1/m"), "{order:?}");
    }

    #[test]
    fn cheapest_goes_by_known_price_and_open_circuits_go_last() {
        let prices = "[[aliases]]\nname = \"c\"\nstrategy = \"cheapest\"\ntargets = [\"p0/m\", \"p1/m\", \"p2/m\"]\n";
        let mut text = String::new();
        for (i, price) in [
            "",
            "prices = { m = { input = 5.0, output = 5.0 } }",
            "prices = { m = { input = 1.0, output = 2.0 } }",
        ]
        .iter()
        .enumerate()
        {
            text.push_str(&format!(
                "[[providers]]\nname = \"p{i}\"\nkind = \"openai\"\nbase_url = \"http://10.0.0.{i}/v1\"\nmodels = [\"m\"]\n{price}\n"
            ));
        }
        text.push_str(prices);
        let mut config = Config::from_toml(&text).unwrap();
        config.circuit.min_requests = 1;
        let store = config.secret_store();
        let rt =
            Runtime::build(config, Arc::new(Health::default()), &store, &HashMap::new()).unwrap();
        let route = rt.resolve("c").unwrap();
        assert_eq!(
            labels(&route.plan(&Needs::default()).order),
            ["p2/m", "p1/m", "p0/m"]
        );
        // The cheapest one's circuit opens: it goes last, the others keep their order.
        for _ in 0..5 {
            if let Ok(permit) = route.targets[2].breaker.try_acquire() {
                permit.failure("down".into());
            }
        }
        assert_eq!(
            labels(&route.plan(&Needs::default()).order),
            ["p1/m", "p0/m", "p2/m"]
        );
    }
}
