//! Results within an assistant's reach. Every result is held to a budget of characters of its
//! text (some clients refuse a result over 25 000 tokens, about 100 000 characters, and
//! others cut it silently). Lists stop on an item boundary with the cursor that continues
//! after the last item returned (see `call::gather`); whatever is still too large is cut here,
//! largest part first, and the result says what was cut and how to get the rest. Nothing is
//! left out without saying so.

use std::io;

use serde_json::{Map, Value, json};

/// The default budget: 25 000 tokens at about four characters a token.
pub(crate) const DEFAULT_RESULT_CHARS: usize = 100_000;

/// The smallest budget that leaves room for an answer and its notes.
pub(crate) const MIN_RESULT_CHARS: usize = 2_000;

/// Room kept for the envelope of a gathered list and the note of a cut.
pub(crate) const NOTE_ROOM: usize = 1_000;

/// The member of a result that says what was cut from it.
pub(crate) const CUT_MEMBER: &str = "cut_by_result_budget";

/// Counts the characters (not bytes) written through it.
struct CharCounter(usize);

impl io::Write for CharCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Every byte but UTF-8's continuation bytes starts a character.
        self.0 += buf.iter().filter(|&&b| (b as i8) >= -0x40).count();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The characters of a value's compact JSON text, without writing it out.
pub(crate) fn text_len(value: &Value) -> usize {
    let mut counter = CharCounter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The value within `budget` characters: unchanged when it fits; otherwise its largest
/// strings shortened and its largest arrays ended early until it fits, with a
/// [`CUT_MEMBER`] that lists each cut.
pub(crate) fn cut_to_fit(mut value: Value, budget: usize) -> Value {
    let full = text_len(&value);
    if full <= budget {
        return value;
    }
    let target = budget.saturating_sub(NOTE_ROOM);
    let mut cuts = Vec::new();
    // Each round removes at least the excess from one part, or the whole of an array's last
    // items; a handful of rounds does it, the bound is for values built to resist.
    for _ in 0..64 {
        let size = text_len(&value);
        if size <= target {
            break;
        }
        let Some(path) = largest_part(&value) else {
            break;
        };
        let Some(part) = value.pointer_mut(&path) else {
            break;
        };
        cuts.push(shorten(part, size - target, path));
    }
    if text_len(&value) > target {
        // Only many small members are left: nothing of it can be kept whole.
        cuts.push(json!({"at": "", "kept": "nothing", "why": "too many small parts to cut"}));
        value = Value::Null;
    }
    let note = json!({
        "budget_characters": budget,
        "full_characters": full,
        "cuts": cuts,
        "how_to_get_the_rest": "This answer was larger than the server's result budget. For a \
            list, call again with its cursor or a smaller limit; for one resource, use the \
            operation that reads the cut part alone, or narrower arguments.",
    });
    match value {
        Value::Object(mut members) => {
            members.insert(CUT_MEMBER.into(), note);
            Value::Object(members)
        }
        other => json!({ "value": other, CUT_MEMBER: note }),
    }
}

/// Shortens one string or array by at least `excess` characters where it can, and says how.
fn shorten(part: &mut Value, excess: usize, at: String) -> Value {
    match part {
        Value::String(text) => {
            let chars = text.chars().count();
            // The marker replaces what is cut, so cut it too.
            let marker = format!(" … [cut: {chars} characters in all]");
            let keep = chars.saturating_sub(excess + marker.chars().count() + 8);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            text.truncate(end);
            text.push_str(&marker);
            json!({"at": at, "kept_characters": keep, "of": chars})
        }
        Value::Array(items) => {
            let of = items.len();
            // Keep the first items whose removal past them frees the excess; at least one.
            let mut freed = 0;
            let mut keep = of;
            while keep > 1 && freed < excess {
                keep -= 1;
                freed += text_len(&items[keep]) + 1;
            }
            items.truncate(keep);
            json!({"at": at, "kept_items": keep, "of": of})
        }
        _ => json!({"at": at}),
    }
}

/// The JSON pointer of the largest string, or array of two items or more, in the value.
fn largest_part(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String, best: &mut Option<(usize, String)>) -> usize {
        let size = match value {
            Value::Object(members) => {
                let mut size = 2 + members.len().saturating_sub(1);
                for (key, member) in members {
                    let len = path.len();
                    push_token(path, key);
                    size += text_len(&Value::String(key.clone())) + 1 + walk(member, path, best);
                    path.truncate(len);
                }
                size
            }
            Value::Array(items) => {
                let mut size = 2 + items.len().saturating_sub(1);
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    push_token(path, &i.to_string());
                    size += walk(item, path, best);
                    path.truncate(len);
                }
                size
            }
            leaf => text_len(leaf),
        };
        let cuttable = match value {
            Value::String(text) => text.len() > 64,
            Value::Array(items) => items.len() > 1,
            _ => false,
        };
        if cuttable && best.as_ref().is_none_or(|(b, _)| size > *b) {
            *best = Some((size, path.clone()));
        }
        size
    }
    let mut best = None;
    walk(value, &mut String::new(), &mut best);
    best.map(|(_, path)| path)
}

