//! Running an operation's tool held to the result budget: one page fitted to it, or, for a
//! list with `max_items`, pages gathered by the crate's paginator up to it (the operation sent
//! as `crate::invoke` sends every operation called by name).

use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::progress::Reporter;
use crate::invoke::fields::select;
use crate::{
    error::{Error, ErrorKind},
    invoke::{
        Clients, Operation,
        list::{JsonList, JsonPage, after},
    },
    model,
    paginate::Paginated,
};

/// How results are shaped before they go out: hidden characters written out, and the
/// budget of characters a result is held to.
#[derive(Debug, Clone)]
pub(crate) struct Shaping {
    pub(crate) clean_text: bool,
    pub(crate) result_chars: usize,
    /// The fields of each record a call asked for (`fields`), when it asked.
    pub(crate) fields: Option<Vec<String>>,
}

impl Shaping {
    /// One item of a list as it will be answered, and its size there (with its comma).
    fn item(&self, item: Value) -> (Value, usize) {
        let mut item = match &self.fields {
            Some(fields) => select(&item, fields),
            None => item,
        };
        if self.clean_text {
            super::clean::clean_value(&mut item);
        }
        let size = super::fit::text_len(&item) + 1;
        (item, size)
    }

    /// A page with each of its items narrowed to the fields asked for.
    fn narrowed(&self, mut body: Value, items: &str) -> Value {
        if let (Some(fields), Some(Value::Array(records))) = (&self.fields, body.get_mut(items)) {
            for record in records.iter_mut() {
                *record = select(record, fields);
            }
        }
        body
    }

    /// Room for the items of one answer.
    fn room(&self) -> usize {
        self.result_chars.saturating_sub(super::fit::NOTE_ROOM)
    }
}

/// Up to `max_items` items of a list, following its pages from the `cursor` argument.
/// Pages are never split: the page size is lowered for the last page so the gathered items
/// end on a page boundary and `next_cursor` continues exactly after them. A server that
/// sends more than asked has its whole page returned rather than some of it dropped.
///
/// The answer stops at the result budget on an item boundary: a page that does not fit
/// whole is asked for again from its own cursor with the size that fits, so that
/// `next_cursor` continues after the last item returned.
pub(crate) async fn gather(
    clients: &Clients,
    operation: Operation,
    shape: &model::List,
    mut arguments: Map<String, Value>,
    max_items: u64,
    reporter: &Reporter,
    shaping: Shaping,
) -> Result<Value, (Error, Value)> {
    let start = arguments
        .remove(shape.cursor)
        .and_then(|c| c.as_str().map(str::to_owned));
    let page = shape.page_size.as_ref();
    let asked = page
        .and_then(|p| arguments.get(p.name))
        .and_then(Value::as_u64);
    let page_size = |remaining: u64| {
        page.map(|p| {
            (
                p.name,
                p.for_items(asked.unwrap_or(u64::MAX).min(remaining)),
            )
        })
    };
    let mut items = Vec::new();
    let mut used = 0;
    let mut pages = 0u32;
    let mut cursor = start;
    let mut cut = None;
    'walks: loop {
        let remaining = max_items.saturating_sub(items.len() as u64);
        if remaining == 0 {
            break;
        }
        // One walk runs while full pages fit; a smaller last page needs a walk of its own.
        let size = page_size(remaining);
        let mut walk_arguments = arguments.clone();
        if let Some((name, size)) = size {
            walk_arguments.insert(name.into(), json!(size));
        }
        let list = JsonList::<Value>::new(clients.clone(), operation, walk_arguments.clone());
        let mut walk = match cursor.clone() {
            Some(c) => list.pages_from(c),
            None => list.pages(),
        }
        .prefetch(0);
        let mut finished = true;
        loop {
            let page_start = cursor.clone();
            let page = match walk.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) => {
                    cursor = None;
                    break;
                }
                Err(error) => {
                    let so_far = gathered(items, error.resume_cursor().map(str::to_owned), pages);
                    return Err((error, so_far));
                }
            };
            pages += 1;
            let on_page = page.items.len();
            let mut fitted = Vec::with_capacity(on_page);
            for item in page.items {
                let (item, size) = shaping.item(item);
                if used + size > shaping.room() {
                    break;
                }
                used += size;
                fitted.push(item);
            }
            if fitted.len() < on_page {
                let (more, next) = match (fitted.len(), items.is_empty()) {
                    // Not one more item fits: the page's own cursor continues with all of it.
                    (0, false) => (Vec::new(), page_start),
                    // Part of the page fits (or, first of all, one item too large for any
                    // answer, which is then cut): ask for just that part again, to learn the
                    // cursor after it.
                    (fits, _) => {
                        let keep = fits.max(1);
                        match refetch(clients, operation, &walk_arguments, page_start, keep).await {
                            Ok(page) => {
                                let (part, continuation) = JsonList::split(page);
                                (
                                    part.into_iter().map(|i| shaping.item(i).0).collect(),
                                    after(continuation),
                                )
                            }
                            Err(error) => {
                                let so_far = gathered(items, cursor, pages);
                                return Err((error, so_far));
                            }
                        }
                    }
                };
                cut = Some(on_page.saturating_sub(more.len()));
                items.extend(more);
                cursor = next;
                break 'walks;
            }
            items.extend(fitted);
            reporter
                .say(format!(
                    "page {pages}: {} of at most {max_items} items",
                    items.len()
                ))
                .await;
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
            let remaining = max_items.saturating_sub(items.len() as u64);
            // Empty pages with ever new cursors would never fill the cap: stop after as many
            // pages as items were asked for, and hand back the cursor.
            if remaining == 0 || u64::from(pages) >= max_items {
                break;
            }
            if size.is_some_and(|(_, size)| remaining < size) {
                finished = false;
                break;
            }
        }
        if finished {
            break;
        }
    }
    let mut answer = gathered(items, cursor, pages);
    if let Some(left_out) = cut {
        let next = answer["next_cursor"].as_str().map(str::to_owned);
        answer[super::fit::CUT_MEMBER] =
            super::fit::list_note(shaping.result_chars, left_out, next.as_deref());
    }
    Ok(answer)
}

