//! The server-side tool loop, for assistants (`[[assistants]]`, served as model ids) and for
//! agent mode (a request with an `agent` object): call the model with the MCP tools, run the tool
//! calls it makes concurrently, feed the results back, and repeat until it answers or the budget
//! ends (the last round offers no MCP tools, to force an answer).
//!
//! Tools the client declared itself are never run here: a call to one ends the loop and goes
//! back to the client as usual. Streaming clients get the answer's text as it comes, plus
//! `chat.completion.chunk`s with empty `choices` and a `switchyard` object that tells of each
//! tool call and result (clients that do not know it ignore it, as they do the usage chunk).
//! A client that goes away drops the loop, which cancels any running tool call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::chat::ChatAnswer;
use super::relay::{self, Flow, Frames};
use super::{AppState, note_target};
use crate::config::mcp::DEFAULT_MAX_ITERATIONS;
use crate::error::ToApiError as _;
use crate::error::{ApiError, ErrorCode, UpstreamError};
use crate::mcp::ToolInfo;
use crate::record::{Draft, TokenCounts};
use switchyard_dialects::chunks::{Assembler, ChunkFactory};
use switchyard_dialects::openai::{
    ChatChunk, ChatMessage, ChatRequest, ChatResponse, Content, FunctionDef, Role, Tool, ToolCall,
    Usage,
};

/// What the log and the stream events keep of one tool result.
const MAX_RESULT_LOGGED: usize = 16 * 1024;
/// How long a call waits for the user's approval before it counts as declined.
const APPROVAL_TIMEOUT: Duration = Duration::from_secs(600);

/// `agent` in a chat request: run the tool loop with these MCP servers or tools.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentOptions {
    servers: Option<Vec<String>>,
    tools: Option<Vec<String>>,
    max_iterations: Option<u32>,
    #[serde(default)]
    approval: bool,
}

/// What one loop may use.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    pub assistant: Option<String>,
    /// The model or alias that answers.
    pub model: String,
    pub system: Option<String>,
    /// `None`: every enabled server.
    pub servers: Option<Vec<String>>,
    /// `None`: every enabled tool of those servers.
    pub tools: Option<Vec<String>>,
    pub max_iterations: u32,
    pub approval: bool,
}

/// Whether this request runs the loop: it names an assistant, or carries `agent`. The `agent`
/// object is taken out of the request either way, so it never reaches an upstream.
pub fn plan(state: &AppState, req: &mut ChatRequest) -> Result<Option<AgentPlan>, ApiError> {
    let options = match req.extra.remove("agent") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value::<AgentOptions>(v).map_err(|e| {
            ApiError::invalid_request(format!(
                "agent: {e} (expected {{\"servers\": [...], \"tools\": [...], \"max_iterations\": N, \"approval\": bool}})"
            ))
            .with_param("agent")
        })?),
    };
    let runtime = state.runtime.load();
    let assistant = runtime
        .config
        .assistants
        .iter()
        .find(|a| a.name == req.model);
    let plan = match (assistant, options) {
        (None, None) => return Ok(None),
        (Some(a), opts) => {
            let opts = opts.unwrap_or_default();
            AgentPlan {
                assistant: Some(a.name.clone()),
                model: a.model.clone(),
                system: a.system.clone(),
                servers: Some(a.servers.clone()).filter(|s| !s.is_empty() || a.tools.is_none()),
                tools: a.tools.clone(),
                max_iterations: opts.max_iterations.unwrap_or(a.max_iterations),
                approval: opts.approval,
            }
        }
        (None, Some(opts)) => AgentPlan {
            assistant: None,
            model: req.model.clone(),
            system: None,
            servers: opts.servers,
            tools: opts.tools,
            max_iterations: opts.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS),
            approval: opts.approval,
        },
    };
    if !(1..=100).contains(&plan.max_iterations) {
        return Err(
            ApiError::invalid_request("agent.max_iterations: must be between 1 and 100")
                .with_param("agent.max_iterations"),
        );
    }
    if let Some(servers) = &plan.servers {
        let known = state.mcp.server_names();
        if let Some(bad) = servers.iter().find(|s| !known.contains(s)) {
            return Err(ApiError::invalid_request(format!(
                "agent.servers: no MCP server is named {bad:?} (configured: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
            .with_param("agent.servers"));
        }
    }
    if plan.approval && !req.is_stream() {
        return Err(ApiError::invalid_request(
            "agent.approval needs \"stream\": true, so that each call can be shown and approved",
        )
        .with_param("agent.approval"));
    }
    Ok(Some(plan))
}

/// Tool calls waiting for the user's yes or no (agent mode with approval).
#[derive(Debug, Default)]
pub struct Approvals(Mutex<HashMap<String, oneshot::Sender<bool>>>);

/// One call waiting for approval; forgotten when dropped, also when the client left first.
struct Waiting<'a> {
    id: String,
    rx: Option<oneshot::Receiver<bool>>,
    approvals: &'a Approvals,
}

