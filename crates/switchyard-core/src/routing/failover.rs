//! Trying a route's members for one request: in the order [`Route::plan`] gives (members that
//! cannot serve the request left out), in rounds: fail over at once on a retryable error, wait a
//! backoff (or the upstream's `Retry-After`) between rounds, stop at the total time budget, skip
//! members whose circuit is open, and keep every attempt for the header and the error body.
//! When every member failed to connect and the route has an offline fallback, the local models
//! that can serve the request get one round.

use std::future::Future;
use std::time::{Duration, Instant};

use super::health::Busy;
use super::plan::{Needs, Skip};
use super::{Route, RouteKind, Target};
use crate::config::RetryPolicy;
use crate::error::ToApiError as _;
use crate::error::{ApiError, Attempt, ErrorCode, UpstreamError};

/// The value of the first successful attempt, which target gave it, and the trail.
#[derive(Debug)]
pub struct Success<'r, T> {
    pub value: T,
    pub target: &'r Target,
    pub attempts: Vec<Attempt>,
    /// The route's strategy, for a route that chooses (the trail names it).
    pub strategy: Option<&'static str>,
    /// Counts the request in flight on `target` until dropped: keep it while the answer
    /// streams, so `least_busy` sees it.
    pub busy: Busy,
}

/// What one attempt came to.
enum Step<T> {
    Done(T, Duration, Busy),
    /// Failed in a way the next target may not: try on.
    Next,
    /// Failed in a way no other target would change (the client's own 4xx).
    Stop(ApiError),
    /// No time left.
    OutOfTime,
    /// The circuit is open: not tried.
    Paused,
}

/// What the caller does after an attempt.
enum After<'r, T> {
    /// Answer the client with this.
    Answer(Result<Success<'r, T>, ApiError>),
    /// Go on to the next target (`tried`: this one was asked).
    Next {
        tried: bool,
    },
    OutOfTime,
}

/// The attempts of one request so far.
struct Run<'r> {
    attempts: Vec<Attempt>,
    last: Option<(UpstreamError, &'r Target)>,
    circuit_wait: Option<Duration>,
    /// The members left out, appended to the trail whatever the outcome.
    skipped: Vec<Attempt>,
    strategy: Option<&'static str>,
    stream: bool,
}

impl<'r> Run<'r> {
    /// The whole trail: the attempts, then the members skipped.
    fn trail(&self, mut attempts: Vec<Attempt>) -> Vec<Attempt> {
        attempts.extend(self.skipped.iter().cloned());
        attempts
    }

    /// Turns an attempt's outcome into what happens next.
    fn after<T>(&mut self, step: Step<T>, target: &'r Target) -> After<'r, T> {
        match step {
            Step::Done(value, elapsed, busy) => {
                target.stats.success(self.stream, elapsed);
                let attempts = std::mem::take(&mut self.attempts);
                let attempts = self.trail(attempts);
                After::Answer(Ok(Success {
                    value,
                    target,
                    attempts,
                    strategy: self.strategy,
                    busy,
                }))
            }
            Step::Next => After::Next { tried: true },
            Step::Paused => After::Next { tried: false },
            Step::Stop(e) => {
                let attempts = self.trail(e.inner().attempts.clone());
                After::Answer(Err(e.with_attempts(attempts).with_strategy(self.strategy)))
            }
            Step::OutOfTime => After::OutOfTime,
        }
    }

    async fn attempt<T, F, Fut>(
        &mut self,
        target: &'r Target,
        deadline: Instant,
        fallback: bool,
        call: &mut F,
    ) -> Step<T>
    where
        F: FnMut(&'r Target) -> Fut,
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let permit = match target.breaker.try_acquire() {
            Ok(p) => p,
            Err(wait) => {
                self.circuit_wait = Some(self.circuit_wait.map_or(wait, |w| w.min(wait)));
                self.attempts.push(Attempt {
                    target: target.label.clone(),
                    outcome: "circuit_open".into(),
                    status: None,
                    message: target
                        .breaker
                        .last_error()
                        .map(|e| format!("paused after repeated failures; last: {e}")),
                    elapsed_ms: 0,
                    fallback,
                });
                return Step::Paused;
            }
        };
        let started = Instant::now();
        let Some(remaining) = deadline
            .checked_duration_since(started)
            .filter(|d| !d.is_zero())
        else {
            return Step::OutOfTime;
        };
        let busy = target.stats.busy();
        let limit = target.provider.timeouts.first_token.min(remaining);
        let outcome = match tokio::time::timeout(limit, call(target)).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Timeout(limit)),
        };
        let elapsed = started.elapsed();
        let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(value) => {
                permit.success();
                self.attempts.push(Attempt {
                    target: target.label.clone(),
                    outcome: "ok".into(),
                    status: Some(200),
                    message: None,
                    elapsed_ms,
                    fallback,
                });
                Step::Done(value, elapsed, busy)
            }
            Err(e) => {
                let e = match e {
                    UpstreamError::Timeout(d) if d.is_zero() => UpstreamError::Timeout(limit),
                    other => other,
                };
                if e.counts_against_upstream() {
                    permit.failure(e.to_string());
                    target.stats.failure(e.to_string());
                } else {
                    permit.neutral();
                }
                tracing::debug!(target = %target.label, error = %e, "attempt failed");
                self.attempts.push(Attempt {
                    target: target.label.clone(),
                    outcome: e.outcome(),
                    status: e.status_code(),
                    message: Some(e.to_string()),
                    elapsed_ms,
                    fallback,
                });
                if !e.retryable() {
                    let error = e.to_api_error(&target.label);
                    return Step::Stop(error.with_attempts(std::mem::take(&mut self.attempts)));
                }
                self.last = Some((e, target));
                Step::Next
            }
        }
    }

    /// Whether every attempt so far failed to reach its upstream at all: the network is gone.
    fn offline(&self) -> bool {
        !self.attempts.is_empty()
            && self
                .attempts
                .iter()
                .all(|a| matches!(a.outcome.as_str(), "connect_error" | "circuit_open"))
    }
}

