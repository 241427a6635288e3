//! `[routing]`, `[[aliases]]`, `[[pools]]`, `[retry]` and `[circuit_breaker]`: what the router
//! tries, in which order, and how often.

use std::fmt;

use super::{CircuitPolicy, ProviderConfig, RetryPolicy, ms_or, raw, valid_alias_name};

/// How a route with several members picks the first one to try; the rest follow as failover
/// order, by the same rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Strategy {
    /// As written.
    #[default]
    Ordered,
    /// Each request starts one member further on.
    RoundRobin,
    /// The first member is drawn by weight.
    Weighted,
    /// The lowest moving estimate of latency (time to first token for streams), with the
    /// others re-probed now and then.
    LeastLatency,
    /// The fewest requests in flight.
    LeastBusy,
    /// The lowest known price; unknown prices last.
    Cheapest,
}

impl Strategy {
    pub const ALL: [Self; 6] = [
        Self::Ordered,
        Self::RoundRobin,
        Self::Weighted,
        Self::LeastLatency,
        Self::LeastBusy,
        Self::Cheapest,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ordered => "ordered",
            Self::RoundRobin => "round_robin",
            Self::Weighted => "weighted",
            Self::LeastLatency => "least_latency",
            Self::LeastBusy => "least_busy",
            Self::Cheapest => "cheapest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a route goes when every member failed to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Fallback {
    /// Nowhere: the client gets the error.
    #[default]
    None,
    /// A local runtime model (Ollama, LM Studio, llama.cpp, vLLM, Jan, or any provider on a
    /// loopback address) that can serve the request.
    Local,
}

/// `[routing]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoutingSettings {
    /// The strategy of a bare model id that several providers serve.
    pub default_strategy: Strategy,
    /// Every alias, pool and bare-id pool falls back to a local model when offline.
    pub offline_fallback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    pub provider: String,
    pub model: String,
    /// Only `weighted` reads it; 0 keeps the target for failover only.
    pub weight: u32,
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

#[derive(Debug, Clone)]
pub struct AliasConfig {
    pub name: String,
    pub targets: Vec<TargetRef>,
    pub strategy: Strategy,
    pub fallback: Fallback,
}

/// What every member of a capability pool must do. Empty lists and `None` ask nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Requirement {
    /// Input modalities, all required: `text`, `image`, `audio`.
    pub input: Vec<String>,
    /// Output modalities, all required: `text`, `image`, `audio`, `embedding`.
    pub output: Vec<String>,
    pub tools: Option<bool>,
    pub reasoning: Option<bool>,
    /// The least context window, in tokens.
    pub min_context: Option<u64>,
    /// The least output limit, in tokens.
    pub min_output: Option<u64>,
}

impl fmt::Display for Requirement {
    /// `input image, tools, context >= 100000`: the requirement as a person reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.input.is_empty() {
            parts.push(format!("input {}", self.input.join("+")));
        }
        if !self.output.is_empty() {
            parts.push(format!("output {}", self.output.join("+")));
        }
        match self.tools {
            Some(true) => parts.push("tools".into()),
            Some(false) => parts.push("no tools".into()),
            None => {}
        }
        match self.reasoning {
            Some(true) => parts.push("reasoning".into()),
            Some(false) => parts.push("no reasoning".into()),
            None => {}
        }
        if let Some(n) = self.min_context {
            parts.push(format!("context >= {n}"));
        }
        if let Some(n) = self.min_output {
            parts.push(format!("output limit >= {n}"));
        }
        if parts.is_empty() {
            f.write_str("any model")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// `[[pools]]`: a route over every enabled model that meets `require`.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub name: String,
    pub require: Requirement,
    pub strategy: Strategy,
    /// Empty: every provider.
    pub providers: Vec<String>,
    /// Model-id patterns with `*` and `?`; empty: every model.
    pub models: Vec<String>,
    pub fallback: Fallback,
}

impl PoolConfig {
    /// Whether a provider's model may join, before its capabilities are looked at.
    pub fn admits(&self, provider: &str, model: &str) -> bool {
        (self.providers.is_empty() || self.providers.iter().any(|p| p == provider))
            && (self.models.is_empty() || self.models.iter().any(|m| glob(m, model)))
    }
}