impl Waiting<'_> {
    /// True only for an explicit yes within `timeout`.
    async fn approved(mut self, timeout: Duration) -> bool {
        let Some(rx) = self.rx.take() else {
            return false;
        };
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(true)))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.approvals.forget(&self.id);
    }
}

impl Approvals {
    fn wait(&self) -> Waiting<'_> {
        let id = format!("apr_{}", switchyard_dialects::chunks::fastrand_id());
        let (tx, rx) = oneshot::channel();
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), tx);
        Waiting {
            id,
            rx: Some(rx),
            approvals: self,
        }
    }

    fn forget(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }

    /// Answers a waiting call; false when nothing waits under this id.
    pub fn answer(&self, id: &str, approve: bool) -> bool {
        let tx = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
        tx.is_some_and(|tx| tx.send(approve).is_ok())
    }
}

/// One thing the loop did, for the stream and the log.
enum Event {
    Content(String),
    Reasoning(String),
    /// A `switchyard` event object (tool call, result, approval request, notice).
    Note(Value),
    Done(Box<Finished>),
    Failed(ApiError),
}

struct Finished {
    response: ChatResponse,
    /// The client's own tool calls, when the model made some: they end the loop.
    client_calls: Vec<ToolCall>,
}

/// Runs the loop for one request and answers it, as JSON or as a stream.
pub async fn run(
    state: &Arc<AppState>,
    req: ChatRequest,
    plan: AgentPlan,
    draft: &Draft,
) -> Result<ChatAnswer, ApiError> {
    let stream = req.is_stream();
    let wants_usage = req.wants_usage_chunk();
    let requested = req.model.clone();
    let factory = ChunkFactory::new(
        format!("chatcmpl-{}", switchyard_dialects::chunks::fastrand_id()),
        switchyard_dialects::chunks::unix_now(),
        requested.clone(),
    );
    let setup = prepare(state, req, &plan).await?;
    let mut events: Events = Box::pin(agent_loop(state.clone(), setup, plan, draft.clone()));
    if !stream {
        while let Some(ev) = events.next().await {
            match ev {
                Event::Done(done) => {
                    let mut response = done.response;
                    response.id.clone_from(&factory.id);
                    response.model.clone_from(&requested);
                    return Ok(ChatAnswer::Whole {
                        response,
                        served: None,
                    });
                }
                Event::Failed(e) => return Err(e),
                _ => {}
            }
        }
        return Err(ApiError::internal("the tool loop ended without an answer"));
    }
    // Nothing is sent until the loop has something to say: an early failure is a plain error.
    let first = match events.next().await {
        Some(Event::Failed(e)) => return Err(e),
        Some(ev) => ev,
        None => return Err(ApiError::internal("the tool loop ended without an answer")),
    };
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let frames = AgentFrames {
        first: Some(first),
        factory,
        log: Assembler::default(),
        draft: draft.clone(),
        wants_usage,
    };
    Ok(ChatAnswer::Loop(LoopStream { frames, events }))
}

/// The tool loop's stream to a streaming client, from its first event on.
pub struct LoopStream {
    frames: AgentFrames,
    events: Events,
}

/// The loop's events, boxed once per request.
type Events = std::pin::Pin<Box<dyn futures_util::Stream<Item = Event> + Send>>;

impl LoopStream {
    /// The loop's events as SSE frames. The loop sets no deadline of its own on the body: its
    /// rounds and tool calls have theirs.
    pub(super) fn into_sse(
        self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
        relay::relay(
            self.frames,
            self.events.map(Ok::<_, UpstreamError>),
            relay::UNLIMITED,
            Instant::now() + relay::UNLIMITED,
        )
    }
}

