//! Asking the person before a call that cannot be taken back: one that deletes data or starts
//! agent work paid for in credits (the operation model says which). A client that can ask its
//! user (the elicitation capability) is asked, and the call runs only on an explicit yes; on
//! protocol 2026-07-28, where a server sends no requests of its own, the question travels in
//! an `input_required` result and the client's retry carries the answer. A client that cannot
//! ask gets the call as before: the tool's description and annotations say what it does, for
//! the client's own approval step.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rmcp::{
    RoleServer,
    model::{
        CallToolResult, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
        ElicitationSchema, InputRequest, InputRequests, InputRequiredResult, InputResponses,
        PrimitiveSchemaDefinition, ProtocolVersion,
    },
    service::RequestContext,
};
use serde_json::{Map, Value};

use super::{clean, outcome};
use crate::model::Consequence;

/// Which calls the MCP server asks the user to confirm, where the client can ask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Confirm {
    /// Every call that deletes data or spends credits (the default).
    #[default]
    All,
    /// Only the calls that delete data.
    Destructive,
    /// None: the client's own approval step is the only one.
    Never,
}

impl Confirm {
    /// The setting a word names: `all`, `destructive` or `never`.
    pub(crate) fn named(word: &str) -> Option<Confirm> {
        match word.trim() {
            "all" => Some(Confirm::All),
            "destructive" => Some(Confirm::Destructive),
            "never" => Some(Confirm::Never),
            _ => None,
        }
    }

    /// Whether a call with this consequence is asked about.
    pub(crate) fn asks(self, consequence: Consequence) -> bool {
        match self {
            Confirm::All => true,
            Confirm::Destructive => consequence == Consequence::Destroys,
            Confirm::Never => false,
        }
    }
}

/// How long the user has to answer before the call is not run.
const ANSWER_WAIT: Duration = Duration::from_secs(600);

/// The one field of the question's form.
const FIELD: &str = "confirm";

/// The most characters of a call's arguments the question quotes.
const QUOTED_CHARS: usize = 600;

/// What to do with a call that needs the user's word.
pub(crate) enum Verdict {
    /// Run it.
    Go,
    /// Do not: the result says why; nothing was sent.
    Stop(CallToolResult),
    /// Ask through the client's retry (protocol 2026-07-28).
    Ask(InputRequiredResult),
}

/// One call to confirm.
pub(crate) struct Question<'a> {
    pub(crate) tool: &'a str,
    pub(crate) title: &'a str,
    pub(crate) consequence: Consequence,
    pub(crate) arguments: &'a Map<String, Value>,
}

impl Question<'_> {
    /// What the user reads: the tool, its arguments as JSON (hidden characters written out,
    /// long values cut), and what it does.
    fn message(&self) -> String {
        let quoted = Value::Object(self.arguments.clone()).to_string();
        let quoted = clean::clean_str(&quoted).unwrap_or(quoted);
        let quoted = match quoted.char_indices().nth(QUOTED_CHARS) {
            Some((end, _)) => format!("{}… (cut)", &quoted[..end]),
            None => quoted,
        };
        format!(
            "{}: {} with {quoted}. This call {}. Go ahead?",
            self.title,
            self.tool,
            self.consequence.says()
        )
    }

    fn params(&self) -> ElicitRequestParams {
        let mut properties = std::collections::BTreeMap::new();
        properties.insert(
            FIELD.to_owned(),
            PrimitiveSchemaDefinition::Boolean(
                rmcp::model::BooleanSchema::new()
                    .title("Go ahead")
                    .description(format!("Run {} now", self.tool)),
            ),
        );
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: self.message(),
            requested_schema: ElicitationSchema::new(properties).with_required(vec![FIELD.into()]),
        }
    }

    /// The call, as the answer to its question is bound to it.
    fn fingerprint(&self) -> String {
        format!("{}\n{}", self.tool, Value::Object(self.arguments.clone()))
    }

    fn not_run(&self, why: &str) -> CallToolResult {
        outcome::not_confirmed(self.tool, why)
    }

    /// The verdict on an answer.
    fn judged(&self, answer: &ElicitResult) -> Verdict {
        match answer.action {
            ElicitationAction::Accept => {
                let yes = answer
                    .content
                    .as_ref()
                    .and_then(|content| content.get(FIELD))
                    .and_then(Value::as_bool);
                match yes {
                    Some(true) => Verdict::Go,
                    Some(false) => Verdict::Stop(self.not_run("the user answered no")),
                    None => Verdict::Stop(self.not_run("the answer did not say yes")),
                }
            }
            ElicitationAction::Decline => Verdict::Stop(self.not_run("the user declined")),
            ElicitationAction::Cancel => {
                Verdict::Stop(self.not_run("the user dismissed the question"))
            }
            _ => Verdict::Stop(self.not_run("the answer was neither yes nor no")),
        }
    }
}

/// Questions sent in an `input_required` result and not yet answered, each bound to its call.
/// The client echoes the state back; a state this server did not give, or gave for another
/// call, gets the question again, so an answer cannot be carried over to a different call.
pub(crate) struct Pending {
    open: Mutex<HashMap<String, (String, Instant)>>,
    counter: AtomicU64,
    seed: RandomState,
}

/// How long an asked question may wait for the client's retry.
const PENDING_FOR: Duration = Duration::from_secs(900);

/// The most questions open at once; the oldest go first past it.
const MOST_PENDING: usize = 1024;

impl Default for Pending {
    fn default() -> Self {
        Pending {
            open: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            seed: RandomState::new(),
        }
    }
}

