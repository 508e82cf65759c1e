//! TLS for `https://` targets (rustls with the ring provider, no OpenSSL).
//!
//! One client configuration is built per endpoint, when its URL is parsed,
//! and shared by every connection of its pool: a connection pays for its
//! handshake once and is then kept alive like a plain one. Trust is the
//! system's store (`rustls-native-certs`: what curl and the OS trust, with
//! a site's own CAs), replaced by a PEM bundle with `--cacert` (as curl's
//! option does), or switched off with `--insecure` (the handshake's
//! signatures are still checked, the certificate chain and name are not).
//! The stand-in server's listener config lives here too, so the tests run a
//! real TLS load.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// What the user said about trust (`--cacert`, `--insecure`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsOptions {
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
}

/// Whose certificates an https endpoint trusts.
#[derive(Debug, Clone, PartialEq)]
pub enum Trust {
    System,
    CaFile(PathBuf),
    Insecure,
}

/// An https endpoint's client configuration, built once.
#[derive(Clone)]
pub struct Tls {
    pub trust: Trust,
    connector: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("trust", &self.trust).finish()
    }
}

/// Two endpoints are the same when they trust the same certificates.
impl PartialEq for Tls {
    fn eq(&self, other: &Self) -> bool {
        self.trust == other.trust
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TlsError {
    #[error("--cacert '{0}': cannot read it: {1}")]
    CaRead(String, String),
    #[error(
        "--cacert '{0}': no PEM certificate in it (expected '-----BEGIN CERTIFICATE-----' blocks)"
    )]
    CaEmpty(String),
    #[error("--cacert '{0}': {1}")]
    CaBad(String, String),
    #[error("no trusted root certificates found on this system ({0}); pass --cacert FILE with the CA that signed the server's certificate")]
    NoSystemRoots(String),
    #[error("TLS set-up: {0}")]
    Config(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

static INSECURE_WARNING: Once = Once::new();

impl Tls {
    /// The client configuration for `opts`; with `--insecure` a warning is printed once per process.
    pub fn new(opts: &TlsOptions) -> Result<Tls, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let (trust, mut config) = if opts.insecure {
            INSECURE_WARNING.call_once(|| {
                crate::say!("tokbench: warning: --insecure: the server's TLS certificate is not verified (its identity is not checked)");
            });
            let verifier = Arc::new(NoVerify(provider()));
            let c = builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            (Trust::Insecure, c)
        } else {
            let (trust, roots) = match &opts.cacert {
                Some(p) => (Trust::CaFile(p.clone()), ca_file_roots(p)?),
                None => (Trust::System, system_roots()?),
            };
            let c = builder.with_root_certificates(roots).with_no_client_auth();
            (trust, c)
        };
        // tokbench speaks HTTP/1.1 only: say so, so a server offering h2 does not pick it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            trust,
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// The TLS handshake over `stream`, with SNI from `host` (none for an IP address).
    pub async fn connect(
        &self,
        host: &str,
        stream: tokio::net::TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| format!("'{host}' is not a host name TLS accepts: {e}"))?;
        self.connector
            .connect(name, stream)
            .await
            .map_err(|e| explain(&e, self.trust == Trust::System))
    }
}

/// A failed handshake in words a user can act on.
fn explain(e: &std::io::Error, system: bool) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let trust_hint = if system {
        "pass --cacert FILE with the certificate (or the CA that signed it) to trust it, or --insecure to skip verification"
    } else {
        "check that --cacert names the certificate (or the CA that signed it), or pass --insecure to skip verification"
    };
    match inner {
        Some(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. },
        )) => format!(
            "TLS: the server's certificate is not valid for this host name ({e}); connect by a name the certificate carries, or pass --insecure"
        ),
        Some(rustls::Error::InvalidCertificate(_)) => {
            format!("TLS: the server's certificate is not trusted ({e}); {trust_hint}")
        }
        Some(rustls::Error::InvalidMessage(_)) => format!(
            "TLS handshake failed: {e} (does this port serve https? use http:// for a plain server)"
        ),
        _ => format!("TLS handshake failed: {e}"),
    }
}

fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "the system's certificate store is empty".into());
        return Err(TlsError::NoSystemRoots(why));
    }
    Ok(roots)
}

/// The certificates of a PEM bundle.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| TlsError::CaRead(shown.clone(), e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::CaBad(shown.clone(), format!("not a readable PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::CaEmpty(shown));
    }
    Ok(certs)
}

fn ca_file_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in read_certs(path)? {
        roots.add(c).map_err(|e| {
            TlsError::CaBad(
                path.display().to_string(),
                format!("a certificate is not usable as a trust anchor: {e}"),
            )
        })?;
    }
    Ok(roots)
}

/// `--insecure`: any certificate, but the handshake's signatures are still checked.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS listener's configuration from a PEM certificate chain and key (the stand-in's).
pub fn server_config(cert_pem: &str, key_pem: &str) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Config(format!("stand-in certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| TlsError::Config(format!("stand-in key: {e}")))?;
    let mut c = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| TlsError::Config(e.to_string()))?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cacert_errors_name_the_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let opts = |p: &Path| TlsOptions {
            cacert: Some(p.to_path_buf()),
            insecure: false,
        };
        let e = Tls::new(&opts(&missing)).unwrap_err();
        assert!(
            matches!(&e, TlsError::CaRead(p, _) if p.ends_with("nope.pem")),
            "{e}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = Tls::new(&opts(&empty)).unwrap_err();
        assert!(matches!(e, TlsError::CaEmpty(_)), "{e}");
        assert!(e.to_string().contains("BEGIN CERTIFICATE"), "{e}");
    }

    #[test]
    fn insecure_and_cacert_say_whom_they_trust() {
        let t = Tls::new(&TlsOptions {
            cacert: None,
            insecure: true,
        })
        .unwrap();
        assert_eq!(t.trust, Trust::Insecure);
        let k = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, k.cert.pem()).unwrap();
        let t = Tls::new(&TlsOptions {
            cacert: Some(pem.clone()),
            insecure: false,
        })
        .unwrap();
        assert_eq!(t.trust, Trust::CaFile(pem));
        assert!(server_config(&k.cert.pem(), &k.signing_key.serialize_pem()).is_ok());
        assert!(server_config("junk", "junk").is_err());
    }
}