/// Runs `call` against the route's members until one succeeds. Each attempt is bounded by its
/// provider's first-token timeout (for a stream: until its first meaningful event; otherwise the
/// whole answer) and by what is left of `deadline`. Each success feeds the target's latency
/// estimate (time to first event for a stream, the whole answer otherwise).
pub async fn execute<'r, T, F, Fut>(
    route: &'r Route,
    needs: &Needs,
    retry: &RetryPolicy,
    deadline: Instant,
    mut call: F,
) -> Result<Success<'r, T>, ApiError>
where
    F: FnMut(&'r Target) -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    let strategy = route.chooses().then(|| route.strategy.as_str());
    if route.targets.is_empty() {
        return Err(no_members(route).with_strategy(strategy));
    }
    let plan = route.plan(needs);
    let skipped: Vec<Attempt> = plan
        .skipped
        .iter()
        .map(|(t, why)| Attempt::skipped(&t.label, why.as_str()))
        .collect();
    if plan.order.is_empty() {
        return Err(nothing_fits(route, &plan.skipped, needs)
            .with_attempts(skipped)
            .with_strategy(strategy));
    }
    let mut run = Run {
        attempts: Vec::new(),
        last: None,
        circuit_wait: None,
        skipped,
        strategy,
        stream: needs.stream,
    };
    'rounds: for round in 0..retry.rounds {
        if round > 0 {
            let backoff = (retry.backoff * 2u32.saturating_pow(round - 1)).min(retry.max_backoff);
            let jitter = backoff.mul_f64(fastrand::f64() * 0.2);
            let asked = run.last.as_ref().and_then(|(e, _)| e.retry_after());
            if asked.is_some_and(|a| a > retry.max_retry_after) {
                break;
            }
            let wait = asked.unwrap_or(Duration::ZERO).max(backoff + jitter);
            if Instant::now() + wait >= deadline {
                break;
            }
            tokio::time::sleep(wait).await;
        }
        let mut tried = false;
        for &target in &plan.order {
            let step = run.attempt(target, deadline, false, &mut call).await;
            match run.after(step, target) {
                After::Answer(answer) => return answer,
                After::Next { tried: asked } => tried |= asked,
                After::OutOfTime => break 'rounds,
            }
        }
        if !tried {
            break;
        }
    }
    if !route.fallback.is_empty() && run.offline() {
        let local: Vec<&Target> = route
            .fallback
            .iter()
            .filter(|t| !run.attempts.iter().any(|a| a.target == t.label))
            .filter(|t| t.caps.refuses(needs).is_none())
            .collect();
        for target in local {
            let step = run.attempt(target, deadline, true, &mut call).await;
            match run.after(step, target) {
                After::Answer(answer) => {
                    if answer.is_ok() {
                        tracing::info!(route = %route.requested, target = %target.label, "offline: answered by a local model");
                    }
                    return answer;
                }
                After::Next { .. } => {}
                After::OutOfTime => break,
            }
        }
    }
    let attempts = std::mem::take(&mut run.attempts);
    let attempts = run.trail(attempts);
    Err(final_error(route, run.last, attempts, run.circuit_wait).with_strategy(strategy))
}

