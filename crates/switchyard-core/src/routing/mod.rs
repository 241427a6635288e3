//! From a requested model id to the members a request may go to: `provider/model`, a bare
//! upstream id (one provider: pinned; several: a pool over all of them), an alias, or a
//! capability pool. [`Runtime`] is one immutable generation of the routing table, swapped whole
//! when the config or discovery changes; [`Route::plan`] orders a route's members for one
//! request by its strategy and what the request needs.

pub mod circuit;
pub mod failover;
pub mod health;
pub mod plan;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::capabilities::Matrix;
use crate::config::{Config, Fallback, PoolConfig, ProviderConfig, Requirement, Strategy};
use crate::discovery::DiscoveredModel;
use crate::providers::Provider;
use crate::secrets::SecretStore;
use circuit::Breaker;
pub use health::Health;
use health::Stats;
pub use plan::{Caps, Needs, Plan, Skip};
use switchyard_dialects::openai::{ModelCard, ModelList, RouteCard};

/// Model lists read from the upstreams, by provider name. Kept across config generations.
pub type Discovered = HashMap<String, Arc<Vec<DiscoveredModel>>>;

/// One place a request can go.
#[derive(Debug, Clone)]
pub struct Target {
    pub provider: Arc<Provider>,
    pub model: String,
    /// `provider/model`, as shown in headers, errors and logs.
    pub label: String,
    pub breaker: Arc<Breaker>,
    pub stats: Arc<Stats>,
    /// For `weighted`; 1 unless the alias says otherwise.
    pub weight: u32,
    pub caps: Caps,
    /// Served by a local runtime (a local preset, or an upstream on a loopback address).
    pub local: bool,
}

/// What kind of name a route answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// `provider/model`, or a bare id one provider serves: never second-guessed.
    Pinned,
    /// A bare id several providers serve.
    ModelPool,
    Alias,
    /// `[[pools]]`: members chosen by capability.
    Pool,
}

impl RouteKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pinned => "model",
            Self::ModelPool => "model_pool",
            Self::Alias => "alias",
            Self::Pool => "pool",
        }
    }
}

#[derive(Debug)]
pub struct Route {
    /// What the client asked for.
    pub requested: String,
    pub kind: RouteKind,
    pub strategy: Strategy,
    /// The members, as configured.
    pub targets: Vec<Target>,
    /// Local models to try when every member failed to connect (empty: no offline fallback).
    pub fallback: Arc<[Target]>,
    /// For a capability pool: what its members must do.
    pub require: Option<Requirement>,
    /// Requests planned so far: drives `round_robin` and `least_latency`'s probes.
    turns: AtomicU64,
}

impl Route {
    fn new(requested: String, kind: RouteKind, strategy: Strategy, targets: Vec<Target>) -> Self {
        Self {
            requested,
            kind,
            strategy,
            targets,
            fallback: Arc::from([]),
            require: None,
            turns: AtomicU64::new(0),
        }
    }

    fn pinned(target: Target) -> Self {
        Self::new(
            target.label.clone(),
            RouteKind::Pinned,
            Strategy::Ordered,
            vec![target],
        )
    }

    /// Whether the attempt trail names the strategy: every route that chooses.
    pub fn chooses(&self) -> bool {
        self.kind != RouteKind::Pinned
    }
}

/// One generation of live state: the config, its providers and the routing table.
#[derive(Debug)]
pub struct Runtime {
    pub config: Arc<Config>,
    pub providers: Vec<Arc<Provider>>,
    routes: HashMap<String, Arc<Route>>,
    /// Aliases and pools (and bare-id pools), in the order `/admin/routing` shows them.
    choosing: Vec<Arc<Route>>,
    health: Arc<Health>,
    pub models: ModelList,
    /// `GET /v1/models`, rendered once per generation.
    pub model_list: bytes::Bytes,
}

/// Why a routing table could not be built from a config.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Provider(#[from] crate::providers::SetupError),
    #[error(transparent)]
    ModelList(#[from] serde_json::Error),
}

/// What `/v1/models` says of an assistant: the model it runs on and its tools.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AssistantCard<'a> {
    pub model: &'a str,
    pub description: Option<&'a str>,
    pub servers: &'a [String],
    /// `null`: every enabled tool of `servers`.
    pub tools: Option<&'a [String]>,
    pub max_iterations: u32,
}

