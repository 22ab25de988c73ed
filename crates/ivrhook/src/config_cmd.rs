//! `ivrhook config`: print the documented default file, or check one without starting.

use ivrhook_server::config::{reference, Config, Overrides};
use std::{error::Error, path::PathBuf};

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Option<ConfigAction>,
}

#[derive(Debug, clap::Subcommand)]
enum ConfigAction {
    /// Check a configuration file as `serve` would load it (with the IVRHOOK_* variables set
    /// now), without starting. Exits 1 naming the key when something is wrong.
    ///
    /// Example: ivrhook config check /etc/ivrhook/ivrhook.toml
    Check { file: PathBuf },
}

pub fn run(args: ConfigArgs) -> Result<(), Box<dyn Error>> {
    let Some(ConfigAction::Check { file }) = args.action else {
        print!("{}", reference());
        return Ok(());
    };
    let config = Config::load(Some(&file), &Overrides::default())?;
    config.check_servable()?;
    let destinations: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    println!(
        "{}: valid. listen {}, database {:?}, {} app(s), {} destination(s){}",
        file.display(),
        config.listen,
        config.database,
        config.apps.len(),
        destinations.len(),
        match destinations.is_empty() {
            true => String::new(),
            false => format!(": {}", destinations.join(", ")),
        }
    );
    for warning in config.warnings() {
        println!("warning: {warning}");
    }
    Ok(())
}
