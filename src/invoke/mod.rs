//! Operations called by name with a JSON object of arguments, for the surfaces that offer
//! every operation without a typed call of its own (the MCP server's tools, the command-line
//! tool): the arguments checked against the operation's schema from the model, sorted into
//! path, query and body, and sent through the crate's transport ([`OperationCall`]); lists
//! walked by the crate's paginator ([`list::JsonList`]).

pub(crate) mod check;
pub(crate) mod describe;
pub(crate) mod fields;
pub(crate) mod jobs;
pub(crate) mod list;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{
    call::OperationCall,
    config::Api,
    error::{Error, ErrorKind},
    model,
};

/// Which API an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    HockeyStack,
    HyperRep,
}

impl Service {
    /// The API's short name: the prefix of its MCP tools and its command.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Service::HockeyStack => "hockeystack",
            Service::HyperRep => "hyperrep",
        }
    }

    /// The API's operation model.
    pub(crate) fn operations(self) -> &'static [model::Operation] {
        match self {
            Service::HockeyStack => crate::hockeystack::HockeyStack::OPERATIONS,
            Service::HyperRep => crate::hyperrep::HyperRep::OPERATIONS,
        }
    }

    /// The path of the API under its host (`/api/revenue-agents/v1`), from its default base
    /// URL.
    #[cfg(feature = "cli")]
    pub(crate) fn base_path(self) -> String {
        reqwest::Url::parse(self.default_base_url())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }

    /// The base URL of the service itself.
    #[cfg(feature = "cli")]
    pub(crate) fn default_base_url(self) -> &'static str {
        match self {
            Service::HockeyStack => crate::hockeystack::HockeyStack::DEFAULT_BASE_URL,
            Service::HyperRep => crate::hyperrep::HyperRep::DEFAULT_BASE_URL,
        }
    }

    /// The variable that sets the API's base URL.
    #[cfg(feature = "cli")]
    pub(crate) fn base_url_variable(self) -> &'static str {
        match self {
            Service::HockeyStack => crate::hockeystack::HockeyStack::BASE_URL_VARIABLE,
            Service::HyperRep => crate::hyperrep::HyperRep::BASE_URL_VARIABLE,
        }
    }

    /// The spec's tags, in its order.
    pub(crate) fn tags(self) -> &'static [model::Tag] {
        match self {
            Service::HockeyStack => crate::hockeystack::TAGS,
            Service::HyperRep => crate::hyperrep::TAGS,
        }
    }

    /// One operation of the API's model, by id.
    pub(crate) fn operation(self, id: &str) -> Result<&'static model::Operation, String> {
        model::find(self.operations(), id)
            .ok_or_else(|| format!("the {} model has no operation {id}", self.prefix()))
    }
}

/// One operation of one API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    pub(crate) service: Service,
    pub(crate) model: &'static model::Operation,
}

impl model::PageSize {
    /// The size of a page that holds `wanted` items, or as many as the list allows.
    pub(crate) fn for_items(&self, wanted: u64) -> u64 {
        let most = self
            .maximum
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(u64::MAX);
        let least = self
            .minimum
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(1);
        wanted.min(most).max(least)
    }
}

/// The JSON Schema of an operation's arguments, as the model holds it.
pub(crate) fn argument_schema(operation: &model::Operation) -> Result<Value, String> {
    serde_json::from_str(operation.arguments.schema)
        .map_err(|e| format!("the input schema of {}: {e}", operation.id))
}

/// A keyword of a schema, or of the one schema it wraps in `allOf`, `anyOf` or `oneOf` (how a
/// described reference is written out).
fn keyword<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema.get(name).or_else(|| {
        ["allOf", "anyOf", "oneOf"]
            .iter()
            .filter_map(|k| schema.get(*k)?.as_array())
            .flatten()
            .find_map(|member| member.get(name))
    })
}

/// The values a schema allows, null left out, and whether they are all it allows: a closed
/// `enum`, or the values an open set (`x-extensible-enum`) has today, beside which others may
/// come.
pub(crate) fn values(schema: &Value) -> (Vec<String>, bool) {
    let listed = |name| -> Vec<String> {
        keyword(schema, name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let closed = listed("enum");
    if closed.is_empty() {
        (listed("x-extensible-enum"), false)
    } else {
        (closed, true)
    }
}

/// An argument schema as an assistant's client takes it: the values an open set knows today
/// move from `x-extensible-enum` (a keyword some clients refuse in a tool's schema) into its
/// property's description.
#[cfg(feature = "mcp")]
pub(crate) fn for_assistants(schema: &mut Value) {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(members) => {
                members.remove("x-extensible-enum");
                members.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            let (known, closed) = values(property);
            if !known.is_empty() && !closed {
                let note = format!("Known values: {}; others may come.", known.join(", "));
                let described = match property.get("description").and_then(Value::as_str) {
                    Some(text) => format!("{} {note}", text.trim_end()),
                    None => note,
                };
                property["description"] = Value::String(described);
            }
        }
    }
    strip(schema);
}

/// The clients operations are sent with, one per API that is served.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clients {
    pub(crate) hockeystack: Option<crate::hockeystack::Client>,
    pub(crate) hyperrep: Option<crate::hyperrep::Client>,
}

