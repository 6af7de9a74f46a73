//! What a command prints, as people who live in `gh` expect to choose it: `--output json`
//! (documents), `jsonl` (one record a line) or `table` (columns), `--fields` to keep some
//! fields of each record (dot paths, `targets.deal_id`), `--jq` to pass each document or item
//! through a jq filter (jaq, so no `jq` program is needed), and `--pretty`. Keys keep the
//! server's order in every mode.

use serde_json::Value;

use super::exit::Failure;
use crate::invoke::fields::{at, select};

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// One document for one answer, one item a line for a walk of pages.
    #[default]
    Auto,
    /// JSON documents; a walk of pages prints one JSON array.
    Json,
    /// One record a line.
    Jsonl,
    /// Columns, with a header.
    Table,
}

impl Mode {
    pub(crate) const NAMES: [&'static str; 4] = ["auto", "json", "jsonl", "table"];

    pub(crate) fn named(name: &str) -> Mode {
        match name {
            "json" => Mode::Json,
            "jsonl" => Mode::Jsonl,
            "table" => Mode::Table,
            _ => Mode::Auto,
        }
    }
}

/// A compiled `--jq` filter.
pub(crate) struct Jq {
    filter: jaq_core::Filter<jaq_core::Native<jaq_json::Val>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jq")
    }
}

impl Jq {
    /// The filter, or a usage failure that says what is wrong with it.
    pub(crate) fn compile(code: &str) -> Result<Jq, Failure> {
        use jaq_core::load::{Arena, File, Loader};
        let loader = Loader::new(jaq_std::defs().chain(jaq_json::defs()));
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                Failure::usage(
                    format!("--jq: {code:?} is not a filter jq reads"),
                    errors.iter().map(|e| format!("{:?}", e.1)).collect(),
                )
            })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(jaq_std::funs().chain(jaq_json::funs()))
            .compile(modules)
            .map_err(|errors| {
                Failure::usage(
                    format!("--jq: {code:?} does not compile"),
                    errors
                        .iter()
                        .flat_map(|(_, errs)| {
                            errs.iter().map(|(name, _)| format!("unknown: {name}"))
                        })
                        .collect(),
                )
            })?;
        Ok(Jq { filter })
    }

    /// What the filter makes of one value.
    pub(crate) fn run(&self, value: Value) -> Result<Vec<Value>, Failure> {
        use jaq_core::{Ctx, RcIter};
        let inputs = RcIter::new(core::iter::empty());
        self.filter
            .run((Ctx::new([], &inputs), jaq_json::Val::from(value)))
            .map(|out| {
                out.map(Value::from)
                    .map_err(|e| Failure::Filter(format!("--jq failed on a record: {e}")))
            })
            .collect()
    }
}

/// How records are chosen and written; set once from the command line.
#[derive(Debug, Default)]
pub(crate) struct Shaping {
    pub(crate) mode: Mode,
    /// Dot paths of the fields to keep.
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) jq: Option<Jq>,
    pub(crate) pretty: bool,
    /// Strings written as their text (`--raw-output`).
    pub(crate) raw: bool,
}

impl Shaping {
    /// Whether records are printed as the server sent them (the fast path).
    pub(crate) fn as_sent(&self) -> bool {
        self.fields.is_none() && self.jq.is_none() && !self.raw && matches!(self.mode, Mode::Auto)
    }

    /// The records one value makes: the chosen fields of it, then what the jq filter makes
    /// of them (as `gh` orders `--json` and `--jq`), so the filter sees the fields asked for.
    pub(crate) fn records(&self, value: Value) -> Result<Vec<Value>, Failure> {
        let value = match &self.fields {
            Some(fields) => select(&value, fields),
            None => value,
        };
        match &self.jq {
            Some(jq) => jq.run(value),
            None => Ok(vec![value]),
        }
    }
}

/// `--fields a,b.c` as paths.
pub(crate) fn parse_fields(text: &str) -> Result<Vec<String>, Failure> {
    let fields: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if fields.is_empty() {
        return Err(Failure::usage(
            "--fields: name at least one field (task_id,status or targets.deal_id)",
            Vec::new(),
        ));
    }
    Ok(fields)
}

/// A table being written: its columns, fixed by the first rows, and the rows kept until then.
#[derive(Debug, Default)]
pub(crate) struct Table {
    columns: Option<Vec<(String, usize)>>,
    waiting: Vec<Value>,
    /// Whether long cells are cut to [`WIDEST`] (for a person at a terminal); a pipe gets
    /// every cell whole, a long one pushing the columns after it.
    cut: bool,
}

/// Rows kept to size the columns before the first is written.
const ROWS_TO_SIZE: usize = 100;

/// The widest a column grows; longer cells are cut with `…`.
const WIDEST: usize = 48;

impl Table {
    /// A table whose long cells are cut (`cut`) or kept whole.
    pub(crate) fn new(cut: bool) -> Self {
        Self {
            cut,
            ..Self::default()
        }
    }

