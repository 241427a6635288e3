//! The `/mcp` endpoint's sessions, bounded: rmcp's in-memory session manager underneath, with a
//! cap on how many live at once (a new session ends the one idle longest) and rmcp's keep-alive
//! as the idle expiry. Nothing here knows what the tools do.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::WorkerTransport;
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, LocalSessionWorker, SessionConfig,
};
use rmcp::transport::streamable_http_server::session::{EventStore, ServerSseMessage, SessionId};

/// How each live session is used: when it last had a request, and how many are running.
#[derive(Debug, Clone, Copy)]
struct Use {
    last: Instant,
    running: u32,
}

type Ledger = Arc<Mutex<HashMap<SessionId, Use>>>;

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error(
        "{0} MCP sessions are open and all of them are answering a request (mcp.max_sessions); retry shortly"
    )]
    Full(usize),
    #[error(transparent)]
    Inner(#[from] LocalSessionManagerError),
}

/// rmcp's [`LocalSessionManager`], held to `max` sessions.
pub struct BoundedSessions {
    inner: LocalSessionManager,
    max: usize,
    ledger: Ledger,
}

impl BoundedSessions {
    /// Sessions end after `idle` without a request; a new session beyond `max` ends the one
    /// idle longest (never one still answering a request).
    pub fn new(max: usize, idle: Duration) -> Self {
        let mut config = SessionConfig::default();
        config.keep_alive = Some(idle);
        // Completed answers are kept for late resumes; a minute at most, and never past idle.
        config.completed_cache_ttl = config.completed_cache_ttl.min(idle);
        let mut inner = LocalSessionManager::default();
        inner.session_config = config;
        Self {
            inner,
            max: max.max(1),
            ledger: Ledger::default(),
        }
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Use>> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn touch(&self, id: &SessionId) {
        if let Some(u) = self.lock().get_mut(id) {
            u.last = Instant::now();
        }
    }

    /// Ends idle sessions, longest idle first, until one more fits; `Full` when every session is
    /// answering a request.
    pub async fn make_room(&self) -> Result<(), SessionsError> {
        let victims = {
            let mut ledger = self.lock();
            let mut victims = Vec::new();
            while ledger.len() >= self.max {
                let oldest = ledger
                    .iter()
                    .filter(|(_, u)| u.running == 0)
                    .min_by_key(|(_, u)| u.last)
                    .map(|(id, _)| id.clone());
                let Some(id) = oldest else {
                    return Err(SessionsError::Full(ledger.len()));
                };
                ledger.remove(&id);
                victims.push(id);
            }
            victims
        };
        for id in victims {
            tracing::debug!(session = %id, "ending the longest idle MCP session to make room");
            if let Err(e) = self.inner.close_session(&id).await {
                tracing::debug!(session = %id, "ending an MCP session: {e}");
            }
        }
        Ok(())
    }
}

/// Counts a request as running in its session until its answer stream is dropped.
struct Running {
    ledger: Ledger,
    id: SessionId,
}

impl Running {
    fn start(ledger: &Ledger, id: &SessionId) -> Self {
        if let Some(u) = ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(id)
        {
            u.running += 1;
            u.last = Instant::now();
        }
        Self {
            ledger: ledger.clone(),
            id: id.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(u) = self
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&self.id)
        {
            u.running = u.running.saturating_sub(1);
            // Idle time starts when the answer is over.
            u.last = Instant::now();
        }
    }
}

/// An answer stream that keeps its request counted as running while it lives.
struct Tracked<S> {
    inner: Pin<Box<S>>,
    _running: Running,
}

impl<S: Stream> Stream for Tracked<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl SessionManager for BoundedSessions {
    type Error = SessionsError;
    type Transport = WorkerTransport<LocalSessionWorker>;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.make_room().await?;
        let (id, transport) = self.inner.create_session().await?;
        self.lock().insert(
            id.clone(),
            Use {
                last: Instant::now(),
                running: 0,
            },
        );
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        let _running = Running::start(&self.ledger, id);
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        // The ledger is the truth: a session ended to make room is gone even while rmcp's worker
        // is still winding down.
        Ok(self.lock().contains_key(id) && self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.lock().remove(id);
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let running = Running::start(&self.ledger, id);
        let stream = self.inner.create_stream(id, message).await?;
        Ok(Tracked {
            inner: Box::pin(stream),
            _running: running,
        })
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id);
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        // A listening stream is not a request: the session stays idle while only it is open.
        self.touch(id);
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_session_beyond_the_cap_ends_the_longest_idle_one() {
        let sessions = BoundedSessions::new(2, Duration::from_secs(60));
        let (a, _ta) = sessions.create_session().await.unwrap();
        let (b, _tb) = sessions.create_session().await.unwrap();
        // `b` has been idle longest.
        if let Some(u) = sessions.lock().get_mut(&b) {
            u.last = u.last.checked_sub(Duration::from_secs(5)).unwrap();
        }
        let (c, _tc) = sessions.create_session().await.unwrap();
        assert_eq!(sessions.len(), 2);
        assert!(sessions.has_session(&a).await.unwrap());
        assert!(!sessions.has_session(&b).await.unwrap());
        assert!(sessions.has_session(&c).await.unwrap());
    }

    #[tokio::test]
    async fn busy_sessions_are_never_ended_to_make_room() {
        let sessions = BoundedSessions::new(1, Duration::from_secs(60));
        let (a, _ta) = sessions.create_session().await.unwrap();
        let running = Running::start(&sessions.ledger, &a);
        assert!(matches!(
            sessions.make_room().await,
            Err(SessionsError::Full(1))
        ));
        drop(running);
        sessions.make_room().await.unwrap();
        assert_eq!(sessions.len(), 0);
    }
}
