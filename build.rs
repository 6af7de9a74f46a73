//! Generates the two API clients from `openapi/*.yaml` with progenitor.
//!
//! The YAML files are the contract other teams consume, so they stay truthful. The few places
//! where progenitor cannot take the contract as written are adapted here, on the parsed
//! document, before generation (see `adapt_for_progenitor`).

use std::{env, fs, path::Path};

use openapiv3::{OpenAPI, ReferenceOr};

#[path = "build/model.rs"]
mod model;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

/// One API to generate.
struct Api {
    /// Module name and output file stem.
    name: &'static str,
    /// Cargo feature that enables it.
    feature: &'static str,
    /// Request-body properties the generated builders must not offer, as (schema, property).
    hidden_request_properties: &'static [(&'static str, &'static str)],
    /// `oneOf` schemas progenitor sees as one of their alternatives, as (schema, variant): the
    /// schema takes the variant's shape and the variants leave the components.
    one_of_as_variant: &'static [(&'static str, &'static str)],
    /// Error bodies to fold into the API's `ErrorEnvelope`, whose properties then take either
    /// form: progenitor allows one error type per operation, and the crate reads every error
    /// answer through one type.
    folded_error_bodies: &'static [&'static str],
    /// Component schemas progenitor sees inline at each property that refers to them: named
    /// in the spec because a generator for another language needs the name, they stay the
    /// plain maps they were in the crate's types.
    inlined_schemas: &'static [&'static str],
}

const APIS: &[Api] = &[
    Api {
        name: "hockeystack",
        feature: "HOCKEYSTACK",
        // `stream: true` switches the answer to `text/event-stream`, which the generated
        // method cannot decode; streaming has its own hand-written call.
        hidden_request_properties: &[("SendMessageRequest", "stream")],
        // The text under the API reference's name (`MessageText`) or the quickstart's
        // (`ContentText`): one spelling is enough in Rust, and the builder then refuses a
        // message without text before anything is sent.
        one_of_as_variant: &[("SendMessageRequest", "MessageText")],
        folded_error_bodies: &[],
        inlined_schemas: &[],
    },
    Api {
        name: "hyperrep",
        feature: "HYPERREP",
        hidden_request_properties: &[],
        one_of_as_variant: &[],
        folded_error_bodies: &["ValidationErrorEnvelope"],
        // openapi-python-client cannot model this map inline in a nullable schema.
        inlined_schemas: &["QuoteAgentOverrides"],
    },
];

/// The extension that lists the values an open string set has today (Zalando's convention,
/// which readers and several generators recognise). Each such component schema becomes the
/// crate's hand-written open enum of the same name, so that a value the server adds later
/// decodes instead of failing the whole response.
const OPEN_ENUM_EXTENSION: &str = "x-extensible-enum";

/// Marks a component that is another one or null (`x-nullable-of: SaleStatus`). OpenAPI 3.0.3
/// lets `nullable` admit null only in the schema that declares it, so a property that may be
/// null needs a schema of its own when the shape is also used where null is not allowed.
const NULLABLE_OF_EXTENSION: &str = "x-nullable-of";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for api in APIS {
        let spec_path = format!("openapi/{}.yaml", api.name);
        println!("cargo:rerun-if-changed={spec_path}");
        if env::var_os(format!("CARGO_FEATURE_{}", api.feature)).is_none() {
            continue;
        }
        let text = fs::read_to_string(&spec_path)
            .unwrap_or_else(|e| panic!("cannot read {spec_path}: {e}"));
        // Cargo reruns this script when either spec changes; the API whose spec, options and
        // generator are unchanged keeps its generated files and skips progenitor.
        let stamp = generation_stamp(&text);
        let stamp_path = Path::new(&out_dir).join(format!("{}.stamp", api.name));
        let outputs = ["", "_operations", "_mock"]
            .map(|suffix| Path::new(&out_dir).join(format!("{}{suffix}.rs", api.name)));
        let mock_wanted = env::var_os("CARGO_FEATURE_MOCK").is_some();
        if fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
            && outputs[..2].iter().all(|p| p.exists())
            && (!mock_wanted || outputs[2].exists())
        {
            continue;
        }
        let mut spec: OpenAPI = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{spec_path} is not a valid OpenAPI 3.0 document: {e}"));

        // Read from the contract as written, before progenitor's adaptations.
        let open_enums = open_enums(&spec);
        let written: serde_json::Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{spec_path} is not YAML: {e}"));
        let operations = format!(
            "{}{}",
            model::write(
                &written,
                api.name,
                &model::BodyShaping {
                    hidden: api.hidden_request_properties,
                    one_of_as_variant: api.one_of_as_variant,
                },
            )
            .unwrap_or_else(|e| panic!("the operation model of {spec_path}: {e}")),
            known_values(&open_enums)
        );
        adapt_for_progenitor(&mut spec, api);
        let expected = expected_sites(&spec);
        let docs = spec_docs(&spec);

        let mut settings = GenerationSettings::new();
        settings
            .with_interface(InterfaceStyle::Builder)
            .with_tag(TagStyle::Merged)
            // Shared, so that a builder owning a clone of its client costs no copy of it.
            .with_inner_type(
                "std::sync::Arc<crate::transport::Inner>"
                    .parse()
                    .expect("valid tokens"),
            )
            .with_hooks(HooksMode::Expected);
        // Feature `schemars`: every generated type describes itself as JSON Schema.
        if env::var_os("CARGO_FEATURE_SCHEMARS").is_some() {
            settings.with_derive("schemars::JsonSchema");
        }
        for (name, _) in &open_enums {
            settings.with_replacement(
                name,
                format!("crate::{}::{name}", api.name),
                [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
            );
        }
        let tokens = Generator::new(&settings)
            .generate_tokens(&spec)
            .unwrap_or_else(|e| panic!("progenitor failed on {spec_path}: {e}"));
        // Feature `mock`: progenitor's typed httpmock extensions, over the same types.
        if env::var_os("CARGO_FEATURE_MOCK").is_some() {
            let mocks = Generator::new(&settings)
                .httpmock(&spec, &format!("crate::{}", api.name))
                .unwrap_or_else(|e| panic!("progenitor's mocks failed on {spec_path}: {e}"));
            let mut file = syn::parse2(mocks).expect("progenitor emits valid Rust");
            document_mocks(&mut file, &docs);
            write_if_changed(
                &Path::new(&out_dir).join(format!("{}_mock.rs", api.name)),
                &prettyplease::unparse(&file),
            );
        }
        let mut file: syn::File = syn::parse2(tokens).expect("progenitor emits valid Rust");
        own_the_send_calls(&mut file, api, expected);
        own_the_client_surface(&mut file, api);
        optional_fields_take_plain_values(&mut file);
        document_client(&mut file, &docs);
        let mut sketches = PlainTextSketches { sites: 0 };
        syn::visit_mut::VisitMut::visit_file_mut(&mut sketches, &mut file);
        check_sites(
            "call sketches as plain text",
            sketches.sites,
            Sites::AtLeast(1),
        );
        require_regress_if_used(&file);
        let code = prettyplease::unparse(&file);
        write_if_changed(&Path::new(&out_dir).join(format!("{}.rs", api.name)), &code);
        write_if_changed(
            &Path::new(&out_dir).join(format!("{}_operations.rs", api.name)),
            &operations,
        );
        let counts = SITE_COUNTS
            .lock()
            .map(|mut counts| {
                std::mem::take(&mut *counts)
                    .into_iter()
                    .map(|(rewrite, sites, checks)| {
                        format!("{sites}\tsites\t{checks}\tchecks\t{rewrite}\n")
                    })
                    .collect::<String>()
            })
            .unwrap_or_default();
        write_if_changed(
            &Path::new(&out_dir).join(format!("{}_rewrites.txt", api.name)),
            &counts,
        );
        write_if_changed(&stamp_path, &stamp);
    }
}