/// The agent door's side of the relay: the loop's events as chat chunks, its notes as chunks
/// with no choices, and the client's tool calls, the finish and `[DONE]` when it is done.
struct AgentFrames {
    /// The loop's first event, read before the answer was committed.
    first: Option<Event>,
    factory: ChunkFactory,
    log: Assembler,
    draft: Draft,
    wants_usage: bool,
}

impl AgentFrames {
    fn frame(&mut self, chunk: &ChatChunk, out: &mut Frames) {
        self.log.push(chunk);
        relay::data_frame(chunk, out);
    }

    fn event(&mut self, ev: Event, out: &mut Frames) -> Result<Flow, ApiError> {
        match ev {
            Event::Content(t) => self.frame(&self.factory.content(0, t), out),
            Event::Reasoning(t) => self.frame(&self.factory.reasoning(0, t), out),
            Event::Note(v) => relay::data_frame(&note_chunk(&self.factory, v), out),
            Event::Failed(e) => return Err(e),
            Event::Done(done) => {
                for (i, call) in done.client_calls.iter().enumerate() {
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    let start =
                        self.factory
                            .tool_start(0, i, call.id.clone(), call.function.name.clone());
                    self.frame(&start, out);
                    let args = self
                        .factory
                        .tool_args(0, i, call.function.arguments.clone());
                    self.frame(&args, out);
                }
                let reason = done
                    .response
                    .choices
                    .first()
                    .and_then(|c| c.finish_reason.clone())
                    .unwrap_or_else(|| "stop".into());
                self.frame(&self.factory.finish(0, reason), out);
                if self.wants_usage
                    && let Some(u) = done.response.usage.clone()
                {
                    self.frame(&self.factory.usage(u), out);
                }
                let body = serde_json::to_vec(&std::mem::take(&mut self.log).finish())
                    .ok()
                    .map(Bytes::from);
                self.draft.update(|d| d.response_body = body);
                out.extend(b"data: [DONE]\n\n");
                return Ok(Flow::Ended);
            }
        }
        Ok(Flow::More)
    }
}

impl relay::Door for AgentFrames {
    type Item = Event;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        self.frame(&self.factory.role(0), out);
        match self.first.take() {
            Some(ev) => self.event(ev, out),
            None => Ok(Flow::More),
        }
    }

    fn item(&mut self, ev: Event, out: &mut Frames) -> Result<Flow, ApiError> {
        self.event(ev, out)
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        out.extend(relay::COMMENT);
    }

    fn end(&mut self, _out: &mut Frames) -> Result<(), ApiError> {
        Ok(())
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.draft.fail_in_body(e.message().to_owned());
        relay::openai_error_frame(e, out);
    }
}

/// A loop event as a chunk with no choices, which clients skip like the usage chunk.
fn note_chunk(factory: &ChunkFactory, note: Value) -> Value {
    json!({
        "id": factory.id,
        "object": "chat.completion.chunk",
        "created": factory.created,
        "model": factory.model,
        "choices": [],
        "switchyard": note,
    })
}

/// Everything the loop needs, settled before anything is sent.
struct Setup {
    req: ChatRequest,
    mcp_tools: Vec<ToolInfo>,
    client_tools: Vec<String>,
}

