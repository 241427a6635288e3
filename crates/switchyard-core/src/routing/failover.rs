//! Trying a route's targets in order, in rounds: fail over at once on a retryable error, wait a
//! backoff (or the upstream's `Retry-After`) between rounds, stop at the total time budget, skip
//! targets whose circuit is open, and keep every attempt for the header and the error body.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{Route, Target};
use crate::config::RetryPolicy;
use crate::error::ToApiError as _;
use crate::error::{ApiError, Attempt, ErrorCode, UpstreamError};

/// The value of the first successful attempt, which target gave it, and the trail.
#[derive(Debug)]
pub struct Success<'r, T> {
    pub value: T,
    pub target: &'r Target,
    pub attempts: Vec<Attempt>,
}

/// Runs `call` against the route's targets until one succeeds. Each attempt is bounded by its
/// provider's first-token timeout (for a stream: until its first meaningful event; otherwise the
/// whole answer) and by what is left of `deadline`.
pub async fn execute<'r, T, F, Fut>(
    route: &'r Route,
    retry: &RetryPolicy,
    deadline: Instant,
    mut call: F,
) -> Result<Success<'r, T>, ApiError>
where
    F: FnMut(&'r Target) -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    if route.targets.is_empty() {
        return Err(ApiError::of(
            ErrorCode::NoEnabledTarget,
            format!(
                "{:?} has no enabled target: every provider it uses is disabled",
                route.requested
            ),
        ));
    }
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut last: Option<(UpstreamError, &'r Target)> = None;
    let mut circuit_wait: Option<Duration> = None;
    for round in 0..retry.rounds {
        if round > 0 {
            let backoff = (retry.backoff * 2u32.saturating_pow(round - 1)).min(retry.max_backoff);
            let jitter = backoff.mul_f64(fastrand::f64() * 0.2);
            let asked = last.as_ref().and_then(|(e, _)| e.retry_after());
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
        for target in &route.targets {
            let permit = match target.breaker.try_acquire() {
                Ok(p) => p,
                Err(wait) => {
                    circuit_wait = Some(circuit_wait.map_or(wait, |w| w.min(wait)));
                    attempts.push(Attempt {
                        target: target.label.clone(),
                        outcome: "circuit_open".into(),
                        status: None,
                        message: target
                            .breaker
                            .last_error()
                            .map(|e| format!("paused after repeated failures; last: {e}")),
                        elapsed_ms: 0,
                    });
                    continue;
                }
            };
            let started = Instant::now();
            let Some(remaining) = deadline
                .checked_duration_since(started)
                .filter(|d| !d.is_zero())
            else {
                break;
            };
            tried = true;
            let limit = target.provider.timeouts.first_token.min(remaining);
            let outcome = match tokio::time::timeout(limit, call(target)).await {
                Ok(result) => result,
                Err(_) => Err(UpstreamError::Timeout(limit)),
            };
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match outcome {
                Ok(value) => {
                    permit.success();
                    attempts.push(Attempt {
                        target: target.label.clone(),
                        outcome: "ok".into(),
                        status: Some(200),
                        message: None,
                        elapsed_ms,
                    });
                    return Ok(Success {
                        value,
                        target,
                        attempts,
                    });
                }
                Err(e) => {
                    let e = match e {
                        UpstreamError::Timeout(d) if d.is_zero() => UpstreamError::Timeout(limit),
                        other => other,
                    };
                    if e.counts_against_upstream() {
                        permit.failure(e.to_string());
                    } else {
                        permit.neutral();
                    }
                    tracing::debug!(target = %target.label, error = %e, "attempt failed");
                    attempts.push(Attempt {
                        target: target.label.clone(),
                        outcome: e.outcome(),
                        status: e.status_code(),
                        message: Some(e.to_string()),
                        elapsed_ms,
                    });
                    if !e.retryable() {
                        return Err(e.to_api_error(&target.label).with_attempts(attempts));
                    }
                    last = Some((e, target));
                }
            }
        }
        if !tried {
            break;
        }
    }
    Err(final_error(route, last, attempts, circuit_wait))
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
    if attempts.len() <= 1 {
        return base.with_attempts(attempts);
    }
    let trail = attempts
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
            attempts.len(),
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
