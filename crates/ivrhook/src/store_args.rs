//! The store a maintenance command (`migrate`, `backup`, `prune`) works on: the configuration
//! file's `database`, or `--database`.

use ivrhook_server::config::{Config, ConfigError, Overrides};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// TOML configuration file: its `database` (and, for `prune`, its `[retention]`).
    #[arg(long, short, env = "IVRHOOK_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL; overrides `database` in the file.
    #[arg(long, env = "IVRHOOK_DATABASE")]
    database: Option<String>,
}

impl StoreArgs {
    pub fn load(self) -> Result<Config, ConfigError> {
        let overrides = Overrides {
            database: self.database,
            ..Overrides::default()
        };
        Config::load(self.config.as_deref(), &overrides)
    }
}
