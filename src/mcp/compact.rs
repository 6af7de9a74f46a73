//! The compact tool list: instead of one tool per operation, a search-then-call pair that
//! reaches the same operations, beside the composite tools. A client pays for `tools/list`
//! on every turn, and some cut long lists; the pair costs a fraction of it and loses no
//! operation, at the price of one search call before the first use of an operation.

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::catalog::{Action, ToolDef};

/// The search tool's name.
pub(crate) const FIND: &str = "find_operations";
/// The call tool's name.
pub(crate) const CALL: &str = "call_operation";

/// Matches shown with their input schemas when the search does not say.
const DETAILED_MATCHES: usize = 5;

/// The tools listed in the compact mode: the pair, then the composite tools offered.
pub(crate) fn listing(offered: &[ToolDef]) -> Vec<ToolDef> {
    let find_schema = json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words, or a question in plain words, for what the operation does (deal agent, list sales, how many credits are left), or one tool's exact name. Tools are ranked by how many of the words their name, title, description and toolset hold; the best ten are returned. Leave out to list every operation."},
            "toolset": {"type": "string", "description": "Only this toolset (hockeystack_tasks, hyperrep_sales, ...)."},
            "detail": {"type": "boolean", "description": "Include every match's input schema (true) or none (false); by default the best five matches carry theirs."},
        },
        "additionalProperties": false,
    });
    let call_schema = json!({
        "type": "object",
        "properties": {
            "tool": {"type": "string", "minLength": 1, "description": "A tool name find_operations returned."},
            "arguments": {"type": "object", "description": "The arguments, as that tool's input schema says."},
        },
        "required": ["tool"],
        "additionalProperties": false,
    });
    let writes_offered = offered.iter().any(|t| t.writes);
    let mut listed = vec![
        def(
            FIND,
            "Find an operation",
            "Search the operations of the HockeyStack and HyperRep APIs this server offers; \
             returns tool names, titles and (for few matches or with detail) input schemas \
             to call with call_operation.",
            find_schema,
            false,
            Action::FindOperations,
        ),
        def(
            CALL,
            "Call an operation",
            "Call one operation that find_operations named, with its arguments.",
            call_schema,
            writes_offered,
            Action::CallOperation,
        ),
    ];
    listed.extend(
        offered
            .iter()
            .filter(|t| matches!(t.action, Action::Job(_)))
            .cloned(),
    );
    listed
}

fn def(
    name: &str,
    title: &str,
    description: &str,
    schema: Value,
    writes: bool,
    action: Action,
) -> ToolDef {
    let tool = Tool::new(
        name.to_owned(),
        description.to_owned(),
        std::sync::Arc::new(schema.as_object().cloned().unwrap_or_default()),
    )
    .with_title(title.to_owned())
    .with_annotations(
        ToolAnnotations::new()
            .read_only(!writes)
            .destructive(writes)
            .idempotent(!writes)
            .open_world(true),
    );
    ToolDef {
        tool,
        toolset: "compact".into(),
        writes,
        schema,
        action,
        consequence: None,
    }
}

/// The offered operations that match a search.
/// Words too common to tell tools apart.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "do", "does", "for", "how", "i", "in", "is", "it", "many", "me", "my",
    "of", "on", "or", "the", "to", "what", "which", "with",
];

/// The most tools a search by words returns, best first.
const MOST_FOUND: usize = 10;

/// A word without a plural's `s`, so that `credits` finds `credit` and the other way round.
fn stem(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 => stem,
        _ => word,
    }
}

/// The words of a text, lower case, split at anything not a letter or digit (`_` included).
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

pub(crate) fn find(offered: &[ToolDef], arguments: &Map<String, Value>) -> Value {
    let query = arguments
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim();
    let words = tokens(query);
    let toolset = arguments.get("toolset").and_then(Value::as_str);
    // A tool's exact name finds that tool alone.
    let exact: Vec<&ToolDef> = offered.iter().filter(|t| t.tool.name == query).collect();
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !STOP_WORDS.contains(w))
        .collect();
    let in_toolset: Vec<&ToolDef> = offered
        .iter()
        .filter(|t| toolset.is_none_or(|s| t.toolset == s))
        .collect();
    let ranked = exact.is_empty() && !words.is_empty();
    let matches: Vec<&ToolDef> = if !exact.is_empty() {
        exact
    } else if words.is_empty() {
        in_toolset
    } else {
        // Ranked by how many of the words each tool's name, title, description and toolset
        // hold (a word in the name counts twice), not all-or-nothing: a question in plain
        // words finds the tools most of its words point to.
        let mut scored: Vec<((usize, usize), &ToolDef)> = in_toolset
            .into_iter()
            .map(|t| {
                let name = tokens(&format!("{} {}", t.tool.name, t.toolset));
                let text = tokens(&format!(
                    "{} {}",
                    t.tool.title.as_deref().unwrap_or_default(),
                    t.tool.description.as_deref().unwrap_or_default()
                ));
                // A word matches a whole word of the tool's (2), or its start, plurals aside
                // (1: `analytic` finds `analytics`), never the middle of one (`left` is not in
                // `cleft`); so `sales` prefers `list_sales` to `get_sale`.
                let holds = |tokens: &[String], word: &str| {
                    let stem = stem(word);
                    if tokens.iter().any(|t| t == word) {
                        2
                    } else {
                        usize::from(tokens.iter().any(|t| t.starts_with(stem)))
                    }
                };
                let (mut matched, mut weight) = (0, 0);
                for word in &words {
                    let in_name = holds(&name, word);
                    let in_text = holds(&text, word);
                    matched += usize::from(in_name + in_text > 0);
                    weight += in_text + 2 * in_name;
                }
                ((matched, weight), t)
            })
            .filter(|((matched, _), _)| *matched > 0)
            .collect();
        // The more of the words a tool holds, the better, then the more weight they carry;
        // of two as good, the shorter name, which says less beside them (`list_sales` before
        // `list_agent_sales` for "list sales").
        scored.sort_by_key(|(score, t)| (std::cmp::Reverse(*score), t.tool.name.len()));
        scored
            .into_iter()
            .take(MOST_FOUND)
            .map(|(_, t)| t)
            .collect()
    };
    // Asked for, or not: every match with its schema, or none. Otherwise the best few of a
    // search come with theirs (all of them when few match), ready to call.
    let asked = arguments.get("detail").and_then(Value::as_bool);
    let detailed = |rank: usize| match asked {
        Some(detail) => detail,
        None => rank < DETAILED_MATCHES && (ranked || matches.len() <= DETAILED_MATCHES),
    };
    let found: Vec<Value> = matches
        .iter()
        .enumerate()
        .map(|(rank, t)| {
            let detail = detailed(rank);
            let mut entry = json!({
                "tool": t.tool.name,
                "title": t.tool.title,
                "toolset": t.toolset,
                "writes": t.writes,
            });
            if detail {
                entry["description"] = json!(t.tool.description);
                entry["input_schema"] = t.schema.clone();
            }
            entry
        })
        .collect();
    json!({
        "count": found.len(),
        "operations": found,
        "next": if found.is_empty() {
            "no operation matches: try fewer words, or none to list them all"
        } else {
            "call one with call_operation {tool, arguments}; search again with detail: true for input schemas"
        },
    })
}
