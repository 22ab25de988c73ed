//! `[recordings]`, and each app's `recordings`: where call recordings are kept and how they
//! are fetched. The recordings destination exists when an app keeps its recordings.

use super::{delivery::Common, invalid, lenient, ConfigError};
use ivrhook_engine::{
    kinds::Reach,
    recordings::{Announce, Location, S3Location, Spec, Vault, KEPT_EVENT},
    DestinationSettings,
};
use ivrhook_protocol::AppId;
use ivrhook_store::DatabaseUrl;
use serde::Deserialize;
use std::{collections::HashMap, path::PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRecordings {
    pub store: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
    pub max_bytes: lenient::Size,
    pub timeout: String,
    pub retry_schedule: Vec<String>,
    pub max_in_flight: u32,
}

/// Where recordings are kept, and the destination that fetches them.
#[derive(Debug, Clone)]
pub struct Recordings {
    /// The recordings store; `None` on PostgreSQL without `store`.
    pub vault: Option<Vault>,
    /// The recordings destination, when an app keeps its recordings.
    pub destination: Option<DestinationSettings>,
}

impl FileRecordings {
    /// `apps`: the apps that keep their recordings, each with where its links may point.
    /// `destinations`: the `[[destinations]]`, some of which may take `recording.kept`.
    pub(super) fn validate(
        self,
        database: &DatabaseUrl,
        apps: HashMap<AppId, Reach>,
        destinations: &[DestinationSettings],
    ) -> Result<Recordings, ConfigError> {
        let location = match (&self.store, database) {
            (Some(url), _) => Some(self.location(url)?),
            (None, DatabaseUrl::Sqlite(db)) => Some(Location::Directory(beside(db))),
            (None, DatabaseUrl::Postgres(_)) => None,
        };
        let vault = (location.as_ref())
            .map(|l| Vault::open(l).map_err(|e| invalid("recordings.store", e.to_string())))
            .transpose()?;
        if let (None, Some(first)) = (&vault, apps.keys().min()) {
            return Err(invalid(
                "recordings.store",
                format!(
                    "must be set with PostgreSQL (app {first} keeps its recordings): a file:// \
                     directory every node shares, or s3://bucket/prefix"
                ),
            ));
        }
        if self.max_bytes.0 == 0 {
            return Err(invalid("recordings.max_bytes", "must be greater than 0"));
        }
        let keeping = !apps.is_empty();
        // Every key is checked, whether or not an app keeps its recordings yet; without a
        // store (PostgreSQL, no app keeping them) the destination is built to check them only.
        let unused = || Vault::open(&Location::Directory("/".into()));
        let spec = Spec {
            vault: (vault.clone().map_or_else(unused, Ok))
                .map_err(|e| invalid("recordings.store", e.to_string()))?,
            max_bytes: self.max_bytes.0 as u64,
            apps,
            announce: announced_to(destinations),
        };
        let mut destination = spec.destination();
        let common = Common {
            timeout: Some(self.timeout),
            max_in_flight: Some(self.max_in_flight),
            retry_schedule: Some(self.retry_schedule),
            ..Common::default()
        };
        common.apply(&mut destination, "recordings")?;
        Ok(Recordings {
            vault,
            destination: keeping.then_some(destination),
        })
    }

    fn location(&self, url: &str) -> Result<Location, ConfigError> {
        let bad = |why: String| invalid("recordings.store", format!("{url:?} {why}"));
        let parsed = ivrhook_engine::Url::parse(url).map_err(|e| {
            bad(format!(
                "is not a URL ({e}): write file:///dir or s3://bucket/prefix"
            ))
        })?;
        match parsed.scheme() {
            "file" => {
                let s3_keys = [
                    ("endpoint", self.endpoint.is_some()),
                    ("region", self.region.is_some()),
                    ("access_key_id", self.access_key_id.is_some()),
                    ("secret_access_key", self.secret_access_key.is_some()),
                    ("allow_http", self.allow_http),
                ];
                if let Some((key, _)) = s3_keys.iter().find(|(_, set)| *set) {
                    return Err(invalid(
                        format!("recordings.{key}"),
                        "is an S3 setting, but recordings.store is a file:// directory",
                    ));
                }
                let path = parsed
                    .to_file_path()
                    .map_err(|()| bad("is not an absolute directory: write file:///dir".into()))?;
                Ok(Location::Directory(path))
            }
            "s3" => {
                let bucket = parsed.host_str().filter(|b| !b.is_empty());
                let bucket = bucket
                    .ok_or_else(|| bad("names no bucket: write s3://bucket/prefix".into()))?;
                Ok(Location::S3(S3Location {
                    bucket: bucket.to_owned(),
                    prefix: parsed.path().trim_matches('/').to_owned(),
                    endpoint: self.endpoint.clone(),
                    region: self.region.clone(),
                    access_key_id: self.access_key_id.clone(),
                    secret_access_key: self.secret_access_key.clone(),
                    allow_http: self.allow_http,
                }))
            }
            other => Err(bad(format!(
                "has scheme {other}: write file:///dir or s3://bucket/prefix"
            ))),
        }
    }
}

/// The destinations whose filter takes `recording.kept`.
fn announced_to(destinations: &[DestinationSettings]) -> Vec<Announce> {
    (destinations.iter())
        .filter_map(|d| {
            let route = d.route.as_ref()?;
            (route.filter.event.as_deref() == Some(KEPT_EVENT)).then(|| Announce {
                destination: d.name.clone(),
                apps: route.apps.clone(),
            })
        })
        .collect()
}

/// `recordings/` beside the SQLite file, as an absolute path.
fn beside(db: &std::path::Path) -> PathBuf {
    let dir = db.parent().unwrap_or(std::path::Path::new(""));
    std::path::absolute(dir.join("recordings")).unwrap_or_else(|_| dir.join("recordings"))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use ivrhook_engine::recordings::RECORDINGS;

    const KEEPING: &str = "[[apps]]\nid = \"a1\"\nrecordings = true\n";
    const HOOK: &str =
        "[[destinations]]\nname = \"archive\"\nkind = \"webhook\"\nurl = \"http://a.internal/\"\n";

    fn error(text: &str) -> String {
        Config::from_toml(text, "t").unwrap_err().to_string()
    }

    #[test]
    fn every_mistake_names_its_key() {
        let pg = "database = \"postgres://postgres@127.0.0.1/x\"\n";
        let cases = [
            (format!("{pg}{KEEPING}"), "recordings.store: must be set with PostgreSQL (app a1 keeps its recordings)"),
            (format!("[recordings]\nstore = \"ftp://x/y\"\n{KEEPING}"), "recordings.store: \"ftp://x/y\" has scheme ftp"),
            (format!("[recordings]\nstore = \"s3:///calls\"\n{KEEPING}"), "recordings.store: \"s3:///calls\" names no bucket"),
            (format!("[recordings]\nstore = \"recordings\"\n{KEEPING}"), "recordings.store: \"recordings\" is not a URL"),
            ("[recordings]\nstore = \"file:///r\"\nendpoint = \"http://s3\"\n".into(), "recordings.endpoint: is an S3 setting, but recordings.store is a file:// directory"),
            (format!("[recordings]\nmax_bytes = \"lots\"\n{KEEPING}"), "recordings.max_bytes: \"lots\" is not a size"),
            (format!("[recordings]\nmax_bytes = 0\n{KEEPING}"), "recordings.max_bytes: must be greater than 0"),
            (format!("[recordings]\ntimeout = \"soon\"\n{KEEPING}"), "recordings.timeout: \"soon\" is not a duration"),
            ("[recordings]\ntimeout = \"soon\"\n".into(), "recordings.timeout: \"soon\" is not a duration"),
            (format!("{pg}[recordings]\nmax_in_flight = 0\n"), "recordings.max_in_flight: must be at least 1"),
            (format!("[recordings]\nmax_in_flight = 0\n{KEEPING}"), "recordings.max_in_flight: must be at least 1"),
            (format!("[recordings]\nretry_schedule = [\"0s\", \"x\"]\n{KEEPING}"), "recordings.retry_schedule[1]: \"x\" is not a duration"),
            ("[recordings]\nbucket = \"b\"\n".into(), "recordings.bucket: is not a key here"),
            ("[[apps]]\nid = \"a1\"\nrecordings = \"yes\"\n".into(), "apps[0].recordings: "),
            (format!("{HOOK}[destinations.filter]\nevent = \"recording.kept\"\nstatus = \"hungup\"\n"), "destinations[0].filter.status: applies to reports, but event = \"recording.kept\""),
            ("[[apps]]\nid = \"a1\"\nallow_private = true\n".into(), "apps[0].allow_private: applies to callback_url and recording links, but neither"),
        ];
        for (toml, expected) in cases {
            let got = error(&toml);
            assert!(
                got.starts_with(expected),
                "{toml}\n  gave: {got}\n  want: {expected}"
            );
        }
    }

    #[test]
    fn an_app_keeping_recordings_makes_the_destination() {
        let none = Config::from_toml("[[apps]]\nid = \"a1\"\n", "t").unwrap();
        assert!(none.recordings.destination.is_none());
        assert!(
            none.recordings
                .vault
                .unwrap()
                .shown()
                .ends_with("/recordings"),
            "beside SQLite"
        );
        let s3 =
            "[recordings]\nstore = \"s3://calls/ivr/\"\nendpoint = \"http://127.0.0.1:8333\"\n\
                  allow_http = true\nmax_in_flight = 2\n";
        let kept = "[destinations.filter]\nevent = \"recording.kept\"\n";
        let c = Config::from_toml(
            &format!("{s3}{KEEPING}allow_private = true\n{HOOK}{kept}"),
            "t",
        );
        let c = c.unwrap();
        let d = c.recordings.destination.as_ref().unwrap();
        assert_eq!(d.name, RECORDINGS);
        assert_eq!(d.max_in_flight, 2);
        assert_eq!(d.schedule.attempts(), 12, "the default schedule");
        assert_eq!(d.timeout, std::time::Duration::from_secs(300));
        let shown = d.kind.describe();
        assert_eq!(shown["store"], "s3://calls/ivr");
        assert_eq!(shown["maxBytes"], 200 << 20);
        assert_eq!(shown["apps"], serde_json::json!(["a1"]));
        assert_eq!(shown["keptAnnouncedTo"], serde_json::json!(["archive"]));
        assert!(c.all_destinations().iter().any(|d| d.name == RECORDINGS));
    }
}
