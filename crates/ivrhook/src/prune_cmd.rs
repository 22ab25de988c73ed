//! `ivrhook prune`: apply `[retention]` now, or (`--dry-run`) say what it would remove.

use crate::store_args::StoreArgs;
use ivrhook_store::{OpenOptions, StoreError};
use std::error::Error;

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Count what would be removed; remove nothing (safe beside a running server).
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: PruneArgs) -> Result<(), Box<dyn Error>> {
    let config = args.store.load()?;
    let retention = config.retention;
    let store = if args.dry_run {
        ivrhook_store::open_read_only(&config.database).await?
    } else {
        let options = OpenOptions {
            migrations: ivrhook_store::Migrations::Require,
            pool_size: config.database_pool_size,
            max_wal: config.sqlite.max_wal,
        };
        ivrhook_store::open(&config.database, None, options)
            .await
            .map_err(|e| match e {
                StoreError::Lock { .. } => format!(
                    "{e}; a running server prunes on its own every retention.every, and \
                     --dry-run shows what it would remove"
                )
                .into(),
                other => Box::<dyn Error>::from(other),
            })?
    };
    let now = chrono::Utc::now().timestamp_millis();
    let vault = config.recordings.vault.as_ref();
    let removed = ivrhook_server::retention::prune(
        store.as_ref(),
        &retention,
        vault,
        now,
        args.dry_run,
        None,
    )
    .await?;
    store.close().await;
    if removed.is_empty() {
        println!("nothing to prune: every [retention] key is \"forever\"");
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for (kind, n) in removed {
        println!("{verb} {n} {kind}");
    }
    Ok(())
}