/// The first `limit` items of a list from `cursor`: one page, asked for again with the size
/// that fits an answer.
async fn refetch(
    clients: &Clients,
    operation: Operation,
    arguments: &Map<String, Value>,
    cursor: Option<String>,
    limit: usize,
) -> Result<JsonPage, Error> {
    let Some(page_size) = operation
        .model
        .list
        .as_ref()
        .and_then(|l| l.page_size.as_ref())
    else {
        return Err(Error::new(ErrorKind::InvalidRequest {
            reason: format!(
                "{} takes no page size, so its page cannot be cut to fit the result budget",
                operation.model.id
            ),
        }));
    };
    let mut arguments = arguments.clone();
    arguments.insert(page_size.name.into(), json!(limit));
    let list = JsonList::<Value>::new(clients.clone(), operation, arguments);
    let list = match cursor {
        Some(cursor) => list.with_cursor(cursor),
        None => list,
    };
    let page = list.fetch().await?;
    // A server that sends more than asked: the cursor after its page would skip the extra.
    let sent = page
        .operation
        .model
        .list
        .as_ref()
        .and_then(|shape| {
            page.body
                .as_ref()?
                .get(shape.items)?
                .as_array()
                .map(Vec::len)
        })
        .unwrap_or(0);
    if sent > limit {
        return Err(Error::new(ErrorKind::InvalidResponse {
            reason: format!(
                "{}: asked for {limit} items, the server sent {sent}",
                operation.model.id
            ),
        }));
    }
    Ok(page)
}

/// One page of a list called without `max_items`, held to the result budget: a page over it
/// is asked for again with as many items as fit, so that its own `next_cursor` continues
/// after the last item returned.
pub(crate) async fn fit_page(
    clients: &Clients,
    operation: Operation,
    shape: &model::List,
    arguments: &Map<String, Value>,
    body: Value,
    shaping: Shaping,
) -> Result<Value, Error> {
    let mut body = shaping.narrowed(body, shape.items);
    if shaping.clean_text {
        super::clean::clean_value(&mut body);
    }
    let full = super::fit::text_len(&body);
    if full <= shaping.result_chars {
        return Ok(body);
    }
    // Anything but a page's array is left to the final cut.
    let Some(items) = body.get(shape.items).and_then(Value::as_array) else {
        return Ok(body);
    };
    let on_page = items.len();
    let sizes: Vec<usize> = items.iter().map(|i| super::fit::text_len(i) + 1).collect();
    let mut used = full - sizes.iter().sum::<usize>();
    let fits = sizes
        .iter()
        .take_while(|&&size| {
            used += size;
            used <= shaping.room()
        })
        .count();
    let cursor = arguments
        .get(shape.cursor)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let page = refetch(clients, operation, arguments, cursor, fits.max(1)).await?;
    let mut body = shaping.narrowed(page.body.unwrap_or(Value::Null), shape.items);
    if shaping.clean_text {
        super::clean::clean_value(&mut body);
    }
    let kept = body
        .get(shape.items)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let next = body
        .pointer(shape.next_cursor)
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Value::Object(members) = &mut body {
        members.insert(
            super::fit::CUT_MEMBER.into(),
            super::fit::list_note(
                shaping.result_chars,
                on_page.saturating_sub(kept),
                next.as_deref(),
            ),
        );
    }
    Ok(body)
}

fn gathered(items: Vec<Value>, next_cursor: Option<String>, pages: u32) -> Value {
    json!({
        "count": items.len(),
        "items": items,
        "next_cursor": next_cursor,
        "pages": pages,
    })
}
