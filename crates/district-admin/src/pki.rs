//! The district's own certificate authority, and the server certificates it signs.
//!
//! Every link that leaves a machine is TLS with the district's CA: a school's agent trusts
//! `ca.pem` (handed over with its key) and nothing else, so a man in the middle on a rural
//! line cannot pose as the district server. The CA's private key is the district's most
//! sensitive file: it stays in `ca.key` (0600) on the district server, never in PostgreSQL
//! or a log.
//!
//! The CA certificate is made once. A server certificate is signed again whenever the
//! server's names change; the issuer is rebuilt from the CA's key and its fixed subject,
//! which gives the same issuer name and key identifier as the certificate made at first.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::secret_file::{self, SecretFileError};

/// File names inside the district's NATS directory.
pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca.key";
pub const SERVER_CERT: &str = "server.pem";
pub const SERVER_KEY: &str = "server.key";

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("không tạo được chứng thư: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error(transparent)]
    Secret(#[from] SecretFileError),
    #[error("không ghi được {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Validity from the day before `today` (clocks of school PCs drift) for `years`.
fn validity(params: &mut CertificateParams, today: NaiveDate, years: i32) {
    let start = today.pred_opt().unwrap_or(today);
    params.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    // 28 February exists every year, so the end date is valid whatever the start was.
    params.not_after = rcgen::date_time_ymd(
        start.year() + years,
        start.month() as u8,
        start.day().min(28) as u8,
    );
}

/// The CA's subject: fixed, so that the issuer can be rebuilt from the key alone.
fn ca_params(district_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        format!("{district_name} — CA truyenthong"),
    );
    name.push(DnType::OrganizationName, district_name);
    name.push(DnType::CountryName, "VN");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Where the CA's files are.
#[derive(Debug, Clone)]
pub struct CaFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CaFiles {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            cert: dir.join(CA_CERT),
            key: dir.join(CA_KEY),
        }
    }
}

/// Makes the CA in `dir` unless it is there already; returns whether it was made.
/// The CA is valid for twenty years: a district runs the system through several plan periods.
pub fn ensure_ca(dir: &Path, district_name: &str, today: NaiveDate) -> Result<bool, PkiError> {
    let files = CaFiles::in_dir(dir);
    if files.cert.is_file() && files.key.is_file() {
        return Ok(false);
    }
    let key = KeyPair::generate()?;
    let mut params = ca_params(district_name)?;
    validity(&mut params, today, 20);
    let cert = params.self_signed(&key)?;
    secret_file::create(&files.key, &key.serialize_pem())?;
    std::fs::write(&files.cert, cert.pem()).map_err(|source| PkiError::Write {
        path: files.cert.display().to_string(),
        source,
    })?;
    Ok(true)
}

/// Signs a server certificate for `names` (host names and IP addresses the clients dial)
/// with the CA of `dir`, writing `server.pem` and `server.key` (replacing older ones); valid
/// for five years.
pub fn issue_server_certificate(
    dir: &Path,
    district_name: &str,
    names: &[String],
    today: NaiveDate,
) -> Result<(), PkiError> {
    issue_certificate_files(
        dir,
        Some(district_name),
        names,
        today,
        &dir.join(SERVER_CERT),
        &dir.join(SERVER_KEY),
    )
}

/// The certificate and key files of a gRPC server (`grpc/<service>.pem`, `.key`).
#[derive(Debug, Clone)]
pub struct ServiceCertificate {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// Signs a certificate for the gRPC server of `service` (`aggregator`, `reporting`, a
/// school's agent) for `names`, with the CA of `dir`, into `dir/grpc/<service>.pem` and
/// `.key` (replacing older ones); valid for five years. The same CA as the NATS server's:
/// one trust root for every link of the district.
pub fn issue_service_certificate(
    dir: &Path,
    service: &str,
    names: &[String],
    today: NaiveDate,
) -> Result<ServiceCertificate, PkiError> {
    let grpc = dir.join("grpc");
    std::fs::create_dir_all(&grpc).map_err(|source| PkiError::Write {
        path: grpc.display().to_string(),
        source,
    })?;
    let files = ServiceCertificate {
        certificate: grpc.join(format!("{service}.pem")),
        key: grpc.join(format!("{service}.key")),
    };
    issue_certificate_files(dir, None, names, today, &files.certificate, &files.key)?;
    Ok(files)
}

fn issue_certificate_files(
    dir: &Path,
    organisation: Option<&str>,
    names: &[String],
    today: NaiveDate,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(), PkiError> {
    let files = CaFiles::in_dir(dir);
    let ca_key = KeyPair::from_pem(&secret_file::read(&files.key)?)?;
    // The issuer as the CA certificate itself names it, so a leaf always chains to the CA
    // on disk whatever name a later command is given.
    let issuer = Issuer::from_ca_cert_pem(&read_public(&files.cert)?, ca_key)?;

    let mut params = CertificateParams::new(names.to_vec())?;
    let mut subject = DistinguishedName::new();
    subject.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "nats".into()),
    );
    if let Some(organisation) = organisation {
        subject.push(DnType::OrganizationName, organisation);
    }
    params.distinguished_name = subject;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params, today, 5);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    secret_file::replace(key_path, &key.serialize_pem())?;
    // The server presents its certificate and then the CA's, so a client that trusts the CA
    // can check the chain without fetching anything.
    let chain = format!("{}{}", cert.pem(), read_public(&files.cert)?);
    std::fs::write(cert_path, chain).map_err(|source| PkiError::Write {
        path: cert_path.display().to_string(),
        source,
    })
}

fn read_public(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Write {
        path: path.display().to_string(),
        source,
    })
}
