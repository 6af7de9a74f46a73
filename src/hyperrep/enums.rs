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
    use crate::open_enum::{assert_known_values_match, known_texts};

    #[test]
    fn every_open_enum_knows_exactly_the_values_the_spec_lists() {
        assert_known_values_match(
            &[
                ("MessageModality", known_texts(MessageModality::KNOWN)),
                ("MessageDirection", known_texts(MessageDirection::KNOWN)),
                ("SaleStatusCode", known_texts(SaleStatusCode::KNOWN)),
            ],
            super::super::operations::KNOWN_VALUES,
        );
    }
}
