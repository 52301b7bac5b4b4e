//! Typed settings from a TOML file and the environment.
//!
//! Every service reads its configuration the same way: the file given on the command line
//! (if any), then environment variables `<PREFIX>__<SECTION>__<KEY>` on top, deserialised
//! into the service's own `Settings` struct; the service then checks what serde cannot.
//! Secrets (passwords, database URLs) are `secrecy::SecretString` fields of those structs,
//! so they never appear in a `Debug` print.

use std::path::Path;

use serde::de::DeserializeOwned;

/// The configuration could not be read or does not fit the settings' type.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the configuration: {0}")]
pub struct LoadError(#[from] config::ConfigError);

/// Reads `file` (when given; TOML) and then the environment variables that start with
/// `env_prefix` and `__` (e.g. `TRUYENTHONG_AGENT__NATS__URL` sets `nats.url`).
pub fn load<T: DeserializeOwned>(file: Option<&Path>, env_prefix: &str) -> Result<T, LoadError> {
    let mut builder = config::Config::builder();
    if let Some(file) = file {
        builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
    }
    Ok(builder
        .add_source(
            config::Environment::with_prefix(env_prefix)
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::GrpcSettings;

    #[derive(Debug, serde::Deserialize)]
    struct Example {
        name: String,
        #[serde(default)]
        grpc: GrpcSettings<50099>,
    }

    #[test]
    fn the_file_is_read_and_the_grpc_section_defaults_to_loopback_on_the_services_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.toml");
        std::fs::write(&path, "name = \"Trường THCS An Hòa\"\n").unwrap();
        let example: Example = load(Some(&path), "SERVICE_RUNTIME_TEST_NONE").unwrap();
        assert_eq!(example.name, "Trường THCS An Hòa");
        assert_eq!(example.grpc.listen.to_string(), "127.0.0.1:50099");
    }

    #[test]
    fn a_section_given_in_part_keeps_the_other_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.toml");
        std::fs::write(&path, "name = \"x\"\n[grpc]\nlisten = \"0.0.0.0:7000\"\n").unwrap();
        let example: Example = load(Some(&path), "SERVICE_RUNTIME_TEST_NONE").unwrap();
        assert_eq!(example.grpc.listen.port(), 7000);
    }

    #[test]
    fn a_missing_field_is_named() {
        let err = load::<Example>(None, "SERVICE_RUNTIME_TEST_NONE")
            .unwrap_err()
            .to_string();
        assert!(err.contains("name"), "{err}");
    }
}
