//! Where recordings are kept: `[recordings] store`, a directory or an S3 bucket.

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
