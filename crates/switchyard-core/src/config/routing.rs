//! `[[aliases]]`, `[retry]` and `[circuit_breaker]`: what the router tries, and how often.

use super::{
    AliasConfig, CircuitPolicy, ProviderConfig, RetryPolicy, TargetRef, ms_or, raw,
    valid_alias_name,
};

pub(super) fn aliases(
    raw: Vec<raw::RawAlias>,
    providers: &[ProviderConfig],
    push: &mut impl FnMut(String, String),
) -> Vec<AliasConfig> {
    let mut aliases: Vec<AliasConfig> = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        if !valid_alias_name(&a.name) {
            push(
                format!("aliases[{i}].name"),
                format!(
                    "{:?} must be 1-128 characters of letters, digits, '-', '_', '.', ':' or '@', not starting with '.'",
                    a.name
                ),
            );
        } else if aliases.iter().any(|b| b.name == a.name) {
            push(
                format!("aliases[{i}].name"),
                format!("duplicate alias name {:?}", a.name),
            );
        } else if providers.iter().any(|p| p.models.contains(&a.name)) {
            push(
                format!("aliases[{i}].name"),
                format!(
                    "{:?} is also a provider's model id; pick another alias name",
                    a.name
                ),
            );
        }
        if a.targets.is_empty() {
            push(
                format!("aliases[{i}].targets"),
                "an alias needs at least one target".into(),
            );
        }
        let mut targets = Vec::with_capacity(a.targets.len());
        for (j, t) in a.targets.iter().enumerate() {
            let at = format!("aliases[{i}].targets[{j}]");
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
                }),
            }
        }
        aliases.push(AliasConfig {
            name: a.name,
            targets,
        });
    }
    aliases
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
