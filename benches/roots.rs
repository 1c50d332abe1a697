//! What trusting the usual certificate authorities costs a cold start before its first HTTPS
//! call, three ways:
//!
//! - the roots compiled in (webpki-roots), which the function uses: no file is read;
//! - one bundle file read and parsed, as Lambda's `provided.al2023` image holds them
//!   (`/etc/pki/tls/certs/ca-bundle.crt`; Debian's `/etc/ssl/certs/ca-certificates.crt`, the
//!   same Mozilla set, stands in for it here);
//! - the system store as `rustls-native-certs` reads it (the bundle, then every file of the
//!   certificate directory: about 290 on Debian), what the AWS SDK's own HTTP client does.
//!
//! The files are in the page cache after the first iteration; a real cold start reads them from
//! disk, so these are lower bounds for the two that read files.
//!
//!     cargo bench --bench roots

use criterion::{Criterion, criterion_group, criterion_main};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn roots(c: &mut Criterion) {
    let mut group = c.benchmark_group("roots");
    group.bench_function("compiled in (webpki-roots)", |b| {
        b.iter(|| RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
    });
    if std::path::Path::new(BUNDLE).is_file() {
        group.bench_function("one bundle file, read and parsed", |b| {
            b.iter(|| {
                let mut store = RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(BUNDLE)
                    .map(|certs| certs.filter_map(Result::ok).collect::<Vec<_>>())
                    .unwrap_or_default();
                store.add_parsable_certificates(certs);
                store
            })
        });
        group.bench_function("system store (rustls-native-certs)", |b| {
            b.iter(|| {
                let mut store = RootCertStore::empty();
                store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                store
            })
        });
    } else {
        eprintln!("{BUNDLE} not found: only the compiled-in roots are measured");
    }
    group.finish();
}

criterion_group!(benches, roots);
criterion_main!(benches);