async fn prepare(
    state: &Arc<AppState>,
    mut req: ChatRequest,
    plan: &AgentPlan,
) -> Result<Setup, ApiError> {
    // A tool subset without servers: start just the servers it names.
    let servers: Option<Vec<String>> = match (&plan.servers, &plan.tools) {
        (Some(s), _) if !s.is_empty() => Some(s.clone()),
        (_, Some(only)) => {
            let mut names: Vec<String> = only
                .iter()
                .filter_map(|t| {
                    crate::mcp::split_tool_name(t)
                        .ok()
                        .map(|(s, _)| s.to_owned())
                })
                .collect();
            names.sort();
            names.dedup();
            Some(names)
        }
        (s, None) => s.clone(),
    };
    let (mut tools, failed) = state.mcp.tools_of(servers.as_deref()).await;
    if let Some(only) = &plan.tools {
        tools.retain(|t| only.contains(&t.name));
    }
    if tools.is_empty() && !failed.is_empty() {
        let why: Vec<String> = failed.iter().map(|(_, e)| e.to_string()).collect();
        return Err(ApiError::of(
            ErrorCode::McpUnavailable,
            format!("no MCP tools are available: {}", why.join("; ")),
        ));
    }
    for (server, e) in &failed {
        tracing::warn!(server = %server, error = %e, "MCP server left out of the tool loop");
    }
    let client_tools: Vec<String> = req
        .tools
        .iter()
        .flatten()
        .map(|t| t.function.name.clone())
        .collect();
    if let Some(clash) = client_tools
        .iter()
        .find(|n| tools.iter().any(|t| &t.name == *n))
    {
        return Err(ApiError::invalid_request(format!(
            "tools: {clash:?} is also the name of an MCP tool the gateway runs; rename yours"
        ))
        .with_param("tools"));
    }
    if let Some(system) = &plan.system {
        req.messages.insert(
            0,
            ChatMessage {
                role: Role::System,
                content: Some(Content::Text(system.clone())),
                name: None,
                tool_calls: None,
                tool_call_id: None,
                reasoning_content: None,
                thinking_blocks: None,
                extra: serde_json::Map::new(),
            },
        );
    }
    Ok(Setup {
        req,
        mcp_tools: tools,
        client_tools,
    })
}

fn openai_tool(t: &ToolInfo) -> Tool {
    Tool {
        kind: "function".into(),
        function: FunctionDef {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: Some(t.input_schema.clone()),
            strict: None,
        },
        extra: serde_json::Map::new(),
    }
}