/// `*` matches any run of characters, `?` any one; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

pub(super) fn settings(
    raw: &raw::RawRouting,
    push: &mut impl FnMut(String, String),
) -> RoutingSettings {
    RoutingSettings {
        default_strategy: strategy(
            raw.default_strategy.as_deref(),
            "routing.default_strategy",
            push,
        ),
        offline_fallback: raw.offline_fallback.unwrap_or(false),
    }
}

fn strategy(text: Option<&str>, at: &str, push: &mut impl FnMut(String, String)) -> Strategy {
    let Some(text) = text else {
        return Strategy::default();
    };
    Strategy::parse(text).unwrap_or_else(|| {
        let all: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
        push(
            at.to_owned(),
            format!("unknown strategy {text:?}; use one of {}", all.join(", ")),
        );
        Strategy::default()
    })
}

fn fallback(text: Option<&str>, at: String, push: &mut impl FnMut(String, String)) -> Fallback {
    match text {
        None | Some("none") => Fallback::None,
        Some("local") => Fallback::Local,
        Some(other) => {
            push(
                at,
                format!("{other:?} is not a fallback; use \"local\" or \"none\""),
            );
            Fallback::None
        }
    }
}

/// The checks shared by alias and pool names.
fn route_name(
    name: &str,
    at: String,
    taken: bool,
    providers: &[ProviderConfig],
    push: &mut impl FnMut(String, String),
) {
    if !valid_alias_name(name) {
        push(
            at,
            format!(
                "{name:?} must be 1-128 characters of letters, digits, '-', '_', '.', ':' or '@', not starting with '.'"
            ),
        );
    } else if taken {
        push(at, format!("duplicate alias or pool name {name:?}"));
    } else if providers.iter().any(|p| p.models.iter().any(|m| m == name)) {
        push(
            at,
            format!("{name:?} is also a provider's model id; pick another name"),
        );
    }
}

pub(super) fn aliases(
    raw: Vec<raw::RawAlias>,
    providers: &[ProviderConfig],
    push: &mut impl FnMut(String, String),
) -> Vec<AliasConfig> {
    let mut aliases: Vec<AliasConfig> = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let taken = aliases.iter().any(|b| b.name == a.name);
        route_name(
            &a.name,
            format!("aliases[{i}].name"),
            taken,
            providers,
            push,
        );
        if a.targets.is_empty() {
            push(
                format!("aliases[{i}].targets"),
                "an alias needs at least one target".into(),
            );
        }
        let mut targets = Vec::with_capacity(a.targets.len());
        for (j, t) in a.targets.iter().enumerate() {
            let at = format!("aliases[{i}].targets[{j}]");
            let (t, weight) = match t {
                raw::RawTarget::Plain(t) => (t, 1),
                raw::RawTarget::Weighted(w) => (&w.model, w.weight.unwrap_or(1)),
            };
            let Some((provider, model)) = t.split_once('/') else {
                push(at, format!("{t:?} must be written \"provider/model\""));
                continue;
            };
            match providers.iter().find(|p| p.name == provider) {
                None => push(at, format!("unknown provider {provider:?}")),
                Some(p) if !p.models.is_empty() && !p.models.iter().any(|m| m == model) => push(
                    at,
                    format!("provider {provider:?} does not list model {model:?}"),
                ),
                Some(_) => targets.push(TargetRef {
                    provider: provider.to_owned(),
                    model: model.to_owned(),
                    weight,
                }),
            }
        }
        let strategy = strategy(
            a.strategy.as_deref(),
            &format!("aliases[{i}].strategy"),
            push,
        );
        if strategy == Strategy::Weighted
            && !targets.is_empty()
            && targets.iter().all(|t| t.weight == 0)
        {
            push(
                format!("aliases[{i}].targets"),
                "a weighted alias needs at least one target with a weight above 0".into(),
            );
        }
        aliases.push(AliasConfig {
            name: a.name,
            targets,
            strategy,
            fallback: fallback(
                a.fallback.as_deref(),
                format!("aliases[{i}].fallback"),
                push,
            ),
        });
    }
    aliases
}

