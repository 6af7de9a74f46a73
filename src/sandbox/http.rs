//! What both APIs' handlers share to read a request and write an answer: the call as a
//! handler receives it (its operation, path parameters, query, body), body fields checked
//! against their types, page parameters checked against the operation model's bounds,
//! cursors, dates in the forms the services take, and JSON answers. Every refusal is worded
//! by the API's [`Contract`].

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, header},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::contract::{Contract, Flaw, Place, Problem};
use crate::model::Operation;

/// What a handler answers: the API's answer, or its refusal (which `?` passes on).
pub(crate) type Reply = Result<Response, Response>;

/// A JSON answer.
pub(crate) fn json<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    // Only maps with string keys and finite numbers are written, which always serialise.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An empty answer.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// `{"detail": …}`: HyperRep's envelope, and the sandbox's own controls'.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "detail": message }))
}

/// One request to an operation, as its handler receives it.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) operation: &'static Operation,
    /// The path parameters, by the template's names, percent-decoded.
    pub(crate) params: Vec<(&'static str, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// What the layers before the handler attached (a scripted fault's mark, say).
    pub(crate) extensions: Extensions,
    pub(crate) contract: Arc<dyn Contract>,
}

impl Call {
    /// A path parameter (empty when the template has none of this name).
    pub(crate) fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A query parameter: the first of its name.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A refusal in the API's envelope.
    pub(crate) fn refuse(&self, status: StatusCode, problem: Problem, message: &str) -> Response {
        self.contract.refuse(status, problem, message)
    }

    pub(crate) fn not_found(&self, message: &str) -> Response {
        self.refuse(StatusCode::NOT_FOUND, Problem::NotFound, message)
    }

    pub(crate) fn bad_request(&self, message: &str) -> Response {
        self.refuse(StatusCode::BAD_REQUEST, Problem::BadRequest, message)
    }

    pub(crate) fn conflict(&self, code: &'static str, message: &str) -> Response {
        self.refuse(StatusCode::CONFLICT, Problem::Conflict(code), message)
    }

    /// A refused query parameter.
    pub(crate) fn invalid_query(&self, name: &str, flaw: Flaw) -> Response {
        self.contract.invalid(Place::Query, name, flaw)
    }

    /// The body, a JSON object.
    pub(crate) fn fields(&self) -> Result<Fields<'_>, Response> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(Fields::new(map, &*self.contract)),
            _ => Err(self.contract.invalid(Place::Body, "", Flaw::NotObject)),
        }
    }

    /// The body, a JSON object or nothing at all.
    pub(crate) fn fields_or_none(&self) -> Result<Fields<'_>, Response> {
        if self.body.is_empty() {
            return Ok(Fields::new(Map::new(), &*self.contract));
        }
        self.fields()
    }

    /// A date or date-time query parameter, when given.
    pub(crate) fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, Response> {
        match self.query(name) {
            None => Ok(None),
            Some(v) => timestamp(v)
                .map(Some)
                .ok_or_else(|| self.invalid_query(name, Flaw::NotDateTime)),
        }
    }

    /// The page size a list operation asks for, bounded as the operation model says (the
    /// sandbox's default is 50 where the spec publishes none).
    pub(crate) fn page_size(&self) -> Result<usize, Response> {
        let size = self
            .operation
            .list
            .as_ref()
            .and_then(|l| l.page_size.as_ref());
        let Some(size) = size else {
            return Ok(DEFAULT_PAGE);
        };
        let (min, max) = (size.minimum.unwrap_or(1), size.maximum.unwrap_or(i64::MAX));
        let n = match self.query(size.name) {
            None => size.default.unwrap_or(DEFAULT_PAGE as i64),
            Some(v) => v
                .parse::<i64>()
                .map_err(|_| self.invalid_query(size.name, Flaw::NotInteger { min, max }))?,
        };
        if n < min {
            return Err(self.invalid_query(size.name, Flaw::Below { min, max }));
        }
        if n > max {
            return Err(self.invalid_query(size.name, Flaw::Above { min, max }));
        }
        Ok(usize::try_from(n).unwrap_or(DEFAULT_PAGE))
    }

    /// The cursor a list operation was given, in the parameter its model names.
    fn cursor(&self) -> Option<&str> {
        self.operation
            .list
            .as_ref()
            .and_then(|l| self.query(l.cursor))
    }

    /// The page a list operation asks for: its size, and the offset its cursor stands for in
    /// `collection`.
    pub(crate) fn page(&self, collection: &str) -> Result<Page, Response> {
        let limit = self.page_size()?;
        let offset = match self.cursor() {
            None => 0,
            Some(cursor) => {
                offset_from(collection, cursor).ok_or_else(|| self.bad_request("Invalid cursor"))?
            }
        };
        Ok(Page {
            limit,
            offset,
            collection: collection.to_owned(),
        })
    }

    /// The page a list ordered by key asks for: its size, and the key its cursor says the
    /// previous page ended at, so that a page starts where the last ended whatever its depth.
    pub(crate) fn key_page(&self, collection: &str) -> Result<(usize, Option<String>), Response> {
        let limit = self.page_size()?;
        let after = match self.cursor() {
            None => None,
            Some(cursor) => Some(
                key_from(collection, cursor).ok_or_else(|| self.bad_request("Invalid cursor"))?,
            ),
        };
        Ok((limit, after))
    }
}