impl Pending {
    fn open(&self, fingerprint: String) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let state = format!(
            "confirm-{n:x}-{:016x}",
            self.seed.hash_one((n, &fingerprint))
        );
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.retain(|_, (_, at)| at.elapsed() < PENDING_FOR);
        if open.len() >= MOST_PENDING
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(key, _)| key.clone())
        {
            open.remove(&oldest);
        }
        open.insert(state.clone(), (fingerprint, Instant::now()));
        state
    }

    /// Whether `state` was given for this call (and is now spent).
    fn answers(&self, state: &str, fingerprint: &str) -> bool {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match open.remove(state) {
            Some((asked, at)) => asked == fingerprint && at.elapsed() < PENDING_FOR,
            None => false,
        }
    }
}

/// Whether the client behind this request can put a form to its user.
fn client_can_ask(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .and_then(|capabilities| capabilities.elicitation)
        // Neither mode named means the form, as the 2025-06-18 revision had only that.
        .is_some_and(|modes| modes.form.is_some() || modes.url.is_none())
}

/// Asks the user about `question` if the client can, and says whether to run it.
/// `responses` and `state` are what a 2026-07-28 client's retry carries.
pub(crate) async fn ask(
    question: &Question<'_>,
    pending: &Pending,
    responses: Option<&InputResponses>,
    state: Option<&str>,
    context: &RequestContext<RoleServer>,
) -> Verdict {
    if !client_can_ask(context) {
        return Verdict::Go;
    }
    let in_results = context
        .protocol_version()
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
    if in_results {
        let fingerprint = question.fingerprint();
        if let (Some(responses), Some(state)) = (responses, state)
            && pending.answers(state, &fingerprint)
        {
            return match responses
                .get(FIELD)
                .cloned()
                .map(serde_json::from_value::<ElicitResult>)
            {
                Some(Ok(answer)) => question.judged(&answer),
                _ => Verdict::Stop(question.not_run("the retry carried no answer to the question")),
            };
        }
        let mut requests = InputRequests::new();
        requests.insert(
            FIELD.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(question.params())),
        );
        return Verdict::Ask(InputRequiredResult::new(
            Some(requests),
            Some(pending.open(fingerprint)),
        ));
    }
    match context
        .peer
        .create_elicitation_with_timeout(question.params(), Some(ANSWER_WAIT))
        .await
    {
        Ok(answer) => question.judged(&answer),
        Err(rmcp::service::ServiceError::Timeout { .. }) => Verdict::Stop(question.not_run(
            &format!("the user did not answer within {} s", ANSWER_WAIT.as_secs()),
        )),
        Err(error) => {
            Verdict::Stop(question.not_run(&format!("the user could not be asked ({error})")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(arguments: &Map<String, Value>) -> Question<'_> {
        Question {
            tool: "hockeystack_delete_deal_agent",
            title: "Remove the deal agent",
            consequence: Consequence::Destroys,
            arguments,
        }
    }

    #[test]
    fn the_question_names_the_call_and_what_it_does() {
        let arguments = serde_json::json!({"dealId": "42\u{200B}"});
        let message = question(arguments.as_object().unwrap()).message();
        assert!(
            message.contains("hockeystack_delete_deal_agent"),
            "{message}"
        );
        assert!(message.contains("deletes data"), "{message}");
        assert!(
            message.contains("\\u{200B}"),
            "hidden text shown: {message}"
        );
        let long = serde_json::json!({"note": "x".repeat(5000)});
        let message = question(long.as_object().unwrap()).message();
        assert!(message.chars().count() < QUOTED_CHARS + 200, "{message}");
        assert!(message.contains("(cut)"));
    }

    #[test]
    fn only_a_yes_runs_the_call() {
        let arguments = Map::new();
        let q = question(&arguments);
        let answer = |action, content: Option<Value>| match content {
            Some(content) => ElicitResult::new(action).with_content(content),
            None => ElicitResult::new(action),
        };
        let yes = answer(
            ElicitationAction::Accept,
            Some(serde_json::json!({"confirm": true})),
        );
        assert!(matches!(q.judged(&yes), Verdict::Go));
        for refused in [
            answer(
                ElicitationAction::Accept,
                Some(serde_json::json!({"confirm": false})),
            ),
            answer(
                ElicitationAction::Accept,
                Some(serde_json::json!({"confirm": "yes"})),
            ),
            answer(ElicitationAction::Accept, None),
            answer(ElicitationAction::Decline, None),
            answer(ElicitationAction::Cancel, None),
        ] {
            assert!(matches!(q.judged(&refused), Verdict::Stop(_)));
        }
    }

    #[test]
    fn a_state_answers_only_the_call_it_was_given_for_and_only_once() {
        let pending = Pending::default();
        let state = pending.open("a".into());
        assert!(!pending.answers(&state, "b"));
        let state = pending.open("a".into());
        assert!(pending.answers(&state, "a"));
        assert!(!pending.answers(&state, "a"), "spent");
        assert!(!pending.answers("made-up", "a"));
    }

    #[test]
    fn the_settings_ask_about_what_they_say() {
        assert!(Confirm::All.asks(Consequence::SpendsCredits));
        assert!(Confirm::Destructive.asks(Consequence::Destroys));
        assert!(!Confirm::Destructive.asks(Consequence::SpendsCredits));
        assert!(!Confirm::Never.asks(Consequence::Destroys));
        assert_eq!(Confirm::named("destructive"), Some(Confirm::Destructive));
        assert_eq!(Confirm::named("sometimes"), None);
    }
}
