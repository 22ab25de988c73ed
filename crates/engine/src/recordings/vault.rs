//! The recordings store and the keys in it. An object appears under its key only once it is
//! whole (a directory's upload is a staged file renamed into place, synced; S3's a multipart
//! upload completed), so an object under a key is never partial.

use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path, prefix::PrefixStore, GetOptions,
    GetRange, GetResult, ObjectStore, ObjectStoreExt, WriteMultipart,
};
use sha2::{Digest, Sha256};
use std::{ops::Range, sync::Arc};

/// Where recordings are kept (`[recordings] store`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `file:///var/lib/ivrhook/recordings`: a directory (absolute), made with its first
    /// recording.
    Directory(std::path::PathBuf),
    /// `s3://bucket/prefix`.
    S3(S3Location),
}

/// An S3-compatible bucket; what is not set here comes from the `AWS_*` environment.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// Keys start with this (no leading or trailing slash); may be empty.
    pub prefix: String,
    /// The service's URL, for storage other than AWS's (`http://127.0.0.1:8333`).
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The access key's id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
    /// Whether an `http://` endpoint may be used.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

/// The recordings store could not be opened: the object store refused its settings.
#[derive(Debug, thiserror::Error)]
#[error("recordings store: {0}")]
pub struct VaultError(#[from] object_store::Error);

/// The recordings store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Vault {
    objects: Arc<dyn ObjectStore>,
    part_size: usize,
    shown: String,
    /// A directory store's directory.
    directory: Option<std::path::PathBuf>,
}

impl Vault {
    /// Opens `location`. Nothing is made or connected to yet: a directory is made with its
    /// first recording, S3 is reached with the first request.
    pub fn open(location: &Location) -> Result<Vault, VaultError> {
        match location {
            Location::Directory(path) => {
                let local = LocalFileSystem::new().with_fsync(true);
                let root = Path::from(path.to_string_lossy().as_ref());
                Ok(Vault {
                    objects: Arc::new(PrefixStore::new(local, root)),
                    // A file takes parts of any size: small ones keep memory low.
                    part_size: 256 << 10,
                    shown: format!("file://{}", path.display()),
                    directory: Some(path.clone()),
                })
            }
            Location::S3(s3) => Vault::s3(s3),
        }
    }

    fn s3(s3: &S3Location) -> Result<Vault, VaultError> {
        // The S3 client is reqwest's, built without a TLS provider of its own.
        crate::kinds::http::use_ring_for_tls();
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_allow_http(s3.allow_http);
        let set = [
            (
                &s3.endpoint,
                AmazonS3Builder::with_endpoint as fn(_, String) -> _,
            ),
            (&s3.region, AmazonS3Builder::with_region),
            (&s3.access_key_id, AmazonS3Builder::with_access_key_id),
            (
                &s3.secret_access_key,
                AmazonS3Builder::with_secret_access_key,
            ),
        ];
        for (value, with) in set {
            if let Some(v) = value {
                b = with(b, v.clone());
            }
        }
        let store = b.build()?;
        let objects: Arc<dyn ObjectStore> = match s3.prefix.is_empty() {
            true => Arc::new(store),
            false => Arc::new(PrefixStore::new(store, s3.prefix.as_str())),
        };
        Ok(Vault {
            objects,
            // S3's smallest part but the last.
            part_size: 5 << 20,
            shown: format!("s3://{}/{}", s3.bucket, s3.prefix),
            directory: None,
        })
    }

    /// The store as logs and the API show it (no credential).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The key a call's recording from `link` is kept under: by app and the day its report
    /// came, the call's id made safe for a file name, and a hash that keeps apart what
    /// making it safe merged. The same report's fetch writes the same key again.
    pub(crate) fn key(app: &str, call: &str, link: &str, received_ms: i64) -> String {
        let day = chrono::DateTime::from_timestamp_millis(received_ms).unwrap_or_default();
        let hash = Sha256::new()
            .chain_update(app)
            .chain_update([0])
            .chain_update(call)
            .chain_update([0])
            .chain_update(link)
            .finalize();
        let ext = extension(link).map(|e| format!(".{e}")).unwrap_or_default();
        format!(
            "{}/{}/{}-{}{ext}",
            safe(app),
            day.format("%Y-%m-%d"),
            safe(call),
            hex(&hash[..8])
        )
    }

    /// A new upload to `key`: nothing is under the key until it finishes.
    pub(crate) async fn upload(&self, key: &str) -> object_store::Result<WriteMultipart> {
        let upload = self.objects.put_multipart(&Path::from(key)).await?;
        Ok(WriteMultipart::new_with_chunk_size(upload, self.part_size))
    }

    /// Removes what a process killed mid-upload left for `key` in a directory: its staged
    /// files, `<key>#1`, `<key>#2`, … (an upload takes the first free number). None is in use,
    /// since a call's fetches run one at a time. (S3 keeps an unfinished multipart upload out
    /// of sight; a bucket's lifecycle rule removes it.)
    pub(crate) async fn clear_staged(&self, key: &str) {
        const PROBED: u32 = 8;
        let Some(dir) = &self.directory else {
            return;
        };
        let path = dir.join(key).into_os_string();
        let cleared = tokio::task::spawn_blocking(move || {
            for n in 1..=PROBED {
                let mut staged = path.clone();
                staged.push(format!("#{n}"));
                match std::fs::remove_file(&staged) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        });
        match cleared.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(key, error = %e, "a staged recording could not be removed")
            }
            Err(e) => tracing::warn!(key, error = %e, "clearing staged recordings failed"),
        }
    }

    /// The object under `key`, or the bytes of it in `range`.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> object_store::Result<GetResult> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        self.objects.get_opts(&Path::from(key), options).await
    }

    /// Removes the object under `key` (none there is no error).
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.objects.delete(&Path::from(key)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }
}

/// `s` with every character but ASCII letters, digits, `-` and `_` as `_`, at most 64 long.
fn safe(s: &str) -> String {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    s.chars()
        .take(64)
        .map(|c| if ok(c) { c } else { '_' })
        .collect()
}

/// The link's file extension, when it is a short alphanumeric one (`wav`, `mp3`).
pub(crate) fn extension(link: &str) -> Option<String> {
    let path = link.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    let ok = !ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_safe_and_stable() {
        let link = "https://p.example/rec/20180118-1.WAV?sig=x";
        let key = Vault::key("a1", "c/../1", link, 1_516_279_461_000);
        assert!(key.starts_with("a1/2018-01-18/c____1-"), "{key}");
        assert!(key.ends_with(".wav"), "{key}");
        assert_eq!(key, Vault::key("a1", "c/../1", link, 1_516_279_461_000));
        assert_ne!(key, Vault::key("a1", "c_.._1", link, 1_516_279_461_000));
        assert_eq!(extension("https://p.example/x"), None);
        assert_eq!(
            extension("https://p.example/x.tar.gz/y.mp3#t"),
            Some("mp3".into())
        );
    }
}
