//! What the telemetry (`trace.rs`, and `metrics.rs` under feature `metrics`) records of one
//! request beyond its span: which operation, which method, which server, and since when.

/// One request, as its telemetry names it.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
#[derive(Clone)]
pub(crate) struct Request {
    pub(crate) operation: &'static str,
    pub(crate) method: &'static str,
    pub(crate) server_address: String,
    pub(crate) server_port: u16,
    pub(crate) started: std::time::Instant,
}