const MODALITIES_IN: &[&str] = &["text", "image", "audio"];
const MODALITIES_OUT: &[&str] = &["text", "image", "audio", "embedding"];

pub(super) fn pools(
    raw: Vec<raw::RawPool>,
    providers: &[ProviderConfig],
    aliases: &[AliasConfig],
    push: &mut impl FnMut(String, String),
) -> Vec<PoolConfig> {
    let mut pools: Vec<PoolConfig> = Vec::with_capacity(raw.len());
    for (i, p) in raw.into_iter().enumerate() {
        let taken =
            pools.iter().any(|b| b.name == p.name) || aliases.iter().any(|a| a.name == p.name);
        route_name(&p.name, format!("pools[{i}].name"), taken, providers, push);
        for (j, name) in p.providers.iter().enumerate() {
            if !providers.iter().any(|c| &c.name == name) {
                push(
                    format!("pools[{i}].providers[{j}]"),
                    format!("unknown provider {name:?}"),
                );
            }
        }
        for (j, pattern) in p.models.iter().enumerate() {
            if pattern.is_empty() {
                push(
                    format!("pools[{i}].models[{j}]"),
                    "a model pattern cannot be empty".into(),
                );
            }
        }
        let modalities =
            |list: &[String], known: &[&str], field: &str, push: &mut dyn FnMut(String, String)| {
                for (j, m) in list.iter().enumerate() {
                    if !known.contains(&m.as_str()) {
                        push(
                            format!("pools[{i}].require.{field}[{j}]"),
                            format!("unknown modality {m:?}; use one of {}", known.join(", ")),
                        );
                    }
                }
            };
        modalities(&p.require.input, MODALITIES_IN, "input", push);
        modalities(&p.require.output, MODALITIES_OUT, "output", push);
        pools.push(PoolConfig {
            name: p.name,
            require: Requirement {
                input: p.require.input,
                output: p.require.output,
                tools: p.require.tools,
                reasoning: p.require.reasoning,
                min_context: p.require.min_context,
                min_output: p.require.min_output,
            },
            strategy: strategy(p.strategy.as_deref(), &format!("pools[{i}].strategy"), push),
            providers: p.providers,
            models: p.models,
            fallback: fallback(p.fallback.as_deref(), format!("pools[{i}].fallback"), push),
        });
    }
    pools
}

pub(super) fn retry(raw: &raw::RawRetry, push: &mut impl FnMut(String, String)) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    let retry = RetryPolicy {
        rounds: raw.rounds.unwrap_or(defaults.rounds),
        backoff: ms_or(raw.backoff_ms, defaults.backoff),
        max_backoff: ms_or(raw.max_backoff_ms, defaults.max_backoff),
        max_retry_after: ms_or(raw.max_retry_after_ms, defaults.max_retry_after),
    };
    if retry.rounds == 0 || retry.rounds > 10 {
        push("retry.rounds".into(), "must be between 1 and 10".into());
    }
    retry
}

pub(super) fn circuit(
    raw: &raw::RawCircuit,
    push: &mut impl FnMut(String, String),
) -> CircuitPolicy {
    let defaults = CircuitPolicy::default();
    let circuit = CircuitPolicy {
        enabled: raw.enabled.unwrap_or(defaults.enabled),
        window: ms_or(raw.window_ms, defaults.window),
        min_requests: raw.min_requests.unwrap_or(defaults.min_requests),
        failure_rate: raw.failure_rate.unwrap_or(defaults.failure_rate),
        cooldown: ms_or(raw.cooldown_ms, defaults.cooldown),
    };
    if !(circuit.failure_rate > 0.0 && circuit.failure_rate <= 1.0) {
        push(
            "circuit_breaker.failure_rate".into(),
            "must be in (0, 1]".into(),
        );
    }
    if circuit.min_requests == 0 {
        push(
            "circuit_breaker.min_requests".into(),
            "must be at least 1".into(),
        );
    }
    circuit
}
