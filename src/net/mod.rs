//! The container's one HTTP client. BMS, Secrets Manager, SQS and CloudWatch share its TLS
//! configuration and its connection pool.
//!
//! The trusted roots are Mozilla's, compiled in (webpki-roots). The system's certificate store
//! would cost a cold start before its first call: a Debian image keeps about 290 files in
//! `/etc/ssl/certs`, read one by one (14 ms here), and even Lambda's image, one bundle file,
//! has to be read and parsed. BMS and AWS present certificates from public authorities, which
//! these roots hold. `BUTTON_EXTRA_CA_FILE` adds roots to them: a TLS-inspecting proxy's, or a
//! test server's.

mod ahead;
pub mod aws;

pub use ahead::OpenAhead;

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// A connection that cannot be made within this gives up, whatever the call's own timeout:
/// an unreachable endpoint is answered as such instead of holding the invocation.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The HTTP clients of the container, sharing one TLS configuration. Cloning is cheap and shares
/// the pools.
#[derive(Clone)]
pub struct Net {
    /// AWS: Secrets Manager, SQS, CloudWatch.
    http: reqwest::Client,
    /// BMS, with connections opened ahead of need.
    bms: reqwest::Client,
    ahead: OpenAhead,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").finish_non_exhaustive()
    }
}

impl Net {
    /// The clients, trusting the built-in roots and `extra_roots`.
    pub fn new(extra_roots: &[CertificateDer<'static>]) -> Result<Net, String> {
        let tls = tls_config(extra_roots)?;
        let ahead = OpenAhead::default();
        let built = |builder: reqwest::ClientBuilder| {
            builder
                .tls_backend_preconfigured(tls.clone())
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("kaseya-button/", env!("CARGO_PKG_VERSION")))
                // A redirect is an error, never followed: a 307 from the BMS login would
                // re-post the form, password and all, to wherever it points.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("the HTTP client could not be built: {e}"))
        };
        Ok(Net {
            http: built(reqwest::Client::builder())?,
            bms: built(reqwest::Client::builder().connector_layer(ahead.clone()))?,
            ahead,
        })
    }

    /// For AWS's services.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// For BMS.
    pub fn bms(&self) -> &reqwest::Client {
        &self.bms
    }

    /// Opens connections to BMS ahead of need (see [`OpenAhead`]).
    pub fn ahead(&self) -> &OpenAhead {
        &self.ahead
    }
}

/// TLS 1.2 and 1.3 with the built-in roots and `extra_roots`.
fn tls_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    add_roots(&mut roots, extra_roots)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS could not be set up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// The certificates of a PEM file (`BUTTON_EXTRA_CA_FILE`). The error says what is wrong with
/// the file, for the configuration's list of problems.
pub fn read_roots(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("is not a PEM file of certificates ({e})"))?;
    if certs.is_empty() {
        return Err("holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)".into());
    }
    // Checked here, so that a block that is no root is one more configuration problem.
    add_roots(&mut rustls::RootCertStore::empty(), &certs)
        .map_err(|e| format!("holds what cannot be trusted: {e}"))?;
    Ok(certs)
}

/// `certs` added to `roots`; the error names the first that is no usable root.
fn add_roots(
    roots: &mut rustls::RootCertStore,
    certs: &[CertificateDer<'static>],
) -> Result<(), String> {
    for (i, cert) in certs.iter().enumerate() {
        roots
            .add(cert.clone())
            .map_err(|e| format!("certificate {} is not a usable root ({e})", i + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_roots_make_a_client() {
        assert!(Net::new(&[]).is_ok());
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }

    #[test]
    fn a_file_without_certificates_is_refused_with_what_it_lacks() {
        let e = read_roots(b"not a certificate").unwrap_err();
        assert!(e.contains("holds no certificate"), "{e}");
        let e = read_roots(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert!(e.contains("is not a PEM file"), "{e}");
    }

    #[test]
    fn a_certificate_that_is_no_root_is_refused() {
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let e = Net::new(&[junk]).unwrap_err();
        assert!(e.contains("certificate 1 is not a usable root"), "{e}");
    }
}
