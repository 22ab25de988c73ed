//! TLS to PostgreSQL as the URL's `sslmode` asks: against servers of the tests' own with
//! certificates made here, each connection ivrhook opens is encrypted (PostgreSQL's
//! `pg_stat_ssl` says so), and a server that cannot prove who it is is refused at start-up.

use crate::{
    helpers::*,
    own_postgres::{OwnPostgres, ServerTls},
};
use ivrhook_server::{config::Config, Server};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::path::PathBuf;
use tempfile::TempDir;

/// A certificate authority, its certificate written where a URL's `sslrootcert` can name it.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
    file: PathBuf,
    _dir: TempDir,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        (params.distinguished_name).push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("root.crt");
        std::fs::write(&file, cert.pem()).unwrap();
        Authority {
            cert,
            key,
            file,
            _dir: dir,
        }
    }

    /// A server certificate for `names` signed by this authority.
    fn issue(&self, names: &[&str]) -> ServerTls {
        let key = KeyPair::generate().unwrap();
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let params = CertificateParams::new(names).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        ServerTls {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn root(&self) -> String {
        self.file.display().to_string()
    }
}

/// How many of ivrhook's connections to `pg` are encrypted, and how many are not.
async fn encrypted(pg: &OwnPostgres) -> (i64, i64) {
    let (client, conn) = tokio_postgres::connect(
        &format!("{}?sslmode=disable", pg.url()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'ivrhook'",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// ivrhook on `url` takes a report, and every connection it holds to `pg` is encrypted.
async fn serves_encrypted(pg: &OwnPostgres, url: &str) {
    let app = spawn_with_database(url, "").await;
    assert_eq!(
        app.post_callback(report("tls-1").to_string()).await.code,
        "000000"
    );
    assert!(!app.timeline("tls-1").await.is_empty());
    let (tls, clear) = encrypted(pg).await;
    assert!(
        tls > 0 && clear == 0,
        "{tls} encrypted, {clear} in the clear"
    );
    app.stop().await;
}

/// What starting ivrhook on `url` fails with, its causes joined.
async fn refused(url: &str) -> String {
    let text = format!("database = \"{url}\"\n");
    let config = Config::from_toml(&text, "test").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let Err(e) = Server::bind(config, listener).await else {
        panic!("ivrhook started on {url}");
    };
    let mut causes = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    causes.join(": ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_encrypts_and_verify_full_checks_the_chain_and_the_name() {
    let ca = Authority::new("ivrhook test root");
    let pg = OwnPostgres::start(Some(ca.issue(&["127.0.0.1", "localhost"]))).await;
    serves_encrypted(&pg, &format!("{}?sslmode=require", pg.url())).await;
    let full = format!("{}?sslmode=verify-full&sslrootcert={}", pg.url(), ca.root());
    serves_encrypted(&pg, &full).await;

    let stranger = Authority::new("another root");
    let wrong = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        pg.url(),
        stranger.root()
    );
    let why = refused(&wrong).await;
    assert!(why.contains("UnknownIssuer"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ca_takes_a_certificate_for_another_name_and_verify_full_does_not() {
    let ca = Authority::new("ivrhook test root");
    let pg = OwnPostgres::start(Some(ca.issue(&["db.example"]))).await;
    let url = |mode: &str| format!("{}?sslmode={mode}&sslrootcert={}", pg.url(), ca.root());
    let why = refused(&url("verify-full")).await;
    assert!(why.contains("not valid for name \"127.0.0.1\""), "{why}");
    serves_encrypted(&pg, &url("verify-ca")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_refuses_a_server_without_tls_and_bad_parameters_are_named() {
    let pg = OwnPostgres::start(None).await;
    let why = refused(&format!("{}?sslmode=require", pg.url())).await;
    assert!(why.contains("TLS"), "{why}");
    let why = refused(&format!("{}?sslmode=verify-everything", pg.url())).await;
    assert!(
        why.contains("sslmode=verify-everything: use disable, prefer"),
        "{why}"
    );
    let why = refused(&format!(
        "{}?sslmode=verify-full&sslrootcert=/nonexistent.crt",
        pg.url()
    ))
    .await;
    assert!(
        why.contains("sslrootcert=/nonexistent.crt, which cannot be read"),
        "{why}"
    );
    let why = refused(&format!("{}?sslmode=require&sslcert=/c.crt", pg.url())).await;
    assert!(why.contains("sslcert: client certificates"), "{why}");
}
