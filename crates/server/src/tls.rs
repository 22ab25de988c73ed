//! TLS on the listener (`tls = { cert = "…", key = "…" }`): rustls, HTTP/2 and HTTP/1.1 by
//! ALPN. The certificate is served through a resolver whose key can be swapped, so a reload
//! (SIGHUP) changes what new handshakes get and leaves open connections alone; a reload that
//! fails keeps the old certificate.

use crate::config::TlsFiles;
use rustls::{
    crypto::ring::{default_provider, sign::any_supported_type},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
    ServerConfig,
};
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::sync::{Arc, RwLock};

/// The certificate new handshakes get.
#[derive(Debug)]
pub struct Certificate {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    /// Reads the files; an error names the file and what is wrong with it.
    pub fn load(files: &TlsFiles) -> Result<Certificate, String> {
        let key = read(files)?;
        Ok(Certificate {
            files: files.clone(),
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Reads the files again: the new certificate from now on, or the reason the old one stays.
    pub fn reload(&self) -> Result<(), String> {
        let key = read(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// The listener's rustls configuration, serving whatever this holds.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, String> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}

fn read(files: &TlsFiles) -> Result<CertifiedKey, String> {
    let cert_path = files.cert.display();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("tls.cert: cannot read {cert_path}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls.cert: {cert_path} is not PEM certificates: {e}"))?;
    if chain.is_empty() {
        return Err(format!("tls.cert: {cert_path} holds no certificate"));
    }
    let key_path = files.key.display();
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("tls.key: cannot read a PEM private key from {key_path}: {e}"))?;
    let signing = any_supported_type(&key)
        .map_err(|e| format!("tls.key: {key_path} is not a key rustls can sign with: {e}"))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        format!("tls: the key in {key_path} does not match the certificate in {cert_path}: {e}")
    })?;
    Ok(certified)
}
