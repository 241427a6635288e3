//! Turns a `Script` and a request into an `Action`: exactly which bytes go out, how they are
//! framed and how the exchange ends. Pure: the server module executes actions, nothing here
//! touches a socket.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::content::{ParsedRequest, ReplyCtx, Resolved};
use crate::responses::Echo;
use crate::script::{Dialect, Reply, Script};
use crate::{anthropic, doors, openai, responses};

/// Which kind of model endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// OpenAI chat completions or Anthropic messages.
    Chat,
    /// OpenAI embeddings.
    Embeddings,
    /// OpenAI image generation.
    Images,
    /// OpenAI Responses API.
    Responses,
    /// Legacy text completions, moderations and rerank (`crate::doors`).
    Completions,
    Moderations,
    Rerank,
    /// OpenAI text to speech (`/audio/speech`).
    Speech,
    /// OpenAI `/audio/transcriptions` (multipart).
    Transcriptions,
    /// OpenAI `/audio/translations` (multipart).
    Translations,
    /// OpenAI `/images/edits` (multipart).
    ImageEdits,
}

/// What the server does with one request.
#[derive(Debug)]
pub(crate) enum Action {
    Respond(Response),
    /// Close with RST without answering.
    Reset,
    /// Never answer; wait for the client to leave.
    Stall,
    /// Replay a fixture file (loaded by the server, which may block on the file system).
    Fixture {
        path: String,
        delay: Duration,
    },
}

/// A response to write.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: Cow<'static, str>,
    pub retry_after: Option<String>,
    pub body: Body,
    pub end: End,
}

/// The body of a response and its framing.
#[derive(Debug)]
pub(crate) enum Body {
    /// Content-Length framed.
    Full(Vec<u8>),
    /// Content-Length promises `declared` bytes but only `sent` are written.
    Truncated { declared: usize, sent: Vec<u8> },
    /// Chunked: one chunk per element, `delay` between them.
    Chunks {
        chunks: Vec<Vec<u8>>,
        delay: Duration,
    },
}

/// How the exchange ends once the body (or what there is of it) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The response is complete; the connection may be reused.
    Complete,
    /// Stop writing and wait for the client to leave.
    Stall,
    /// Close with RST.
    Reset,
}

const JSON: &str = "application/json";
const SSE: &str = "text/event-stream";

impl Response {
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: Cow::Borrowed(JSON),
            retry_after: None,
            body: Body::Full(body),
            end: End::Complete,
        }
    }

    pub(crate) fn sse(chunks: Vec<Vec<u8>>, delay: Duration) -> Self {
        Self {
            status: 200,
            content_type: Cow::Borrowed(SSE),
            retry_after: None,
            body: Body::Chunks { chunks, delay },
            end: End::Complete,
        }
    }
}

/// Per-request facts the planner needs.
pub(crate) struct Ctx<'a> {
    pub dialect: Dialect,
    pub request_index: usize,
    pub created: u64,
    /// Source of unique tool-call numbers for this fake.
    pub tool_counter: &'a AtomicU64,
    /// The number in this answer's Responses ids, unique in the process.
    pub response_number: u64,
    /// The request's credential header, as sent (empty without one).
    pub credentials: &'a str,
}

/// An error response in the dialect's own shape.
pub(crate) fn error_response(
    dialect: Dialect,
    status: u16,
    message: &str,
    error_type: Option<&str>,
    request_index: usize,
) -> Response {
    let body = match dialect {
        Dialect::OpenAi => openai::error_body(status, message, error_type),
        Dialect::Anthropic => anthropic::error_body(status, message, error_type, request_index),
    };
    Response::json(status, body)
}