fn add_usage(total: &mut Option<Usage>, u: Option<&Usage>) {
    let Some(u) = u else { return };
    let t = total.get_or_insert_with(Usage::default);
    t.prompt_tokens += u.prompt_tokens;
    t.completion_tokens += u.completion_tokens;
    t.total_tokens = t.prompt_tokens + t.completion_tokens;
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

fn push_step(draft: &Draft, step: Value) {
    draft.update(|d| d.steps.push(step));
}

/// Logs a tool call as cancelled if it is dropped before it ends (the client went away).
struct RunningCall {
    draft: Draft,
    step: Option<Value>,
}

impl Drop for RunningCall {
    fn drop(&mut self) {
        if let Some(mut step) = self.step.take() {
            step["status"] = json!("cancelled");
            push_step(&self.draft, step);
        }
    }
}

fn agent_loop(
    state: Arc<AppState>,
    setup: Setup,
    plan: AgentPlan,
    draft: Draft,
) -> impl futures_util::Stream<Item = Event> + Send {
    async_stream::stream! {
        let Setup { mut req, mcp_tools, client_tools } = setup;
        let runtime = state.runtime.load_full();
        let Some(route) = runtime.resolve(&plan.model) else {
            let e = match &plan.assistant {
                Some(a) => ApiError::of(ErrorCode::ModelNotFound, format!(
                    "assistant {a:?} uses model {:?}, which nothing serves (GET /v1/models lists what does)",
                    plan.model
                )),
                None => ApiError::model_not_found(&plan.model),
            };
            yield Event::Failed(e);
            return;
        };
        let deadline = Instant::now() + runtime.config.timeouts.total;
        let retry = runtime.config.retry;
        let mcp_names: Vec<&str> = mcp_tools.iter().map(|t| t.name.as_str()).collect();
        let client_defs = req.tools.take();
        let mut usage: Option<Usage> = None;
        let mut said_something = false;
        let mut contents: Vec<String> = Vec::new();
        push_step(&draft, json!({
            "type": "start",
            "assistant": plan.assistant,
            "model": plan.model,
            "tools": mcp_names,
            "max_iterations": plan.max_iterations,
        }));
        for round in 1..=plan.max_iterations {
            let last = round == plan.max_iterations;
            let mut up = req.clone();
            up.stream = Some(true);
            up.stream_options = Some(switchyard_dialects::openai::StreamOptions { include_usage: Some(true), extra: serde_json::Map::new() });
            let mut offered: Vec<Tool> = client_defs.clone().unwrap_or_default();
            if !last {
                offered.extend(mcp_tools.iter().map(openai_tool));
            }
            if offered.is_empty() {
                up.tools = None;
                up.tool_choice = None;
                up.parallel_tool_calls = None;
            } else {
                up.tools = Some(offered);
            }
            let started = Instant::now();
            let up_ref = &up;
            // As for chat: a target that fails before its first token is failed over.
            let needs = super::chat::needs(up_ref, &route);
            let attempt = super::chat::open_stream(&route, &needs, &retry, deadline, up_ref).await;
            let ok = match attempt {
                Ok(ok) => ok,
                Err(e) => { yield Event::Failed(e); return; }
            };
            note_target(&draft, &runtime, &ok);
            let target_label = ok.target.label.clone();
            let idle = ok.target.provider.timeouts.idle;
            let (head, mut upstream) = ok.value;
            let mut head = head.into_iter();
            let mut assembler = Assembler::default();
            let mut separated = !said_something;
            loop {
                let next = match head.next() {
                    Some(chunk) => Some(Ok(chunk)),
                    None => match tokio::time::timeout(idle, upstream.next()).await {
                        Ok(n) => n,
                        Err(_) => Some(Err(UpstreamError::Timeout(idle))),
                    },
                };
                match next {
                    Some(Ok(chunk)) => {
                        assembler.push(&chunk);
                        let Some(c) = chunk.choices.first() else { continue };
                        if let Some(t) = c.delta.reasoning_content.clone().filter(|t| !t.is_empty()) {
                            yield Event::Reasoning(t);
                        }
                        if let Some(t) = c.delta.content.clone().filter(|t| !t.is_empty()) {
                            if !separated {
                                separated = true;
                                yield Event::Content("\n\n".into());
                            }
                            said_something = true;
                            yield Event::Content(t);
                        }
                    }
                    Some(Err(e)) => {
                        yield Event::Failed(e.to_api_error(&target_label));
                        return;
                    }
                    None => break,
                }
            }
            let answer = assembler.finish();
            add_usage(&mut usage, answer.usage.as_ref());
            draft.update(|d| d.tokens = usage.as_ref().map(TokenCounts::from));
            let message = answer.choices.first().map(|c| c.message.clone()).unwrap_or_default();
            let finish = answer.choices.first().and_then(|c| c.finish_reason.clone());
            if let Some(text) = message.content.as_ref().filter(|t| !t.is_empty()) {
                contents.push(text.clone());
            }
            let calls = message.tool_calls.clone().unwrap_or_default();
            push_step(&draft, json!({
                "type": "model",
                "round": round,
                "target": target_label,
                "ms": started.elapsed().as_secs_f64() * 1000.0,
                "finish_reason": finish,
                "content": message.content.as_deref().map(|c| clip(c, MAX_RESULT_LOGGED)),
                "tool_calls": calls.iter().map(|c| c.function.name.clone()).collect::<Vec<_>>(),
                "usage": answer.usage,
            }));
            let (ours, theirs): (Vec<ToolCall>, Vec<ToolCall>) = calls
                .into_iter()
                .partition(|c| !last && mcp_names.contains(&c.function.name.as_str()));
            let client_calls: Vec<ToolCall> = theirs
                .iter()
                .filter(|c| client_tools.contains(&c.function.name))
                .cloned()
                .collect();
            // Calls only to tools nobody has: the model hears so and gets another round.
            if !client_calls.is_empty() || (ours.is_empty() && (theirs.is_empty() || last)) {
                // The answer, or calls for the client to run.
                let reason = if !client_calls.is_empty() {
                    "tool_calls".to_owned()
                } else if last && !theirs.is_empty() {
                    push_step(&draft, json!({"type": "budget", "round": round,
                        "note": "the iteration budget ran out while the model still wanted tools"}));
                    "length".to_owned()
                } else {
                    match finish.as_deref() {
                        Some("tool_calls") | None => "stop".to_owned(),
                        Some(other) => other.to_owned(),
                    }
                };
                let mut response = answer;
                if let Some(choice) = response.choices.first_mut() {
                    choice.message.content = (!contents.is_empty()).then(|| contents.join("\n\n"));
                    choice.message.tool_calls = (!client_calls.is_empty()).then(|| client_calls.clone());
                    choice.finish_reason = Some(reason);
                }
                response.usage = usage.clone();
                yield Event::Done(Box::new(Finished { response, client_calls }));
                return;
            }
            // Calls to tools nobody has get an error result, so the model can recover.
            let unknown: Vec<ToolCall> = theirs;
            let mut assistant_turn = ChatMessage {
                role: Role::Assistant,
                content: message.content.clone().map(Content::Text),
                name: None,
                tool_calls: Some(ours.iter().chain(unknown.iter()).cloned().collect()),
                tool_call_id: None,
                reasoning_content: None,
                thinking_blocks: message.thinking_blocks.clone(),
                extra: serde_json::Map::new(),
            };
            if assistant_turn.content.is_none() {
                assistant_turn.content = Some(Content::Text(String::new()));
            }
            req.messages.push(assistant_turn);

            // Announce the calls; ask for approval one by one when asked to.
            let mut approved: Vec<(ToolCall, bool)> = Vec::with_capacity(ours.len());
            for call in &ours {
                let args: Value = serde_json::from_str(&call.function.arguments).unwrap_or(Value::String(call.function.arguments.clone()));
                let note = json!({"type": "tool_call", "round": round, "id": call.id, "name": call.function.name, "arguments": args});
                push_step(&draft, note.clone());
                yield Event::Note(note);
                let mut ok = true;
                if plan.approval {
                    let waiting = state.approvals.wait();
                    yield Event::Note(json!({"type": "approval_required", "round": round, "id": call.id, "approval_id": waiting.id, "name": call.function.name, "arguments": args}));
                    ok = waiting.approved(APPROVAL_TIMEOUT).await;
                }
                approved.push((call.clone(), ok));
            }
            let mut running = FuturesUnordered::new();
            let mut results: HashMap<String, (String, bool)> = HashMap::new();
            for (call, ok) in approved {
                if !ok {
                    let text = "The user declined this tool call.".to_owned();
                    let note = json!({"type": "tool_result", "round": round, "id": call.id, "name": call.function.name, "status": "denied", "is_error": true, "content": text, "ms": 0.0});
                    push_step(&draft, note.clone());
                    yield Event::Note(note);
                    results.insert(call.id.clone(), (text, true));
                    continue;
                }
                let hub = state.mcp.clone();
                let draft = draft.clone();
                running.push(async move {
                    let mut guard = RunningCall {
                        draft,
                        step: Some(json!({"type": "tool_result", "round": round, "id": call.id, "name": call.function.name})),
                    };
                    let started = Instant::now();
                    let args: Value = if call.function.arguments.trim().is_empty() {
                        Value::Object(serde_json::Map::new())
                    } else {
                        serde_json::from_str(&call.function.arguments).unwrap_or(Value::Null)
                    };
                    let (text, is_error, status) = if args.is_null() {
                        (format!("the arguments were not valid JSON: {}", clip(&call.function.arguments, 200)), true, "error")
                    } else {
                        match hub.call(&call.function.name, args).await {
                            Ok(o) => (o.text, o.is_error, if o.is_error { "error" } else { "ok" }),
                            Err(e) => (e.to_string(), true, "error"),
                        }
                    };
                    let mut step = guard.step.take().unwrap_or_default();
                    step["status"] = json!(status);
                    step["is_error"] = json!(is_error);
                    step["content"] = json!(clip(&text, MAX_RESULT_LOGGED));
                    step["ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
                    (call.id.clone(), text, is_error, step)
                });
            }
            // The relay keeps the connection alive while they run.
            while let Some((id, text, is_error, step)) = running.next().await {
                push_step(&draft, step.clone());
                yield Event::Note(step);
                results.insert(id, (text, is_error));
            }
            drop(running);
            for call in &ours {
                let (text, _) = results.remove(&call.id).unwrap_or_else(|| ("no result".into(), true));
                req.messages.push(tool_message(&call.id, text));
            }
            for call in &unknown {
                req.messages.push(tool_message(&call.id, format!(
                    "there is no tool named {:?}; use one of the tools offered", call.function.name
                )));
            }
        }
        yield Event::Failed(ApiError::internal("the tool loop ended without an answer"));
    }
}

fn tool_message(id: &str, text: String) -> ChatMessage {
    ChatMessage {
        role: Role::Tool,
        content: Some(Content::Text(text)),
        name: None,
        tool_calls: None,
        tool_call_id: Some(id.to_owned()),
        reasoning_content: None,
        thinking_blocks: None,
        extra: serde_json::Map::new(),
    }
}