fn push_token(path: &mut String, token: &str) {
    path.push('/');
    path.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

/// A note for a list answer that stopped at the budget with items of a page left out.
pub(crate) fn list_note(budget: usize, left_out: usize, next_cursor: Option<&str>) -> Value {
    let mut note = Map::new();
    note.insert("budget_characters".into(), json!(budget));
    note.insert("items_left_out_of_this_answer".into(), json!(left_out));
    note.insert(
        "how_to_get_the_rest".into(),
        json!(match next_cursor {
            Some(_) => "call again with next_cursor: it continues after the last item returned",
            None => "the list ends with the items returned",
        }),
    );
    Value::Object(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(text_len(&json!("日本")), 4);
        assert_eq!(
            text_len(&json!({"a": [1, "é"]})),
            "{\"a\":[1,\"é\"]}".chars().count()
        );
    }

    #[test]
    fn a_value_within_the_budget_is_untouched() {
        let value = json!({"id": "x", "notes": "short"});
        assert_eq!(cut_to_fit(value.clone(), 5_000), value);
    }

    #[test]
    fn a_large_string_is_shortened_with_a_marker_and_a_note() {
        let value = json!({"id": "call_1", "transcript": "word ".repeat(40_000), "tags": ["a"]});
        let cut = cut_to_fit(value, 10_000);
        assert!(text_len(&cut) <= 10_000, "{}", text_len(&cut));
        assert_eq!(cut["id"], "call_1");
        assert_eq!(cut["tags"], json!(["a"]));
        let transcript = cut["transcript"].as_str().unwrap();
        assert!(
            transcript.ends_with("[cut: 200000 characters in all]"),
            "{transcript:.40}"
        );
        let note = &cut[CUT_MEMBER];
        assert_eq!(note["cuts"][0]["at"], "/transcript");
        assert_eq!(note["cuts"][0]["of"], 200_000);
        assert_eq!(
            note["full_characters"],
            text_len(&json!({"id": "call_1", "transcript": "word ".repeat(40_000), "tags": ["a"]}))
        );
    }

    #[test]
    fn a_long_array_keeps_its_first_items_and_says_how_many() {
        let messages: Vec<Value> = (0..2_000)
            .map(|i| json!({"id": format!("m{i}"), "text": "hello there, how are you doing"}))
            .collect();
        let cut = cut_to_fit(json!({"conversation": {"messages": messages}}), 20_000);
        assert!(text_len(&cut) <= 20_000);
        let kept = cut["conversation"]["messages"].as_array().unwrap();
        assert!(kept.len() > 100, "{}", kept.len());
        assert_eq!(kept[0]["id"], "m0");
        let note = &cut[CUT_MEMBER]["cuts"][0];
        assert_eq!(note["at"], "/conversation/messages");
        assert_eq!(note["kept_items"], kept.len());
        assert_eq!(note["of"], 2_000);
    }

    #[test]
    fn an_array_of_one_huge_item_is_cut_inside_the_item() {
        let value = json!([{"body": "x".repeat(50_000)}, {"body": "y".repeat(50_000)}]);
        let cut = cut_to_fit(value, 8_000);
        assert!(text_len(&cut) <= 8_000);
        assert_eq!(cut["value"].as_array().unwrap().len(), 1);
        assert!(cut["value"][0]["body"].as_str().unwrap().starts_with("xxx"));
        assert_eq!(cut[CUT_MEMBER]["cuts"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn many_small_members_that_cannot_be_cut_are_replaced_by_the_note() {
        let members: Map<String, Value> = (0..5_000).map(|i| (format!("k{i}"), json!(i))).collect();
        let cut = cut_to_fit(Value::Object(members), 3_000);
        assert!(text_len(&cut) <= 3_000);
        assert_eq!(cut["value"], Value::Null);
        assert!(cut[CUT_MEMBER]["full_characters"].as_u64().unwrap() > 3_000);
    }
}