/// Plans the answer to a model-endpoint request.
pub(crate) fn plan(ctx: &Ctx<'_>, script: &Script, endpoint: Endpoint, body: &[u8]) -> Action {
    match script {
        Script::Reply(reply) => {
            let delay = Duration::from_millis(reply.chunk_delay_ms);
            if let Some(media) = crate::media::respond(endpoint, body, delay) {
                return Action::Respond(media.unwrap_or_else(|m| {
                    error_response(ctx.dialect, 400, &m, None, ctx.request_index)
                }));
            }
            let req = ParsedRequest::parse(body);
            match answer(ctx, reply, endpoint, &req, body) {
                Ok(Answer::Whole(bytes)) => Action::Respond(Response::json(200, bytes)),
                Ok(Answer::Stream(events, delay)) => Action::Respond(Response::sse(events, delay)),
                Err(response) => Action::Respond(response),
            }
        }
        Script::Error {
            status,
            message,
            retry_after,
            error_type,
        } => {
            let mut response = error_response(
                ctx.dialect,
                *status,
                message,
                error_type.as_deref(),
                ctx.request_index,
            );
            response.retry_after.clone_from(retry_after);
            Action::Respond(response)
        }
        Script::EchoCredentials { status } => Action::Respond(error_response(
            ctx.dialect,
            *status,
            &format!("Incorrect API key provided: {}", ctx.credentials),
            None,
            ctx.request_index,
        )),
        Script::HtmlError { status } => Action::Respond(Response {
            status: *status,
            content_type: Cow::Borrowed("text/html; charset=utf-8"),
            retry_after: None,
            body: Body::Full(html_page(*status).into_bytes()),
            end: End::Complete,
        }),
        Script::ResetBeforeHeaders => Action::Reset,
        Script::StallBeforeHeaders => Action::Stall,
        Script::StallAfterEvents { reply, after } => {
            cut(ctx, reply, *after, endpoint, body, End::Stall)
        }
        Script::ResetAfterEvents { reply, after } => {
            cut(ctx, reply, *after, endpoint, body, End::Reset)
        }
        Script::ErrorEventAfter { reply, after } => error_after(ctx, reply, *after, endpoint, body),
        Script::MalformedStream { after } => malformed(ctx, *after, endpoint, body),
        Script::Raw {
            status,
            content_type,
            events,
            delay_ms,
        } => Action::Respond(Response {
            status: *status,
            content_type: Cow::Owned(content_type.clone()),
            retry_after: None,
            body: Body::Chunks {
                chunks: events.iter().map(|e| e.as_bytes().to_vec()).collect(),
                delay: Duration::from_millis(*delay_ms),
            },
            end: End::Complete,
        }),
        Script::Fixture { path, delay_ms } => Action::Fixture {
            path: path.clone(),
            delay: Duration::from_millis(*delay_ms),
        },
    }
}

/// A successful answer, before framing.
enum Answer {
    Whole(Vec<u8>),
    Stream(Vec<Vec<u8>>, Duration),
}

fn answer(
    ctx: &Ctx<'_>,
    reply: &Reply,
    endpoint: Endpoint,
    req: &ParsedRequest,
    body: &[u8],
) -> Result<Answer, Response> {
    let bad_request =
        |message: &str| error_response(ctx.dialect, 400, message, None, ctx.request_index);
    if endpoint == Endpoint::Embeddings {
        return openai::embeddings_body(body)
            .map(Answer::Whole)
            .map_err(|m| bad_request(&m));
    }
    // Media answers, for the faults that cut them short (a normal reply is planned in `plan`).
    let delay = Duration::from_millis(reply.chunk_delay_ms);
    if let Some(Ok(media)) = crate::media::respond(endpoint, body, delay) {
        return Ok(match media.body {
            Body::Chunks { chunks, delay } => Answer::Stream(chunks, delay),
            Body::Full(whole) | Body::Truncated { sent: whole, .. } => Answer::Whole(whole),
        });
    }
    if endpoint == Endpoint::Images {
        return openai::images_body(body)
            .map(Answer::Whole)
            .map_err(|m| bad_request(&m));
    }
    if endpoint == Endpoint::Moderations {
        return doors::moderations_body(body, ctx.request_index)
            .map(Answer::Whole)
            .map_err(|m| bad_request(&m));
    }
    if endpoint == Endpoint::Rerank {
        return doors::rerank_body(body, ctx.request_index)
            .map(Answer::Whole)
            .map_err(|m| bad_request(&m));
    }
    if !req.valid {
        return Err(bad_request("request body is not a valid JSON chat request"));
    }
    let tool_prefix = match ctx.dialect {
        Dialect::OpenAi => "call_",
        Dialect::Anthropic => "toolu_",
    };
    // A forced tool call (see `Structured`) takes a number too.
    let tools = u64::try_from(
        reply
            .tool_calls
            .len()
            .max(usize::from(req.structured.is_some())),
    )
    .unwrap_or(0);
    let reply_ctx = ReplyCtx {
        request_index: ctx.request_index,
        created: ctx.created,
        first_tool_number: ctx.tool_counter.fetch_add(tools, Ordering::Relaxed) + 1,
    };
    let resolved = Resolved::new(reply, req, reply_ctx, tool_prefix);
    let delay = Duration::from_millis(reply.chunk_delay_ms);
    if endpoint == Endpoint::Completions {
        return Ok(if req.stream {
            Answer::Stream(
                doors::completion_events(&resolved, req.include_usage),
                delay,
            )
        } else {
            Answer::Whole(doors::completion_body(&resolved))
        });
    }
    if endpoint == Endpoint::Responses {
        let echo = Echo::parse(body, ctx.response_number);
        return Ok(if req.stream {
            Answer::Stream(
                responses::stream_events(&resolved, &echo, req.encrypted_reasoning),
                delay,
            )
        } else {
            Answer::Whole(responses::response_body(
                &resolved,
                &echo,
                req.encrypted_reasoning,
            ))
        });
    }
    Ok(match (ctx.dialect, req.stream) {
        (Dialect::OpenAi, false) => Answer::Whole(openai::completion_body(&resolved)),
        (Dialect::Anthropic, false) => Answer::Whole(anthropic::message_body(&resolved)),
        (Dialect::OpenAi, true) => Answer::Stream(
            openai::stream_events(&resolved, req.include_usage),
            Duration::from_millis(reply.chunk_delay_ms),
        ),
        (Dialect::Anthropic, true) => Answer::Stream(
            anthropic::stream_events(&resolved),
            Duration::from_millis(reply.chunk_delay_ms),
        ),
    })
}