/// An enabled model while a generation is built: its target and what it can do.
struct Member {
    target: Target,
    matrix: Matrix,
}

impl Runtime {
    /// Builds a generation. Reads provider keys from `secrets`, which may block (D-Bus):
    /// async callers run this on a blocking thread.
    pub fn build(
        config: Config,
        health: Arc<Health>,
        secrets: &SecretStore,
        discovered: &Discovered,
    ) -> Result<Self, BuildError> {
        let providers: Vec<Arc<Provider>> = config
            .providers
            .iter()
            .map(|p| Provider::new(p, secrets).map(Arc::new))
            .collect::<Result<_, _>>()?;
        let enabled = |name: &str| config.provider(name).is_some_and(|p| p.enabled);
        let created = switchyard_dialects::chunks::unix_now();
        let mut routes = HashMap::new();
        let mut choosing = Vec::new();
        let mut cards = Vec::new();

        // Every enabled model: a pinned route and a card each.
        let mut members: Vec<Member> = Vec::new();
        for p in providers.iter().filter(|p| enabled(&p.name)) {
            let Some(pc) = config.provider(&p.name) else {
                continue;
            };
            let found = discovered.get(&p.name);
            // A provider that lists no models serves whatever its upstream says it has.
            let served: Vec<String> = if p.models.is_empty() {
                found
                    .map(|list| list.iter().map(|d| d.id.clone()).collect())
                    .unwrap_or_default()
            } else {
                p.models.clone()
            };
            for model in &served {
                let info = found.and_then(|list| list.iter().find(|d| &d.id == model));
                let member = member(&config, &health, p, pc, model, info);
                cards.push(model_card(
                    &member.target.label,
                    pc,
                    &member.matrix,
                    created,
                ));
                routes.insert(
                    member.target.label.clone(),
                    Arc::new(Route::pinned(member.target.clone())),
                );
                members.push(member);
            }
        }
        let offline: Arc<[Target]> = members
            .iter()
            .filter(|m| m.target.local && m.matrix.output.value.iter().any(|o| o == "text"))
            .map(|m| m.target.clone())
            .collect();
        let fallback_for = |f: Fallback| {
            if f == Fallback::Local || config.routing.offline_fallback {
                offline.clone()
            } else {
                Arc::from([])
            }
        };

        // Bare ids: one provider pins, several make a pool.
        let mut bare: Vec<(&str, Vec<&Member>)> = Vec::new();
        for m in &members {
            match bare.iter_mut().find(|(id, _)| *id == m.target.model) {
                Some((_, list)) => list.push(m),
                None => bare.push((&m.target.model, vec![m])),
            }
        }
        for (model, list) in bare {
            if routes.contains_key(model) {
                continue;
            }
            if let [only] = list.as_slice() {
                let mut route = Route::pinned(only.target.clone());
                model.clone_into(&mut route.requested);
                routes.insert(model.to_owned(), Arc::new(route));
                continue;
            }
            let mut route = Route::new(
                model.to_owned(),
                RouteKind::ModelPool,
                config.routing.default_strategy,
                list.iter().map(|m| m.target.clone()).collect(),
            );
            route.fallback = fallback_for(Fallback::None);
            let first = cards.iter().find(|c| c.id == list[0].target.label);
            cards.push(route_card(&route, first, created));
            let route = Arc::new(route);
            choosing.push(route.clone());
            routes.insert(model.to_owned(), route);
        }

        for alias in &config.aliases {
            let targets: Vec<Target> = alias
                .targets
                .iter()
                .filter(|t| enabled(&t.provider))
                .filter_map(|t| {
                    let p = providers.iter().find(|p| p.name == t.provider)?;
                    let label = t.to_string();
                    let mut target = match members.iter().find(|m| m.target.label == label) {
                        Some(m) => m.target.clone(),
                        None => {
                            let pc = config.provider(&p.name)?;
                            let info = discovered
                                .get(&p.name)
                                .and_then(|l| l.iter().find(|d| d.id == t.model));
                            member(&config, &health, p, pc, &t.model, info).target
                        }
                    };
                    target.weight = t.weight;
                    Some(target)
                })
                .collect();
            let mut route = Route::new(
                alias.name.clone(),
                RouteKind::Alias,
                alias.strategy,
                targets,
            );
            route.fallback = fallback_for(alias.fallback);
            let first = cards
                .iter()
                .find(|c| alias.targets.first().is_some_and(|t| c.id == t.to_string()));
            let mut card = route_card(&route, first, created);
            card.targets = Some(alias.targets.iter().map(ToString::to_string).collect());
            cards.push(card);
            let route = Arc::new(route);
            choosing.push(route.clone());
            routes.insert(alias.name.clone(), route);
        }

        for pool in &config.pools {
            let route = capability_pool(pool, &members, fallback_for(pool.fallback));
            let first = route
                .targets
                .first()
                .and_then(|t| cards.iter().find(|c| c.id == t.label));
            cards.push(route_card(&route, first, created));
            let route = Arc::new(route);
            choosing.push(route.clone());
            routes.insert(pool.name.clone(), route);
        }

        for a in &config.assistants {
            let base = cards.iter().find(|c| c.id == a.model).cloned();
            cards.push(ModelCard {
                id: a.name.clone(),
                object: "model",
                created,
                owned_by: "switchyard".to_owned(),
                kind: "model",
                display_name: a.name.clone(),
                created_at: crate::record::utc_timestamp(
                    i64::try_from(created).unwrap_or(0) * 1000,
                ),
                capabilities: base.and_then(|c| c.capabilities),
                provider: None,
                targets: None,
                routing: None,
                assistant: serde_json::to_value(AssistantCard {
                    model: &a.model,
                    description: a.description.as_deref(),
                    servers: &a.servers,
                    tools: a.tools.as_deref(),
                    max_iterations: a.max_iterations,
                })
                .ok(),
            });
        }
        let list = ModelList {
            object: "list",
            first_id: cards.first().map(|c| c.id.clone()),
            last_id: cards.last().map(|c| c.id.clone()),
            has_more: false,
            data: cards,
        };
        let model_list = serde_json::to_vec(&list)?.into();
        Ok(Self {
            config: Arc::new(config),
            providers,
            routes,
            choosing,
            health,
            models: list,
            model_list,
        })
    }

