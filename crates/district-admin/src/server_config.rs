//! The district's nats-server configuration, rendered from the shipped template
//! (`deploy/nats/nats-server.conf.template`) and the registry of identities.
//!
//! Two files are written into the district's NATS directory: `nats-server.conf` (the server's
//! own settings: listen address, JetStream store and its bound, TLS, monitoring on the
//! loopback, lame duck) and `identities.conf` (one nkey user per active identity, with the
//! permissions `event_bus::permissions` defines), which the first includes. A change of
//! identities rewrites only the second; the running server picks it up on SIGHUP (`reload`).
//!
//! Why nkey users in a rendered file rather than operator/JWT mode: for a district of a few
//! dozen schools, one file the operator can read, on Debian's nats-server 2.9.10, with no
//! account resolver to run, is the simpler thing to keep working for years. ARCHITECTURE.md
//! says when to move to JWTs (a province gathering its districts).

use std::fmt::Write as _;
use std::path::Path;

use event_bus::permissions::{self, Permissions};

use crate::pki;
use crate::registry::{Identity, Kind, Registry, RegistryError};

/// The template, as shipped in `deploy/`.
pub const TEMPLATE: &str = include_str!("../../../deploy/nats/nats-server.conf.template");
/// The rendered files' names.
pub const CONFIG_FILE: &str = "nats-server.conf";
pub const IDENTITIES_FILE: &str = "identities.conf";

/// Why the configuration could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("không ghi được {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("mẫu cấu hình còn chỗ trống chưa điền: {0}")]
    Unfilled(String),
}

/// A double-quoted string of nats-server's configuration syntax.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The permissions of one identity of `registry`.
pub fn permissions_of(
    registry: &Registry,
    identity: &Identity,
) -> Result<Permissions, RegistryError> {
    let d = &registry.district;
    match identity.kind {
        Kind::School => Ok(permissions::school(
            &registry.school_address(&identity.name)?,
        )),
        Kind::Aggregator => {
            permissions::aggregator(&d.province, &d.district, &d.consumer).map_err(|e| {
                RegistryError::InvalidCode {
                    code: format!("{}/{}", d.province, d.district),
                    reason: e.to_string(),
                }
            })
        }
        Kind::Administrator => Ok(Permissions::everything()),
    }
}

/// `identities.conf`: every active identity as an nkey user with its permissions.
pub fn render_identities(registry: &Registry) -> Result<String, RegistryError> {
    let mut out = String::from(
        "# The district's NATS identities, rendered by district-admin from identities.toml.\n\
         # Do not edit: the next `district-admin` command replaces this file.\n\
         authorization {\n  users = [\n",
    );
    for identity in registry.active() {
        let p = permissions_of(registry, identity)?;
        let _ = writeln!(
            out,
            "    # {} ({}), key issued {}",
            identity.name,
            identity.kind.label_vi(),
            identity.issued_at.to_rfc3339()
        );
        let _ = writeln!(
            out,
            "    {{ nkey: {}, permissions: {{ publish: {{ allow: {} }}, subscribe: {{ allow: {} }}{} }} }}",
            quoted(&identity.public_key),
            list(&p.publish),
            list(&p.subscribe),
            if p.allow_responses {
                ", allow_responses: true"
            } else {
                ""
            }
        );
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}

/// `nats-server.conf` for the files of `dir`.
pub fn render_config(registry: &Registry, dir: &Path) -> Result<String, RenderError> {
    let s = &registry.server;
    let path = |name: &str| dir.join(name).display().to_string();
    let fills: [(&str, String); 13] = [
        ("province", registry.district.province.clone()),
        ("district", registry.district.district.clone()),
        ("server_name", s.server_name.clone()),
        ("listen", s.listen.clone()),
        ("monitor_port", s.monitor_port.to_string()),
        ("pid_file", s.pid_file.clone()),
        ("max_connections", s.max_connections.to_string()),
        ("lame_duck_duration", format!("{}s", s.lame_duck_seconds)),
        ("store_dir", s.store_dir.clone()),
        ("max_file_store", s.max_file_store.clone()),
        ("cert_file", path(pki::SERVER_CERT)),
        ("key_file", path(pki::SERVER_KEY)),
        // nats-server resolves an include next to the including file, absolute or not.
        ("identities_file", IDENTITIES_FILE.to_owned()),
    ];
    let mut text = TEMPLATE.to_owned();
    for (name, value) in &fills {
        // Values are written inside the template's own quotes: escape what would end them.
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        text = text.replace(&format!("{{{{{name}}}}}"), &escaped);
    }
    if let Some(start) = text.find("{{") {
        let rest = &text[start..];
        let end = rest.find("}}").map_or(rest.len(), |e| e + 2);
        return Err(RenderError::Unfilled(rest[..end].to_owned()));
    }
    Ok(text)
}

/// Writes both files into `dir`. Each is replaced atomically, so a server reloading at that
/// moment reads the old file or the new one, never half of one.
pub fn write(registry: &Registry, dir: &Path) -> Result<(), RenderError> {
    let identities = render_identities(registry)?;
    let config = render_config(registry, dir)?;
    replace(&dir.join(IDENTITIES_FILE), &identities)?;
    replace(&dir.join(CONFIG_FILE), &config)
}

fn replace(path: &Path, text: &str) -> Result<(), RenderError> {
    let write_error = |source| RenderError::Write {
        path: path.display().to_string(),
        source,
    };
    let temporary = path.with_extension("conf.new");
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;

    use super::*;

    fn registry() -> Registry {
        let mut r = crate::registry::sample();
        let now = Utc::now();
        r.issue("_admin", Kind::Administrator, "UADMIN".into(), now)
            .unwrap();
        r.issue("thcs-an-hoa", Kind::School, "UANHOA".into(), now)
            .unwrap();
        r.issue("thcs-phu-cuong", Kind::School, "UPHUCUONG".into(), now)
            .unwrap();
        r.revoke("thcs-phu-cuong", now).unwrap();
        r
    }

    #[test]
    fn revoked_identities_are_left_out_and_schools_get_their_own_subjects() {
        let text = render_identities(&registry()).unwrap();
        assert!(text.contains("nkey: \"UANHOA\""), "{text}");
        assert!(
            !text.contains("UPHUCUONG"),
            "a revoked key stays out:\n{text}"
        );
        assert!(text.contains(
            "publish: { allow: [\"truyenthong.events.dong-thap.tam-nong.thcs-an-hoa\", \"truyenthong.heads.dong-thap.tam-nong.thcs-an-hoa\", \"$O.tt-ev_dong-thap_tam-nong_thcs-an-hoa.>\""
        ), "{text}");
        assert!(text.contains("nkey: \"UADMIN\", permissions: { publish: { allow: [\">\"] }"));
    }

    #[test]
    fn every_placeholder_of_the_template_is_filled() {
        let text = render_config(&registry(), Path::new("/etc/truyenthong/nats")).unwrap();
        assert!(!text.contains("{{"), "{text}");
        assert!(text.contains("listen: \"0.0.0.0:4222\""));
        assert!(text.contains("http: \"127.0.0.1:8222\""));
        assert!(text.contains("lame_duck_duration: \"30s\""));
        assert!(text.contains("cert_file: \"/etc/truyenthong/nats/server.pem\""));
        assert!(text.contains("include \"identities.conf\""));
    }
}