/// regress is optional (the argument checks of the MCP server and the tool use it): the
/// generated client checks no pattern today. A spec that adds one makes typify's code call
/// regress, which a default build would then lack; this says so in words.
fn require_regress_if_used(file: &syn::File) {
    struct Uses(usize);
    impl<'ast> syn::visit::Visit<'ast> for Uses {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if path.segments.first().is_some_and(|s| s.ident == "regress") {
                self.0 += 1;
            }
            syn::visit::visit_path(self, path);
        }
    }
    let mut uses = Uses(0);
    syn::visit::Visit::visit_file(&mut uses, file);
    let enabled = ["CARGO_FEATURE_MCP", "CARGO_FEATURE_CLI"]
        .iter()
        .any(|feature| env::var_os(feature).is_some());
    assert!(
        uses.0 == 0 || enabled,
        "the generated client checks a `pattern` with regress ({} uses): make regress a plain \
         dependency in Cargo.toml (it is optional, for the features mcp and cli)",
        uses.0
    );
}

/// What the generated files of one API depend on: its spec, the features that change the
/// output, and this build script as compiled (its size and time, which change whenever it or
/// a generator it links is rebuilt).
fn generation_stamp(spec_text: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    spec_text.hash(&mut hasher);
    for feature in ["CARGO_FEATURE_SCHEMARS", "CARGO_FEATURE_MOCK"] {
        env::var_os(feature).is_some().hash(&mut hasher);
    }
    let script = env::current_exe()
        .and_then(fs::metadata)
        .expect("the build script can read its own metadata");
    script.len().hash(&mut hasher);
    script.modified().ok().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Every component schema with an `x-extensible-enum`, and the values it lists.
fn open_enums(spec: &OpenAPI) -> Vec<(String, Vec<String>)> {
    let Some(components) = spec.components.as_ref() else {
        return Vec::new();
    };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let data = &schema.as_item()?.schema_data;
            // A nullable twin stands for its original, which carries the enum.
            if data.extensions.contains_key(NULLABLE_OF_EXTENSION) {
                return None;
            }
            let values = data.extensions.get(OPEN_ENUM_EXTENSION)?;
            let values = values
                .as_array()
                .and_then(|values| {
                    values
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_else(|| {
                    panic!("{name}: {OPEN_ENUM_EXTENSION} is not a list of strings")
                });
            Some((name.clone(), values))
        })
        .collect()
}

/// The values each open enum's schema lists, so that a test can hold the hand-written enums
/// to the contract.
fn known_values(open_enums: &[(String, Vec<String>)]) -> String {
    let rows: String = open_enums
        .iter()
        .map(|(name, values)| format!("    ({name:?}, &{values:?}),\n"))
        .collect();
    format!(
        "/// Every open value set of the spec as (schema, values listed in `{OPEN_ENUM_EXTENSION}`).\n\
         #[allow(dead_code)]\n\
         pub(crate) const KNOWN_VALUES: &[(&str, &[&str])] = &[\n{rows}];\n"
    )
}

/// Adjusts the parsed document where progenitor cannot take the contract as written:
///
/// - Request properties that would make the generated method's answer undecodable are
///   hidden, and a `oneOf` listed in `one_of_as_variant` (the same text under two names)
///   takes the shape of the one alternative Rust offers.
/// - A success answer that is only an event stream is left out; the crate reads it with a
///   call of its own.
/// - Nullable components become progenitor's form of an optional field: the component loses
///   `nullable`, and each property that refers to it (or to an `x-nullable-of` twin, which is
///   dropped) becomes `nullable` + `allOf: [the component]`, an `Option` in Rust.
/// - Error bodies listed in `folded_error_bodies` become part of `ErrorEnvelope`, and the
///   schemas listed in `inlined_schemas` are written out where they are used.
/// - A property schema with no type admits any JSON value, `null` included; progenitor only
///   makes such a field an `Option` when it is marked `nullable`, so it is.
/// - Integer query parameters lose their bounds: progenitor would type a `minimum: 1` as
///   `NonZeroU64`, which a plain `.limit(50)` cannot fill, and it checks no maximum anyway. The
///   transport checks both bounds from the spec's own table before sending (`query_bounds`).
/// - An optional request body whose schema declares no properties (HockeyStack's agent PUT,
///   "reserved for later") is dropped: progenitor would otherwise make callers supply one, and
///   the documented call sends none.
fn adapt_for_progenitor(spec: &mut OpenAPI, api: &Api) {
    unbounded_query_integers(spec);
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
        for op in operations_mut(item) {
            if let Some(ReferenceOr::Reference { reference }) = &op.request_body
                && reserved_bodies.contains(reference)
            {
                op.request_body = None;
            }
        }
    }
    drop_event_streams(spec);
    one_of_as_variant(spec, api.one_of_as_variant);
    fold_error_bodies(spec, api.folded_error_bodies);
    inline_schemas(spec, api.inlined_schemas);
    nullable_components_as_optional_fields(spec);
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for (schema_name, property) in api.hidden_request_properties {
        let object = object_schema(components, schema_name);
        assert!(
            object.properties.shift_remove(*property).is_some(),
            "{schema_name} has no property {property}"
        );
    }
    for property in component_properties(components) {
        if let ReferenceOr::Item(property) = property
            && matches!(property.schema_kind, openapiv3::SchemaKind::Any(_))
        {
            property.schema_data.nullable = true;
        }
    }
}

/// Every property of every component object schema, mutably.
fn component_properties(
    components: &mut openapiv3::Components,
) -> impl Iterator<Item = &mut ReferenceOr<Box<openapiv3::Schema>>> {
    components
        .schemas
        .values_mut()
        .filter_map(|schema| match schema {
            ReferenceOr::Item(openapiv3::Schema {
                schema_kind: openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)),
                ..
            }) => Some(object.properties.values_mut()),
            _ => None,
        })
        .flatten()
}

/// The component schema `name`, which the adaptations expect to be an object.
fn object_schema<'a>(
    components: &'a mut openapiv3::Components,
    name: &str,
) -> &'a mut openapiv3::ObjectType {
    let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(name) else {
        panic!("{name} is not a component schema");
    };
    let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &mut schema.schema_kind
    else {
        panic!("{name} is not an object schema");
    };
    object
}

/// See [`adapt_for_progenitor`]: a success answer that is only an event stream leaves the
/// operation, since the generated method would have to decode it; the crate reads the stream
/// with its own call (`OperationCall::stream_or_json`), which the operation model marks.
fn drop_event_streams(spec: &mut OpenAPI) {
    let only_events = |r: &openapiv3::Response| {
        !r.content.is_empty() && r.content.keys().all(|media| media == "text/event-stream")
    };
    let streamed: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| c.responses.iter())
        .filter(|(_, r)| r.as_item().is_some_and(only_events))
        .map(|(name, _)| format!("#/components/responses/{name}"))
        .collect();
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in operations_mut(item) {
            op.responses.responses.retain(|status, response| {
                let success = match status {
                    openapiv3::StatusCode::Code(code) => (200..300).contains(code),
                    openapiv3::StatusCode::Range(range) => *range == 2,
                };
                let events = match response {
                    ReferenceOr::Item(response) => only_events(response),
                    ReferenceOr::Reference { reference } => streamed.contains(reference),
                };
                !(success && events)
            });
        }
    }
}

/// See [`Api::one_of_as_variant`].
fn one_of_as_variant(spec: &mut OpenAPI, chosen: &[(&str, &str)]) {
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for (name, variant) in chosen {
        let Some(ReferenceOr::Item(schema)) = components.schemas.get(*name) else {
            panic!("{name} is not a component schema");
        };
        let openapiv3::SchemaKind::OneOf { one_of } = &schema.schema_kind else {
            panic!("{name} is not a oneOf schema");
        };
        let variants: Vec<String> = one_of
            .iter()
            .map(|v| match v {
                ReferenceOr::Reference { reference } => {
                    reference.rsplit('/').next().unwrap_or_default().to_owned()
                }
                ReferenceOr::Item(_) => panic!("{name} has an inline alternative"),
            })
            .collect();
        assert!(
            variants.iter().any(|v| v == variant),
            "{name} has no alternative {variant}"
        );
        let shape = match components.schemas.get(*variant) {
            Some(ReferenceOr::Item(shape)) => shape.clone(),
            _ => panic!("{variant} is not a component schema"),
        };
        components
            .schemas
            .insert((*name).to_owned(), ReferenceOr::Item(shape));
        for v in &variants {
            components.schemas.shift_remove(v);
        }
    }
}

