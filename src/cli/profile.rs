//! Named profiles for several accounts or workspaces, in a TOML file in the platform's config
//! directory (`$XDG_CONFIG_HOME/revenue-agents/config.toml`, `~/.config/...` without it,
//! `~/Library/Application Support/...` on macOS, `%APPDATA%\...` on Windows; or the file
//! `REVENUE_AGENTS_CONFIG` names):
//!
//! ```toml
//! default_profile = "acme"
//!
//! [profiles.acme]
//! hockeystack_base_url = "https://app.hockeystack.com/api/revenue-agents/v1"
//! hockeystack_token_env = "ACME_HOCKEYSTACK_TOKEN"     # the variable that holds the token
//! hyperrep_key_file = "~/.config/revenue-agents/acme.key"  # or a file only its owner reads
//! hyperrep_organization_id = "gAAAAB..."
//! ```
//!
//! `--profile NAME` (or `REVENUE_AGENTS_PROFILE`) chooses one, else `default_profile`. What a
//! chosen profile sets comes before the environment's variables, which fill in the rest; a
//! file, a profile or a credential that cannot be read stops the command naming it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::exit::Failure;
use crate::setting;

/// The file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, Entry>,
}

/// One profile as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    hockeystack_base_url: Option<String>,
    hockeystack_token_env: Option<String>,
    hockeystack_token_file: Option<PathBuf>,
    hyperrep_base_url: Option<String>,
    hyperrep_key_env: Option<String>,
    hyperrep_key_file: Option<PathBuf>,
    hyperrep_organization_id: Option<String>,
}

/// A chosen profile, its credentials read. A credential that cannot be read stops only the
/// commands of its own API (a HyperRep key file others may read does not stop a HockeyStack
/// command), so each is kept with why it cannot be used.
pub(crate) struct Profile {
    pub(crate) name: String,
    pub(crate) hockeystack_base_url: Option<String>,
    hockeystack_token: Secret,
    pub(crate) hyperrep_base_url: Option<String>,
    hyperrep_key: Secret,
    pub(crate) hyperrep_organization_id: Option<String>,
}

/// A profile's credential: none given, the value, or why it cannot be read.
type Secret = Result<Option<String>, String>;

impl Profile {
    /// The HockeyStack token it gives, or why it cannot be read.
    pub(crate) fn hockeystack_token(&self) -> Result<Option<&str>, crate::error::Error> {
        read(&self.hockeystack_token)
    }

    /// The HyperRep key it gives, or why it cannot be read.
    pub(crate) fn hyperrep_key(&self) -> Result<Option<&str>, crate::error::Error> {
        read(&self.hyperrep_key)
    }
}

fn read(secret: &Secret) -> Result<Option<&str>, crate::error::Error> {
    match secret {
        Ok(value) => Ok(value.as_deref()),
        Err(why) => Err(setting_error(why.clone())),
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("hockeystack_base_url", &self.hockeystack_base_url)
            .field("hyperrep_base_url", &self.hyperrep_base_url)
            .finish_non_exhaustive()
    }
}

fn config_error(message: String) -> Failure {
    Failure::Api(setting_error(message))
}

fn setting_error(message: String) -> crate::error::Error {
    crate::error::Error::new(crate::error::ErrorKind::InvalidSetting {
        setting: "profile",
        reason: message,
    })
}

/// Where the file is looked for.
pub(crate) fn path() -> Result<Option<PathBuf>, Failure> {
    let read = |name| setting::var(name).map_err(Failure::Api);
    if let Some(path) = read("REVENUE_AGENTS_CONFIG")? {
        return Ok(Some(expand(Path::new(&path))));
    }
    let base = if cfg!(windows) {
        read("APPDATA")?.map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        read("HOME")?.map(|home| Path::new(&home).join("Library/Application Support"))
    } else {
        match read("XDG_CONFIG_HOME")? {
            Some(dir) => Some(PathBuf::from(dir)),
            None => read("HOME")?.map(|home| Path::new(&home).join(".config")),
        }
    };
    Ok(base.map(|dir| dir.join("revenue-agents").join("config.toml")))
}

/// `~/x` as the home directory's `x`.
fn expand(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(rest),
            None => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}

/// The profile the command line (`--profile`), then `REVENUE_AGENTS_PROFILE`, then the file's
/// `default_profile` chooses; `None` when none is chosen.
pub(crate) fn chosen(flag: Option<&str>) -> Result<Option<Profile>, Failure> {
    let named = match flag {
        Some(name) => Some(name.to_owned()),
        None => setting::var("REVENUE_AGENTS_PROFILE").map_err(Failure::Api)?,
    };
    let Some(path) = path()? else {
        return match named {
            Some(name) => Err(config_error(format!(
                "profile {name:?} is asked for, but there is no config directory (set HOME or \
                 REVENUE_AGENTS_CONFIG)"
            ))),
            None => Ok(None),
        };
    };
    // The default place may hold no file; a file named by REVENUE_AGENTS_CONFIG must be there.
    let named_file = setting::var("REVENUE_AGENTS_CONFIG")
        .map_err(Failure::Api)?
        .is_some();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() && !named_file => {
            return Ok(None);
        }
        Err(e) => {
            return Err(config_error(format!("cannot read {}: {e}", path.display())));
        }
    };
    let file: File = toml::from_str(&text)
        .map_err(|e| config_error(format!("{} is not a config file: {e}", path.display())))?;
    let Some(name) = named.or(file.default_profile.clone()) else {
        return Ok(None);
    };
    let Some(entry) = file.profiles.get(&name) else {
        let known: Vec<&String> = file.profiles.keys().collect();
        return Err(config_error(format!(
            "{} has no profile {name:?}; it has {known:?}",
            path.display()
        )));
    };
    let secret = |variable: &Option<String>, file: &Option<PathBuf>, what: &str| {
        read_secret(variable.as_deref(), file.as_deref(), &name, what)
    };
    Ok(Some(Profile {
        hockeystack_base_url: entry.hockeystack_base_url.clone(),
        hockeystack_token: secret(
            &entry.hockeystack_token_env,
            &entry.hockeystack_token_file,
            "hockeystack_token",
        ),
        hyperrep_base_url: entry.hyperrep_base_url.clone(),
        hyperrep_key: secret(
            &entry.hyperrep_key_env,
            &entry.hyperrep_key_file,
            "hyperrep_key",
        ),
        hyperrep_organization_id: entry.hyperrep_organization_id.clone(),
        name,
    }))
}

/// A credential from the variable a profile names, or from a file only its owner can read.
fn read_secret(variable: Option<&str>, file: Option<&Path>, profile: &str, what: &str) -> Secret {
    match (variable, file) {
        (Some(_), Some(_)) => Err(format!(
            "profile {profile:?} gives {what} both as a variable and as a file; give one"
        )),
        (Some(variable), None) => match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_owned())),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(format!(
                "profile {profile:?} takes {what} from {variable}, which is not set"
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "profile {profile:?} takes {what} from {variable}, whose value is not valid UTF-8"
            )),
        },
        (None, Some(file)) => {
            let file = expand(file);
            owner_only(&file)
                .map_err(|why| format!("profile {profile:?}: {}: {why}", file.display()))?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("profile {profile:?}: cannot read {}: {e}", file.display()))?;
            Ok(Some(text.trim().to_owned()))
        }
        (None, None) => Ok(None),
    }
}

/// A file holding a credential is readable by its owner alone, as ssh asks of a key.
fn owner_only(file: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "others may read it (mode {:o}); chmod 600 it",
                mode & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
