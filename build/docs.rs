//! Documentation for the generated items that progenitor leaves without any: setters,
//! builder types, struct fields whose schema is a reference, and the typed mocks. The words
//! are the spec's own descriptions, so a user's editor shows what each call sets or matches.

use openapiv3::{OpenAPI, ReferenceOr};

use crate::{
    names::{camel, snake},
    sites::{Sites, check_sites},
    syntax::type_ident,
};

/// What the spec says of one operation.
#[derive(Default)]
pub(crate) struct OperationDocs {
    /// The operationId, as the client's method is named.
    pub(crate) id: String,
    pub(crate) summary: String,
    /// Parameter setter name → description.
    pub(crate) parameters: std::collections::HashMap<String, String>,
    pub(crate) body: Option<String>,
    /// Status → the response's description.
    pub(crate) responses: std::collections::BTreeMap<u16, String>,
}

/// What the spec says of each property of one schema (its own description, or the
/// referenced schema's), by field name.
#[derive(Default)]
pub(crate) struct SchemaDocs {
    pub(crate) properties: std::collections::HashMap<String, String>,
}

/// The spec's descriptions, by the names the generated code gives them.
pub(crate) struct SpecDocs {
    /// By builder name (`GetDealAgent`).
    pub(crate) operations: std::collections::HashMap<String, OperationDocs>,
    /// By schema name.
    pub(crate) schemas: std::collections::HashMap<String, SchemaDocs>,
}

/// One line of text, for a doc comment.
pub(crate) fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn spec_docs(spec: &OpenAPI) -> SpecDocs {
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

pub(crate) fn has_docs(attributes: &[syn::Attribute]) -> bool {
    attributes.iter().any(|a| a.path().is_ident("doc"))
}

/// Adds `text` as the item's doc comment when it has none; counts it.
pub(crate) fn document(attributes: &mut Vec<syn::Attribute>, text: &str, count: &mut usize) {
    if !has_docs(attributes) && !text.is_empty() {
        attributes.push(syn::parse_quote!(#[doc = #text]));
        *count += 1;
    }
}

/// The client's request builders, the API's types and their builders get the spec's words.
pub(crate) fn document_client(file: &mut syn::File, docs: &SpecDocs) -> usize {
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

pub(crate) fn document_request_builders(
    items: &mut [syn::Item],
    docs: &SpecDocs,
    count: &mut usize,
) {
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

pub(crate) fn document_types(items: &mut [syn::Item], docs: &SpecDocs, count: &mut usize) {
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

pub(crate) fn document_type_builders(items: &mut [syn::Item], docs: &SpecDocs, count: &mut usize) {
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
pub(crate) fn answered_status(block: &syn::Block) -> Option<u16> {
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
pub(crate) fn document_mocks(file: &mut syn::File, docs: &SpecDocs) -> usize {
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

pub(crate) fn document_mock_item(item: &mut syn::Item, docs: &SpecDocs, count: &mut usize) {
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