/// See [`adapt_for_progenitor`]: each folded schema's properties join `ErrorEnvelope`'s as
/// `oneOf` alternatives, and every reference to the folded schema points at `ErrorEnvelope`.
fn fold_error_bodies(spec: &mut OpenAPI, folded: &[&str]) {
    const ENVELOPE: &str = "ErrorEnvelope";
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for name in folded {
        let Some(ReferenceOr::Item(schema)) = components.schemas.shift_remove(*name) else {
            panic!("{name} is not a component schema");
        };
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(extra)) = schema.schema_kind else {
            panic!("{name} is not an object schema");
        };
        let envelope = object_schema(components, ENVELOPE);
        for (property, alternative) in extra.properties {
            let merged = match envelope.properties.shift_remove(&property) {
                None => alternative,
                Some(existing) => {
                    let description = existing
                        .as_item()
                        .and_then(|s| s.schema_data.description.clone());
                    let unbox = |s: ReferenceOr<Box<openapiv3::Schema>>| match s {
                        ReferenceOr::Item(s) => ReferenceOr::Item(*s),
                        ReferenceOr::Reference { reference } => {
                            ReferenceOr::Reference { reference }
                        }
                    };
                    ReferenceOr::Item(Box::new(openapiv3::Schema {
                        schema_data: openapiv3::SchemaData {
                            description,
                            ..Default::default()
                        },
                        schema_kind: openapiv3::SchemaKind::OneOf {
                            one_of: vec![unbox(existing), unbox(alternative)],
                        },
                    }))
                }
            };
            envelope.properties.insert(property, merged);
        }
        let from = format!("#/components/schemas/{name}");
        let to = format!("#/components/schemas/{ENVELOPE}");
        for response in components.responses.values_mut() {
            let ReferenceOr::Item(response) = response else {
                continue;
            };
            for media in response.content.values_mut() {
                if let Some(ReferenceOr::Reference { reference }) = &mut media.schema
                    && *reference == from
                {
                    reference.clone_from(&to);
                }
            }
        }
    }
}

/// See [`Api::inlined_schemas`].
fn inline_schemas(spec: &mut OpenAPI, names: &[&str]) {
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for name in names {
        let Some(ReferenceOr::Item(inlined)) = components.schemas.shift_remove(*name) else {
            panic!("{name} is not a component schema");
        };
        let reference = format!("#/components/schemas/{name}");
        let mut uses = 0;
        for property in component_properties(components) {
            if matches!(property, ReferenceOr::Reference { reference: r } if *r == reference) {
                *property = ReferenceOr::Item(Box::new(inlined.clone()));
                uses += 1;
            }
        }
        assert!(uses > 0, "{name} is referenced by no property");
    }
}

/// See [`adapt_for_progenitor`].
fn nullable_components_as_optional_fields(spec: &mut OpenAPI) {
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    // name -> the component a reference to it should point at
    let mut optional: std::collections::BTreeMap<String, String> = Default::default();
    let twins: Vec<(String, String)> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let original = schema
                .as_item()?
                .schema_data
                .extensions
                .get(NULLABLE_OF_EXTENSION)?;
            let original = original
                .as_str()
                .unwrap_or_else(|| panic!("{name}: {NULLABLE_OF_EXTENSION} is not a schema name"));
            Some((name.clone(), original.to_owned()))
        })
        .collect();
    for (twin, original) in twins {
        let ReferenceOr::Item(twin_schema) =
            components.schemas.shift_remove(&twin).expect("listed")
        else {
            unreachable!("twins are items");
        };
        let Some(ReferenceOr::Item(original_schema)) = components.schemas.get(&original) else {
            panic!("{twin} is {NULLABLE_OF_EXTENSION} {original}, which is not a component schema");
        };
        assert!(
            same_shape(&twin_schema, original_schema),
            "{twin} must have the shape of {original}, of which it is the nullable twin"
        );
        optional.insert(twin, original);
    }
    for (name, schema) in components.schemas.iter_mut() {
        if let ReferenceOr::Item(schema) = schema
            && schema.schema_data.nullable
        {
            schema.schema_data.nullable = false;
            optional.insert(name.clone(), name.clone());
        }
    }
    let descriptions: std::collections::BTreeMap<String, Option<String>> = optional
        .values()
        .map(|name| {
            let description = components.schemas[name]
                .as_item()
                .and_then(|s| s.schema_data.description.clone());
            (name.clone(), description)
        })
        .collect();
    for property in component_properties(components) {
        let ReferenceOr::Reference { reference } = property else {
            continue;
        };
        let Some(target) = reference
            .strip_prefix("#/components/schemas/")
            .and_then(|name| optional.get(name))
        else {
            continue;
        };
        *property = ReferenceOr::Item(Box::new(openapiv3::Schema {
            schema_data: openapiv3::SchemaData {
                nullable: true,
                description: descriptions[target].clone(),
                ..Default::default()
            },
            schema_kind: openapiv3::SchemaKind::AllOf {
                all_of: vec![ReferenceOr::Reference {
                    reference: format!("#/components/schemas/{target}"),
                }],
            },
        }));
    }
}

/// Whether two schemas describe the same values, apart from `nullable`, their descriptions,
/// examples and extensions.
fn same_shape(a: &openapiv3::Schema, b: &openapiv3::Schema) -> bool {
    a.schema_kind == b.schema_kind
        && a.schema_data.extensions.get(OPEN_ENUM_EXTENSION)
            == b.schema_data.extensions.get(OPEN_ENUM_EXTENSION)
}

/// Every operation of a path item, mutably (openapiv3 offers `iter()` only).
fn operations_mut(
    item: &mut openapiv3::PathItem,
) -> impl Iterator<Item = &mut openapiv3::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
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

/// Keeps the file's timestamp when nothing changed, so that a no-op build stays a no-op.
fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
}

/// Rewrites every generated `send()` so that users meet one error type and so that the HTTP
/// status, not progenitor's reading of the body, decides what an answer means:
///
/// - the generated body, renamed `dispatch`, stops once the response arrives and hands it back
///   whole (its error-status arms, which would decode the body first and lose the status when
///   that fails, are dropped);
/// - a new `send()` hands the response to `crate::transport`, which decodes the documented
///   success statuses and turns everything else into `revenue_agents::Error`;
/// - every path parameter goes through `crate::transport::path_segment`, which encodes it as
///   exactly one segment or refuses it (empty, `.`, `..`) naming the parameter.
fn own_the_send_calls(file: &mut syn::File, api: &Api, expected: Expected) {
    // Each API module names the body its errors carry (`ErrorBody`).
    let envelope: syn::Type =
        syn::parse_str(&format!("crate::{}::ErrorBody", api.name)).expect("a path");
    let mut rewritten = 0;
    let mut segments = 0;
    let mut reasons = 0;
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "builder" {
            continue;
        }
        let (_, items) = module.content.as_mut().expect("an inline module");
        for item in items {
            // A request builder that is never sent is a bug in the caller's code.
            if let syn::Item::Struct(builder) = item {
                builder.attrs.push(
                    syn::parse_quote!(#[must_use = "a request does nothing until it is sent"]),
                );
                own_the_client(builder);
            }
            if let syn::Item::Impl(block) = item {
                own_the_client_in_impl(block);
                rewritten += rewrite_send(block, &envelope, &mut segments);
                for item in &mut block.items {
                    if let syn::ImplItem::Fn(setter) = item {
                        reasons += explain_refused_parameter(setter);
                    }
                }
            }
        }
    }
    check_sites(
        "one send() per operation",
        rewritten,
        Sites::Exactly(expected.operations),
    );
    check_sites(
        "path parameters as one checked segment",
        segments,
        Sites::Exactly(expected.path_parameters),
    );
    check_sites(
        "refused parameters keep their reason",
        reasons,
        Sites::AtLeast(1),
    );
}

