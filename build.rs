//! Generates the two API clients from `openapi/*.yaml` with progenitor.
//!
//! The YAML files are the contract other teams consume, so they stay truthful. The few places
//! where progenitor cannot take the contract as written are adapted here, on the parsed
//! document, before generation (see `adapt_for_progenitor`).

use std::{env, fs, path::Path};

use openapiv3::{OpenAPI, ReferenceOr};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

/// One API to generate.
struct Api {
    /// Module name and output file stem.
    name: &'static str,
    /// Cargo feature that enables it.
    feature: &'static str,
    /// Component schemas whose closed string enums are replaced by hand-written open enums, so
    /// that a value the server adds later decodes instead of failing the whole response.
    open_enums: &'static [&'static str],
    /// Request-body properties the generated builders must not offer, as (schema, property).
    hidden_request_properties: &'static [(&'static str, &'static str)],
}

const APIS: &[Api] = &[
    Api {
        name: "hockeystack",
        feature: "HOCKEYSTACK",
        open_enums: &[
            "AgentStatus",
            "MessageJobStatus",
            "MessageRole",
            "TaskStatus",
            "TaskPriority",
            "CreditGroupBy",
            "RateLimitPool",
        ],
        // `stream: true` switches the answer to `text/event-stream`, which the generated
        // method cannot decode; streaming has its own hand-written call.
        hidden_request_properties: &[("SendMessageRequest", "stream")],
    },
    Api {
        name: "hyperrep",
        feature: "HYPERREP",
        open_enums: &[],
        hidden_request_properties: &[],
    },
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for api in APIS {
        let spec_path = format!("openapi/{}.yaml", api.name);
        println!("cargo:rerun-if-changed={spec_path}");
        if env::var_os(format!("CARGO_FEATURE_{}", api.feature)).is_none() {
            continue;
        }
        let text = fs::read_to_string(&spec_path)
            .unwrap_or_else(|e| panic!("cannot read {spec_path}: {e}"));
        let mut spec: OpenAPI = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{spec_path} is not a valid OpenAPI 3.0 document: {e}"));

        let operations = operation_paths(&spec);
        adapt_for_progenitor(&mut spec, api);

        let mut settings = GenerationSettings::new();
        settings
            .with_interface(InterfaceStyle::Builder)
            .with_tag(TagStyle::Merged)
            .with_inner_type("crate::transport::Inner".parse().expect("valid tokens"))
            .with_hooks(HooksMode::Expected);
        for name in api.open_enums {
            settings.with_replacement(
                name,
                format!("crate::{}::{name}", api.name),
                [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
            );
        }
        let tokens = Generator::new(&settings)
            .generate_tokens(&spec)
            .unwrap_or_else(|e| panic!("progenitor failed on {spec_path}: {e}"));
        let file = syn::parse2(tokens).expect("progenitor emits valid Rust");
        // progenitor documents each method with a call sketch marked `ignore`, which rustdoc
        // counts as an ignored test in every run; shown as plain text it reads the same.
        let code = prettyplease::unparse(&file).replace("```ignore", "```text");
        write_if_changed(&Path::new(&out_dir).join(format!("{}.rs", api.name)), &code);
        write_if_changed(
            &Path::new(&out_dir).join(format!("{}_operations.rs", api.name)),
            &operations,
        );
    }
}

/// The path template of every operation, so that the transport can check that a request still
/// has the shape its operation declares (a path parameter of `.` or `..` would otherwise be
/// folded away by URL normalisation and send the request to another resource).
fn operation_paths(spec: &OpenAPI) -> String {
    let mut rows = Vec::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            panic!("path references are not supported: {path}");
        };
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .as_deref()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            rows.push(format!(
                "    ({id:?}, {:?}, {path:?}),\n",
                method.to_uppercase()
            ));
        }
    }
    rows.sort();
    format!(
        "/// Every operation as (operationId, method, path template), generated from the spec.\n\
         pub(crate) const OPERATIONS: &[(&str, &str, &str)] = &[\n{}];\n",
        rows.concat()
    )
}

/// Adjusts the parsed document where progenitor cannot take the contract as written:
///
/// - A response may carry only one body type. The message POSTs answer either a JSON job (202)
///   or a `text/event-stream` (200); the stream is served by a hand-written call, so the
///   generated method keeps the JSON answer only.
/// - Request properties that would make the generated method's answer undecodable are hidden.
/// - An optional request body whose schema declares no properties (HockeyStack's agent PUT,
///   "reserved for later") is dropped: progenitor would otherwise make callers supply one, and
///   the documented call sends none.
fn adapt_for_progenitor(spec: &mut OpenAPI, api: &Api) {
    let reserved_bodies: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| c.request_bodies.iter())
        .filter(|(_, body)| match body {
            ReferenceOr::Item(body) => !body.required && body_declares_nothing(body, spec),
            ReferenceOr::Reference { .. } => false,
        })
        .map(|(name, _)| format!("#/components/requestBodies/{name}"))
        .collect();
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            if let Some(ReferenceOr::Reference { reference }) = &op.request_body
                && reserved_bodies.contains(reference)
            {
                op.request_body = None;
            }
            op.responses.responses.retain(|_, response| {
                let ReferenceOr::Reference { reference } = response else {
                    return !is_event_stream(response.as_item().expect("item"));
                };
                let name = reference.rsplit('/').next().unwrap_or_default();
                let Some(components) = spec.components.as_ref() else {
                    return true;
                };
                match components.responses.get(name) {
                    Some(ReferenceOr::Item(r)) => !is_event_stream(r),
                    _ => true,
                }
            });
        }
    }
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for (schema_name, property) in api.hidden_request_properties {
        let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(*schema_name) else {
            panic!("{schema_name} is not a component schema");
        };
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &mut schema.schema_kind
        else {
            panic!("{schema_name} is not an object schema");
        };
        assert!(
            object.properties.shift_remove(*property).is_some(),
            "{schema_name} has no property {property}"
        );
    }
}

fn body_declares_nothing(body: &openapiv3::RequestBody, spec: &OpenAPI) -> bool {
    body.content.values().all(|media| {
        let schema = match &media.schema {
            Some(ReferenceOr::Item(schema)) => Some(schema),
            Some(ReferenceOr::Reference { reference }) => spec
                .components
                .as_ref()
                .and_then(|c| {
                    c.schemas
                        .get(reference.rsplit('/').next().unwrap_or_default())
                })
                .and_then(|s| s.as_item()),
            None => None,
        };
        matches!(
            schema.map(|s| &s.schema_kind),
            Some(openapiv3::SchemaKind::Type(openapiv3::Type::Object(o))) if o.properties.is_empty()
        )
    })
}

fn is_event_stream(response: &openapiv3::Response) -> bool {
    !response.content.is_empty()
        && response
            .content
            .keys()
            .all(|media_type| media_type == "text/event-stream")
}

/// Keeps the file's timestamp when nothing changed, so that a no-op build stays a no-op.
fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
}
