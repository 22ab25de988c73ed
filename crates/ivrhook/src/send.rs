//! `ivrhook send`: hand a report to a running ivrhook for delivery, from a file or stdin.

use std::{error::Error, io::Read, path::PathBuf};

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The app whose callback URL gets the report (default: the report's `appId`).
    #[arg(long)]
    app: Option<String>,
    /// The multrpt report (JSON); `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// The running ivrhook's base URL.
    #[arg(long, env = "IVRHOOK_SERVER", default_value = crate::DEFAULT_SERVER)]
    server: String,
    /// The admin token, when the server has one.
    #[arg(long, env = "IVRHOOK_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Sending again with the same key returns the first event instead of a new one.
    #[arg(long)]
    idempotency_key: Option<String>,
}

/// Posts the report; prints the server's answer. Fails unless the server accepted it.
pub async fn run(args: SendArgs) -> Result<(), Box<dyn Error>> {
    let body = match args.file.as_deref() {
        None => read_stdin()?,
        Some(p) if p.as_os_str() == "-" => read_stdin()?,
        Some(p) => std::fs::read(p).map_err(|e| format!("could not read {}: {e}", p.display()))?,
    };
    let server = ivrhook::net::http_url("--server", &args.server)?;
    let app = match args.app {
        Some(app) => app,
        None => app_of(&body)?,
    };
    let url = format!("{}/v1/apps/{app}/events", server.trim_end_matches('/'));
    let mut request = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = &args.idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = request
        .send()
        .await
        .map_err(|e| ivrhook::net::unreachable(&server, &e))?;
    println!("{}", ivrhook::net::accepted(response).await?);
    Ok(())
}

/// The report's own `appId`, for a send without `--app`.
fn app_of(body: &[u8]) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the report is not JSON: {e}"))?;
    match value.get("appId").and_then(|a| a.as_str()) {
        Some(app) if !app.is_empty() => Ok(app.to_owned()),
        _ => Err("--app not given, and the report has no appId to take it from".into()),
    }
}

fn read_stdin() -> Result<Vec<u8>, Box<dyn Error>> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    Ok(body)
}