/// Plans `reply` leniently: a body that does not parse still gets the fault.
fn answer_lenient(ctx: &Ctx<'_>, reply: &Reply, endpoint: Endpoint, body: &[u8]) -> Answer {
    let mut req = ParsedRequest::parse(body);
    req.valid = true;
    match answer(ctx, reply, endpoint, &req, body) {
        Ok(answer) => answer,
        // Embeddings with an unusable body: the fault applies to an empty JSON object.
        Err(_) => Answer::Whole(b"{}".to_vec()),
    }
}

/// Headers and the first `after` events (streams) or the first half of the body (whole
/// answers, nothing when `after` is 0), then `end`.
fn cut(
    ctx: &Ctx<'_>,
    reply: &Reply,
    after: usize,
    endpoint: Endpoint,
    body: &[u8],
    end: End,
) -> Action {
    let (status, content_type, body) = match answer_lenient(ctx, reply, endpoint, body) {
        Answer::Stream(mut events, delay) => {
            events.truncate(after);
            let body = Body::Chunks {
                chunks: events,
                delay,
            };
            (200, SSE, body)
        }
        Answer::Whole(mut whole) => {
            let declared = whole.len();
            whole.truncate(if after == 0 { 0 } else { declared / 2 });
            let body = Body::Truncated {
                declared,
                sent: whole,
            };
            (200, JSON, body)
        }
    };
    Action::Respond(Response {
        status,
        content_type: Cow::Borrowed(content_type),
        retry_after: None,
        body,
        end,
    })
}

/// `after` events then the dialect's in-stream error (Responses: `error` then
/// `response.failed`); whole answers get the matching HTTP error instead (OpenAI 500
/// `server_error`, Anthropic 529 `overloaded_error`).
fn error_after(
    ctx: &Ctx<'_>,
    reply: &Reply,
    after: usize,
    endpoint: Endpoint,
    body: &[u8],
) -> Action {
    match answer_lenient(ctx, reply, endpoint, body) {
        Answer::Stream(mut events, delay) => {
            events.truncate(after);
            if endpoint == Endpoint::Responses {
                events.extend(responses_failure(ctx, reply, body, events.len()));
            } else {
                events.push(match ctx.dialect {
                    Dialect::OpenAi => openai::stream_error_event(),
                    Dialect::Anthropic => anthropic::stream_error_event(),
                });
            }
            Action::Respond(Response::sse(events, delay))
        }
        Answer::Whole(_) => {
            let (status, message) = match ctx.dialect {
                Dialect::OpenAi => (
                    500,
                    "The server had an error while processing your request.",
                ),
                Dialect::Anthropic => (529, "Overloaded"),
            };
            Action::Respond(error_response(
                ctx.dialect,
                status,
                message,
                None,
                ctx.request_index,
            ))
        }
    }
}

