//! What the router knows of each target across requests and config generations: its circuit
//! breaker and its live figures (moving latency estimates, requests in flight, error rate, last
//! error). Everything on the request path is an atomic; only a failure takes a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::circuit::Breaker;
use crate::config::Config;

/// How much a new latency sample moves the estimate.
const LATENCY_WEIGHT: f64 = 0.3;
/// How much one outcome moves the error rate.
const ERROR_WEIGHT: f64 = 0.1;

/// Circuit breakers and figures by target label; outlives config generations, so a reload does
/// not forget a dead upstream or a slow one.
#[derive(Debug, Default)]
pub struct Health(Mutex<HashMap<String, Known>>);

/// A target's breaker and figures, shared by every route that has it.
type Known = (Arc<Breaker>, Arc<Stats>);

impl Health {
    pub fn get(&self, label: &str, config: &Config) -> (Arc<Breaker>, Arc<Stats>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(label.to_owned())
            .or_insert_with(|| {
                (
                    Arc::new(Breaker::new(config.circuit)),
                    Arc::new(Stats::default()),
                )
            })
            .clone()
    }

    /// Every target's figures, by label.
    pub fn figures(&self) -> Vec<(String, Figures)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = map
            .iter()
            .map(|(k, v)| (k.clone(), v.1.figures()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Every breaker, by label.
    pub fn snapshot(&self) -> Vec<(String, Arc<Breaker>)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// A target's live figures. Estimates are 0 until the first sample.
#[derive(Debug)]
pub struct Stats {
    in_flight: AtomicU32,
    /// Moving estimate of the time to the first meaningful event of a stream, in µs.
    ttft_us: AtomicU64,
    /// Moving estimate of a whole non-streamed answer, in µs.
    total_us: AtomicU64,
    /// Moving failure rate in [0, 1], as `f64` bits.
    error_rate: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
    /// When the last latency sample came, in µs since `epoch`; how stale the estimate is.
    sampled_at_us: AtomicU64,
    epoch: Instant,
    last_error: Mutex<Option<String>>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            in_flight: AtomicU32::new(0),
            ttft_us: AtomicU64::new(0),
            total_us: AtomicU64::new(0),
            error_rate: AtomicU64::new(0f64.to_bits()),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            sampled_at_us: AtomicU64::new(0),
            epoch: Instant::now(),
            last_error: Mutex::new(None),
        }
    }
}

/// A request in flight on a target, counted until dropped.
#[derive(Debug)]
pub struct Busy(Arc<Stats>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What `/admin/routing` and `/metrics` show of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub in_flight: u32,
    pub ttft: Option<Duration>,
    pub total: Option<Duration>,
    pub error_rate: f64,
    pub requests: u64,
    pub failures: u64,
}

impl Stats {
    /// Counts a request in flight until the guard drops.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The estimate a request of this kind goes by: time to first token for a stream, the
    /// whole answer otherwise, each standing in for the other until it has a sample. `None`
    /// before any sample.
    pub fn latency(&self, stream: bool) -> Option<u64> {
        let (first, second) = if stream {
            (&self.ttft_us, &self.total_us)
        } else {
            (&self.total_us, &self.ttft_us)
        };
        [first, second]
            .into_iter()
            .map(|a| a.load(Ordering::Relaxed))
            .find(|&v| v > 0)
    }

    /// The moving failure rate, 0 to 1.
    pub fn error_rate(&self) -> f64 {
        f64::from_bits(self.error_rate.load(Ordering::Relaxed))
    }

    /// What `least_latency` compares: the estimate for this kind of request, counted up to five
    /// times slower as recent failures approach all of them (a member that answers fast but
    /// often fails is not the fastest). 0 before any sample, so a new member is tried soon.
    pub fn effective_latency(&self, stream: bool) -> u64 {
        let Some(latency) = self.latency(stream) else {
            return 0;
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "µs estimates are far below 2^52 and never negative"
        )]
        let effective = (latency as f64 * (1.0 + 4.0 * self.error_rate())) as u64;
        effective.max(1)
    }

    /// µs since the last latency sample (`u64::MAX` when never sampled).
    pub fn staleness_us(&self) -> u64 {
        match self.sampled_at_us.load(Ordering::Relaxed) {
            0 => u64::MAX,
            at => self.now_us().saturating_sub(at),
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// A successful attempt: its time (to the first event for a stream) feeds the estimate.
    pub fn success(&self, stream: bool, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let slot = if stream {
            &self.ttft_us
        } else {
            &self.total_us
        };
        ewma_u64(slot, sample);
        self.sampled_at_us.store(self.now_us(), Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        ewma_rate(&self.error_rate, 0.0);
    }

    /// A failed attempt that says something about the upstream.
    pub fn failure(&self, error: String) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.failures.fetch_add(1, Ordering::Relaxed);
        ewma_rate(&self.error_rate, 1.0);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn figures(&self) -> Figures {
        let micros = |a: &AtomicU64| match a.load(Ordering::Relaxed) {
            0 => None,
            v => Some(Duration::from_micros(v)),
        };
        Figures {
            in_flight: self.in_flight(),
            ttft: micros(&self.ttft_us),
            total: micros(&self.total_us),
            error_rate: f64::from_bits(self.error_rate.load(Ordering::Relaxed)),
            requests: self.requests.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

fn ewma_u64(slot: &AtomicU64, sample: u64) {
    let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        Some(if old == 0 {
            sample
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "µs estimates are far below 2^52 and never negative"
            )]
            let next = (old as f64 + (sample as f64 - old as f64) * LATENCY_WEIGHT) as u64;
            next.max(1)
        })
    });
}

fn ewma_rate(slot: &AtomicU64, sample: f64) {
    let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        let old = f64::from_bits(old);
        Some((old + (sample - old) * ERROR_WEIGHT).to_bits())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_move_toward_samples_and_stand_in_for_each_other() {
        let s = Stats::default();
        assert_eq!(s.latency(true), None);
        s.success(false, Duration::from_millis(100));
        assert_eq!(s.latency(true), Some(100_000), "total stands in for ttft");
        s.success(true, Duration::from_millis(10));
        assert_eq!(s.latency(true), Some(10_000));
        s.success(true, Duration::from_millis(20));
        assert_eq!(s.latency(true), Some(13_000));
        assert_eq!(s.latency(false), Some(100_000));
    }

    #[test]
    fn busy_counts_until_dropped_and_failures_raise_the_error_rate() {
        let s = Arc::new(Stats::default());
        let (a, b) = (s.busy(), s.busy());
        assert_eq!(s.in_flight(), 2);
        drop(a);
        assert_eq!(s.in_flight(), 1);
        drop(b);
        s.failure("503".into());
        let f = s.figures();
        assert!((f.error_rate - 0.1).abs() < 1e-9, "{}", f.error_rate);
        assert_eq!((f.requests, f.failures, f.in_flight), (1, 1, 0));
        assert_eq!(s.last_error().as_deref(), Some("503"));
    }

    #[test]
    fn failures_make_a_member_look_slower() {
        let s = Stats::default();
        assert_eq!(s.effective_latency(false), 0, "never measured: tried soon");
        s.success(false, Duration::from_millis(10));
        assert_eq!(s.effective_latency(false), 10_000);
        for _ in 0..5 {
            s.failure("connect".into());
        }
        // Five failures in a row: the rate is 1 - 0.9^5 = 0.41, so 10 ms counts as 26.38 ms.
        assert_eq!(s.effective_latency(false), 26_380);
    }
}
