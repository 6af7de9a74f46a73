#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod config;
mod error;
mod open_enum;
mod transport;

#[cfg(feature = "hockeystack")]
pub mod hockeystack;

pub use config::ClientBuilder;
pub use error::Error;
pub use open_enum::UnknownValue;
pub use transport::Inner;
