//! The APIs to generate, and what each needs of progenitor beyond its spec.

/// One API to generate.
pub(crate) struct Api {
    /// Module name and output file stem.
    pub(crate) name: &'static str,
    /// Cargo feature that enables it.
    pub(crate) feature: &'static str,
    /// Request-body properties the generated builders must not offer, as (schema, property).
    pub(crate) hidden_request_properties: &'static [(&'static str, &'static str)],
    /// `oneOf` schemas progenitor sees as one of their alternatives, as (schema, variant): the
    /// schema takes the variant's shape and the variants leave the components.
    pub(crate) one_of_as_variant: &'static [(&'static str, &'static str)],
    /// Error bodies to fold into the API's `ErrorEnvelope`, whose properties then take either
    /// form: progenitor allows one error type per operation, and the crate reads every error
    /// answer through one type.
    pub(crate) folded_error_bodies: &'static [&'static str],
    /// Component schemas progenitor sees inline at each property that refers to them: named
    /// in the spec because a generator for another language needs the name, they stay the
    /// plain maps they were in the crate's types.
    pub(crate) inlined_schemas: &'static [&'static str],
}

pub(crate) const APIS: &[Api] = &[
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