    /// The route for a requested model id, or `None` when nothing serves it.
    pub fn resolve(&self, model: &str) -> Option<Arc<Route>> {
        if let Some(route) = self.routes.get(model) {
            return Some(route.clone());
        }
        // `provider/anything` for a provider that lists no models: it serves whatever it has.
        let (name, upstream_model) = model.split_once('/')?;
        let provider = self.providers.iter().find(|p| p.name == name)?;
        let config = self.config.provider(name)?;
        let open = provider.models.is_empty() && config.enabled && !upstream_model.is_empty();
        open.then(|| {
            // Built per request: a pinned route is never second-guessed, so it needs no
            // capabilities (and none are worked out here, on the request path).
            let (breaker, stats) = self.health.get(model, &self.config);
            Arc::new(Route::pinned(Target {
                provider: provider.clone(),
                model: upstream_model.to_owned(),
                label: model.to_owned(),
                breaker,
                stats,
                weight: 1,
                caps: Caps::default(),
                local: false,
            }))
        })
    }

    /// Every alias and pool (bare-id pools included), as built for this generation.
    pub fn choosing(&self) -> &[Arc<Route>] {
        &self.choosing
    }

    /// The card of a model id as a client may send it, found exactly as [`Runtime::resolve`]
    /// routes it: a listed id, or an id that routes to one model (a bare id, or
    /// `provider/anything` for a provider that lists none), shown under the id asked for.
    pub fn card(&self, id: &str) -> Option<ModelCard> {
        if let Some(card) = self.models.data.iter().find(|c| c.id == id) {
            return Some(card.clone());
        }
        let route = self.resolve(id)?;
        let [target] = route.targets.as_slice() else {
            return None;
        };
        let mut card = match self.models.data.iter().find(|c| c.id == target.label) {
            Some(card) => card.clone(),
            None => {
                let provider = self.config.provider(&target.provider.name)?;
                let created = switchyard_dialects::chunks::unix_now();
                let matrix = matrix_of(provider, &target.model, None);
                model_card(&target.label, provider, &matrix, created)
            }
        };
        id.clone_into(&mut card.id);
        Some(card)
    }

    pub fn health(&self) -> &Health {
        &self.health
    }
}

fn matrix_of(pc: &ProviderConfig, model: &str, info: Option<&DiscoveredModel>) -> Matrix {
    crate::capabilities::matrix(
        pc.kind,
        model,
        pc.capabilities.get(model),
        info,
        pc.prices.get(model).copied(),
    )
}

