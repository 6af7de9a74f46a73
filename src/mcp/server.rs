//! The MCP side: tools listed, calls checked against their schema, run, and answered; waits
//! report progress to a client that asked for it, and a cancelled call stops.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures_util::{FutureExt, StreamExt};
use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, ContentBlock,
        CreateTaskResult, CustomRequest, CustomResult, ErrorCode, GetTaskParams, GetTaskResult,
        Implementation, ListToolsResult, PaginatedRequestParams, ProgressToken, ServerCapabilities,
        ServerConfig, Tool, UpdateTaskParams,
    },
    service::{Peer, RequestContext},
    task_manager::{TaskExit, TaskOptions},
};
use serde_json::{Map, Value, json};

use super::{
    Server,
    call::{self, Shaping, gather},
    catalog::{self, Action, ToolDef},
    clean, compact,
    confirm::{self, Verdict},
    fit, outcome,
    progress::{Reporter, TextProgress, Watcher},
};
use crate::{
    invoke::{
        check,
        jobs::{JobEvent, MAX_WAIT_SECONDS},
    },
    poll::ProgressStream,
};

const INSTRUCTIONS: &str = "Tools for HockeyStack's Revenue Agents API (hockeystack_*) and \
HyperRep's API (hyperrep_*), one per operation, named after the operation ids of their OpenAPI \
specs. hockeystack_ask_agent asks a deal's or company's agent a question in one call. List tools \
take max_items to gather several pages and return a cursor to continue. A failed call returns \
{error: {kind, message, retryable, ...}} with what is needed to retry or resume.";

const CALL_PARAMS: &str = "tools/call: params must be an object with a string `name` and, optionally, an object `arguments`";
const LIST_PARAMS: &str = "tools/list: params must be an object (an optional `cursor`)";

impl Server {
    fn find(&self, name: &str) -> Option<&ToolDef> {
        self.listed
            .iter()
            .chain(self.tools.iter())
            .find(|t| t.tool.name == name)
    }

    /// The arguments with unset nulls dropped, or the result that refuses them.
    fn checked(
        def: &ToolDef,
        arguments: Map<String, Value>,
    ) -> Result<Map<String, Value>, Box<CallToolResult>> {
        let arguments = check::without_unset_nulls(&def.schema, arguments);
        let problems = check::problems(&def.schema, &Value::Object(arguments.clone()));
        if problems.is_empty() {
            Ok(arguments)
        } else {
            Err(Box::new(outcome::invalid_arguments(
                &def.tool.name,
                problems,
            )))
        }
    }

