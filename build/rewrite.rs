//! Rewrites of the generated code by syntax. Each one matches items, signatures, paths and
//! expressions (never the rendered text, whose spacing and wording belong to proc-macro2 and
//! progenitor), counts the sites it changed, and fails the build when the count is not what
//! it expects (see `sites`): a generator release that changed its output's shape stops the
//! build here, naming the rewrite, instead of producing a client that behaves differently.

use crate::{
    apis::Api,
    sites::{Expected, Sites, WRITTEN_FOR, check_sites},
    syntax::{
        appends_headers, binds, block_names, expr_names, holds_literal, is_local, is_type,
        type_ident,
    },
};

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
pub(crate) fn own_the_send_calls(file: &mut syn::File, api: &Api, expected: Expected) {
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
pub(crate) fn own_the_client(builder: &mut syn::ItemStruct) {
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
pub(crate) fn own_the_client_in_impl(block: &mut syn::ItemImpl) {
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
pub(crate) fn own_the_client_surface(file: &mut syn::File, api: &Api) {
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
pub(crate) fn explain_refused_parameter(setter: &mut syn::ImplItemFn) -> usize {
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
pub(crate) enum SuccessBody {
    Json,
    Empty,
}

pub(crate) fn rewrite_send(
    block: &mut syn::ItemImpl,
    envelope: &syn::Type,
    segments: &mut usize,
) -> usize {
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
pub(crate) fn success_type(output: &syn::ReturnType) -> syn::Type {
    generic_argument(&generic_argument(return_type(output), 0), 0)
}

/// `E` of `Result<ResponseValue<T>, Error<E>>`.
pub(crate) fn error_type(output: &syn::ReturnType) -> syn::Type {
    generic_argument(&generic_argument(return_type(output), 1), 0)
}

pub(crate) fn return_type(output: &syn::ReturnType) -> &syn::Type {
    match output {
        syn::ReturnType::Type(_, ty) => ty,
        syn::ReturnType::Default => panic!("send() returns nothing"),
    }
}

pub(crate) fn generic_argument(ty: &syn::Type, index: usize) -> syn::Type {
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
pub(crate) fn checked_path_segments(
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

/// Lets the setters of optional request-body fields take the value itself (`"text"`, a
/// number, a nested value or its builder) as well as an `Option`, instead of insisting on
/// `Some(String)`. Each setter's `TryInto<Option<T>>` bound becomes
/// `crate::optional::OptionalValue<T>`, and the API's own types get the impls that make
/// `T`, its builder and, for constrained strings, a `&str` such values.
pub(crate) fn optional_fields_take_plain_values(file: &mut syn::File) {
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
pub(crate) fn converts_from_str(block: &syn::ItemImpl) -> Option<String> {
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
pub(crate) fn optional_setter_type(setter: &syn::ImplItemFn) -> Option<syn::Type> {
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

pub(crate) fn rewrite_optional_setter(setter: &mut syn::ImplItemFn, inner: &syn::Type) {
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

/// progenitor documents each method with a call sketch marked `ignore`, which rustdoc counts
/// as an ignored test in every run; shown as plain text it reads the same.
pub(crate) struct PlainTextSketches {
    pub(crate) sites: usize,
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
pub(crate) struct CloneTheClient {
    pub(crate) sites: usize,
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
pub(crate) struct NoElidedLifetimes {
    pub(crate) sites: usize,
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
pub(crate) struct KeepTheReason {
    pub(crate) sites: usize,
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
pub(crate) struct IntoOptional {
    pub(crate) sites: usize,
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
pub(crate) struct NoHeaderMap {
    pub(crate) sites: usize,
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

/// Feature `schemars`: the length bounds of constrained strings in their JSON Schema. typify
/// checks a string's `minLength` and `maxLength` in the newtype's `FromStr`, but the newtype
/// is `#[serde(transparent)]`, for which schemars' derive hands out the inner `String`'s schema
/// and ignores any length given to it: the schema would promise any length. Each newtype whose
/// `from_str` compares `value.chars().count()` with a bound gets its own `JsonSchema` impl in
/// place of the derived one: the string's schema with the bounds.
pub(crate) fn string_lengths_in_schemas(file: &mut syn::File) {
    let mut sites = 0;
    let mut checked = 0;
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = module.content.as_mut() else {
            continue;
        };
        // The bounds each newtype's `from_str` checks: (type, min, max).
        let mut bounds: Vec<(String, Option<u64>, Option<u64>)> = Vec::new();
        for item in items.iter() {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let is_from_str = block.trait_.as_ref().is_some_and(|(path, _)| {
                path.segments.last().is_some_and(|s| s.ident == "FromStr")
            });
            let Some(name) = is_from_str.then(|| type_ident(&block.self_ty)).flatten() else {
                continue;
            };
            let mut found = LengthChecks::default();
            syn::visit::Visit::visit_item_impl(&mut found, block);
            if found.min.is_some() || found.max.is_some() {
                bounds.push((name, found.min, found.max));
            }
        }
        checked += bounds.len();
        let mut impls = Vec::new();
        for item in items.iter_mut() {
            let syn::Item::Struct(newtype) = item else {
                continue;
            };
            let Some((name, min, max)) = bounds.iter().find(|(n, _, _)| newtype.ident == n) else {
                continue;
            };
            if !without_schemars_derive(&mut newtype.attrs) {
                continue;
            }
            let ident = &newtype.ident;
            let min = min
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| quote::quote!(Some(#n)));
            let max = max
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| quote::quote!(Some(#n)));
            let min = min.unwrap_or_else(|| quote::quote!(None));
            let max = max.unwrap_or_else(|| quote::quote!(None));
            impls.push(syn::parse_quote! {
                impl schemars::JsonSchema for #ident {
                    fn schema_name() -> ::std::string::String {
                        #name.to_owned()
                    }
                    // Written out where it is used, as the derived schema of a transparent
                    // newtype was.
                    fn is_referenceable() -> bool {
                        false
                    }
                    fn json_schema(
                        generator: &mut schemars::r#gen::SchemaGenerator,
                    ) -> schemars::schema::Schema {
                        let mut schema =
                            <::std::string::String as schemars::JsonSchema>::json_schema(generator)
                                .into_object();
                        schema.string().min_length = #min;
                        schema.string().max_length = #max;
                        schemars::schema::Schema::Object(schema)
                    }
                }
            });
            sites += 1;
        }
        items.extend(impls);
    }
    check_sites(
        "string lengths in the JSON Schemas",
        sites,
        Sites::Exactly(checked),
    );
}

/// Removes `schemars::JsonSchema` from a `#[derive(...)]`; whether it was there.
fn without_schemars_derive(attrs: &mut [syn::Attribute]) -> bool {
    for attr in attrs.iter_mut() {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Ok(paths) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|p| p.segments.last().is_none_or(|s| s.ident != "JsonSchema"))
            .collect();
        if kept.len() < paths.len() {
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
            return true;
        }
    }
    false
}

/// The bounds of `if value.chars().count() > N` and `< N` in one `from_str`.
#[derive(Default)]
struct LengthChecks {
    min: Option<u64>,
    max: Option<u64>,
}

impl<'ast> syn::visit::Visit<'ast> for LengthChecks {
    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        let counts = matches!(&*binary.left, syn::Expr::MethodCall(call) if call.method == "count");
        let bound = match &*binary.right {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(int),
                ..
            }) => int.base10_parse::<u64>().ok(),
            _ => None,
        };
        if let (true, Some(bound)) = (counts, bound) {
            match binary.op {
                syn::BinOp::Gt(_) => self.max = Some(bound),
                syn::BinOp::Lt(_) => self.min = Some(bound),
                _ => {}
            }
        }
        syn::visit::visit_expr_binary(self, binary);
    }
}
