//! Open string sets: the component schemas that list today's values of a set the vendor may
//! extend. Each becomes the crate's hand-written open enum, so that a value added later decodes.

use openapiv3::OpenAPI;

use crate::adapt::NULLABLE_OF_EXTENSION;

/// The extension that lists the values an open string set has today (Zalando's convention,
/// which readers and several generators recognise). Each such component schema becomes the
/// crate's hand-written open enum of the same name, so that a value the server adds later
/// decodes instead of failing the whole response.
pub(crate) const OPEN_ENUM_EXTENSION: &str = "x-extensible-enum";

/// Every component schema with an `x-extensible-enum`, and the values it lists.
pub(crate) fn open_enums(spec: &OpenAPI) -> Vec<(String, Vec<String>)> {
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
pub(crate) fn known_values(open_enums: &[(String, Vec<String>)]) -> String {
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
