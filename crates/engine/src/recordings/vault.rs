//! The recordings store. An object appears under its key only once it is whole (a
//! directory's upload is a staged file renamed into place, synced; S3's a multipart upload
//! completed), so an object under a key is never partial.

use super::{
    location::{Location, S3Location},
    upload::Upload,
};
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path, prefix::PrefixStore, GetOptions,
    GetRange, GetResult, ObjectStore, ObjectStoreExt,
};
use std::{ops::Range, sync::Arc};
use tokio::sync::Semaphore;

/// A directory's file operations at once, each on a blocking thread.
const DIRECTORY_WRITERS: usize = 4;

/// Bounds a directory store's file operations at once: each takes a blocking thread, and
/// many fetches at once must not grow as many threads (each with its own allocator heap).
/// S3's are requests, and unbounded here.
#[derive(Debug, Clone, Default)]
pub(crate) struct Writers(Option<Arc<Semaphore>>);

impl Writers {
    /// Waits for a turn; the turn ends when the permit is dropped.
    pub async fn one(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.0.as_ref()?.acquire().await.ok()
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
    writers: Writers,
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
                    writers: Writers(Some(Arc::new(Semaphore::new(DIRECTORY_WRITERS)))),
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
            writers: Writers::default(),
        })
    }

    /// The store as logs and the API show it (no credential).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// A new upload to `key`: nothing is under the key until it finishes.
    pub(crate) async fn upload(&self, key: &str) -> object_store::Result<Upload> {
        let upload = {
            let _writer = self.writers.one().await;
            self.objects.put_multipart(&Path::from(key)).await?
        };
        Ok(Upload::new(upload, self.part_size, self.writers.clone()))
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
        let _writer = self.writers.one().await;
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
