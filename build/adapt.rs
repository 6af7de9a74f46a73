//! The parsed spec adapted for progenitor, after the operation model was read from it as
//! written: the YAML stays the contract other generators read, and every change progenitor
//! needs is made here, on the document, small and explained.

use openapiv3::{OpenAPI, ReferenceOr};

use crate::{apis::Api, open_enums::OPEN_ENUM_EXTENSION};

/// Marks a component that is another one or null (`x-nullable-of: SaleStatus`). OpenAPI 3.0.3
/// lets `nullable` admit null only in the schema that declares it, so a property that may be
/// null needs a schema of its own when the shape is also used where null is not allowed.
pub(crate) const NULLABLE_OF_EXTENSION: &str = "x-nullable-of";

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
pub(crate) fn adapt_for_progenitor(spec: &mut OpenAPI, api: &Api) {
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
pub(crate) fn component_properties(
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
pub(crate) fn object_schema<'a>(
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
pub(crate) fn drop_event_streams(spec: &mut OpenAPI) {
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
pub(crate) fn one_of_as_variant(spec: &mut OpenAPI, chosen: &[(&str, &str)]) {
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
pub(crate) fn fold_error_bodies(spec: &mut OpenAPI, folded: &[&str]) {
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
pub(crate) fn inline_schemas(spec: &mut OpenAPI, names: &[&str]) {
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
pub(crate) fn nullable_components_as_optional_fields(spec: &mut OpenAPI) {
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
pub(crate) fn same_shape(a: &openapiv3::Schema, b: &openapiv3::Schema) -> bool {
    a.schema_kind == b.schema_kind
        && a.schema_data.extensions.get(OPEN_ENUM_EXTENSION)
            == b.schema_data.extensions.get(OPEN_ENUM_EXTENSION)
}

/// Every operation of a path item, mutably (openapiv3 offers `iter()` only).
pub(crate) fn operations_mut(
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

pub(crate) fn body_declares_nothing(body: &openapiv3::RequestBody, spec: &OpenAPI) -> bool {
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

/// See [`adapt_for_progenitor`]: drops `minimum` and `maximum` from integer query parameters.
pub(crate) fn unbounded_query_integers(spec: &mut OpenAPI) {
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
