//! The one TLS configuration behind every HTTPS connection we open: to AWS (DynamoDB, Secrets
//! Manager, SES) and to the booking systems.
//!
//! The trusted roots are Mozilla's, compiled in (`webpki-roots`), not read from the system's CA
//! store. Reading that store is what the HTTPS clients used to spend most of a cold start on:
//! about 4.5 ms to read and parse ~145 certificates (1.1 ms with only the bundle file, as on
//! Lambda's images), paid once by the AWS SDK's client and again by reqwest's, where the
//! compiled-in anchors cost microseconds (README, "Cold start"). The price is that a change to
//! the root set reaches production with a rebuild (`cargo update -p webpki-roots`), not with an
//! image patch; the anchors AWS endpoints chain to are checked by a test below.

use std::sync::{Arc, LazyLock};

/// A client configuration trusting Mozilla's root set, TLS 1.2 and 1.3 only, with AWS-LC's
/// cryptography. Built once per process (no I/O, no certificate parsing); each HTTP client
/// takes a copy, since reqwest takes the configuration by value.
pub fn client_config() -> rustls::ClientConfig {
    static CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        // Only fails for a provider without TLS 1.2/1.3 suites, which AWS-LC's default is not.
        .expect("AWS-LC supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
    });
    CONFIG.clone()
}

/// A server presenting a fresh self-signed certificate for `name`: one no root vouches for.
#[cfg(test)]
pub(crate) fn self_signed_server(name: &str) -> rustls::ServerConfig {
    let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subjects() -> Vec<String> {
        webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect()
    }

    #[test]
    fn the_roots_aws_endpoints_chain_to_are_trusted() {
        // AWS service endpoints present chains to Amazon Root CA 1–4, cross-signed by Starfield.
        let subjects = subjects();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(
                subjects.iter().any(|s| s.contains(name)),
                "{name} is missing from the compiled-in roots"
            );
        }
    }

    #[test]
    fn a_certificate_no_root_vouches_for_is_refused() {
        let server_name = rustls::pki_types::ServerName::try_from("api.vendor.example").unwrap();
        let mut client =
            rustls::ClientConnection::new(Arc::new(client_config()), server_name).unwrap();
        let mut server =
            rustls::ServerConnection::new(Arc::new(self_signed_server("api.vendor.example")))
                .unwrap();
        // The handshake in memory: pass bytes both ways until one side gives up.
        let outcome = loop {
            let mut wire = Vec::new();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut wire.as_slice()).unwrap();
            server
                .process_new_packets()
                .expect("the server accepts the client's hello");
            let mut wire = Vec::new();
            server.write_tls(&mut wire).unwrap();
            client.read_tls(&mut wire.as_slice()).unwrap();
            match client.process_new_packets() {
                Err(e) => break Err(e),
                Ok(_) if !client.is_handshaking() => break Ok(()),
                Ok(_) => {}
            }
        };
        assert_eq!(
            outcome,
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        );
    }

    #[test]
    fn the_whole_root_set_is_trusted_and_no_client_certificate_is_offered() {
        let config = client_config();
        assert!(!config.client_auth_cert_resolver.has_certs());
        // Mozilla's full list, not a hand-picked handful.
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }
}
