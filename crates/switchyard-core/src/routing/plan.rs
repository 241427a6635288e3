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
                order.sort_by_key(|t| t.stats.latency(needs.stream).unwrap_or(0));
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