/// The page size where the spec publishes no default.
const DEFAULT_PAGE: usize = 50;

/// The members of a JSON object body, each read as the type the operation documents.
pub(crate) struct Fields<'a> {
    map: Map<String, Value>,
    contract: &'a dyn Contract,
}

impl<'a> Fields<'a> {
    fn new(map: Map<String, Value>, contract: &'a dyn Contract) -> Self {
        Self { map, contract }
    }

    /// A refused member.
    pub(crate) fn invalid(&self, name: &str, flaw: Flaw) -> Response {
        self.contract.invalid(Place::Body, name, flaw)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A string member; absent or null is `None`.
    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(name, Flaw::NotString)),
        }
    }

    /// A string member of at most `max` characters.
    pub(crate) fn short_string(&self, name: &str, max: usize) -> Result<Option<&str>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s)),
            Some(_) => Err(self.invalid(name, Flaw::Length { min: 0, max })),
        }
    }

    /// A required string member of `min..=max` characters.
    pub(crate) fn required_string(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<&str, Response> {
        match self.get(name) {
            Some(Value::String(s)) if (min..=max).contains(&s.chars().count()) => Ok(s),
            _ => Err(self.invalid(name, Flaw::Length { min, max })),
        }
    }

    /// A member that must be one of `values`; `None` when absent.
    pub(crate) fn one_of(
        &self,
        name: &str,
        values: &'static [&'static str],
    ) -> Result<Option<&'static str>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => values
                .iter()
                .find(|value| v.as_str() == Some(**value))
                .copied()
                .map(Some)
                .ok_or_else(|| self.invalid(name, Flaw::NotOneOf(values))),
        }
    }

    /// A boolean member; absent or null is `false`.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, Response> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.invalid(name, Flaw::NotBool)),
        }
    }

    /// An object member; absent or null is `None`.
    pub(crate) fn object(&self, name: &str) -> Result<Option<&Map<String, Value>>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(self.invalid(name, Flaw::NotObject)),
        }
    }

    /// A list of email addresses; absent or null is empty.
    pub(crate) fn emails(&self, name: &str) -> Result<Vec<String>, Response> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v.as_str() {
                    Some(e) if is_email(e) => Ok(e.to_owned()),
                    _ => Err(self.invalid(name, Flaw::NotEmail)),
                })
                .collect(),
            Some(_) => Err(self.invalid(name, Flaw::NotList)),
        }
    }

    /// A date-time member; absent or null is `None`.
    pub(crate) fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => timestamp(s)
                .map(Some)
                .ok_or_else(|| self.invalid(name, Flaw::NotDateTime)),
            Some(_) => Err(self.invalid(name, Flaw::NotDateTime)),
        }
    }

    /// The members of a nested object, read the same way.
    pub(crate) fn nested(&self, map: &Map<String, Value>) -> Fields<'a> {
        Fields::new(map.clone(), self.contract)
    }
}

