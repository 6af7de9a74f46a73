//! String enums that stay readable when the server sends a value this crate does not know.
//!
//! Both APIs add statuses and types over time. A closed Rust enum would turn one new value into
//! a failure to decode the whole response, so every status-like enum is declared with
//! [`open_enum!`]: the known values are variants, anything else is kept as
//! [`Unknown`](UnknownValue) with its original text.

use std::fmt;

/// A value the server sent that this version of the crate has no variant for.
///
/// It can be read ([`as_str`](Self::as_str), `Display`) but not built by callers, so a known
/// value is always represented by its own variant and comparisons stay meaningful.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(pub(crate) String);

impl UnknownValue {
    /// The value exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares an open string enum: known variants plus `Unknown(UnknownValue)`, with serde,
/// `Display`, `FromStr` (infallible) and `as_str`.
// Only HyperRep is built without HockeyStack, and HyperRep has no closed enums to open.
#[cfg_attr(not(feature = "hockeystack"), allow(unused_macros))]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Unknown($crate::open_enum::UnknownValue),
        }

        impl $name {
            /// Every value this version of the crate knows.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire form of the value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other.as_str(),
                }
            }

            /// False for a value the server sent that this crate has no variant for.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown($crate::open_enum::UnknownValue(other.to_owned())),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $value => $name::$variant, )+
                    _ => $name::Unknown($crate::open_enum::UnknownValue(value)),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        // An optional request field of this type takes the value itself.
        impl $crate::optional::OptionalValue<$name> for $name {
            fn into_optional(self) -> ::std::result::Result<Option<$name>, String> {
                Ok(Some(self))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }

        /// A string; the known values are listed as examples, since the server may send
        /// others.
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }

            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                let mut schema = ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    ..Default::default()
                };
                let metadata = schema.metadata();
                metadata.description = Some(format!(
                    "One of {}, or a value added later.",
                    [$($value),+].map(|v| format!("`{v}`")).join(", ")
                ));
                metadata.examples = vec![$(::serde_json::Value::from($value)),+];
                schema.into()
            }
        }
    };
}

#[cfg_attr(not(feature = "hockeystack"), allow(unused_imports))]
pub(crate) use open_enum;

/// Holds an API's open enums to its spec: each enum the spec's `x-extensible-enum` lists, with
/// exactly the values listed. A value added to the spec without a variant would decode as
/// `Unknown`, and a variant the spec no longer lists would be a promise the API dropped.
#[cfg(test)]
pub(crate) fn assert_known_values_match(ours: &[(&str, Vec<String>)], spec: &[(&str, &[&str])]) {
    assert_eq!(ours.len(), spec.len(), "open enums in the spec: {spec:?}");
    for (name, listed) in spec {
        let (_, known) = ours
            .iter()
            .find(|(ours, _)| ours == name)
            .unwrap_or_else(|| panic!("{name} has no open enum here"));
        assert_eq!(known, listed, "{name}");
    }
}

/// The known values of an open enum, as text.
#[cfg(test)]
pub(crate) fn known_texts<T: std::fmt::Display>(known: &[T]) -> Vec<String> {
    known.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    open_enum! {
        /// A test enum.
        pub enum Colour {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn known_values_round_trip_through_json() {
        let parsed: Vec<Colour> = serde_json::from_str(r#"["red","dark_blue"]"#).unwrap();
        assert_eq!(parsed, vec![Colour::Red, Colour::DarkBlue]);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            r#"["red","dark_blue"]"#
        );
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let parsed: Colour = serde_json::from_str(r#""ultra_violet""#).unwrap();
        assert!(!parsed.is_known());
        assert_eq!(parsed.as_str(), "ultra_violet");
        assert_eq!(parsed.to_string(), "ultra_violet");
        assert_eq!(serde_json::to_string(&parsed).unwrap(), r#""ultra_violet""#);
    }

    #[test]
    fn parsing_a_known_value_never_yields_unknown() {
        assert_eq!("red".parse::<Colour>().unwrap(), Colour::Red);
        assert_eq!(Colour::from(String::from("dark_blue")), Colour::DarkBlue);
        assert_eq!(Colour::KNOWN.len(), 2);
    }

    #[cfg(feature = "schemars")]
    #[test]
    fn the_schema_is_an_open_string_listing_the_known_values() {
        let schema = serde_json::to_value(schemars::schema_for!(Colour)).unwrap();
        assert_eq!(schema["type"], "string");
        assert!(
            schema.get("enum").is_none(),
            "a closed enum would refuse new values"
        );
        assert_eq!(schema["examples"], serde_json::json!(["red", "dark_blue"]));
    }

    #[test]
    fn non_string_values_fail_to_decode() {
        assert!(serde_json::from_str::<Colour>("42").is_err());
    }
}
