//! From a requested model id to an ordered list of targets: `provider/model`, a bare upstream id
//! offered by exactly one provider, or an alias. [`Runtime`] is one immutable generation of the
//! routing table, swapped whole when the config changes.

pub mod circuit;
pub mod failover;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::{Config, ProviderConfig};
use crate::discovery::DiscoveredModel;
use crate::providers::Provider;
use crate::secrets::SecretStore;
use circuit::Breaker;
use switchyard_dialects::openai::{ModelCard, ModelList};

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
}

#[derive(Debug)]
pub struct Route {
    /// What the client asked for.
    pub requested: String,
    pub targets: Vec<Target>,
}

/// Circuit breakers outlive config generations, so a reload does not forget a dead upstream.
#[derive(Debug, Default)]
pub struct Breakers(Mutex<HashMap<String, Arc<Breaker>>>);

impl Breakers {
    pub fn get(&self, label: &str, config: &Config) -> Arc<Breaker> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(label.to_owned())
            .or_insert_with(|| Arc::new(Breaker::new(config.circuit)))
            .clone()
    }

    pub fn snapshot(&self) -> Vec<(String, Arc<Breaker>)> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// One generation of live state: the config, its providers and the routing table.
#[derive(Debug)]
pub struct Runtime {
    pub config: Arc<Config>,
    pub providers: Vec<Arc<Provider>>,
    routes: HashMap<String, Arc<Route>>,
    breakers: Arc<Breakers>,
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

impl Runtime {
    /// Builds a generation. Reads provider keys from `secrets`, which may block (D-Bus):
    /// async callers run this on a blocking thread.
    pub fn build(
        config: Config,
        breakers: Arc<Breakers>,
        secrets: &SecretStore,
        discovered: &Discovered,
    ) -> Result<Self, BuildError> {
        let providers: Vec<Arc<Provider>> = config
            .providers
            .iter()
            .map(|p| Provider::new(p, secrets).map(Arc::new))
            .collect::<Result<_, _>>()?;
        let mut routes = HashMap::new();
        let target = |p: &Arc<Provider>, model: &str| {
            let label = format!("{}/{model}", p.name);
            Target {
                provider: p.clone(),
                model: model.to_owned(),
                breaker: breakers.get(&label, &config),
                label,
            }
        };
        let enabled = |name: &str| config.provider(name).is_some_and(|p| p.enabled);
        let mut bare: HashMap<String, Vec<Target>> = HashMap::new();
        let mut cards = Vec::new();
        let created = switchyard_dialects::chunks::unix_now();
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
                let t = target(p, model);
                let info = found.and_then(|list| list.iter().find(|d| &d.id == model));
                cards.push(model_card(&t.label, pc, model, info, created));
                routes.insert(
                    t.label.clone(),
                    Arc::new(Route {
                        requested: t.label.clone(),
                        targets: vec![t.clone()],
                    }),
                );
                bare.entry(model.clone()).or_default().push(t);
            }
        }
        for (model, mut targets) in bare {
            if targets.len() == 1 && !routes.contains_key(&model) {
                routes.insert(
                    model.clone(),
                    Arc::new(Route {
                        requested: model,
                        targets: vec![targets.remove(0)],
                    }),
                );
            }
        }
        for alias in &config.aliases {
            let targets: Vec<Target> = alias
                .targets
                .iter()
                .filter(|t| enabled(&t.provider))
                .filter_map(|t| {
                    let p = providers.iter().find(|p| p.name == t.provider)?;
                    Some(target(p, &t.model))
                })
                .collect();
            cards.push(alias_card(
                &alias.name,
                alias.targets.iter().map(ToString::to_string).collect(),
                cards
                    .iter()
                    .find(|c| alias.targets.first().is_some_and(|t| c.id == t.to_string())),
                created,
            ));
            routes.insert(
                alias.name.clone(),
                Arc::new(Route {
                    requested: alias.name.clone(),
                    targets,
                }),
            );
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
            breakers,
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
        let open = provider.models.is_empty()
            && self.config.provider(name).is_some_and(|p| p.enabled)
            && !upstream_model.is_empty();
        open.then(|| {
            Arc::new(Route {
                requested: model.to_owned(),
                targets: vec![Target {
                    provider: provider.clone(),
                    model: upstream_model.to_owned(),
                    label: model.to_owned(),
                    breaker: self.breakers.get(model, &self.config),
                }],
            })
        })
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
                model_card(&target.label, provider, &target.model, None, created)
            }
        };
        id.clone_into(&mut card.id);
        Some(card)
    }

    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }
}

fn model_card(
    id: &str,
    provider: &ProviderConfig,
    upstream_model: &str,
    discovered: Option<&DiscoveredModel>,
    created: u64,
) -> ModelCard {
    let matrix = crate::capabilities::matrix(
        provider.kind,
        upstream_model,
        provider.capabilities.get(upstream_model),
        discovered,
        provider.prices.get(upstream_model).copied(),
    );
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
        assistant: None,
    }
}

/// An alias shows the capabilities of its first target: what a client gets when all is well.
fn alias_card(
    name: &str,
    targets: Vec<String>,
    first: Option<&ModelCard>,
    created: u64,
) -> ModelCard {
    ModelCard {
        id: name.to_owned(),
        object: "model",
        created,
        owned_by: "switchyard".to_owned(),
        kind: "model",
        display_name: name.to_owned(),
        created_at: crate::record::utc_timestamp(i64::try_from(created).unwrap_or(0) * 1000),
        capabilities: first.and_then(|c| c.capabilities.clone()),
        provider: None,
        targets: Some(targets),
        assistant: None,
    }
}