/// A builder holds a clone of its client instead of borrowing it (a `String` and two reference
/// counts), so that a request, and the paginator made from it, is `'static`: it can be returned,
/// stored, and moved into `tokio::spawn`.
fn own_the_client(builder: &mut syn::ItemStruct) {
    builder.generics = syn::Generics::default();
    let syn::Fields::Named(fields) = &mut builder.fields else {
        panic!("builder {} has unnamed fields", builder.ident);
    };
    let client = fields
        .named
        .iter_mut()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == "client"))
        .unwrap_or_else(|| panic!("builder {} has no client field", builder.ident));
    client.ty = syn::parse_quote!(super::Client);
    // The crate's paginators reach the client through its request (to redact their errors).
    client.vis = syn::parse_quote!(pub(crate));
}

/// See [`own_the_client`]: the builder's `impl` loses its lifetime, and `new` clones the client.
fn own_the_client_in_impl(block: &mut syn::ItemImpl) {
    if block.generics.lifetimes().next().is_none() {
        return;
    }
    block.generics = syn::Generics::default();
    let syn::Type::Path(self_ty) = &mut *block.self_ty else {
        panic!("a builder impl for an unnamed type");
    };
    self_ty.path.segments.last_mut().expect("a name").arguments = syn::PathArguments::None;
    for item in &mut block.items {
        if let syn::ImplItem::Fn(function) = item
            && function.sig.ident == "new"
        {
            // `client: &'a super::Client` loses its lifetime…
            let mut borrowed = 0;
            for input in &mut function.sig.inputs {
                if let syn::FnArg::Typed(typed) = input
                    && matches!(&*typed.pat, syn::Pat::Ident(p) if p.ident == "client")
                    && let syn::Type::Reference(reference) = &mut *typed.ty
                    && reference.lifetime.take().is_some()
                {
                    borrowed += 1;
                }
            }
            // …and the builder keeps a clone of it.
            let mut cloned = CloneTheClient { sites: 0 };
            syn::visit_mut::VisitMut::visit_block_mut(&mut cloned, &mut function.block);
            check_sites(
                "builder constructors clone their client",
                borrowed + cloned.sites,
                Sites::Exactly(2),
            );
        }
    }
}

/// Keeps progenitor's plumbing out of the public API:
///
/// - only `ResponseValue` is re-exported; progenitor's `Error`, `ByteStream` and `ClientInfo`
///   stay private (users meet `revenue_agents::Error` only);
/// - `Client::new`, which builds an HTTP client with a 15 s total timeout and panics if that
///   fails, is removed; `new_with_client` becomes crate-private (clients come from
///   `Client::builder()`, `from_env()` or `from_credential()`);
/// - `Debug` of a client is one short line: the API and its base URL.
fn own_the_client_surface(file: &mut syn::File, api: &Api) {
    let mut found = (false, false, false);
    let mut elided = NoElidedLifetimes { sites: 0 };
    file.items.retain_mut(|item| match item {
        syn::Item::Use(import)
            if matches!(import.vis, syn::Visibility::Public(_))
                && matches!(&import.tree, syn::UseTree::Path(p) if p.ident == "progenitor_client") =>
        {
            found.0 = true;
            false
        }
        syn::Item::Struct(client) if client.ident == "Client" => {
            found.1 = true;
            for attribute in &mut client.attrs {
                if attribute.path().is_ident("derive") {
                    *attribute = syn::parse_quote!(#[derive(Clone)]);
                }
            }
            true
        }
        syn::Item::Impl(block) if block.trait_.is_none() && is_type(&block.self_ty, "Client") => {
            block.items.retain_mut(|item| match item {
                syn::ImplItem::Fn(function) if function.sig.ident == "new" => {
                    found.2 = true;
                    false
                }
                syn::ImplItem::Fn(function) if function.sig.ident == "new_with_client" => {
                    function.vis = syn::parse_quote!(pub(crate));
                    true
                }
                syn::ImplItem::Fn(function) => {
                    // Builders own their client (see `own_the_client`): no borrow to name.
                    syn::visit_mut::VisitMut::visit_return_type_mut(
                        &mut elided,
                        &mut function.sig.output,
                    );
                    true
                }
                _ => true,
            });
            true
        }
        _ => true,
    });
    assert!(
        found == (true, true, true),
        "progenitor's output changed shape: re-export, Client struct, Client::new = {found:?} \
         (the rewrites were written for {WRITTEN_FOR})"
    );
    check_sites(
        "operation methods return owned builders",
        elided.sites,
        Sites::AtLeast(1),
    );
    let format = format!("{}::Client({{}})", api.name);
    file.items.insert(
        0,
        syn::parse_quote!(
            pub use progenitor_client::ResponseValue;
        ),
    );
    file.items.insert(
        1,
        syn::parse_quote!(
            #[allow(unused_imports)]
            use progenitor_client::{ByteStream, ClientInfo, Error};
        ),
    );
    file.items.push(syn::parse_quote! {
        impl std::fmt::Debug for Client {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, #format, self.baseurl)
            }
        }
    });
}

/// progenitor's parameter setters drop the reason a value was refused ("conversion to `DealId`
/// for deal_id failed"); keep it ("…: longer than 64 characters"), so the error names the
/// field and the rule.
fn explain_refused_parameter(setter: &mut syn::ImplItemFn) -> usize {
    let mut reason = KeepTheReason { sites: 0 };
    syn::visit_mut::VisitMut::visit_block_mut(&mut reason, &mut setter.block);
    match reason.sites {
        0 => return 0,
        1 => {}
        n => panic!(
            "build.rs: setter {} refuses a value in {n} places; the rewrites were written for \
             {WRITTEN_FOR}",
            setter.sig.ident
        ),
    }
    let Some(syn::GenericParam::Type(parameter)) = setter.sig.generics.params.first() else {
        panic!("a parameter setter without its type parameter");
    };
    let parameter = parameter.ident.clone();
    let target = setter
        .sig
        .generics
        .where_clause
        .as_ref()
        .and_then(|w| w.predicates.first())
        .and_then(|p| match p {
            syn::WherePredicate::Type(t) => t.bounds.first().cloned(),
            _ => None,
        })
        .expect("a TryInto bound");
    setter
        .sig
        .generics
        .make_where_clause()
        .predicates
        .push(syn::parse_quote!(<#parameter as #target>::Error: std::fmt::Display));
    1
}

/// How a success status's body is read.
#[derive(PartialEq, Clone, Copy)]
enum SuccessBody {
    Json,
    Empty,
}

fn rewrite_send(block: &mut syn::ItemImpl, envelope: &syn::Type, segments: &mut usize) -> usize {
    let mut added: Vec<syn::ImplItem> = Vec::new();
    for item in &mut block.items {
        let syn::ImplItem::Fn(function) = item else {
            continue;
        };
        if function.sig.ident != "send" {
            continue;
        }
        let success = success_type(&function.sig.output);
        let error = error_type(&function.sig.output);
        let Some(syn::Stmt::Expr(syn::Expr::Match(status_match), None)) =
            function.block.stmts.last()
        else {
            panic!("a generated send() no longer ends with its status match");
        };
        let mut body = None;
        for arm in &status_match.arms {
            let syn::Pat::Lit(syn::PatLit {
                lit: syn::Lit::Int(code),
                ..
            }) = &arm.pat
            else {
                continue; // the `_` arm
            };
            let code: u16 = code.base10_parse().expect("a status code");
            if !(200..300).contains(&code) {
                continue;
            }
            let kind = if expr_names(&arm.body, "from_response") {
                SuccessBody::Json
            } else if expr_names(&arm.body, "empty") {
                SuccessBody::Empty
            } else {
                panic!(
                    "build.rs: a success arm of {} reads its body neither with `from_response` \
                     nor `empty`; the rewrites were written for {WRITTEN_FOR}",
                    type_ident(&block.self_ty).unwrap_or_default()
                );
            };
            assert!(
                body.is_none_or(|b| b == kind),
                "an operation mixes JSON and empty success bodies"
            );
            body = Some(kind);
        }
        let body = body.expect("an operation without a success status");
        *function.block.stmts.last_mut().expect("checked") =
            syn::Stmt::Expr(syn::parse_quote!(Ok(response)), None);
        // progenitor adds an `api-version` header that neither API asked for.
        let before = function.block.stmts.len();
        function
            .block
            .stmts
            .retain(|statement| !holds_literal(statement, "api-version"));
        check_sites(
            "no api-version header",
            before - function.block.stmts.len(),
            Sites::Exactly(1),
        );
        if !appends_headers(&function.block) {
            // No header parameter is left: no header map to build and merge.
            let before = function.block.stmts.len();
            function
                .block
                .stmts
                .retain(|statement| !binds(statement, "header_map"));
            let mut merge = NoHeaderMap { sites: 0 };
            syn::visit_mut::VisitMut::visit_block_mut(&mut merge, &mut function.block);
            check_sites(
                "no empty header map",
                before - function.block.stmts.len() + merge.sites,
                Sites::Exactly(2),
            );
            assert!(
                !block_names(&function.block, "header_map"),
                "build.rs: a header map is still used after its removal; the rewrites were \
                 written for {WRITTEN_FOR}"
            );
        }
        function.sig.ident = syn::Ident::new("dispatch", function.sig.ident.span());
        function.sig.output = syn::parse_quote!(-> Result<reqwest::Response, Error<#error>>);
        function.vis = syn::Visibility::Inherited;
        let docs: Vec<syn::Attribute> = function
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        function.attrs.retain(|a| !a.path().is_ident("doc"));
        let mut urls = 0;
        for statement in &mut function.block.stmts {
            if let syn::Stmt::Local(local) = statement
                && let Some(init) = &mut local.init
                && let syn::Expr::Macro(call) = &mut *init.expr
                && call.mac.path.is_ident("format")
            {
                call.mac.tokens = checked_path_segments(call.mac.tokens.clone(), segments);
                urls += 1;
            }
        }
        check_sites("one URL per operation", urls, Sites::Exactly(1));
        let finish: syn::Expr = match body {
            SuccessBody::Json => syn::parse_quote!(
                crate::transport::finish_json::<#success, #envelope, _>(&inner, self.dispatch()).await
            ),
            SuccessBody::Empty => syn::parse_quote!(
                crate::transport::finish_empty::<#envelope, _>(&inner, self.dispatch()).await
            ),
        };
        added.push(syn::parse_quote! {
            #(#docs)*
            ///
            /// Fails with [`revenue_agents::Error`](crate::Error), whose
            /// [`kind`](crate::Error::kind) says what went wrong. The whole call, retries
            /// included, ends within the client's call timeout.
            pub async fn send(self) -> Result<ResponseValue<#success>, crate::Error> {
                let inner =
                    ::std::sync::Arc::clone(progenitor_client::ClientInfo::inner(&self.client));
                #finish
            }
        });
    }
    let count = added.len();
    block.items.extend(added);
    count
}

/// `T` of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &syn::ReturnType) -> syn::Type {
    generic_argument(&generic_argument(return_type(output), 0), 0)
}

/// `E` of `Result<ResponseValue<T>, Error<E>>`.
fn error_type(output: &syn::ReturnType) -> syn::Type {
    generic_argument(&generic_argument(return_type(output), 1), 0)
}

fn return_type(output: &syn::ReturnType) -> &syn::Type {
    match output {
        syn::ReturnType::Type(_, ty) => ty,
        syn::ReturnType::Default => panic!("send() returns nothing"),
    }
}

fn generic_argument(ty: &syn::Type, index: usize) -> syn::Type {
    let syn::Type::Path(path) = ty else {
        panic!("unexpected type in a send() signature");
    };
    let segment = path.path.segments.last().expect("a type name");
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        panic!("{} has no type arguments", segment.ident);
    };
    match arguments.args.iter().nth(index) {
        Some(syn::GenericArgument::Type(ty)) => ty.clone(),
        _ => panic!("{} lacks type argument {index}", segment.ident),
    }
}

