//! `ivrhook deliveries retry`: a destination's dead (or pending) deliveries created in a
//! window go again, through a running ivrhook (`POST /v1/destinations/{name}/deliveries/retry`);
//! `--dry-run` counts them.

use serde_json::{json, Value};
use std::error::Error;

#[derive(Debug, clap::Subcommand)]
pub enum DeliveriesCommand {
    /// Send a destination's dead and pending deliveries created in a window again (a dead one
    /// starts its retry schedule afresh), or with --dry-run print how many that is.
    ///
    /// Example: ivrhook deliveries retry --destination crm --from 2026-12-05T08:00:00Z --state dead --dry-run
    Retry(RetryArgs),
}

#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    /// The destination: a [[destinations]] name, or app:<appId> for an app's callback URL.
    #[arg(long)]
    destination: String,
    /// Created at or after this, RFC 3339 (default: since the first delivery).
    #[arg(long)]
    from: Option<String>,
    /// Created before this, RFC 3339 (default: now).
    #[arg(long)]
    to: Option<String>,
    /// Only the dead ones, or only the pending ones (default: both).
    #[arg(long, value_parser = ["dead", "pending"])]
    state: Option<String>,
    /// Print how many would go and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// The running ivrhook's base URL.
    #[arg(long, env = "IVRHOOK_SERVER", default_value = crate::DEFAULT_SERVER)]
    server: String,
    /// The admin token, or a token with the operate scope, when the server has them.
    #[arg(long, env = "IVRHOOK_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

pub async fn run(command: DeliveriesCommand) -> Result<(), Box<dyn Error>> {
    let DeliveriesCommand::Retry(args) = command;
    for (flag, value) in [("--from", &args.from), ("--to", &args.to)] {
        if let Some(v) = value {
            chrono::DateTime::parse_from_rfc3339(v).map_err(|e| {
                format!("{flag} {v:?}: not an RFC 3339 time such as 2026-12-05T08:00:00Z ({e})")
            })?;
        }
    }
    let server = ivrhook::net::http_url("--server", &args.server)?;
    let name = percent_encoding::utf8_percent_encode(&args.destination, SEGMENT);
    let url = format!(
        "{}/v1/destinations/{name}/deliveries/retry",
        server.trim_end_matches('/')
    );
    let body =
        json!({"from": args.from, "to": args.to, "state": args.state, "dryRun": args.dry_run});
    let mut request = reqwest::Client::new().post(&url).json(&body);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let response = (request.send().await).map_err(|e| ivrhook::net::unreachable(&server, &e))?;
    let answer: Value = serde_json::from_str(&ivrhook::net::accepted(response).await?)?;
    let what = match args.state.as_deref() {
        Some(state) => format!("{state} deliveries"),
        None => "dead and pending deliveries".to_owned(),
    };
    let destination = &args.destination;
    match args.dry_run {
        true => println!(
            "{} {what} to {destination} would go now",
            answer["wouldRetry"]
        ),
        false => println!("{} {what} to {destination} go now", answer["retried"]),
    }
    Ok(())
}

/// What a path segment must escape: a destination name is plain, `app:<appId>` may not be.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b':');