    /// One tool call: an unknown tool is a protocol error; anything else, bad arguments
    /// included, is a result.
    pub(crate) async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        progress: Option<(Peer<RoleServer>, ProgressToken)>,
    ) -> Result<CallToolResult, McpError> {
        let watcher = match progress {
            Some((peer, token)) => Watcher::Client(peer, token),
            None => Watcher::Nobody,
        };
        self.call_watched(name, arguments, watcher).await
    }

    /// One tool call whose progress goes to `watcher`.
    pub(crate) async fn call_watched(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        watcher: Watcher,
    ) -> Result<CallToolResult, McpError> {
        let clients = self.clients.clone();
        let clean_text = self.shaping.clean_text;
        let reporter = Reporter::new(
            watcher,
            std::sync::Arc::new(move |text| {
                let text = clients.scrub(text);
                match clean_text.then(|| clean::clean_str(&text)).flatten() {
                    Some(clean) => clean,
                    None => text,
                }
            }),
        );
        let Some(def) = self.find(name) else {
            let message = match self.left_out.iter().find(|(left, _)| left == name) {
                Some((_, why)) => format!("tool {name} is not offered by this server: {why}"),
                None => format!(
                    "unknown tool {name:?}: this server offers {} tools (tools/list names them)",
                    self.tools.len()
                ),
            };
            return Err(McpError::invalid_params(message, None));
        };
        let arguments = match Self::checked(def, arguments) {
            Ok(arguments) => arguments,
            Err(refused) => return Ok(*refused),
        };
        // A defect in a tool must not take the connection down with it: the call is answered.
        // A pause for the rate budget or before a retry is progress too: the client asked.
        // The notes go out in order, all of them before the result.
        let (notes, mut noted) = tokio::sync::mpsc::unbounded_channel::<String>();
        let teller = reporter.clone();
        let telling = tokio::spawn(async move {
            while let Some(line) = noted.recv().await {
                teller.say(line).await;
            }
        });
        let observed = crate::notice::observe_waits(
            move |waiting| {
                let _ = notes.send(waiting.to_string());
            },
            self.run(def, arguments, &reporter),
        );
        let result = AssertUnwindSafe(observed)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| outcome::internal(name));
        // Pages fetched ahead hold the observer until their task is dropped: not long.
        let _ = tokio::time::timeout(Duration::from_secs(1), telling).await;
        Ok(self.shaped(self.scrubbed(result)))
    }

    /// Runs one checked call.
    async fn run(
        &self,
        def: &ToolDef,
        mut arguments: Map<String, Value>,
        reporter: &Reporter,
    ) -> CallToolResult {
        let mut forwarding = None;
        let watch = |updates: ProgressStream| forwarding = reporter.forward(updates);
        match &def.action {
            Action::Operation(operation) => {
                let max_items = arguments.remove("max_items").and_then(|m| m.as_u64());
                let fields: Option<Vec<String>> = arguments.remove(catalog::FIELDS).and_then(|f| {
                    f.as_array().map(|names| {
                        names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                });
                if let Some(problem) = fields
                    .as_deref()
                    .and_then(|f| crate::invoke::fields::unknown(operation.model, f))
                {
                    return outcome::invalid_arguments(
                        &def.tool.name,
                        vec![format!("{}: {problem}", catalog::FIELDS)],
                    );
                }
                let shaping = Shaping {
                    fields,
                    ..self.shaping.clone()
                };
                match (&operation.model.list, max_items) {
                    (Some(shape), Some(max_items)) => {
                        let gathered = gather(
                            &self.clients,
                            *operation,
                            shape,
                            arguments,
                            max_items,
                            reporter,
                            shaping,
                        );
                        match gathered.await {
                            Ok(value) => outcome::success(value),
                            Err((error, so_far)) => {
                                outcome::failure(&error, Some(("partial", so_far)))
                            }
                        }
                    }
                    (Some(shape), None) => {
                        let page = match self.clients.send(*operation, &arguments).await {
                            Ok(page) => page.unwrap_or(Value::Null),
                            Err(error) => return outcome::failure(&error, None),
                        };
                        let fitted = call::fit_page(
                            &self.clients,
                            *operation,
                            shape,
                            &arguments,
                            page,
                            shaping,
                        );
                        match fitted.await {
                            Ok(value) => outcome::success(value),
                            Err(error) => outcome::failure(&error, None),
                        }
                    }
                    _ => match self.clients.send(*operation, &arguments).await {
                        Ok(Some(value)) => outcome::success(match &shaping.fields {
                            Some(fields) => crate::invoke::fields::select(&value, fields),
                            None => value,
                        }),
                        Ok(None) => outcome::success(json!({"ok": true})),
                        Err(error) => outcome::failure(&error, None),
                    },
                }
            }
            Action::Job(job) => {
                let Some(client) = &self.clients.hockeystack else {
                    return outcome::invalid_arguments(
                        &def.tool.name,
                        vec!["HockeyStack is not served".into()],
                    );
                };
                let mut running = match job.start(client, &arguments, &self.waits, watch) {
                    Ok(running) => running,
                    Err(problems) => return outcome::invalid_arguments(&def.tool.name, problems),
                };
                let mut text = TextProgress::new(reporter);
                let mut answer = None;
                while let Some(event) = running.next().await {
                    match event {
                        Ok(JobEvent::Text(piece)) => text.piece(&piece).await,
                        Ok(JobEvent::Restart) => text.restart().await,
                        Ok(JobEvent::Answer(value)) => answer = Some(Ok(value)),
                        Err(error) => answer = Some(Err(error)),
                    }
                }
                text.flush().await;
                // The last update goes out before the result: a client stops listening for a
                // call's progress once it has the result. The updates end with the wait.
                if let Some(forwarding) = forwarding {
                    let _ = tokio::time::timeout(Duration::from_secs(1), forwarding).await;
                }
                match answer {
                    Some(Ok(value)) => outcome::success(value),
                    Some(Err(error)) => outcome::failure(&error, None),
                    None => outcome::internal(&def.tool.name),
                }
            }
            Action::FindOperations => outcome::success(compact::find(&self.tools, &arguments)),
            Action::CallOperation => {
                let name = arguments
                    .get("tool")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                // Only the offered operations and composites, never the pair itself.
                let Some(inner) = self.tools.iter().find(|t| t.tool.name == name) else {
                    return outcome::invalid_arguments(
                        &def.tool.name,
                        vec![format!(
                            "tool: {name:?} is not an operation this server offers; \
                             find_operations lists them"
                        )],
                    );
                };
                let inner_arguments = match arguments.get("arguments") {
                    Some(Value::Object(members)) => members.clone(),
                    _ => Map::new(),
                };
                match Self::checked(inner, inner_arguments) {
                    Ok(checked) => Box::pin(self.run(inner, checked, reporter)).await,
                    Err(refused) => *refused,
                }
            }
        }
    }

    /// The result as it goes out: hidden characters written out (unless turned off), and
    /// within the result budget, whatever its tool.
    fn shaped(&self, mut result: CallToolResult) -> CallToolResult {
        let Some(mut value) = result.structured_content.take() else {
            return result;
        };
        if self.shaping.clean_text {
            clean::clean_value(&mut value);
        }
        let value = fit::cut_to_fit(value, self.shaping.result_chars);
        result.content = vec![ContentBlock::text(value.to_string())];
        result.structured_content = Some(value);
        result
    }

    /// The result with every served credential blanked out, wherever a server echoed it.
    fn scrubbed(&self, mut result: CallToolResult) -> CallToolResult {
        if let Some(value) = result.structured_content.take() {
            let text = value.to_string();
            let clean = self.clients.scrub(text.clone());
            let value = if clean == text {
                value
            } else {
                serde_json::from_str(&clean).unwrap_or(Value::String(clean))
            };
            result.content = vec![ContentBlock::text(value.to_string())];
            result.structured_content = Some(value);
        }
        result
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tasks()
                .build(),
        )
        .with_server_info(Implementation::new(
            "revenue-agents-mcp",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(
            self.listed.iter().map(|t| t.tool.clone()).collect(),
        ))
    }

    /// A known method whose parameters did not parse arrives here (rmcp would answer "method
    /// not found"); say what is wrong with them instead.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        let message = match request.method.as_str() {
            "tools/call" => CALL_PARAMS,
            "tools/list" => LIST_PARAMS,
            other => {
                return Err(McpError::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    other.to_owned(),
                    None,
                ));
            }
        };
        Err(McpError::invalid_params(message, None))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.find(name).map(|t| t.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let arguments = request.arguments.clone().unwrap_or_default();
        tokio::select! {
            stop = self.confirmed(&request, &arguments, &context) => {
                if let Some(stop) = stop {
                    return Ok(stop);
                }
            }
            () = context.ct.cancelled() => return Ok(outcome::cancelled(&request.name).into()),
        }
        let long = self
            .find(&request.name)
            .is_some_and(|def| matches!(def.action, Action::Job(_)));
        let offers_tasks = context
            .client_capabilities()
            .is_some_and(|caps| caps.supports_tasks());
        if long && offers_tasks && self.tasks.running_task_count() < MAX_RUNNING_TASKS {
            return Ok(CallToolResponse::Task(CreateTaskResult::new(
                self.start_task(request.name.to_string(), arguments),
            )));
        }
        let token = context
            .meta
            .get_progress_token()
            .or_else(|| request.meta.as_ref().and_then(|m| m.get_progress_token()));
        let progress = token.map(|token| (context.peer.clone(), token));
        tokio::select! {
            result = self.call(&request.name, arguments, progress) => result.map(Into::into),
            () = context.ct.cancelled() => Ok(outcome::cancelled(&request.name).into()),
        }
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        self.tasks
            .get_task(&request.task_id)
            .map(GetTaskResult::new)
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // No tool asks the client for input; answers to nothing are ignored, as the
        // extension says, once the task is known.
        self.tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.tasks.cancel_task(&request.task_id)
    }
}