/// In the tokens of the URL's `format!`, replaces `encode_path(&name.to_string())` with a call
/// that encodes the value as one segment or refuses it naming the parameter.
fn checked_path_segments(
    tokens: proc_macro2::TokenStream,
    sites: &mut usize,
) -> proc_macro2::TokenStream {
    use proc_macro2::TokenTree;
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match (&token, iter.peek()) {
            (TokenTree::Ident(ident), Some(TokenTree::Group(args))) if ident == "encode_path" => {
                let argument = args.stream();
                let name = argument
                    .clone()
                    .into_iter()
                    .find_map(|t| match t {
                        TokenTree::Ident(i) => Some(i.to_string()),
                        _ => None,
                    })
                    .expect("encode_path takes a parameter");
                let call: syn::Expr = syn::parse_quote!(
                    crate::transport::path_segment(#name, #argument)
                        .map_err(Error::InvalidRequest)?
                );
                out.extend(quote::ToTokens::to_token_stream(&call));
                *sites += 1;
                iter.next();
            }
            (TokenTree::Group(group), _) => {
                let mut replaced = proc_macro2::Group::new(
                    group.delimiter(),
                    checked_path_segments(group.stream(), sites),
                );
                replaced.set_span(group.span());
                out.push(TokenTree::Group(replaced));
            }
            _ => out.push(token),
        }
    }
    out.into_iter().collect()
}

/// See [`adapt_for_progenitor`]: drops `minimum` and `maximum` from integer query parameters.
fn unbounded_query_integers(spec: &mut OpenAPI) {
    fn unbound(parameter: &mut openapiv3::Parameter) {
        if let openapiv3::Parameter::Query { parameter_data, .. } = parameter
            && let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
                &mut parameter_data.format
            && let openapiv3::SchemaKind::Type(openapiv3::Type::Integer(integer)) =
                &mut schema.schema_kind
        {
            integer.minimum = None;
            integer.maximum = None;
        }
    }
    if let Some(components) = spec.components.as_mut() {
        for parameter in components.parameters.values_mut() {
            if let ReferenceOr::Item(parameter) = parameter {
                unbound(parameter);
            }
        }
    }
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for parameter in item.parameters.iter_mut() {
            if let ReferenceOr::Item(parameter) = parameter {
                unbound(parameter);
            }
        }
        for op in operations_mut(item) {
            for parameter in op.parameters.iter_mut() {
                if let ReferenceOr::Item(parameter) = parameter {
                    unbound(parameter);
                }
            }
        }
    }
}

/// Lets the setters of optional request-body fields take the value itself (`"text"`, a
/// number, a nested value or its builder) as well as an `Option`, instead of insisting on
/// `Some(String)`. Each setter's `TryInto<Option<T>>` bound becomes
/// `crate::optional::OptionalValue<T>`, and the API's own types get the impls that make
/// `T`, its builder and, for constrained strings, a `&str` such values.
fn optional_fields_take_plain_values(file: &mut syn::File) {
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
        _ => None,
    }) else {
        panic!("progenitor's output has no types module");
    };
    let items = &mut types.1;
    // The types that convert from `&str`: `impl TryFrom<&str> for Name`.
    let from_str: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(block) => converts_from_str(block),
            _ => None,
        })
        .collect();
    check_sites(
        "constrained strings convert from &str",
        from_str.len(),
        Sites::AtLeast(1),
    );
    let mut builders = Vec::new();
    let mut locals = std::collections::BTreeSet::new();
    let mut optional_setters = 0;
    for item in items.iter_mut() {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "builder" {
            continue;
        }
        for item in &mut module.content.as_mut().expect("inline").1 {
            match item {
                syn::Item::Struct(builder) => builders.push(builder.ident.to_string()),
                syn::Item::Impl(block) => {
                    for item in &mut block.items {
                        if let syn::ImplItem::Fn(setter) = item
                            && let Some(inner) = optional_setter_type(setter)
                        {
                            // `super::Name`: one of the API's own types.
                            if let syn::Type::Path(path) = &inner
                                && path.qself.is_none()
                                && path.path.segments.len() == 2
                                && path.path.segments[0].ident == "super"
                            {
                                locals.insert(path.path.segments[1].ident.to_string());
                            }
                            rewrite_optional_setter(setter, &inner);
                            optional_setters += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    check_sites("optional body fields", optional_setters, Sites::AtLeast(1));
    // Ids are usually at hand as a `String` field of an earlier answer: let a borrowed one fill
    // a constrained parameter as a `&str` does (`.cid(&conversation.conversation_id)`).
    for name in &from_str {
        let ty: syn::Type = syn::parse_str(name).expect("a type");
        items.push(syn::parse_quote! {
            impl ::std::convert::TryFrom<&::std::string::String> for #ty {
                type Error = <#ty as ::std::convert::TryFrom<&'static str>>::Error;
                fn try_from(value: &::std::string::String) -> ::std::result::Result<Self, Self::Error> {
                    <#ty as ::std::convert::TryFrom<&str>>::try_from(value.as_str())
                }
            }
        });
    }
    for local in locals {
        let ty: syn::Type = syn::parse_str(&local).expect("a type");
        items.push(syn::parse_quote! {
            impl crate::optional::OptionalValue<#ty> for #ty {
                fn into_optional(self) -> ::std::result::Result<Option<#ty>, String> {
                    Ok(Some(self))
                }
            }
        });
        if builders.contains(&local) {
            items.push(syn::parse_quote! {
                impl crate::optional::OptionalValue<#ty> for builder::#ty {
                    fn into_optional(self) -> ::std::result::Result<Option<#ty>, String> {
                        #ty::try_from(self).map(Some).map_err(|e| e.to_string())
                    }
                }
            });
        }
        if from_str.contains(&local) {
            items.push(syn::parse_quote! {
                impl crate::optional::OptionalValue<#ty> for &str {
                    fn into_optional(self) -> ::std::result::Result<Option<#ty>, String> {
                        #ty::try_from(self).map(Some).map_err(|e| e.to_string())
                    }
                }
            });
        }
    }
}

