//! The crate's error type for everything the hand-written layer does.

use std::fmt;

/// What went wrong in the hand-written layer: configuring a client, or a request the transport
/// refused to send.
///
/// The generated operations return [`progenitor_client::Error`] with the API's own error body;
/// this type covers what happens around them. Nothing here ever contains a credential.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No credential was given, in code or in the environment.
    MissingCredentials {
        /// The API that needs it (`"HockeyStack"`, `"HyperRep"`).
        api: &'static str,
        /// The environment variable that would provide it.
        variable: &'static str,
    },
    /// The credential cannot be sent in an HTTP header (it contains a line break or another
    /// character headers cannot carry). The credential itself is not repeated here.
    InvalidCredentials {
        /// The API the credential was for.
        api: &'static str,
    },
    /// The base URL cannot be used.
    InvalidBaseUrl {
        /// Why, in a sentence. Never contains the URL's user-info part.
        reason: String,
    },
    /// The HTTP client could not be built (for example, no TLS backend could start).
    HttpClient(reqwest::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingCredentials { api, variable } => write!(
                f,
                "no {api} credential configured: set the {variable} environment variable or \
                 pass one to the client builder"
            ),
            Error::InvalidCredentials { api } => write!(
                f,
                "the {api} credential contains characters that cannot be sent in an HTTP header"
            ),
            Error::InvalidBaseUrl { reason } => write!(f, "invalid base URL: {reason}"),
            Error::HttpClient(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::HttpClient(e) => Some(e),
            _ => None,
        }
    }
}
