//! How the adapters are configured: each system's API base and allowed hosts, the check's
//! deadline, and the sandbox for local runs.
//!
//! Configuration ([`VendorsConfig::from_env`]):
//! - `VENDOR_BASE_URL_PASIENTSKY`, `VENDOR_BASE_URL_EASYPRACTICE`, `VENDOR_BASE_URL_PHYSICA`,
//!   `VENDOR_BASE_URL_PSYKBASE`, `VENDOR_BASE_URL_HANO`, `VENDOR_BASE_URL_KONFIDENS`: the API
//!   base per vendor. Must be `https` on a host in the system's catalog `allowed_hosts`.
//!   Pasientsky and EasyPractice default to their public production APIs; the four vendors with
//!   an unconfirmed contract have no default, and their checks report `vendor_not_configured`
//!   until one is set. Extensor has none: it calls the administrator's booking URL. An empty
//!   value is the same as none.
//! - `VENDOR_ALLOWED_HOSTS_PHYSICA`, `VENDOR_ALLOWED_HOSTS_PSYKBASE`: the hosts those adapters
//!   may call, comma-separated (`api.example.no`, `*.example.no`), replacing the catalog's
//!   default (`*.aspit.no`), which no vendor has confirmed. Only systems whose catalog entry says
//!   `allowed_hosts_configurable` take one; for any other system the variable is refused.
//! - `VENDOR_TIMEOUT_MS`: the deadline for a whole check (default 8000, at most 9000 so a check
//!   stays under 10 s). The connect timeout is 3 s or the deadline, whichever is shorter.
//! - `VENDOR_SANDBOX_URL=http://127.0.0.1:PORT`: local development and tests only, never set in
//!   the SAM template. Every adapter then calls `{sandbox}/{system id}/...` instead of its base,
//!   and plain http is allowed to exactly that loopback origin. An Extensor booking URL is first
//!   checked as typed (https, Extensor host, no IP/userinfo/port) and then sent to
//!   `{sandbox}/extensor{path}?{query}` — the DNS half of the guard is not exercised then; its
//!   unit tests cover it.

use super::Vendors;
use super::outbound::{self, GuardedResolver, Outbound, SandboxOrigin, check_outbound_url};
use crate::catalog;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {reason}")]
    Invalid { var: String, reason: String },
    #[error("building the HTTP client failed: {0}")]
    Client(#[from] reqwest::Error),
}

#[derive(Clone, Debug)]
pub struct VendorsConfig {
    /// Base URL overrides by system id.
    pub base_urls: HashMap<String, String>,
    /// Allowed-host overrides by system id (raw, comma-separated patterns).
    pub allowed_hosts: HashMap<String, String>,
    pub sandbox_url: Option<String>,
    pub deadline: Duration,
}

pub const MAX_DEADLINE: Duration = Duration::from_millis(9000);

impl Default for VendorsConfig {
    fn default() -> Self {
        VendorsConfig {
            base_urls: HashMap::new(),
            allowed_hosts: HashMap::new(),
            sandbox_url: None,
            deadline: outbound::DEFAULT_DEADLINE,
        }
    }
}

impl VendorsConfig {
    pub fn from_env() -> Result<VendorsConfig, ConfigError> {
        let mut config = VendorsConfig::default();
        for system in catalog::systems() {
            let set = |var: String| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
            if let Some(value) = set(base_url_var(system.id)) {
                config.base_urls.insert(system.id.to_owned(), value);
            }
            if let Some(value) = set(allowed_hosts_var(system.id)) {
                config.allowed_hosts.insert(system.id.to_owned(), value);
            }
        }
        config.sandbox_url = std::env::var("VENDOR_SANDBOX_URL")
            .ok()
            .filter(|v| !v.is_empty());
        if let Ok(ms) = std::env::var("VENDOR_TIMEOUT_MS") {
            let ms: u64 = ms.parse().map_err(|_| ConfigError::Invalid {
                var: "VENDOR_TIMEOUT_MS".into(),
                reason: "not a number of milliseconds".into(),
            })?;
            config.deadline = Duration::from_millis(ms);
        }
        Ok(config)
    }