/// `Name` for `impl TryFrom<&str> for Name` (a plain name, as typify writes its own types).
fn converts_from_str(block: &syn::ItemImpl) -> Option<String> {
    let (path, _) = block.trait_.as_ref()?;
    let segment = path.segments.last()?;
    if segment.ident != "TryFrom" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Reference(source))) = arguments.args.first()
    else {
        return None;
    };
    if source.mutability.is_some() || !is_type(&source.elem, "str") {
        return None;
    }
    match &*block.self_ty {
        syn::Type::Path(name) if name.qself.is_none() => {
            name.path.get_ident().map(|ident| ident.to_string())
        }
        _ => None,
    }
}

/// `T` when the setter's bound is `T: TryInto<Option<T>>`.
fn optional_setter_type(setter: &syn::ImplItemFn) -> Option<syn::Type> {
    let predicates = &setter.sig.generics.where_clause.as_ref()?.predicates;
    predicates.iter().find_map(|predicate| {
        let syn::WherePredicate::Type(bound) = predicate else {
            return None;
        };
        bound.bounds.iter().find_map(|bound| {
            let syn::TypeParamBound::Trait(bound) = bound else {
                return None;
            };
            let segment = bound.path.segments.last()?;
            if segment.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                return None;
            };
            let Some(syn::GenericArgument::Type(target)) = arguments.args.first() else {
                return None;
            };
            let syn::Type::Path(path) = target else {
                return None;
            };
            let last = path.path.segments.last()?;
            if last.ident != "Option" {
                return None;
            }
            Some(generic_argument(target, 0))
        })
    })
}

fn rewrite_optional_setter(setter: &mut syn::ImplItemFn, inner: &syn::Type) {
    setter.sig.generics.where_clause = Some(syn::parse_quote!(
        where T: crate::optional::OptionalValue<#inner>
    ));
    let mut conversion = IntoOptional { sites: 0 };
    syn::visit_mut::VisitMut::visit_block_mut(&mut conversion, &mut setter.block);
    check_sites(
        "optional fields take plain values",
        conversion.sites,
        Sites::Exactly(1),
    );
}

// ---------------------------------------------------------------------------------------------
// Rewrites by syntax. Each one matches items, signatures, paths and expressions of the
// generated code (never its rendered text, whose spacing and wording belong to proc-macro2
// and progenitor), counts the sites it changed, and fails the build when the count is not
// what it expects: a generator release that changed its output's shape stops the build here,
// naming the rewrite, instead of producing a client that behaves differently.

/// What the spec says the generated client holds, for the rewrites' site counts.
#[derive(Clone, Copy)]
struct Expected {
    /// Operations: one `send()` and one URL each.
    operations: usize,
    /// Path parameters over all operations: one checked segment each.
    path_parameters: usize,
}

fn expected_sites(spec: &OpenAPI) -> Expected {
    let mut expected = Expected {
        operations: 0,
        path_parameters: 0,
    };
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for _ in item.iter() {
            expected.operations += 1;
            expected.path_parameters += path.matches('{').count();
        }
    }
    expected
}

/// The generator releases the rewrites were written for, named when one no longer fits.
const WRITTEN_FOR: &str = "progenitor 0.15.1 with typify 0.8.0";

/// How many sites a rewrite must change.
#[derive(Clone, Copy, Debug)]
enum Sites {
    Exactly(usize),
    AtLeast(usize),
}

/// Fails the build when `rewrite` changed `found` sites where `expected` were due.
/// Every rewrite's site count for the API being generated, written beside its output
/// (`<api>_rewrites.txt`) so that a changed count can be compared with the last good build.
static SITE_COUNTS: std::sync::Mutex<Vec<(String, usize, usize)>> =
    std::sync::Mutex::new(Vec::new());

fn check_sites(rewrite: &str, found: usize, expected: Sites) {
    if let Ok(mut counts) = SITE_COUNTS.lock() {
        match counts.iter_mut().find(|(name, _, _)| name == rewrite) {
            Some((_, sites, checks)) => {
                *sites += found;
                *checks += 1;
            }
            None => counts.push((rewrite.to_owned(), found, 1)),
        }
    }
    let fits = match expected {
        Sites::Exactly(n) => found == n,
        Sites::AtLeast(n) => found >= n,
    };
    assert!(
        fits,
        "build.rs: the rewrite `{rewrite}` expected {} site(s) in the generated code and \
         changed {found}; it was written for {WRITTEN_FOR}, and the generator's output has \
         changed shape",
        match expected {
            Sites::Exactly(n) => format!("exactly {n}"),
            Sites::AtLeast(n) => format!("at least {n}"),
        }
    );
}

/// Whether `expr` names a path, or calls a method, whose last segment is `name`.
fn expr_names(expr: &syn::Expr, name: &str) -> bool {
    let mut finder = Finder { name, found: false };
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.found
}

/// Whether `block` names a path, or calls a method, whose last segment is `name`.
fn block_names(block: &syn::Block, name: &str) -> bool {
    let mut finder = Finder { name, found: false };
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.found
}

