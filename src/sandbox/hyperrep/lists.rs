//! HyperRep's lists: plain ones, and those filtered by an optional `[start_date, end_date)`
//! window. A list in date order (sales and conversations, as generated) finds its window by
//! binary search and its page by position, so a page costs its size at any depth.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::{org::Org, render};
use crate::sandbox::{
    contract::Problem,
    http::{Call, Page, Reply},
};

/// A `[start_date, end_date)` window, either end open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The optional window a call asks for; a reversed one is refused.
fn window(call: &Call) -> Result<Window, axum::response::Response> {
    let (from, to) = (call.date("start_date")?, call.date("end_date")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(call.refuse(
            StatusCode::BAD_REQUEST,
            Problem::BadRequest,
            "start_date must be less than or equal to end_date",
        ));
    }
    Ok((from, to))
}

/// A page of a list without dates.
pub(super) fn plain<'a, T: serde::Serialize + ?Sized + 'a>(
    call: &Call,
    collection: &str,
    items: impl Iterator<Item = &'a T>,
) -> Reply {
    let page = call.page(collection)?;
    let (data, more) = page.take(items);
    Ok(render::page(&page, data, more))
}

/// A page of a dated list, filtered by the call's window on each item's date.
pub(super) fn dated<'a, T: serde::Serialize + ?Sized + 'a>(
    call: &Call,
    collection: &str,
    items: impl IntoIterator<Item = (&'a T, DateTime<Utc>)>,
) -> Reply {
    let page = call.page(collection)?;
    let (from, to) = window(call)?;
    let (data, more) = page.take(in_window(items, from, to));
    Ok(render::page(&page, data, more))
}

/// A page of sales (all of them, or those at `positions`).
pub(super) fn sales(
    org: &Org,
    call: &Call,
    collection: &str,
    positions: Option<&[usize]>,
) -> Reply {
    let ordered = org.lookups.sales_in_date_order;
    indexed(call, collection, org.sales.len(), positions, ordered, |i| {
        (&*org.sales[i].json, org.sales[i].created)
    })
}

/// A page of conversations (all of them, or those at `positions`).
pub(super) fn conversations(
    org: &Org,
    call: &Call,
    collection: &str,
    positions: Option<&[usize]>,
) -> Reply {
    let ordered = org.lookups.conversations_in_date_order;
    indexed(
        call,
        collection,
        org.conversations.len(),
        positions,
        ordered,
        |i| (&org.conversations[i].value, org.conversations[i].start),
    )
}

/// One page of a dated collection of `all` items (or of those at `positions`, in their
/// order), `item(i)` giving an item and its date. In date order the window is located by
/// binary search and the cursor is a position in it; otherwise the filtered walk.
fn indexed<'a, T: serde::Serialize + ?Sized + 'a>(
    call: &Call,
    collection: &str,
    all: usize,
    positions: Option<&[usize]>,
    in_date_order: bool,
    item: impl Fn(usize) -> (&'a T, DateTime<Utc>),
) -> Reply {
    let page = call.page(collection)?;
    let (from, to) = window(call)?;
    let len = positions.map_or(all, <[usize]>::len);
    let at = |k: usize| item(positions.map_or(k, |p| p[k]));
    if !in_date_order {
        let (data, more) = page.take(in_window((0..len).map(at), from, to));
        return Ok(render::page(&page, data, more));
    }
    // The first position at or after `when`.
    let first_at = |when: DateTime<Utc>| {
        let (mut lo, mut hi) = (0, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if at(mid).1 < when {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let start = from.map_or(0, first_at);
    let end = to.map_or(len, first_at).max(start);
    Ok(slice(&page, start, end, |k| at(k).0))
}

/// The page's part of the positions `start..end`.
fn slice<'a, T: serde::Serialize + ?Sized + 'a>(
    page: &Page,
    start: usize,
    end: usize,
    item: impl Fn(usize) -> &'a T,
) -> axum::response::Response {
    let first = start.saturating_add(page.offset).min(end);
    let past = start.saturating_add(page.offset).saturating_add(page.limit);
    let data = (first..past.min(end)).map(item).collect();
    render::page(page, data, past < end)
}

/// The items dated within `[from, to)`, either end open.
fn in_window<'a, T: ?Sized + 'a>(
    items: impl IntoIterator<Item = (&'a T, DateTime<Utc>)>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> impl Iterator<Item = &'a T> {
    items
        .into_iter()
        .filter(move |(_, at)| from.is_none_or(|f| *at >= f) && to.is_none_or(|t| *at < t))
        .map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;

    use super::*;
    use crate::{
        config::Api,
        hyperrep::HyperRep,
        sandbox::{SeedSizes, http::cursor_for, hyperrep::render::ts},
    };

    fn call(operation: &str, query: Vec<(String, String)>) -> Call {
        let contract = Arc::new(super::super::Contract { key: "k".into() });
        let operation = crate::model::find(HyperRep::OPERATIONS, operation).unwrap();
        Call::for_test(contract, operation, query)
    }

    async fn body(reply: Reply) -> axum::body::Bytes {
        let response = reply.unwrap_or_else(|refusal| refusal);
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    fn windows(now: DateTime<Utc>) -> Vec<Vec<(String, String)>> {
        let at = |days: i64| ts(now - Duration::days(days));
        vec![
            vec![],
            vec![("start_date".into(), at(40))],
            vec![("end_date".into(), at(70))],
            vec![("start_date".into(), at(60)), ("end_date".into(), at(30))],
            vec![("start_date".into(), at(1)), ("end_date".into(), at(1))],
        ]
    }

    /// The binary-searched pages equal the plain filtered walk, for every window and offset.
    #[tokio::test]
    async fn indexed_sale_pages_equal_the_filtered_walk() {
        let now = Utc::now();
        let sizes = SeedSizes {
            sales: 600,
            ..SeedSizes::default()
        };
        let indexed = Org::seeded(&sizes, now);
        let mut walked = Org::seeded(&sizes, now);
        assert!(indexed.lookups.sales_in_date_order);
        walked.lookups.sales_in_date_order = false;
        for window in windows(now) {
            for (collection, owner) in [("sales", None), ("agent-sales-x", Some(2))] {
                for offset in [0, 7, 95, 599, 2000] {
                    let mut q = window.clone();
                    q.push(("limit".into(), "40".into()));
                    if offset > 0 {
                        q.push(("cursor".into(), cursor_for(collection, offset)));
                    }
                    let answer = |org: &Org| {
                        let positions =
                            owner.map(|o: usize| org.lookups.sales_by_owner[o].as_slice());
                        sales(org, &call("list_sales", q.clone()), collection, positions)
                    };
                    assert_eq!(
                        body(answer(&indexed)).await,
                        body(answer(&walked)).await,
                        "{window:?} {collection} offset {offset}"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn indexed_conversation_pages_equal_the_filtered_walk() {
        let now = Utc::now();
        let sizes = SeedSizes {
            conversations: 300,
            ..SeedSizes::default()
        };
        let indexed = Org::seeded(&sizes, now);
        let mut walked = Org::seeded(&sizes, now);
        assert!(indexed.lookups.conversations_in_date_order);
        walked.lookups.conversations_in_date_order = false;
        type Owner = fn(&Org) -> &[usize];
        let owners: [(&str, Option<Owner>); 3] = [
            ("conversations", None),
            (
                "agent-conversations-x",
                Some(|org| &org.lookups.conversations_by_agent[1]),
            ),
            (
                "contact-conversations-x",
                Some(|org| &org.lookups.conversations_by_contact[2]),
            ),
        ];
        for window in windows(now) {
            for (collection, owner) in owners {
                for offset in [0, 3, 95, 299, 2000] {
                    let mut q = window.clone();
                    q.push(("limit".into(), "25".into()));
                    if offset > 0 {
                        q.push(("cursor".into(), cursor_for(collection, offset)));
                    }
                    let answer = |org: &Org| {
                        let c = call("list_conversations", q.clone());
                        conversations(org, &c, collection, owner.map(|o| o(org)))
                    };
                    assert_eq!(
                        body(answer(&indexed)).await,
                        body(answer(&walked)).await,
                        "{window:?} {collection} offset {offset}"
                    );
                }
            }
        }
        // Each owner's conversations are the ones that name it.
        for (agent, positions) in indexed.lookups.conversations_by_agent.iter().enumerate() {
            let named: Vec<usize> = (0..indexed.conversations.len())
                .filter(|&i| indexed.conversations[i].agent == agent)
                .collect();
            assert_eq!(*positions, named);
        }
    }

    #[tokio::test]
    async fn page_sizes_are_held_to_the_operation_model_s_bounds() {
        let org = Org::seeded(&SeedSizes::default(), Utc::now());
        for (limit, says) in [
            ("0", "greater than or equal to 1"),
            ("501", "less than or equal to 500"),
            ("ten", "not a valid integer"),
        ] {
            let c = call("list_sales", vec![("limit".into(), limit.into())]);
            let refusal = sales(&org, &c, "sales", None).unwrap_err();
            assert_eq!(refusal.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let text = body(Err(refusal)).await;
            assert!(String::from_utf8_lossy(&text).contains(says), "{limit}");
        }
    }
}
