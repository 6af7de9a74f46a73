//! HyperRep's value sets that its pages list but do not close, open to values added after this
//! crate was released.

use crate::open_enum::open_enum;

open_enum! {
    /// The channel of a message.
    pub enum MessageModality {
        /// An email.
        Email = "email",
        /// A text message.
        Text = "text",
    }
}

open_enum! {
    /// Which way a message went.
    pub enum MessageDirection {
        /// Sent by the organization.
        Sent = "sent",
        /// Received from the contact.
        Received = "received",
    }
}

open_enum! {
    /// The system status behind a sale's stage (the stage's label is the organization's own).
    pub enum SaleStatusCode {
        /// A quote was sent.
        QuoteSent = "quote_sent",
        /// The customer accepted.
        Accepted = "accepted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<T: std::fmt::Display>(known: &[T]) -> Vec<String> {
        known.iter().map(ToString::to_string).collect()
    }

    /// A value added to the spec's `x-extensible-enum` without a variant here would decode as
    /// `Unknown`, and a variant the spec no longer lists would be a promise the API dropped.
    #[test]
    fn every_open_enum_knows_exactly_the_values_the_spec_lists() {
        let ours: Vec<(&str, Vec<String>)> = vec![
            ("MessageModality", values(MessageModality::KNOWN)),
            ("MessageDirection", values(MessageDirection::KNOWN)),
            ("SaleStatusCode", values(SaleStatusCode::KNOWN)),
        ];
        let spec = super::super::operations::KNOWN_VALUES;
        assert_eq!(ours.len(), spec.len(), "open enums in the spec: {spec:?}");
        for (name, listed) in spec {
            let (_, known) = ours
                .iter()
                .find(|(ours, _)| ours == name)
                .unwrap_or_else(|| panic!("{name} has no open enum here"));
            assert_eq!(known, listed, "{name}");
        }
    }
}
