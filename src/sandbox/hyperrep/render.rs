//! HyperRep's records as its API writes them: its date-times, its ids, and its pages.

use axum::{http::StatusCode, response::Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::sandbox::http::{Page, json};

/// A date-time as HyperRep writes them (microseconds, `Z`).
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Ids shaped like HyperRep's: long, URL-safe base64 with `-`, `_` and `=`.
pub(super) fn id(kind: &str, n: usize) -> String {
    format!("gAAAAAB{kind}{n:07}-x_Q=")
}

/// The number an id made by [`id`] holds.
pub(super) fn number_of(id: &str) -> Option<u64> {
    let inner = id.strip_prefix("gAAAAAB")?.strip_suffix("-x_Q=")?;
    let digits = inner.trim_start_matches(|c: char| !c.is_ascii_digit());
    digits.parse().ok()
}

/// A page as HyperRep answers it: the items, written straight from what is stored (sales are
/// JSON text already), and the pagination block.
pub(super) fn page<T: serde::Serialize + ?Sized>(
    page: &Page,
    data: Vec<&T>,
    more: bool,
) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a, T: ?Sized> {
        data: Vec<&'a T>,
        pagination: Value,
    }
    let next = page.next_cursor(more);
    json(
        StatusCode::OK,
        &Body {
            data,
            pagination: json!({"limit": page.limit, "cursor": page.cursor(), "next_cursor": next, "has_more": next.is_some()}),
        },
    )
}