impl Clients {
    /// Sends one operation with its arguments.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        arguments: &Map<String, Value>,
    ) -> Result<Option<Value>, Error> {
        self.send_as(operation, arguments).await
    }

    /// Sends one operation with its arguments and reads the answer as `T`.
    pub(crate) async fn send_as<T: DeserializeOwned>(
        &self,
        operation: Operation,
        arguments: &Map<String, Value>,
    ) -> Result<Option<T>, Error> {
        let call = operation_call(operation.model, arguments);
        let missing = |api| {
            Error::new(ErrorKind::InvalidRequest {
                reason: format!("{api} is not served by this server"),
            })
        };
        match operation.service {
            Service::HockeyStack => {
                let client = self
                    .hockeystack
                    .as_ref()
                    .ok_or_else(|| missing("HockeyStack"))?;
                call.json::<crate::hockeystack::ErrorBody, _, T>(client)
                    .await
            }
            Service::HyperRep => {
                let client = self.hyperrep.as_ref().ok_or_else(|| missing("HyperRep"))?;
                call.json::<crate::hyperrep::ErrorBody, _, T>(client).await
            }
        }
    }

    /// Text from a server with every served credential blanked out.
    pub(crate) fn scrub(&self, text: String) -> String {
        let text = match &self.hockeystack {
            Some(client) => client.inner.scrub(text),
            None => text,
        };
        match &self.hyperrep {
            Some(client) => client.inner.scrub(text),
            None => text,
        }
    }
}

/// The request an operation's arguments make. The arguments were checked against the
/// operation's argument schema, so each one is where the schema says.
fn operation_call(
    operation: &'static model::Operation,
    arguments: &Map<String, Value>,
) -> OperationCall {
    let mut call = OperationCall::new(operation);
    for param in operation.params {
        let Some(value) = arguments.get(param.name) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Null => continue,
            Value::Array(values) => values.iter().map(scalar).collect(),
            value => vec![scalar(value)],
        };
        for value in values {
            call = match param.location {
                model::Location::Path => call.path(param.name, value),
                model::Location::Query => call.query(param.name, value),
                // No argument is a header.
                model::Location::Header => call,
            };
        }
    }
    let body = match &operation.body {
        None => None,
        Some(_) if operation.arguments.body_whole => arguments.get("body").cloned(),
        Some(body) => Some(Value::Object(
            body.properties
                .iter()
                .filter_map(|name| Some(((*name).to_owned(), arguments.get(*name)?.clone())))
                .collect(),
        )),
    };
    match body {
        Some(body) => call.body(body),
        None => call,
    }
}

/// A parameter value as it goes into a URL: strings as they are, numbers and booleans as JSON
/// writes them (an integer written `2.0` as `2`).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n)
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15) =>
        {
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map_or_else(|| n.to_string(), |i| i.to_string())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_carries_its_page_size_with_the_spec_s_bounds() {
        for service in [Service::HockeyStack, Service::HyperRep] {
            for operation in service.operations() {
                let Some(list) = &operation.list else {
                    continue;
                };
                let page = list
                    .page_size
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}", operation.id));
                assert_eq!(page.minimum, Some(1), "{}", operation.id);
                assert!(page.maximum.is_some(), "{}", operation.id);
            }
        }
        let tasks = model::find(Service::HockeyStack.operations(), "list_tasks").unwrap();
        let page = tasks.list.as_ref().unwrap().page_size.as_ref().unwrap();
        assert_eq!((page.maximum, page.default), (Some(200), Some(50)));
        assert_eq!(page.for_items(1000), 200);
        assert_eq!(page.for_items(7), 7);
        assert_eq!(page.for_items(0), 1);
        let sales = model::find(Service::HyperRep.operations(), "list_sales").unwrap();
        let page = sales.list.as_ref().unwrap().page_size.as_ref().unwrap();
        assert_eq!((page.maximum, page.default), (Some(500), None));
    }

    #[test]
    fn an_end_date_names_the_start_it_must_not_precede_and_tags_say_what_they_hold() {
        let sales = model::find(Service::HyperRep.operations(), "list_sales").unwrap();
        let end = sales.param("end_date", model::Location::Query).unwrap();
        assert_eq!(end.not_before, Some("start_date"));
        for service in [Service::HockeyStack, Service::HyperRep] {
            assert!(service.tags().iter().all(|t| !t.description.is_empty()));
        }
    }
}