/// Whether `block` calls `header_map.append(…)`.
fn appends_headers(block: &syn::Block) -> bool {
    struct Appends(bool);
    impl<'ast> syn::visit::Visit<'ast> for Appends {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if call.method == "append" && is_local(&call.receiver, "header_map") {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut appends = Appends(false);
    syn::visit::Visit::visit_block(&mut appends, block);
    appends.0
}

/// See [`expr_names`].
struct Finder<'a> {
    name: &'a str,
    found: bool,
}

impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.last().is_some_and(|s| s.ident == self.name) {
            self.found = true;
        }
        syn::visit::visit_path(self, path);
    }
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == self.name {
            self.found = true;
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// Whether `expr` is the plain path `name` (a local variable).
fn is_local(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// Whether `ty` is the plain type name `name`.
fn is_type(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// progenitor documents each method with a call sketch marked `ignore`, which rustdoc counts
/// as an ignored test in every run; shown as plain text it reads the same.
struct PlainTextSketches {
    sites: usize,
}

impl syn::visit_mut::VisitMut for PlainTextSketches {
    fn visit_attribute_mut(&mut self, attribute: &mut syn::Attribute) {
        if attribute.path().is_ident("doc")
            && let syn::Meta::NameValue(doc) = &mut attribute.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &mut doc.value
            && text.value().contains("```ignore")
        {
            *text = syn::LitStr::new(&text.value().replace("```ignore", "```text"), text.span());
            self.sites += 1;
        }
    }
}

/// In a builder's `new`: `client: client` becomes `client: client.clone()`.
struct CloneTheClient {
    sites: usize,
}

impl syn::visit_mut::VisitMut for CloneTheClient {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if let syn::Member::Named(name) = &field.member
            && name == "client"
            && is_local(&field.expr, "client")
        {
            field.expr = syn::parse_quote!(client.clone());
            field.colon_token = Some(Default::default());
            self.sites += 1;
        }
        syn::visit_mut::visit_field_value_mut(self, field);
    }
}

/// Drops elided lifetimes (`'_`) from type arguments: `builder::ListTasks<'_>` becomes
/// `builder::ListTasks` once builders own their client.
struct NoElidedLifetimes {
    sites: usize,
}

impl syn::visit_mut::VisitMut for NoElidedLifetimes {
    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        if let syn::PathArguments::AngleBracketed(arguments) = &mut segment.arguments {
            let before = arguments.args.len();
            arguments.args = std::mem::take(&mut arguments.args)
                .into_iter()
                .filter(|a| !matches!(a, syn::GenericArgument::Lifetime(l) if l.ident == "_"))
                .collect();
            self.sites += before - arguments.args.len();
            if arguments.args.is_empty() {
                segment.arguments = syn::PathArguments::None;
            }
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }
}

/// `.map_err(|_| "<message>".to_string())` becomes `.map_err(|e| format!("{}: {}", "<message>",
/// e))`: the reason a value was refused is kept beside progenitor's message.
struct KeepTheReason {
    sites: usize,
}

impl syn::visit_mut::VisitMut for KeepTheReason {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method != "map_err" || call.args.len() != 1 {
            return;
        }
        let syn::Expr::Closure(closure) = &call.args[0] else {
            return;
        };
        if closure.inputs.len() != 1 || !matches!(closure.inputs[0], syn::Pat::Wild(_)) {
            return;
        }
        let syn::Expr::MethodCall(to_string) = &*closure.body else {
            return;
        };
        if to_string.method != "to_string" || !to_string.args.is_empty() {
            return;
        }
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(message),
            ..
        }) = &*to_string.receiver
        else {
            return;
        };
        let message = message.clone();
        call.args[0] = syn::parse_quote!(|e| format!("{}: {}", #message, e));
        self.sites += 1;
    }
}

/// `value.try_into()` becomes `crate::optional::OptionalValue::into_optional(value)`.
struct IntoOptional {
    sites: usize,
}

impl syn::visit_mut::VisitMut for IntoOptional {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "try_into"
            && call.args.is_empty()
            && is_local(&call.receiver, "value")
        {
            *expr = syn::parse_quote!(crate::optional::OptionalValue::into_optional(value));
            self.sites += 1;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// `<receiver>.headers(header_map)` becomes `<receiver>`, for a request without header
/// parameters.
struct NoHeaderMap {
    sites: usize,
}

impl syn::visit_mut::VisitMut for NoHeaderMap {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && is_local(&call.args[0], "header_map")
        {
            *expr = (*call.receiver).clone();
            self.sites += 1;
        }
    }
}

/// Whether a statement is `let [mut] <name> = …;`.
fn binds(statement: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Local(local) = statement else {
        return false;
    };
    matches!(&local.pat, syn::Pat::Ident(p) if p.ident == name)
}

/// Whether `node` holds the string literal `value` anywhere.
struct LiteralFinder<'a> {
    value: &'a str,
    found: bool,
}

impl<'ast> syn::visit::Visit<'ast> for LiteralFinder<'_> {
    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        if literal.value() == self.value {
            self.found = true;
        }
    }
}

fn holds_literal(statement: &syn::Stmt, value: &str) -> bool {
    let mut finder = LiteralFinder {
        value,
        found: false,
    };
    syn::visit::Visit::visit_stmt(&mut finder, statement);
    finder.found
}

// ---------------------------------------------------------------------------------------------
// Documentation for the generated items that progenitor leaves without any: setters, builder
// types, struct fields whose schema is a reference, and the typed mocks. The words are the
// spec's own descriptions, so a user's editor shows what each call sets or matches.

/// What the spec says of one operation.
#[derive(Default)]
struct OperationDocs {
    /// The operationId, as the client's method is named.
    id: String,
    summary: String,
    /// Parameter setter name → description.
    parameters: std::collections::HashMap<String, String>,
    body: Option<String>,
    /// Status → the response's description.
    responses: std::collections::BTreeMap<u16, String>,
}

/// What the spec says of each property of one schema (its own description, or the
/// referenced schema's), by field name.
#[derive(Default)]
struct SchemaDocs {
    properties: std::collections::HashMap<String, String>,
}

/// The spec's descriptions, by the names the generated code gives them.
struct SpecDocs {
    /// By builder name (`GetDealAgent`).
    operations: std::collections::HashMap<String, OperationDocs>,
    /// By schema name.
    schemas: std::collections::HashMap<String, SchemaDocs>,
}

/// `get_deal_agent` → `GetDealAgent`, as progenitor names an operation's types.
fn camel(id: &str) -> String {
    id.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `dealId` → `deal_id`, `type` → `type_`, as progenitor names a parameter or a field.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// One line of text, for a doc comment.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn spec_docs(spec: &OpenAPI) -> SpecDocs {
    let components = spec.components.as_ref();
    let schema_description = |reference: &str| -> Option<String> {
        let name = reference.rsplit('/').next()?;
        match components?.schemas.get(name)? {
            ReferenceOr::Item(schema) => schema.schema_data.description.clone(),
            ReferenceOr::Reference { .. } => None,
        }
    };
    let mut operations = std::collections::HashMap::new();
    for (_, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, op) in item.iter() {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            let mut docs = OperationDocs {
                summary: tidy(op.summary.as_deref().unwrap_or(&id)),
                id: id.clone(),
                ..OperationDocs::default()
            };
            for parameter in item.parameters.iter().chain(&op.parameters) {
                let parameter = match parameter {
                    ReferenceOr::Item(p) => Some(p),
                    ReferenceOr::Reference { reference } => components.and_then(|c| {
                        match c.parameters.get(reference.rsplit('/').next()?)? {
                            ReferenceOr::Item(p) => Some(p),
                            ReferenceOr::Reference { .. } => None,
                        }
                    }),
                };
                if let Some(parameter) = parameter {
                    let data = parameter.parameter_data_ref();
                    if let Some(description) = &data.description {
                        docs.parameters.insert(snake(&data.name), tidy(description));
                    }
                }
            }
            docs.body = match &op.request_body {
                Some(ReferenceOr::Item(body)) => {
                    body.description.as_deref().map(tidy).or_else(|| {
                        body.content
                            .values()
                            .find_map(|media| match media.schema.as_ref()? {
                                ReferenceOr::Reference { reference } => {
                                    schema_description(reference).as_deref().map(tidy)
                                }
                                ReferenceOr::Item(schema) => {
                                    schema.schema_data.description.as_deref().map(tidy)
                                }
                            })
                    })
                }
                _ => None,
            };
            for (status, response) in &op.responses.responses {
                let openapiv3::StatusCode::Code(code) = status else {
                    continue;
                };
                let description = match response {
                    ReferenceOr::Item(r) => Some(r.description.clone()),
                    ReferenceOr::Reference { reference } => components.and_then(|c| {
                        match c.responses.get(reference.rsplit('/').next()?)? {
                            ReferenceOr::Item(r) => Some(r.description.clone()),
                            ReferenceOr::Reference { .. } => None,
                        }
                    }),
                };
                if let Some(description) = description {
                    docs.responses.insert(*code, tidy(&description));
                }
            }
            operations.insert(camel(&id), docs);
        }
    }
    let mut schemas = std::collections::HashMap::new();
    if let Some(components) = components {
        for (name, schema) in &components.schemas {
            let ReferenceOr::Item(schema) = schema else {
                continue;
            };
            let mut docs = SchemaDocs::default();
            if let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) =
                &schema.schema_kind
            {
                for (property, value) in &object.properties {
                    let description = match value {
                        ReferenceOr::Item(s) => s.schema_data.description.clone(),
                        ReferenceOr::Reference { reference } => schema_description(reference),
                    };
                    if let Some(description) = description {
                        docs.properties.insert(snake(property), tidy(&description));
                    }
                }
            }
            schemas.insert(name.clone(), docs);
        }
    }
    SpecDocs {
        operations,
        schemas,
    }
}

fn has_docs(attributes: &[syn::Attribute]) -> bool {
    attributes.iter().any(|a| a.path().is_ident("doc"))
}