    /// Every adapter pointed at a local sandbox, e.g. `http://127.0.0.1:41234`.
    pub fn sandbox(url: &str, deadline: Duration) -> VendorsConfig {
        VendorsConfig {
            sandbox_url: Some(url.to_owned()),
            deadline,
            ..VendorsConfig::default()
        }
    }
}

/// `VENDOR_BASE_URL_` + the upper-cased system id.
pub fn base_url_var(system_id: &str) -> String {
    format!("VENDOR_BASE_URL_{}", system_id.to_ascii_uppercase())
}

/// `VENDOR_ALLOWED_HOSTS_` + the upper-cased system id.
pub fn allowed_hosts_var(system_id: &str) -> String {
    format!("VENDOR_ALLOWED_HOSTS_{}", system_id.to_ascii_uppercase())
}

/// Parses an allowed-hosts setting: comma-separated host names, each optionally `*.` for its
/// subdomains. Names are lower-cased; IP addresses, single labels and a wildcard over a bare
/// top-level domain (`*.no`) are refused.
pub fn parse_allowed_hosts(raw: &str) -> Result<Vec<String>, String> {
    let mut hosts = Vec::new();
    for pattern in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pattern = pattern.to_ascii_lowercase();
        let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let top_is_alpha = labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_alphabetic()));
        if labels.len() < 2 || !labels.iter().all(label_ok) || !top_is_alpha {
            return Err(format!(
                "{pattern:?} is not a host name like api.example.no or *.example.no"
            ));
        }
        hosts.push(pattern);
    }
    if hosts.is_empty() {
        return Err("no host given".into());
    }
    Ok(hosts)
}

impl Vendors {
    pub fn from_env() -> Result<Vendors, ConfigError> {
        Vendors::new(VendorsConfig::from_env()?)
    }

