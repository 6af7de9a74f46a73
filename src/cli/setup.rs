//! The clients a command sends with, set up as the library's are: from the environment
//! (`HOCKEYSTACK_API_TOKEN`, `HYPERREP_API_KEY`, the `*_BASE_URL` variables and the shared
//! `REVENUE_AGENTS_*` settings), or, with `--sandbox`, against a sandbox started for this one
//! command.

use super::profile::Profile;
use crate::{
    error::{Error, ErrorKind},
    hockeystack, hyperrep,
    invoke::{Clients, Service},
    sandbox::{Sandbox, SandboxConfig},
};

/// The clients, and the sandbox they talk to when the command started one.
pub(crate) struct Session {
    pub(crate) clients: Clients,
    /// Kept alive for the command; dropping it stops the server.
    _sandbox: Option<Sandbox>,
}

/// The client of `service` (both with `--sandbox`). A public operation (`health`) goes out
/// without a credential when none is set. A chosen profile's base URL and credential come
/// before the environment's.
pub(crate) async fn connect(
    service: Service,
    sandbox: bool,
    public: bool,
    profile: Option<&Profile>,
) -> Result<Session, Error> {
    if sandbox {
        let started = Sandbox::start(SandboxConfig::default())
            .await
            .map_err(|e| {
                Error::new(ErrorKind::InvalidSetting {
                    setting: "--sandbox",
                    reason: format!("cannot start the sandbox: {e}"),
                })
            })?;
        let clients = Clients {
            hockeystack: Some(started.hockeystack_client()?),
            hyperrep: Some(started.hyperrep_client()?),
        };
        return Ok(Session {
            clients,
            _sandbox: Some(started),
        });
    }
    let mut clients = Clients::default();
    match service {
        Service::HockeyStack => {
            let token = profile
                .map(Profile::hockeystack_token)
                .transpose()?
                .flatten();
            let builder = || {
                chosen(
                    hockeystack::Client::builder(),
                    profile.and_then(|p| p.hockeystack_base_url.as_deref()),
                    token,
                )
            };
            clients.hockeystack = Some(from_env(builder().build(), public, || {
                builder().build_without_credentials()
            })?)
        }
        Service::HyperRep => {
            let key = profile.map(Profile::hyperrep_key).transpose()?.flatten();
            let builder = || {
                chosen(
                    hyperrep::Client::builder(),
                    profile.and_then(|p| p.hyperrep_base_url.as_deref()),
                    key,
                )
            };
            clients.hyperrep = Some(from_env(builder().build(), public, || {
                builder().build_without_credentials()
            })?)
        }
    }
    Ok(Session {
        clients,
        _sandbox: None,
    })
}

/// A client builder that reads the environment, with a profile's base URL and credential
/// before it.
fn chosen<A: crate::config::Api>(
    builder: crate::ClientBuilder<A>,
    base_url: Option<&str>,
    credential: Option<&str>,
) -> crate::ClientBuilder<A> {
    let mut builder = builder.from_env();
    if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    if let Some(credential) = credential {
        builder = builder.credential(credential);
    }
    builder
}

fn from_env<C>(
    made: Result<C, Error>,
    public: bool,
    without: impl FnOnce() -> Result<C, Error>,
) -> Result<C, Error> {
    match made {
        Err(e) if public && matches!(e.kind(), ErrorKind::MissingCredentials { .. }) => without(),
        other => other,
    }
}
