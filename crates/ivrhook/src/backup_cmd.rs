//! `ivrhook backup FILE`: a consistent copy of the SQLite store, while it serves.

use crate::store_args::StoreArgs;
use std::{error::Error, path::PathBuf};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where the copy goes; it must not exist.
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: BackupArgs) -> Result<(), Box<dyn Error>> {
    let config = args.store.load()?;
    let copied = ivrhook_store::backup(&config.database, &args.file).await?;
    println!(
        "{:?} copied to {}: {} reports, {} pages",
        config.database,
        args.file.display(),
        copied.reports,
        copied.pages
    );
    if let Some(vault) = &config.recordings.vault {
        println!(
            "recordings are not in the database file: they are in {} ([recordings] store); \
             back that up beside it",
            vault.shown()
        );
    }
    Ok(())
}
