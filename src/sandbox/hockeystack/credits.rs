//! HockeyStack's credit operations: the balance, usage grouped by feature or day, and the
//! ledger, over windows that default to the 30 days up to the sandbox clock's now (charges are
//! stamped by it, so a window that ended at the wall clock's now would miss every charge made
//! after `Sandbox::advance`).

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use serde_json::{Value, json};

use super::{
    Hs, render,
    world::{CreditOp, timestamp},
};
use crate::sandbox::{
    contract::Flaw,
    http::{Call, Reply, json},
};

pub(super) fn balance(hs: &Hs, _: &Call) -> Reply {
    let world = hs.read();
    let used = world.credits_used;
    let included = hs.config.included_credits;
    let on_demand_used = (used - included).max(0.0);
    let limit = hs.config.on_demand_credit_limit;
    let now = hs.clock.now();
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let next_month = chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
    Ok(json(
        StatusCode::OK,
        &json!({
            "as_of": timestamp(now),
            "resets_at": timestamp(next_month),
            "included_credits": included,
            "on_demand_credit_limit": limit,
            "on_demand_uncapped": limit.is_none(),
            "monthly_used_credits": used,
            "on_demand_used_credits": on_demand_used,
            "remaining_included_credits": (included - used).max(0.0),
            "remaining_on_demand_credits": limit.map(|l| (l - on_demand_used).max(0.0)),
            "is_limit_exceeded": limit.is_some_and(|l| used >= included + l)
        }),
    ))
}

/// The `[from, to)` window a call asks for.
fn window(
    call: &Call,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), axum::response::Response> {
    let to = call.date("to")?.unwrap_or(now);
    let from = match call.date("from")? {
        Some(from) => from,
        None => to
            .checked_sub_signed(chrono::Duration::days(30))
            .ok_or_else(|| call.bad_request("`to` is too early."))?,
    };
    if to < from {
        return Err(call.bad_request("`to` must not be earlier than `from`."));
    }
    Ok((from, to))
}

const GROUPINGS: &[&str] = &["feature", "day", "feature,day"];

pub(super) fn usage(hs: &Hs, call: &Call) -> Reply {
    let (from, to) = window(call, hs.clock.now())?;
    let group_by = match call.query("group_by") {
        None => "feature",
        Some(g) => GROUPINGS
            .iter()
            .copied()
            .find(|known| *known == g)
            .ok_or_else(|| call.invalid_query("group_by", Flaw::NotOneOf(GROUPINGS)))?,
    };
    let world = hs.read();
    let mut groups: std::collections::BTreeMap<(String, String), (f64, i64)> = Default::default();
    let mut total = 0.0;
    for op in world.ledger.iter().filter(|op| op.at >= from && op.at < to) {
        total += op.credits;
        let feature = if group_by.contains("feature") {
            op.feature.clone()
        } else {
            String::new()
        };
        let day = if group_by.contains("day") {
            op.at.format("%Y-%m-%d").to_string()
        } else {
            String::new()
        };
        let entry = groups.entry((feature, day)).or_default();
        entry.0 += op.credits;
        entry.1 += 1;
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|((feature, day), (credits, count))| {
            let mut g = json!({"credits_used": credits, "operation_count": count});
            if !feature.is_empty() {
                g["feature"] = json!(feature);
            }
            if !day.is_empty() {
                g["day"] = json!(day);
            }
            g
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"from": timestamp(from), "to": timestamp(to), "group_by": group_by, "total_credits_used": total, "groups": groups}),
    ))
}

pub(super) fn operations(hs: &Hs, call: &Call) -> Reply {
    let (from, to) = window(call, hs.clock.now())?;
    let feature = call.query("feature");
    if feature.is_some_and(|f| f.is_empty() || f.chars().count() > 64) {
        return Err(call.invalid_query("feature", Flaw::Length { min: 1, max: 64 }));
    }
    let page = call.page("credit-operations")?;
    let world = hs.read();
    let operations = world
        .ledger
        .iter()
        .filter(|op| op.at >= from && op.at < to && feature.is_none_or(|f| f == op.feature));
    let (operations, more) = page.take(operations);
    let items = operations.into_iter().map(operation).collect();
    Ok(json(
        StatusCode::OK,
        &render::page("operations", items, page.next_cursor(more)),
    ))
}

fn operation(op: &CreditOp) -> Value {
    json!({
        "operation_uuid": op.uuid,
        "operation_type": "debit",
        "feature": op.feature,
        "credits": op.credits,
        "metadata": op.metadata,
        "timestamp": timestamp(op.at)
    })
}
