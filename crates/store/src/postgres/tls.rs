//! The connection settings a PostgreSQL URL gives, with TLS as its `sslmode` asks (rustls).
//!
//! `sslmode` means what it means to libpq, but for the default: without one, ivrhook
//! connects in the clear, as it always has (libpq's default, `prefer`, encrypts without
//! checking the server, which guards against no one who can change the traffic).
//! - `disable`: no TLS. `prefer`: TLS when the server offers it. `require`: TLS or no
//!   connection. These two do not check the server's certificate, unless `sslrootcert`
//!   names roots: then its chain must lead to one (`verify-ca`).
//! - `verify-ca`: the chain must lead to a root of `sslrootcert`; `verify-full`: that, and
//!   the certificate must name the host. Roots are `sslrootcert=<PEM file>`, or the system's
//!   (`sslrootcert=system`, the default).

use super::verify::{AnyCertificate, AnyName};
use crate::StoreError;
use percent_encoding::percent_decode_str;
use rustls::{client::WebPkiServerVerifier, ClientConfig, RootCertStore};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use std::sync::Arc;
use tokio_postgres::config::{Config, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Where to connect and how: what every connection ivrhook opens is made from.
#[derive(Clone)]
pub(crate) struct Connect {
    pub config: Config,
    pub tls: MakeRustlsConnect,
}

/// The settings (tokio-postgres hides the password); the TLS client has nothing to show.
impl std::fmt::Debug for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connect")
            .field("config", &self.config)
            .finish()
    }
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// The URL's TLS parameters, taken out of it (tokio-postgres knows only some of them).
struct Wanted {
    mode: SslMode,
    check: Check,
    roots: Option<String>,
}

impl Connect {
    /// Parses a `postgres://` URL; an error names the parameter and why.
    pub fn parse(url: &str) -> Result<Connect, StoreError> {
        let bad = |reason: String| StoreError::BadUrl {
            url: format!("{:?}", crate::DatabaseUrl::Postgres(url.to_owned())),
            reason,
        };
        let (rest, wanted) = take_tls_params(url).map_err(bad)?;
        let mut config: Config = rest
            .parse()
            .map_err(|e| bad(format!("is not a PostgreSQL URL: {e}")))?;
        config.ssl_mode(wanted.mode);
        let tls = client_config(&wanted).map_err(bad)?;
        Ok(Connect {
            config,
            tls: MakeRustlsConnect::new(tls),
        })
    }
}

fn take_tls_params(url: &str) -> Result<(String, Wanted), String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut roots, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => mode = Some(value),
            "sslrootcert" => roots = Some(value),
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "sets {key}: client certificates and revocation lists are not supported"
                ))
            }
            _ => kept.push(pair),
        }
    }
    let (mode, check) = match (mode.as_deref(), roots.is_some()) {
        (None | Some("disable"), _) => (SslMode::Disable, Check::Nothing),
        (Some("prefer"), false) => (SslMode::Prefer, Check::Nothing),
        (Some("prefer"), true) => (SslMode::Prefer, Check::Chain),
        (Some("require"), false) => (SslMode::Require, Check::Nothing),
        (Some("require"), true) | (Some("verify-ca"), _) => (SslMode::Require, Check::Chain),
        (Some("verify-full"), _) => (SslMode::Require, Check::ChainAndName),
        (Some(other), _) => {
            return Err(format!(
                "has sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
            ))
        }
    };
    let rest = match kept.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", kept.join("&")),
    };
    Ok((rest, Wanted { mode, check, roots }))
}

fn client_config(wanted: &Wanted) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = match wanted.check {
        Check::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
        check => {
            let roots = Arc::new(roots(wanted.roots.as_deref())?);
            let chain = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| format!("sslrootcert: {e}"))?;
            match check {
                Check::ChainAndName => builder.with_webpki_verifier(chain),
                _ => builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName(chain))),
            }
        }
    };
    Ok(config.with_no_client_auth())
}

fn roots(file: Option<&str>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match file {
        None | Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(
                    "verifies the server, but the system has no root certificates: \
                            name a PEM file with sslrootcert=/path/to/root.crt"
                        .into(),
                );
            }
        }
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("has sslrootcert={path}, which cannot be read: {e}"))?;
            store.add_parsable_certificates(certs);
            if store.is_empty() {
                return Err(format!(
                    "has sslrootcert={path}, which holds no certificate"
                ));
            }
        }
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_and_the_rest_kept() {
        let url =
            "postgres://u:p@h/db?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Fa%20b.crt";
        let (rest, wanted) = take_tls_params(url).unwrap();
        assert_eq!(rest, "postgres://u:p@h/db?connect_timeout=3");
        assert_eq!(wanted.check, Check::ChainAndName);
        assert_eq!(wanted.roots.as_deref(), Some("/a b.crt"));
        let (rest, wanted) = take_tls_params("postgres://h/db").unwrap();
        assert_eq!(
            (rest.as_str(), wanted.mode),
            ("postgres://h/db", SslMode::Disable)
        );
        let (_, wanted) = take_tls_params("postgres://h/db?sslmode=require").unwrap();
        assert_eq!(
            (wanted.mode, wanted.check),
            (SslMode::Require, Check::Nothing)
        );
    }

    #[test]
    fn a_url_with_a_password_shows_it_in_no_error() {
        let e = Connect::parse("postgres://u:hunter2@h/db?sslmode=sometimes").unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("sslmode=sometimes"),
            "{shown}"
        );
    }
}