/// A Responses stream's failure events, numbered after the `sent` events before them.
fn responses_failure(ctx: &Ctx<'_>, reply: &Reply, body: &[u8], sent: usize) -> Vec<Vec<u8>> {
    let req = ParsedRequest::parse(body);
    let reply_ctx = ReplyCtx {
        request_index: ctx.request_index,
        created: ctx.created,
        // The failure names no tool call.
        first_tool_number: 0,
    };
    let resolved = Resolved::new(reply, &req, reply_ctx, "call_");
    let next = u64::try_from(sent).unwrap_or(u64::MAX);
    responses::failure_events(&resolved, &Echo::parse(body, ctx.response_number), next)
}

/// The body every malformed stream (or whole answer) ends with.
pub(crate) const MALFORMED: &[u8] = b"data: {not json\n\n";

/// `after` good events of a default reply, then `data: {not json`; whole answers get a 200 whose
/// body is `{not json`.
fn malformed(ctx: &Ctx<'_>, after: usize, endpoint: Endpoint, body: &[u8]) -> Action {
    match answer_lenient(ctx, &Reply::default(), endpoint, body) {
        Answer::Stream(mut events, delay) => {
            events.truncate(after);
            events.push(MALFORMED.to_vec());
            Action::Respond(Response::sse(events, delay))
        }
        Answer::Whole(_) => Action::Respond(Response::json(200, b"{not json".to_vec())),
    }
}

fn html_page(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n\
         <center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n\
         </body>\r\n</html>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM_BODY: &[u8] =
        br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"a b c"}]}"#;

    fn ctx(counter: &AtomicU64, dialect: Dialect) -> Ctx<'_> {
        Ctx {
            dialect,
            request_index: 0,
            created: 0,
            tool_counter: counter,
            response_number: 1,
            credentials: "",
        }
    }

    #[test]
    fn cut_streams_keep_the_first_events() {
        let counter = AtomicU64::new(0);
        let script = Script::StallAfterEvents {
            reply: Reply::default(),
            after: 2,
        };
        let action = plan(
            &ctx(&counter, Dialect::OpenAi),
            &script,
            Endpoint::Chat,
            STREAM_BODY,
        );
        let Action::Respond(Response {
            body: Body::Chunks { chunks, .. },
            end: End::Stall,
            ..
        }) = action
        else {
            unreachable!("unexpected plan {action:?}");
        };
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn cut_whole_answers_send_half_the_body() {
        let counter = AtomicU64::new(0);
        let script = Script::ResetAfterEvents {
            reply: Reply::default(),
            after: 1,
        };
        let body = br#"{"model":"m","messages":[]}"#;
        let action = plan(
            &ctx(&counter, Dialect::Anthropic),
            &script,
            Endpoint::Chat,
            body,
        );
        let Action::Respond(Response {
            body: Body::Truncated { declared, sent },
            end: End::Reset,
            ..
        }) = action
        else {
            unreachable!("unexpected plan {action:?}");
        };
        assert_eq!(sent.len(), declared / 2);
    }

    #[test]
    fn malformed_and_error_events_end_streams() {
        let counter = AtomicU64::new(0);
        let c = ctx(&counter, Dialect::Anthropic);
        let action = plan(
            &c,
            &Script::MalformedStream { after: 1 },
            Endpoint::Chat,
            STREAM_BODY,
        );
        let Action::Respond(Response {
            body: Body::Chunks { chunks, .. },
            ..
        }) = action
        else {
            unreachable!("unexpected plan {action:?}");
        };
        assert_eq!(chunks.last().map(Vec::as_slice), Some(MALFORMED));
        let script = Script::ErrorEventAfter {
            reply: Reply::default(),
            after: 0,
        };
        let action = plan(&c, &script, Endpoint::Chat, STREAM_BODY);
        let Action::Respond(Response {
            body: Body::Chunks { chunks, .. },
            ..
        }) = action
        else {
            unreachable!("unexpected plan {action:?}");
        };
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].starts_with(b"event: error\n"));
    }

    #[test]
    fn tool_ids_are_unique_per_fake() {
        let counter = AtomicU64::new(0);
        let c = ctx(&counter, Dialect::OpenAi);
        let script = Script::Reply(Reply {
            tool_calls: vec![crate::ToolCallSpec::new("f", serde_json::json!({}))],
            ..Reply::default()
        });
        let body = br#"{"messages":[]}"#;
        for expected in ["call_1", "call_2"] {
            let Action::Respond(Response {
                body: Body::Full(bytes),
                ..
            }) = plan(&c, &script, Endpoint::Chat, body)
            else {
                unreachable!("expected a whole answer");
            };
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["id"], expected);
        }
    }
}