    /// Takes a row; returns the lines ready to write (the header with the first ones).
    pub(crate) fn row(&mut self, row: Value, fields: Option<&[String]>) -> Vec<String> {
        match &self.columns {
            Some(_) => vec![self.line(&row)],
            None => {
                self.waiting.push(row);
                if self.waiting.len() < ROWS_TO_SIZE {
                    Vec::new()
                } else {
                    self.flush(fields)
                }
            }
        }
    }

    /// The lines of the rows still kept (with the header, when none was written yet).
    pub(crate) fn flush(&mut self, fields: Option<&[String]>) -> Vec<String> {
        if self.waiting.is_empty() {
            return Vec::new();
        }
        let mut lines = Vec::new();
        if self.columns.is_none() {
            let names: Vec<String> = match fields {
                Some(fields) => fields.to_vec(),
                // The first record's fields that hold a plain value, in the server's order.
                None => match &self.waiting[0] {
                    Value::Object(members) => members
                        .iter()
                        .filter(|(_, v)| !v.is_object() && !v.is_array())
                        .map(|(k, _)| k.clone())
                        .collect(),
                    _ => vec!["value".to_owned()],
                },
            };
            let columns: Vec<(String, usize)> = names
                .into_iter()
                .map(|name| {
                    let widest = self
                        .waiting
                        .iter()
                        .map(|row| cell(row, &name).chars().count())
                        .max()
                        .unwrap_or(0);
                    let widest = widest.max(name.chars().count());
                    let width = if self.cut { widest.min(WIDEST) } else { widest };
                    (name, width)
                })
                .collect();
            let header: Vec<String> = columns
                .iter()
                .map(|(name, width)| pad(&name.to_ascii_uppercase(), *width, self.cut))
                .collect();
            lines.push(header.join("  ").trim_end().to_owned());
            self.columns = Some(columns);
        }
        let rows = std::mem::take(&mut self.waiting);
        lines.extend(rows.iter().map(|row| self.line(row)));
        lines
    }

    fn line(&self, row: &Value) -> String {
        let columns = self.columns.as_deref().unwrap_or_default();
        let cells: Vec<String> = columns
            .iter()
            .map(|(name, width)| pad(&cell(row, name), *width, self.cut))
            .collect();
        cells.join("  ").trim_end().to_owned()
    }
}

/// A record's field as table text: strings as they are (control characters written out),
/// null as nothing, anything else as compact JSON. A record that is no object is one cell.
fn cell(row: &Value, name: &str) -> String {
    let value = match row {
        Value::Object(members) => members.get(name).or_else(|| at(row, name)),
        other => Some(other),
    };
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` padded to `width` characters, or cut to them when it is longer and `cut` says so.
fn pad(text: &str, width: usize, cut: bool) -> String {
    let count = text.chars().count();
    if count > width && cut {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        format!("{text}{}", " ".repeat(width.saturating_sub(count)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_keep_their_order_and_reach_into_objects() {
        let record = json!({"task_id": "t1", "status": "pending", "targets": {"deal_id": "9"}});
        let fields = parse_fields("targets.deal_id, task_id,missing").unwrap();
        assert_eq!(
            select(&record, &fields).to_string(),
            r#"{"targets.deal_id":"9","task_id":"t1","missing":null}"#
        );
    }

    #[test]
    fn a_jq_filter_runs_and_a_wrong_one_is_a_usage_error() {
        let jq = Jq::compile(".tasks[] | select(.status == \"pending\") | .task_id").unwrap();
        let page = json!({"tasks": [{"task_id": "a", "status": "pending"}, {"task_id": "b", "status": "done"}]});
        assert_eq!(jq.run(page).unwrap(), [json!("a")]);
        assert!(Jq::compile(".tasks[").is_err());
        assert!(Jq::compile("nosuchfunction").is_err());
    }

    #[test]
    fn a_table_sizes_its_columns_and_cuts_long_cells() {
        let mut table = Table::new(true);
        assert!(
            table
                .row(
                    json!({"id": "a", "name": "x".repeat(80), "nested": {}}),
                    None
                )
                .is_empty()
        );
        table.row(json!({"id": "bb", "name": "short\nline"}), None);
        let lines = table.flush(None);
        assert_eq!(
            lines[0],
            format!("ID  {}", pad("NAME", 48, true).trim_end())
        );
        assert!(lines[1].ends_with('…') && lines[1].chars().count() == 4 + 48);
        assert_eq!(lines[2], "bb  short line");
    }

    #[test]
    fn a_table_for_a_pipe_keeps_every_cell_whole() {
        let mut table = Table::new(false);
        table.row(json!({"id": "a", "name": "x".repeat(80)}), None);
        let lines = table.flush(None);
        assert_eq!(lines[1], format!("a   {}", "x".repeat(80)));
        // A longer cell after the columns were sized is whole too.
        let later = table.row(json!({"id": "a-much-longer-id", "name": "y"}), None);
        assert_eq!(later, ["a-much-longer-id  y"]);
    }
}
