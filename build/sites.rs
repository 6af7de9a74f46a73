//! How many sites each rewrite must find, from what the spec says the generated client
//! holds, and the check that stops the build when a rewrite finds another number.

use openapiv3::{OpenAPI, ReferenceOr};

/// What the spec says the generated client holds, for the rewrites' site counts.
#[derive(Clone, Copy)]
pub(crate) struct Expected {
    /// Operations: one `send()` and one URL each.
    pub(crate) operations: usize,
    /// Path parameters over all operations: one checked segment each.
    pub(crate) path_parameters: usize,
}

pub(crate) fn expected_sites(spec: &OpenAPI) -> Expected {
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
pub(crate) const WRITTEN_FOR: &str = "progenitor 0.15.1 with typify 0.8.0";

/// How many sites a rewrite must change.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sites {
    Exactly(usize),
    AtLeast(usize),
}

/// Fails the build when `rewrite` changed `found` sites where `expected` were due.
/// Every rewrite's site count for the API being generated, written beside its output
/// (`<api>_rewrites.txt`) so that a changed count can be compared with the last good build.
pub(crate) static SITE_COUNTS: std::sync::Mutex<Vec<(String, usize, usize)>> =
    std::sync::Mutex::new(Vec::new());

pub(crate) fn check_sites(rewrite: &str, found: usize, expected: Sites) {
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