/// Adds `text` as the item's doc comment when it has none; counts it.
fn document(attributes: &mut Vec<syn::Attribute>, text: &str, count: &mut usize) {
    if !has_docs(attributes) && !text.is_empty() {
        attributes.push(syn::parse_quote!(#[doc = #text]));
        *count += 1;
    }
}

/// The name of a plain type (`ListTasks` of `impl ListTasks`).
fn type_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    }
}

/// The client's request builders, the API's types and their builders get the spec's words.
fn document_client(file: &mut syn::File, docs: &SpecDocs) -> usize {
    let mut count = 0;
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = module.content.as_mut() else {
            continue;
        };
        match module.ident.to_string().as_str() {
            "builder" => document_request_builders(items, docs, &mut count),
            "types" => document_types(items, docs, &mut count),
            _ => {}
        }
    }
    check_sites(
        "generated items documented from the spec",
        count,
        Sites::AtLeast(1),
    );
    count
}

fn document_request_builders(items: &mut [syn::Item], docs: &SpecDocs, count: &mut usize) {
    for item in items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let Some(operation) = type_ident(&block.self_ty).and_then(|n| docs.operations.get(&n))
        else {
            continue;
        };
        for item in &mut block.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            let name = function.sig.ident.to_string();
            let text = match name.as_str() {
                "new" => format!(
                    "A request of [`Client::{}`](super::Client::{0}) with nothing set yet; \
                     that method is the usual way to start one.",
                    operation.id
                ),
                "body" => format!(
                    "The request body{}.",
                    operation
                        .body
                        .as_ref()
                        .map(|b| format!(": {b}"))
                        .unwrap_or_default()
                ),
                "body_map" => {
                    "Changes the request body through its builder, field by field.".to_owned()
                }
                other => match operation.parameters.get(other) {
                    Some(description) => description.clone(),
                    None => continue,
                },
            };
            document(&mut function.attrs, &text, count);
        }
    }
}

fn document_types(items: &mut [syn::Item], docs: &SpecDocs, count: &mut usize) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Struct(structure) => {
                let Some(schema) = docs.schemas.get(&structure.ident.to_string()) else {
                    continue;
                };
                if let syn::Fields::Named(fields) = &mut structure.fields {
                    for field in &mut fields.named {
                        let Some(name) = &field.ident else {
                            continue;
                        };
                        if let Some(description) = schema.properties.get(&name.to_string()) {
                            document(&mut field.attrs, description, count);
                        }
                    }
                }
            }
            syn::Item::Impl(block) if block.trait_.is_none() => {
                let Some(name) = type_ident(&block.self_ty) else {
                    continue;
                };
                for item in &mut block.items {
                    if let syn::ImplItem::Fn(function) = item
                        && function.sig.ident == "builder"
                    {
                        let text = format!("A builder for [`{name}`], field by field.");
                        document(&mut function.attrs, &text, count);
                    }
                }
            }
            syn::Item::Mod(module) if module.ident == "builder" => {
                let Some((_, items)) = module.content.as_mut() else {
                    continue;
                };
                document_type_builders(items, docs, count);
            }
            // A closed set's values, or a union's alternatives, are named by the spec's own
            // words and need no sentence each. Documenting them would also change their JSON
            // Schema: schemars turns a plain `enum` of documented values into a `oneOf`.
            syn::Item::Enum(set) if set.variants.iter().any(|v| !has_docs(&v.attrs)) => {
                set.attrs.push(syn::parse_quote!(#[allow(missing_docs)]));
            }
            _ => {}
        }
    }
}

fn document_type_builders(items: &mut [syn::Item], docs: &SpecDocs, count: &mut usize) {
    for item in items {
        match item {
            syn::Item::Struct(builder) => {
                let name = builder.ident.to_string();
                let text = format!(
                    "Builds a [`{name}`](super::{name}) field by field; each setter checks its \
                     value, and the conversion into the type reports what is missing or wrong."
                );
                document(&mut builder.attrs, &text, count);
            }
            syn::Item::Impl(block) if block.trait_.is_none() => {
                let Some(schema) = type_ident(&block.self_ty).and_then(|n| docs.schemas.get(&n))
                else {
                    continue;
                };
                for item in &mut block.items {
                    if let syn::ImplItem::Fn(setter) = item
                        && let Some(description) =
                            schema.properties.get(&setter.sig.ident.to_string())
                    {
                        document(&mut setter.attrs, description, count);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The status an answer method of a mock sets: `.status(404u16)` in its body.
fn answered_status(block: &syn::Block) -> Option<u16> {
    struct Status(Option<u16>);
    impl<'ast> syn::visit::Visit<'ast> for Status {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if call.method == "status"
                && let Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(code),
                    ..
                })) = call.args.first()
            {
                self.0 = code.base10_parse().ok();
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut status = Status(None);
    syn::visit::Visit::visit_block(&mut status, block);
    status.0
}

/// The typed mocks: each operation's matcher and answer, their methods, and the
/// `MockServerExt` method that mocks it.
fn document_mocks(file: &mut syn::File, docs: &SpecDocs) -> usize {
    let mut count = 0;
    let by_id: std::collections::HashMap<&str, &OperationDocs> = docs
        .operations
        .values()
        .map(|o| (o.id.as_str(), o))
        .collect();
    for item in &mut file.items {
        match item {
            syn::Item::Trait(extension) => {
                for item in &mut extension.items {
                    if let syn::TraitItem::Fn(method) = item
                        && let Some(operation) = by_id.get(method.sig.ident.to_string().as_str())
                    {
                        let text = format!(
                            "Mocks `{}` ({}): the closure says which requests match and what \
                             they are answered.",
                            operation.id, operation.summary
                        );
                        document(&mut method.attrs, &text, &mut count);
                    }
                }
            }
            syn::Item::Mod(module) => {
                let Some((_, items)) = module.content.as_mut() else {
                    continue;
                };
                for item in items {
                    document_mock_item(item, docs, &mut count);
                }
            }
            _ => {}
        }
    }
    check_sites(
        "typed mocks documented from the spec",
        count,
        Sites::AtLeast(1),
    );
    count
}

fn document_mock_item(item: &mut syn::Item, docs: &SpecDocs, count: &mut usize) {
    let (name, is_struct) = match item {
        syn::Item::Struct(s) => (s.ident.to_string(), true),
        syn::Item::Impl(block) if block.trait_.is_none() => {
            let Some(name) = type_ident(&block.self_ty) else {
                return;
            };
            (name, false)
        }
        _ => return,
    };
    let (base, matcher) = if let Some(base) = name.strip_suffix("When") {
        (base, true)
    } else if let Some(base) = name.strip_suffix("Then") {
        (base, false)
    } else {
        return;
    };
    let Some(operation) = docs.operations.get(base) else {
        return;
    };
    match item {
        syn::Item::Struct(structure) if is_struct => {
            let text = if matcher {
                format!(
                    "Which requests of `{}` ({}) the mock answers: method and path are set, each \
                     method below narrows it further.",
                    operation.id, operation.summary
                )
            } else {
                format!(
                    "How the mock answers `{}`: one method per documented status.",
                    operation.id
                )
            };
            document(&mut structure.attrs, &text, count);
        }
        syn::Item::Impl(block) => {
            for item in &mut block.items {
                let syn::ImplItem::Fn(function) = item else {
                    continue;
                };
                let method = function.sig.ident.to_string();
                let text = match method.as_str() {
                    "new" => {
                        "Wraps httpmock's own value; the typed mock calls this for you.".to_owned()
                    }
                    "into_inner" => {
                        "httpmock's own value, for what this typed wrapper does not offer."
                            .to_owned()
                    }
                    other if matcher => match operation.parameters.get(other) {
                        Some(description) => {
                            format!("Matches requests with this `{other}`: {description}")
                        }
                        None => format!("Matches requests with this `{other}`."),
                    },
                    other => match answered_status(&function.block) {
                        Some(code) => format!(
                            "Answers {code}{}.",
                            operation
                                .responses
                                .get(&code)
                                .map(|d| format!(": {d}"))
                                .unwrap_or_default()
                        ),
                        None => format!("Answers as `{other}` says."),
                    },
                };
                document(&mut function.attrs, &text, count);
            }
        }
        _ => {}
    }
}
