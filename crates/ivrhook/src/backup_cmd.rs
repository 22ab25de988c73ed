//! `ivrhook backup FILE`: a consistent copy of the SQLite store, while it serves.

use ivrhook_server::config::{Config, Overrides};
use std::{error::Error, path::PathBuf};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where the copy goes; it must not exist.
    file: PathBuf,
    /// TOML configuration file whose `database` to back up.
    #[arg(long, short, env = "IVRHOOK_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL; overrides `database` in the file.
    #[arg(long)]
    database: Option<String>,
}

pub async fn run(args: BackupArgs) -> Result<(), Box<dyn Error>> {
    let overrides = Overrides {
        database: args.database,
        ..Overrides::default()
    };
    let config = Config::load(args.config.as_deref(), &overrides)?;
    let copied = ivrhook_store::backup(&config.database, &args.file).await?;
    println!(
        "{:?} copied to {}: {} reports, {} pages",
        config.database,
        args.file.display(),
        copied.reports,
        copied.pages
    );
    Ok(())
}