impl Server {
    /// For a call that deletes data or spends credits: the user's answer when it is not a yes,
    /// or the question to send back; `None` runs the call. A call of `call_operation` is asked
    /// about as the operation it names.
    async fn confirmed(
        &self,
        request: &CallToolRequestParams,
        arguments: &Map<String, Value>,
        context: &RequestContext<RoleServer>,
    ) -> Option<CallToolResponse> {
        let def = self.find(&request.name)?;
        let (target, target_arguments) = match def.action {
            Action::CallOperation => {
                let name = arguments.get("tool")?.as_str()?;
                let inner = self.tools.iter().find(|t| t.tool.name == name)?;
                let inner_arguments = match arguments.get("arguments") {
                    Some(Value::Object(members)) => members.clone(),
                    _ => Map::new(),
                };
                (inner, inner_arguments)
            }
            _ => (def, arguments.clone()),
        };
        let consequence = target.consequence.filter(|c| self.confirm.asks(*c))?;
        // A call its schema refuses is answered as such when it runs, not asked about.
        let checked = Self::checked(target, target_arguments).ok()?;
        let question = confirm::Question {
            tool: &target.tool.name,
            title: target.tool.title.as_deref().unwrap_or(&target.tool.name),
            consequence,
            arguments: &checked,
        };
        let verdict = confirm::ask(
            &question,
            &self.pending,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
            context,
        )
        .await;
        match verdict {
            Verdict::Go => None,
            Verdict::Stop(refused) => Some(self.shaped(self.scrubbed(refused)).into()),
            Verdict::Ask(question) => Some(question.into()),
        }
    }
}