    pub fn new(config: VendorsConfig) -> Result<Vendors, ConfigError> {
        let sandbox = match &config.sandbox_url {
            None => None,
            Some(raw) => Some(
                SandboxOrigin::parse(raw).ok_or_else(|| ConfigError::Invalid {
                    var: "VENDOR_SANDBOX_URL".into(),
                    reason: "must be http://127.0.0.1:PORT or http://[::1]:PORT".into(),
                })?,
            ),
        };
        let mut bases = HashMap::new();
        let mut hosts = HashMap::new();
        for system in catalog::systems() {
            let allowed = match config.allowed_hosts.get(system.id) {
                None => system.allowed_hosts.iter().map(|h| h.to_string()).collect(),
                Some(_) if !system.allowed_hosts_configurable => {
                    return Err(ConfigError::Invalid {
                        var: allowed_hosts_var(system.id),
                        reason: "this system's hosts are not a setting".into(),
                    });
                }
                Some(raw) => parse_allowed_hosts(raw).map_err(|reason| ConfigError::Invalid {
                    var: allowed_hosts_var(system.id),
                    reason,
                })?,
            };
            let allowed_refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
            let raw = config
                .base_urls
                .get(system.id)
                .map(String::as_str)
                .or(system.default_base_url);
            let checked = raw.map(|raw| {
                check_outbound_url(&allowed_refs, raw.trim_end_matches('/')).map_err(|code| {
                    ConfigError::Invalid {
                        var: base_url_var(system.id),
                        reason: format!("{code}: must be https on {}", allowed.join(", ")),
                    }
                })
            });
            if let Some(url) = checked.transpose()? {
                bases.insert(system.id, url);
            }
            hosts.insert(system.id, allowed);
        }
        let deadline = config.deadline.min(MAX_DEADLINE);
        let connect = outbound::DEFAULT_CONNECT_TIMEOUT.min(deadline);
        let (sandbox_origin, sandbox_base) = sandbox.unzip();
        let outbound = Outbound::new(connect, deadline, sandbox_origin, GuardedResolver::system())?;
        Ok(Vendors {
            outbound,
            bases,
            hosts,
            sandbox_base,
            clock: std::sync::Arc::new(crate::clock::SystemClock),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why a configuration was refused, as its message says it (`<variable>: <reason>`).
    fn refusal(result: Result<Vendors, ConfigError>) -> String {
        result
            .err()
            .expect("the configuration is refused")
            .to_string()
    }

    #[test]
    fn config_refuses_bases_off_the_allow_list() {
        let base = |url: &str| {
            let mut config = VendorsConfig::default();
            config.base_urls.insert("hano".into(), url.into());
            Vendors::new(config)
        };
        assert!(
            refusal(base("https://api.hano.no.evil.com"))
                .starts_with("VENDOR_BASE_URL_HANO: host_not_allowed: must be https on *.hano.no")
        );
        assert!(
            refusal(base("http://api.hano.no"))
                .starts_with("VENDOR_BASE_URL_HANO: https_required:")
        );
        assert!(base("https://api.hano.no/v").is_ok());
        assert!(
            refusal(Vendors::new(VendorsConfig::sandbox(
                "http://localhost:1",
                MAX_DEADLINE
            )))
            .starts_with("VENDOR_SANDBOX_URL: must be http://127.0.0.1:PORT")
        );
    }

    #[test]
    fn allowed_hosts_are_a_setting_where_no_vendor_confirmed_them() {
        assert_eq!(
            parse_allowed_hosts(" API.Physica.no , *.physica.no ").unwrap(),
            ["api.physica.no", "*.physica.no"]
        );
        for bad in [
            "",
            " , ",
            "*",
            "*.no",
            "no",
            "127.0.0.1",
            "a..b.no",
            "-a.no",
            "a_b.no",
            "https://x.no",
        ] {
            let reason = parse_allowed_hosts(bad).unwrap_err();
            assert!(
                reason == "no host given"
                    || reason.ends_with("is not a host name like api.example.no or *.example.no"),
                "{bad:?}: {reason}"
            );
        }
        let config = |system: &str, hosts: &str, base: Option<&str>| {
            let mut config = VendorsConfig::default();
            config.allowed_hosts.insert(system.into(), hosts.into());
            if let Some(base) = base {
                config.base_urls.insert(system.into(), base.into());
            }
            Vendors::new(config)
        };
        // The default (`*.aspit.no`) is replaced, not extended.
        let vendors = config("physica", "*.physica.no", Some("https://api.physica.no/v")).unwrap();
        assert_eq!(vendors.hosts["physica"], ["*.physica.no"]);
        assert_eq!(vendors.hosts["psykbase"], ["*.aspit.no"]);
        assert!(
            refusal(config(
                "physica",
                "*.physica.no",
                Some("https://api.aspit.no")
            ))
            .starts_with(
                "VENDOR_BASE_URL_PHYSICA: host_not_allowed: must be https on *.physica.no"
            )
        );
        assert!(
            config(
                "psykbase",
                "api.psykbase.no",
                Some("https://api.psykbase.no")
            )
            .is_ok()
        );
        assert!(
            refusal(config("psykbase", "*", None))
                .starts_with("VENDOR_ALLOWED_HOSTS_PSYKBASE: \"*\" is not a host name")
        );
        // Systems with confirmed (or typed) hosts do not take the setting.
        for system in [
            "extensor",
            "pasientsky",
            "easypractice",
            "hano",
            "konfidens",
        ] {
            let error = config(system, "*.example.no", None)
                .err()
                .unwrap()
                .to_string();
            assert!(error.starts_with(&allowed_hosts_var(system)), "{error}");
        }
        let defaults = Vendors::new(VendorsConfig::default()).unwrap();
        for system in catalog::systems() {
            assert_eq!(defaults.hosts[system.id], system.allowed_hosts);
        }
    }
}
