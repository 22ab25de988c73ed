//! The line `serve` prints on standard output once it listens: what an operator, or a script
//! that starts it, needs to reach it.

use serde_json::{json, Value};
use std::fmt;

/// Where the server listens and what it does there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    /// The address it listens on, `127.0.0.1:8080`.
    pub listen: String,
    /// The same as a URL: `http://127.0.0.1:8080` (or `https://`).
    pub url: String,
    /// Where the data lives: a file, or a database URL without its password.
    pub data: String,
    /// What it receives, delivers and forwards.
    pub roles: String,
    /// Which apps it serves.
    pub apps: String,
}

impl Startup {
    /// The dashboard's URL.
    pub fn dashboard(&self) -> String {
        format!("{}/", self.url)
    }

    /// The line as one JSON object, shaped like the JSON log's lines (`log_format = "json"`),
    /// so that everything the process writes parses alike.
    pub fn json(&self) -> Value {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        json!({
            "timestamp": now,
            "level": "INFO",
            "message": "ivrhook listening",
            "listen": self.listen,
            "url": self.url,
            "data": self.data,
            "roles": self.roles,
            "apps": self.apps,
            "dashboard": self.dashboard(),
            "target": "ivrhook",
        })
    }
}

impl fmt::Display for Startup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Startup {
            url,
            data,
            roles,
            apps,
            ..
        } = self;
        let dashboard = self.dashboard();
        write!(
            f,
            "ivrhook listening on {url} ({roles}); data in {data}; {apps}; dashboard: {dashboard}"
        )
    }
}