/// Whether a string is shaped like an email address (the services check no more).
pub(crate) fn is_email(text: &str) -> bool {
    text.contains('@') && (3..=254).contains(&text.len())
}

/// One page of a list: its size, where it starts, and the collection its cursors name.
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
    collection: String,
}

impl Page {
    /// The page's items out of `items`: those after the offset are skipped before anything
    /// is built, and the walk stops one item past the page, so a page costs its offset and
    /// size, never the whole list. Also says whether more follow.
    pub(crate) fn take<T>(&self, items: impl Iterator<Item = T>) -> (Vec<T>, bool) {
        let mut rest = items.skip(self.offset);
        let page: Vec<T> = rest.by_ref().take(self.limit).collect();
        let more = rest.next().is_some();
        (page, more)
    }

    /// The cursor to the next page, when more follow.
    pub(crate) fn next_cursor(&self, more: bool) -> Option<String> {
        more.then(|| cursor_for(&self.collection, self.offset.saturating_add(self.limit)))
    }

    /// The cursor of this page, when it is not the first.
    pub(crate) fn cursor(&self) -> Option<String> {
        (self.offset > 0).then(|| cursor_for(&self.collection, self.offset))
    }
}

/// The query string as (name, value) pairs.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The decoded segments of a path. Empty segments are kept (an empty id is an id that names
/// nothing), and an empty path gives no segment at all.
pub(crate) fn path_segments(path: &str) -> Vec<String> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Vec::new();
    }
    path.split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// A timestamp in the forms the services' frameworks accept, since clients in other languages