/// Tasks running at once; past it, long calls are answered in the call, with progress.
const MAX_RUNNING_TASKS: usize = 32;

impl Server {
    /// Runs a long call as a task: the client polls `tasks/get` (its status message follows
    /// the wait), may cancel it, and fetches the result once it completes. The task is kept
    /// a minute past its wait, then for as long again to be read.
    fn start_task(&self, name: String, arguments: Map<String, Value>) -> rmcp::model::Task {
        let wait = match self.find(&name).map(|def| &def.action) {
            Some(Action::Job(job)) => job.longest_wait(&self.waits, &arguments),
            _ => None,
        }
        .unwrap_or(Duration::from_secs(2 * MAX_WAIT_SECONDS));
        let ttl = u64::try_from(wait.saturating_add(Duration::from_secs(60)).as_millis())
            .unwrap_or(u64::MAX);
        let options = TaskOptions::new()
            .with_ttl_ms(ttl)
            .with_poll_interval_ms(1000)
            .with_status_message("started");
        let server = self.clone();
        self.tasks.spawn(options, move |task| {
            Box::pin(async move {
                let watcher = Watcher::Task(task.clone());
                tokio::select! {
                    result = server.call_watched(&name, arguments, watcher) => {
                        result.map_err(TaskExit::Error)
                    }
                    () = task.cancelled() => Err(TaskExit::Cancelled),
                }
            })
        })
    }
}

/// Keeps the tool list shared between the clones rmcp makes of a handler.
pub(crate) type Tools = Arc<Vec<ToolDef>>;