/// A route without members: every provider it uses is disabled, or no model meets a pool's
/// requirement.
fn no_members(route: &Route) -> ApiError {
    match (&route.require, route.kind) {
        (Some(require), RouteKind::Pool) => ApiError::of(
            ErrorCode::PoolEmpty,
            format!(
                "pool {:?} has no members: no enabled model meets its requirement ({require}). Add a provider with such a model, declare a model's capabilities, or loosen the pool's `require`.",
                route.requested
            ),
        ),
        _ => ApiError::of(
            ErrorCode::NoEnabledTarget,
            format!(
                "{:?} has no enabled target: every provider it uses is disabled",
                route.requested
            ),
        ),
    }
}

/// Every member was left out for this request: a 400 that says which requirement failed.
fn nothing_fits(route: &Route, skipped: &[(&Target, Skip)], needs: &Needs) -> ApiError {
    let all = |s: Skip| skipped.iter().all(|(_, why)| *why == s);
    let name = &route.requested;
    if all(Skip::Context) {
        let largest = skipped
            .iter()
            .filter_map(|(t, _)| t.caps.context_window)
            .max()
            .unwrap_or(0);
        return ApiError::of(
            ErrorCode::ContextLengthExceeded,
            format!(
                "no target of {name:?} has a context window for this request: it needs about {} tokens (prompt estimate plus max_tokens), the largest window is {largest}. Shorten the conversation or lower max_tokens.",
                needs.tokens.unwrap_or(0)
            ),
        );
    }
    if all(Skip::Image) {
        return ApiError::of(
            ErrorCode::NoCapableTarget,
            format!("no target of {name:?} takes image input"),
        )
        .with_param("messages");
    }
    if all(Skip::Tools) {
        return ApiError::of(
            ErrorCode::NoCapableTarget,
            format!("no target of {name:?} supports tools"),
        )
        .with_param("tools");
    }
    let each = skipped
        .iter()
        .map(|(t, why)| match why {
            Skip::Image => format!("{} takes no image input", t.label),
            Skip::Tools => format!("{} does not support tools", t.label),
            Skip::Context => format!(
                "{} has a {}-token context window",
                t.label,
                t.caps.context_window.unwrap_or(0)
            ),
        })
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::of(
        ErrorCode::NoCapableTarget,
        format!("no target of {name:?} can serve this request: {each}"),
    )
}

fn final_error(
    route: &Route,
    last: Option<(UpstreamError, &Target)>,
    attempts: Vec<Attempt>,
    circuit_wait: Option<Duration>,
) -> ApiError {
    let Some((error, target)) = last else {
        return ApiError::of(ErrorCode::CircuitOpen, format!(
                "Every target of {:?} is paused after repeated failures (circuit open). Retry in {} s.",
                route.requested,
                circuit_wait.unwrap_or_default().as_secs().max(1)
            ))
        .with_retry_after(circuit_wait.or(Some(Duration::from_secs(1))))
        .with_attempts(attempts);
    };
    let base = error.to_api_error(&target.label);
    let tried: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| !a.outcome.starts_with("skipped("))
        .collect();
    if tried.len() <= 1 {
        return base.with_attempts(attempts);
    }
    let trail = tried
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                a.target,
                a.message.as_deref().unwrap_or(&a.outcome)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let inner = base.inner();
    let mut e = ApiError::passthrough(
        inner.status,
        &inner.kind,
        format!(
            "All {} attempts for {:?} failed: {trail}",
            tried.len(),
            route.requested
        ),
    )
    .with_retry_after(inner.retry_after)
    .with_attempts(attempts);
    if let Some(code) = &inner.code {
        e = e.with_upstream_code(code);
    }
    e
}
