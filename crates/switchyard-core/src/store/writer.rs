//! The batch writer: one task that owns all writes. It takes finished records from a bounded
//! queue, writes them in batches (one transaction each), retries a failed batch instead of
//! dropping it, runs retention in small batches between writes, and drains the queue on close.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{LogSettings, Store, media};
use crate::record::{LogCounters, Recorder, RequestRecord};

const BATCH: usize = 512;
/// How long the writer lets a batch fill before writing it: fewer, larger transactions cost
/// far less per row, and a row still reaches the disk within milliseconds.
const LINGER: Duration = Duration::from_millis(10);
const RETENTION_BATCH: u32 = 2000;
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A record ready for insertion: bodies cut to size, images moved to files.
#[derive(Debug)]
pub struct PreparedRow {
    pub record: RequestRecord,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub request_truncated: bool,
    pub response_truncated: bool,
    pub media: Vec<String>,
    /// The tool loop's steps as a JSON array, or `None`.
    pub steps: Option<String>,
}

/// Owns the writer task. [`WriterHandle::close`] drains the queue and waits for the last commit.
#[derive(Debug)]
pub struct WriterHandle {
    stop: CancellationToken,
    task: JoinHandle<()>,
    pub counters: Arc<LogCounters>,
}

impl WriterHandle {
    pub async fn close(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            tracing::error!("request log writer failed: {e}");
        }
    }
}

pub fn start(
    store: Store,
    settings: LogSettings,
    counters: Arc<LogCounters>,
) -> (Recorder, WriterHandle) {
    let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
    let recorder = Recorder::new(tx, counters.clone(), settings.capture_bodies);
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(store, settings, counters.clone(), rx, stop.clone()));
    (
        recorder,
        WriterHandle {
            stop,
            task,
            counters,
        },
    )
}

async fn run(
    store: Store,
    settings: LogSettings,
    counters: Arc<LogCounters>,
    mut rx: mpsc::Receiver<RequestRecord>,
    stop: CancellationToken,
) {
    let media_dir = store.data_dir().join("media");
    let mut buf: Vec<RequestRecord> = Vec::with_capacity(BATCH);
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    let mut retention_due = false;
    loop {
        tokio::select! {
            biased;
            n = rx.recv_many(&mut buf, BATCH) => {
                if n == 0 {
                    break;
                }
                if buf.len() < BATCH && !stop.is_cancelled() {
                    let _ = tokio::time::timeout(LINGER, fill(&mut rx, &mut buf)).await;
                }
                write(&store, &settings, &counters, &media_dir, &mut buf, false).await;
            }
            () = stop.cancelled() => break,
            _ = retention.tick() => retention_due = true,
            () = std::future::ready(()), if retention_due && rx.is_empty() => {
                retention_due = retention_step(&store, &settings).await;
            }
        }
    }
    // Drain: whatever is queued, and rows still waiting for room, get written.
    loop {
        match tokio::time::timeout(Duration::from_millis(100), rx.recv_many(&mut buf, BATCH)).await
        {
            Ok(n) if n > 0 => write(&store, &settings, &counters, &media_dir, &mut buf, true).await,
            _ => break,
        }
    }
    store.close().await;
}

/// Adds queued records to `buf` until it holds a full batch or the queue closes.
async fn fill(rx: &mut mpsc::Receiver<RequestRecord>, buf: &mut Vec<RequestRecord>) {
    while buf.len() < BATCH {
        if rx.recv_many(buf, BATCH - buf.len()).await == 0 {
            return;
        }
    }
}

/// One retention batch; returns whether more is left to delete.
async fn retention_step(store: &Store, settings: &LogSettings) -> bool {
    let cutoff =
        crate::record::now_ms() - i64::try_from(settings.retention.as_millis()).unwrap_or(i64::MAX);
    let by_age = match store.purge_before(cutoff, RETENTION_BATCH).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("retention: {e}");
            return false;
        }
    };
    let by_size = match store
        .purge_to_size(settings.max_db_bytes, RETENTION_BATCH)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("retention: {e}");
            0
        }
    };
    by_age == u64::from(RETENTION_BATCH) || by_size > 0
}

async fn write(
    store: &Store,
    settings: &LogSettings,
    counters: &LogCounters,
    media_dir: &std::path::Path,
    buf: &mut Vec<RequestRecord>,
    closing: bool,
) {
    // Cutting bodies and moving images to files is CPU and disk work: off the async threads.
    let records = std::mem::take(buf);
    let (settings_owned, dir) = (settings.clone(), media_dir.to_owned());
    let rows: Vec<PreparedRow> = match tokio::task::spawn_blocking(move || {
        records
            .into_iter()
            .map(|record| prepare(record, &settings_owned, &dir))
            .collect()
    })
    .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("request log: preparing a batch failed: {e}");
            return;
        }
    };
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=3 {
        match store.insert_batch(&rows).await {
            Ok(()) => {
                counters
                    .written
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                tracing::error!(rows = rows.len(), attempt, "request log write failed: {e}");
                if attempt < 3 && !closing {
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
            }
        }
    }
    // One bad row must not hold the others back: write them one by one, and count only the
    // rows the database still refuses.
    for row in &rows {
        match store.insert_batch(std::slice::from_ref(row)).await {
            Ok(()) => {
                counters.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!(id = %row.record.id, "request log row lost: {e}");
            }
        }
    }
}

fn prepare(
    mut record: RequestRecord,
    settings: &LogSettings,
    media_dir: &std::path::Path,
) -> PreparedRow {
    let mut media = Vec::new();
    let (request_body, request_truncated) = body_text(
        record.request_body.take(),
        settings,
        media_dir,
        &record.id,
        "req",
        &mut media,
    );
    let (response_body, response_truncated) = body_text(
        record.response_body.take(),
        settings,
        media_dir,
        &record.id,
        "res",
        &mut media,
    );
    let steps = (!record.steps.is_empty())
        .then(|| serde_json::to_string(&std::mem::take(&mut record.steps)).ok())
        .flatten();
    PreparedRow {
        steps,
        record,
        request_body,
        response_body,
        request_truncated,
        response_truncated,
        media,
    }
}

fn body_text(
    body: Option<bytes::Bytes>,
    settings: &LogSettings,
    media_dir: &std::path::Path,
    id: &str,
    side: &str,
    media: &mut Vec<String>,
) -> (Option<String>, bool) {
    if !settings.capture_bodies {
        return (None, false);
    }
    let Some(body) = body else {
        return (None, false);
    };
    let text = String::from_utf8_lossy(&body);
    let text = media::extract_images(&text, media_dir, &format!("{id}-{side}"), media)
        .unwrap_or_else(|| text.into_owned());
    if text.len() > settings.max_body_bytes {
        let mut cut = settings.max_body_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        (Some(text[..cut].to_owned()), true)
    } else {
        (Some(text), false)
    }
}
