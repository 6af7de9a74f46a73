//! Generates the two API clients from `openapi/*.yaml` with progenitor. This is the driver;
//! each concern has its file under `build/`:
//!
//! - `apis.rs`: the two APIs and what each needs beyond its spec;
//! - `model.rs`: the operation model every surface of the crate reads, from the spec as written;
//! - `open_enums.rs`: the open string sets, which become the crate's open enums;
//! - `adapt.rs`: the parsed spec adapted where progenitor cannot take the contract as written
//!   (the YAML files stay the truthful contract other teams consume);
//! - `rewrite.rs`, `sites.rs`, `syntax.rs`: the generated code rewritten by syntax, each
//!   rewrite's sites counted;
//! - `docs.rs`: the spec's descriptions on the generated items progenitor leaves bare.

use std::{env, fs, path::Path};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

#[path = "build/adapt.rs"]
mod adapt;
#[path = "build/apis.rs"]
mod apis;
#[path = "build/docs.rs"]
mod docs;
#[path = "build/model.rs"]
mod model;
#[path = "build/names.rs"]
mod names;
#[path = "build/open_enums.rs"]
mod open_enums;
#[path = "build/rewrite.rs"]
mod rewrite;
#[path = "build/sites.rs"]
mod sites;
#[path = "build/syntax.rs"]
mod syntax;

use self::{
    adapt::adapt_for_progenitor,
    apis::{APIS, Api},
    docs::{document_client, document_mocks, spec_docs},
    open_enums::{known_values, open_enums},
    rewrite::{
        PlainTextSketches, optional_fields_take_plain_values, own_the_client_surface,
        own_the_send_calls, string_lengths_in_schemas,
    },
    sites::{SITE_COUNTS, Sites, check_sites, expected_sites},
};

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
        generate(api, &spec_path, &text, &out_dir);
        write_if_changed(&stamp_path, &stamp);
    }
}

/// Writes one API's generated client, operation model, mocks (feature `mock`) and the count
/// of each rewrite's sites into `out_dir`.
fn generate(api: &Api, spec_path: &str, text: &str, out_dir: &str) {
    let mut spec: OpenAPI = serde_yaml_ng::from_str(text)
        .unwrap_or_else(|e| panic!("{spec_path} is not a valid OpenAPI 3.0 document: {e}"));

    // Read from the contract as written, before progenitor's adaptations.
    let open_enums = open_enums(&spec);
    let written: serde_json::Value =
        serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{spec_path} is not YAML: {e}"));
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
    if env::var_os("CARGO_FEATURE_SCHEMARS").is_some() {
        string_lengths_in_schemas(&mut file);
    }
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

/// Keeps the file's timestamp when nothing changed, so that a no-op build stays a no-op.
fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
}