fn member(
    config: &Config,
    health: &Health,
    p: &Arc<Provider>,
    pc: &ProviderConfig,
    model: &str,
    info: Option<&DiscoveredModel>,
) -> Member {
    let label = format!("{}/{model}", p.name);
    let matrix = matrix_of(pc, model, info);
    let (breaker, stats) = health.get(&label, config);
    Member {
        target: Target {
            provider: p.clone(),
            model: model.to_owned(),
            label,
            breaker,
            stats,
            weight: 1,
            caps: caps(&matrix),
            local: is_local(pc),
        },
        matrix,
    }
}

/// What the router may hold against a model. A guess from its name that it lacks something is
/// not held against it (unknown names would be refused everything); a chat model's known lack,
/// from the config or its upstream, is.
fn caps(m: &Matrix) -> Caps {
    use crate::capabilities::Source;
    let known = |value: bool, source: Source| {
        (value || source != Source::Inferred || !m.output.value.iter().any(|o| o == "text"))
            .then_some(value)
    };
    Caps {
        image: known(m.input.value.iter().any(|i| i == "image"), m.input.source),
        tools: known(m.tools.value, m.tools.source),
        context_window: m.context_window.as_ref().map(|f| f.value),
        price: m.price.as_ref().map(|f| f.value.input + f.value.output),
    }
}

/// A local runtime: made from a local preset, or reached on a loopback address.
fn is_local(pc: &ProviderConfig) -> bool {
    let preset = pc
        .preset
        .as_deref()
        .and_then(crate::catalog::preset)
        .is_some_and(|p| p.local);
    preset
        || reqwest::Url::parse(&pc.base_url).is_ok_and(|u| {
            let host = u.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

/// Whether a model's capabilities meet a pool's requirement.
pub fn meets(m: &Matrix, r: &Requirement) -> bool {
    r.input.iter().all(|i| m.input.value.contains(i))
        && r.output.iter().all(|o| m.output.value.contains(o))
        && r.tools.is_none_or(|t| m.tools.value == t)
        && r.reasoning.is_none_or(|t| m.reasoning.value == t)
        && r.min_context
            .is_none_or(|n| m.context_window.as_ref().is_some_and(|f| f.value >= n))
        && r.min_output
            .is_none_or(|n| m.max_output.as_ref().is_some_and(|f| f.value >= n))
}

fn capability_pool(pool: &PoolConfig, members: &[Member], fallback: Arc<[Target]>) -> Route {
    let targets = members
        .iter()
        .filter(|m| pool.admits(&m.target.provider.name, &m.target.model))
        .filter(|m| meets(&m.matrix, &pool.require))
        .map(|m| m.target.clone())
        .collect();
    let mut route = Route::new(pool.name.clone(), RouteKind::Pool, pool.strategy, targets);
    route.fallback = fallback;
    route.require = Some(pool.require.clone());
    route
}

fn model_card(id: &str, provider: &ProviderConfig, matrix: &Matrix, created: u64) -> ModelCard {
    ModelCard {
        id: id.to_owned(),
        object: "model",
        created,
        owned_by: provider.name.clone(),
        kind: "model",
        display_name: id.to_owned(),
        created_at: crate::record::utc_timestamp(i64::try_from(created).unwrap_or(0) * 1000),
        capabilities: Some(matrix.to_json()),
        provider: Some(provider.name.clone()),
        targets: None,
        routing: None,
        assistant: None,
    }
}

/// An alias or pool shows the capabilities of its first member: what a client gets when all is
/// well.
fn route_card(route: &Route, first: Option<&ModelCard>, created: u64) -> ModelCard {
    ModelCard {
        id: route.requested.clone(),
        object: "model",
        created,
        owned_by: "switchyard".to_owned(),
        kind: "model",
        display_name: route.requested.clone(),
        created_at: crate::record::utc_timestamp(i64::try_from(created).unwrap_or(0) * 1000),
        capabilities: first.and_then(|c| c.capabilities.clone()),
        provider: None,
        targets: Some(route.targets.iter().map(|t| t.label.clone()).collect()),
        routing: Some(RouteCard {
            kind: route.kind.as_str(),
            strategy: route.strategy.as_str(),
            fallback: (!route.fallback.is_empty()).then_some("local"),
            require: route.require.as_ref().map(ToString::to_string),
        }),
        assistant: None,
    }
}
