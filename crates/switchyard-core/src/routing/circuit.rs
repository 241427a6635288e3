//! A circuit breaker per provider+model: failure rate over a sliding window with a minimum
//! request count, a cooldown while open, then exactly one half-open probe at a time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::CircuitPolicy;

const BUCKETS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
pub struct Breaker {
    policy: CircuitPolicy,
    epoch: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (bucket number, successes, failures)
    buckets: [(u64, u32, u32); BUCKETS],
    open_until: Option<Instant>,
    half_open: bool,
    probe_in_flight: bool,
    last_error: Option<String>,
}

/// Permission to send one request. A probe permit that is dropped without a verdict (the client
/// went away) frees the probe slot without judging the upstream.
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    settled: bool,
}

impl Permit<'_> {
    pub fn success(mut self) {
        self.settled = true;
        self.breaker.record(true, self.probe, None);
    }

    pub fn failure(mut self, error: String) {
        self.settled = true;
        self.breaker.record(false, self.probe, Some(error));
    }

    /// The outcome says nothing about the upstream's health (a client error, a cancel).
    pub fn neutral(mut self) {
        self.settled = true;
        self.breaker.release_probe(self.probe);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.release_probe(self.probe);
        }
    }
}

impl Breaker {
    pub fn new(policy: CircuitPolicy) -> Self {
        Self {
            policy,
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bucket_len(&self) -> Duration {
        (self.policy.window / BUCKETS as u32).max(Duration::from_millis(1))
    }

    fn bucket_at(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(elapsed / self.bucket_len().as_nanos().max(1)).unwrap_or(u64::MAX)
    }

    /// Asks to send a request now. `Err` carries how long until the circuit may let one through.
    pub fn try_acquire(&self) -> Result<Permit<'_>, Duration> {
        if !self.policy.enabled {
            return Ok(Permit {
                breaker: self,
                probe: false,
                settled: false,
            });
        }
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(until) = inner.open_until {
            if now < until {
                return Err(until - now);
            }
            inner.open_until = None;
            inner.half_open = true;
        }
        if inner.half_open {
            if inner.probe_in_flight {
                return Err(self.policy.cooldown.min(Duration::from_secs(1)));
            }
            inner.probe_in_flight = true;
            return Ok(Permit {
                breaker: self,
                probe: true,
                settled: false,
            });
        }
        Ok(Permit {
            breaker: self,
            probe: false,
            settled: false,
        })
    }

    fn release_probe(&self, probe: bool) {
        if probe {
            self.lock().probe_in_flight = false;
        }
    }

    fn record(&self, ok: bool, probe: bool, error: Option<String>) {
        if !self.policy.enabled {
            return;
        }
        let now = Instant::now();
        let current = self.bucket_at(now);
        let mut inner = self.lock();
        if error.is_some() {
            inner.last_error = error;
        }
        if probe {
            inner.probe_in_flight = false;
            inner.half_open = false;
            if ok {
                inner.buckets = Default::default();
            } else {
                inner.open_until = Some(now + self.policy.cooldown);
            }
            return;
        }
        if inner.half_open || inner.open_until.is_some() {
            // A request that started before the circuit opened: its outcome changes nothing.
            return;
        }
        let slot = &mut inner.buckets[usize::try_from(current % BUCKETS as u64).unwrap_or(0)];
        if slot.0 != current {
            *slot = (current, 0, 0);
        }
        if ok {
            slot.1 += 1;
        } else {
            slot.2 += 1;
        }
        if !ok {
            let oldest = current.saturating_sub(BUCKETS as u64 - 1);
            let (total, failures) = inner
                .buckets
                .iter()
                .filter(|b| b.0 >= oldest && b.0 <= current)
                .fold((0u32, 0u32), |(t, f), b| (t + b.1 + b.2, f + b.2));
            if total >= self.policy.min_requests
                && f64::from(failures) >= self.policy.failure_rate * f64::from(total)
            {
                inner.open_until = Some(now + self.policy.cooldown);
                inner.buckets = Default::default();
            }
        }
    }

    pub fn state(&self) -> CircuitState {
        let inner = self.lock();
        match inner.open_until {
            Some(until) if Instant::now() < until => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
            None if inner.half_open => CircuitState::HalfOpen,
            None => CircuitState::Closed,
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(cooldown_ms: u64) -> CircuitPolicy {
        CircuitPolicy {
            enabled: true,
            window: Duration::from_secs(60),
            min_requests: 4,
            failure_rate: 0.5,
            cooldown: Duration::from_millis(cooldown_ms),
        }
    }

    #[test]
    fn one_failure_among_successes_never_opens() {
        let b = Breaker::new(policy(10_000));
        b.try_acquire().unwrap().failure("x".into());
        for _ in 0..10 {
            b.try_acquire().unwrap().success();
        }
        b.try_acquire().unwrap().failure("x".into());
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn opens_at_the_failure_rate_then_lets_one_probe_through() {
        let b = Breaker::new(policy(30));
        b.try_acquire().unwrap().success();
        for _ in 0..3 {
            b.try_acquire().unwrap().failure("503".into());
        }
        assert_eq!(b.state(), CircuitState::Open);
        assert!(b.try_acquire().is_err());
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.try_acquire().unwrap();
        assert!(b.try_acquire().is_err(), "only one probe at a time");
        probe.failure("still down".into());
        assert_eq!(b.state(), CircuitState::Open);
        std::thread::sleep(Duration::from_millis(40));
        b.try_acquire().unwrap().success();
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.last_error().as_deref(), Some("still down"));
    }

    #[test]
    fn an_abandoned_probe_frees_its_slot() {
        let b = Breaker::new(policy(1));
        for _ in 0..4 {
            b.try_acquire().unwrap().failure("x".into());
        }
        std::thread::sleep(Duration::from_millis(5));
        drop(b.try_acquire().unwrap());
        assert!(b.try_acquire().is_ok());
    }
}