/// write date-times in all of them:
/// - RFC 3339 (`2026-04-01T00:00:00Z`, `…+02:00`), with `t`/`z` in lower case, a space instead
///   of `T`, fractions of a second, no seconds, and offsets as `+0200` or `+02`;
/// - no offset at all (`2026-04-01T00:00:00`), read as UTC;
/// - a date alone (`2026-04-01`), read as midnight UTC;
/// - Unix time in seconds or milliseconds (`1775001600`, `1775001600000`).
pub(crate) fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if !text.is_empty() && text.len() <= 13 && text.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = text.parse().ok()?;
        // Ten digits or fewer are seconds (until 2286); more are milliseconds.
        return if text.len() <= 10 {
            Utc.timestamp_opt(n, 0).single()
        } else {
            Utc.timestamp_millis_opt(n).single()
        };
    }
    if text.len() == 10 {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc());
    }
    // One spelling for the rest: `T` between date and time, `Z` for UTC.
    let mut normal = text.to_owned();
    if normal.len() > 10
        && normal.is_char_boundary(10)
        && matches!(normal.as_bytes()[10], b' ' | b't')
    {
        normal.replace_range(10..11, "T");
    }
    if normal.ends_with('z') {
        normal.replace_range(normal.len() - 1.., "Z");
    }
    if let Some(naive) = normal.strip_suffix('Z') {
        normal = format!("{naive}+00:00");
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(&normal, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&normal, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Opaque-looking cursors that name their collection, so that a cursor from another list is
/// refused as the real services do.
pub(crate) fn cursor_for(collection: &str, offset: usize) -> String {
    let tag: u32 = collection
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    format!("{tag:08x}-{offset:x}")
}

/// The offset a cursor stands for, if it belongs to `collection`.
pub(crate) fn offset_from(collection: &str, cursor: &str) -> Option<usize> {
    let (tag, offset) = cursor.split_once('-')?;
    // Far past any collection, and far from overflowing when a page size is added.
    const LARGEST_OFFSET: usize = u32::MAX as usize;
    let offset = usize::from_str_radix(offset, 16)
        .ok()
        .filter(|offset| *offset <= LARGEST_OFFSET)?;
    (cursor_for(collection, offset).split_once('-')?.0 == tag).then_some(offset)
}

/// A cursor that names its collection and the key a page ended at.
pub(crate) fn key_cursor(collection: &str, key: &str) -> String {
    let tag = cursor_for(collection, 0);
    let tag = tag.split_once('-').map_or("", |(t, _)| t);
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{tag}-k{hex}")
}

/// The key a cursor names, if it belongs to `collection`.
pub(crate) fn key_from(collection: &str, cursor: &str) -> Option<String> {
    let (tag, hex) = cursor.split_once("-k")?;
    if hex.len() % 2 != 0 || hex.len() > 2 * 1024 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let key = String::from_utf8(bytes).ok()?;
    (key_cursor(collection, &key).split_once("-k")?.0 == tag).then_some(key)
}

/// A header's value as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Call {
    /// A GET of `operation` with this query, for the handlers' own tests.
    #[cfg(test)]
    pub(crate) fn for_test(
        contract: Arc<dyn Contract>,
        operation: &'static Operation,
        query: Vec<(String, String)>,
    ) -> Call {
        Call {
            method: Method::GET,
            operation,
            params: Vec::new(),
            query,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            extensions: Extensions::new(),
            contract,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_decoded_and_keep_empty_ids() {
        assert_eq!(
            path_segments("/deals/a%2Fb/agent"),
            ["deals", "a/b", "agent"]
        );
        assert_eq!(path_segments("/deals//agent"), ["deals", "", "agent"]);
        assert!(path_segments("").is_empty() && path_segments("/").is_empty());
    }

    #[test]
    fn timestamps_take_the_forms_real_servers_accept() {
        let utc = timestamp("2026-04-01T00:00:00Z").unwrap();
        assert_eq!(timestamp("2026-04-01T02:00:00+02:00"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00+0000"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00.000+0000"), Some(utc));
        assert_eq!(timestamp("2026-04-01T02:00:00+02"), Some(utc));
        assert_eq!(timestamp("2026-04-01t00:00:00z"), Some(utc));
        assert_eq!(timestamp("2026-04-01 00:00:00Z"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00Z"), Some(utc));
        assert_eq!(timestamp("2026-04-01T00:00:00"), Some(utc));
        assert_eq!(
            timestamp("2026-04-01T00:00:00.250"),
            Some(utc + chrono::Duration::milliseconds(250))
        );
        assert_eq!(timestamp("2026-04-01"), Some(utc));
        assert_eq!(timestamp("1775001600"), Some(utc));
        assert_eq!(timestamp("1775001600000"), Some(utc));
        for wrong in [
            "yesterday",
            "",
            "2026-13-01",
            "2026-04-01T25:00:00Z",
            "2026-04-01T00:00:00+2500",
            "12345678901234",
            "2026-04-01é00:00:00",
        ] {
            assert_eq!(timestamp(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn cursors_belong_to_their_collection() {
        let c = cursor_for("sales", 50);
        assert_eq!(offset_from("sales", &c), Some(50));
        assert_eq!(offset_from("contacts", &c), None);
        assert_eq!(offset_from("sales", "garbage"), None);
        let k = key_cursor("agents", "9001/é");
        assert_eq!(key_from("agents", &k).as_deref(), Some("9001/é"));
        assert_eq!(key_from("tasks", &k), None);
        assert_eq!(offset_from("agents", &k), None);
        assert_eq!(key_from("agents", &c), None);
        assert_eq!(key_from("agents", "x-kzz"), None);
    }

    #[test]
    fn a_page_takes_its_items_and_says_whether_more_follow() {
        let page = Page {
            limit: 3,
            offset: 2,
            collection: "c".into(),
        };
        assert_eq!(page.take(0..10), (vec![2, 3, 4], true));
        assert_eq!(page.take(0..5), (vec![2, 3, 4], false));
        assert_eq!(page.next_cursor(true), Some(cursor_for("c", 5)));
        assert_eq!(page.cursor(), Some(cursor_for("c", 2)));
    }
}
