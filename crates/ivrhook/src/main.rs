//! The `ivrhook` binary: parses arguments, loads configuration, binds, and hands over to the
//! library. Nothing here decides how reports are handled.
#![forbid(unsafe_code)]

mod backup_cmd;
mod cli_tools;
mod config_cmd;
mod deliveries_cmd;
mod logging;
mod prune_cmd;
mod send;
mod store_args;
mod token_cmd;

use clap::{Args, Parser, Subcommand};
use ivrhook_server::{
    config::{Config, ConfigError, Overrides},
    Server, ServerError,
};
use std::{error::Error, io::Write, path::PathBuf, process::ExitCode};
use tokio_util::sync::CancellationToken;

// The receiver and the delivery engine allocate many small, short-lived buffers on several
// threads at once, where glibc's allocator spends much of its time consolidating.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the client commands (`send`, `tail`) find a server: `serve`'s default address.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A callback gateway for voice/IVR platforms: receives multrpt reports, keeps them durably,
/// and answers the contract's codes.
#[derive(Debug, Parser)]
#[command(name = "ivrhook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway: the multrpt receiver on the callback path and the /v1 API.
    ///
    /// With no configuration it listens on 127.0.0.1:8080, keeps its data in ./ivrhook.db,
    /// and accepts reports for any appId.
    ///
    /// Example: ivrhook serve --config /etc/ivrhook.toml --listen 0.0.0.0:8080
    Serve(ServeArgs),
    /// Hand a multrpt report to a running ivrhook for delivery to the app's callback URL.
    ///
    /// Prints the accepted event's ids. Fails (exit 1) with the server's reason when the
    /// report is refused, e.g. a field that does not meet the contract.
    ///
    /// Example: ivrhook send --app 247e35ff320a4142a105024055c367cf report.json
    Send(send::SendArgs),
    /// Follow new reports live: one line each (local time, app, call, completed or hung up,
    /// each command's kind and duration, the keys pressed, the hang-up reason and recording).
    ///
    /// Reconnects by itself and resumes after the last report printed; stop it with Ctrl-C.
    ///
    /// Example: ivrhook tail --app 247e35ff320a4142a105024055c367cf --server http://gw:8080
    Tail(TailArgs),
    /// Play the voice platform: send realistic multrpt reports to a receiver and summarise
    /// its answers, retries, latency and throughput.
    ///
    /// Example: ivrhook simulate --target http://127.0.0.1:8080/callback --calls 5000 --rate 500
    Simulate(cli_tools::SimulateArgs),
    /// Test a receiver against the contract: every documented and observed request form must
    /// get 000000, bad input 108100, an unknown app 108101. Exits 1 when a case fails.
    ///
    /// Example: ivrhook check http://127.0.0.1:8080/callback --app 247e35ff320a4142a105024055c367cf
    Check(cli_tools::CheckArgs),
    /// Measure this machine: durable receives per second against the HTTP stack's ceiling, or
    /// deliveries per second and their lag. Run it from a release build.
    ///
    /// Example: cargo run --release -- bench receive --connections 64 --duration 10s --json r.json
    Bench(cli_tools::BenchArgs),
    /// The bench's ceiling server (the HTTP stack alone); started by `bench receive`.
    #[command(hide = true)]
    BenchCeiling {
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
    /// Apply the database's pending migrations, then exit. `serve` applies them itself unless
    /// `migrate_on_start = false`; run this as a release step when several nodes share one
    /// PostgreSQL.
    ///
    /// Example: ivrhook migrate --database postgres://ivrhook@db.internal/ivrhook
    Migrate(MigrateArgs),
    /// Copy the SQLite store to FILE while it serves: a consistent snapshot holding every
    /// report acknowledged before the copy began. Restore by serving the copy.
    ///
    /// Example: ivrhook backup /backups/ivrhook-$(date +%F).db
    Backup(backup_cmd::BackupArgs),
    /// Remove what `[retention]` says is old now, or (--dry-run) count it. A running server
    /// prunes on its own every `retention.every`.
    ///
    /// Example: ivrhook prune --dry-run --config /etc/ivrhook/ivrhook.toml
    Prune(prune_cmd::PruneArgs),
    /// Deliveries on a running ivrhook: send a window of them again.
    ///
    /// Example: ivrhook deliveries retry --destination crm --from 2026-12-05T08:00:00Z --dry-run
    #[command(subcommand)]
    Deliveries(deliveries_cmd::DeliveriesCommand),
    /// Print a shell's completion script, generated from these commands.
    ///
    /// Example: ivrhook completions bash > /etc/bash_completion.d/ivrhook
    Completions { shell: clap_complete::Shell },
    /// Print the man page, generated from these commands.
    ///
    /// Example: ivrhook manpage > /usr/local/share/man/man1/ivrhook.1
    Manpage,
    /// Print the default configuration file, every key documented; `config check FILE`
    /// checks a file without starting.
    ///
    /// Example: ivrhook config > ivrhook.toml
    Config(config_cmd::ConfigArgs),
    /// Make an API token: prints it, and the [[api_tokens]] entry (its SHA-256) to configure.
    ///
    /// Example: ivrhook token new --name ops --scopes read,operate
    Token(token_cmd::TokenArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML configuration file (see `ivrhook config`).
    #[arg(long, short, env = "IVRHOOK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080; overrides `listen` in the file.
    #[arg(long, env = "IVRHOOK_LISTEN")]
    listen: Option<String>,
    /// Database URL, e.g. sqlite://ivrhook.db; overrides `database` in the file.
    #[arg(long, env = "IVRHOOK_DATABASE")]
    database: Option<String>,
    /// What this node does: receive, deliver, or both (comma-separated); overrides `roles`.
    #[arg(long, env = "IVRHOOK_ROLES", value_delimiter = ',')]
    roles: Option<Vec<String>>,
    /// Do not apply migrations at start; refuse to start on an older schema instead.
    #[arg(long)]
    no_migrate: bool,
    /// Log lines as text or json (one object a line); overrides `log_format`.
    #[arg(long, value_parser = ["text", "json"])]
    log_format: Option<String>,
}

#[derive(Debug, Args)]
struct TailArgs {
    /// The running ivrhook's base URL.
    #[arg(long, env = "IVRHOOK_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    /// The admin token, when the server has one.
    #[arg(long, env = "IVRHOOK_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Only this app's reports.
    #[arg(long)]
    app: Option<String>,
    /// Only this call's reports.
    #[arg(long)]
    call: Option<String>,
    /// One JSON object a line (the report as the API shows it) instead of a readable line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    #[command(flatten)]
    store: store_args::StoreArgs,
}

/// Prints an error with its whole cause chain, one `: `-separated line.
fn report(e: &dyn Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command;
    ivrhook_engine::use_ring_for_tls();
    // `serve` starts logging once its configuration says how.
    if !matches!(command, Command::Serve(_)) {
        logging::init(false);
    }
    match command {
        Command::Config(args) => finish(config_cmd::run(args)),
        Command::Token(args) => finish(token_cmd::run(args)),
        Command::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "ivrhook", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Manpage => {
            let page = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            finish(page.render(&mut std::io::stdout()).map_err(Into::into))
        }
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => finish(migrate(args).await),
        Command::Backup(args) => finish(backup_cmd::run(args).await),
        Command::Prune(args) => finish(prune_cmd::run(args).await),
        Command::Deliveries(command) => finish(deliveries_cmd::run(command).await),
        Command::Send(args) => finish(send::run(args).await),
        Command::Tail(args) => finish(tail(args).await),
        Command::Simulate(args) => finish(cli_tools::simulate(args).await),
        Command::Check(args) => finish(cli_tools::check(args).await),
        Command::Bench(args) => finish(cli_tools::bench(args).await),
        Command::BenchCeiling { listen } => {
            finish(ivrhook::bench::ceiling::serve(listen, "/callback".into()).await)
        }
    }
}

fn finish(result: Result<(), Box<dyn Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ivrhook: {}", report(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let overrides = Overrides {
        listen: args.listen,
        database: args.database,
        roles: args.roles,
        migrate_on_start: args.no_migrate.then_some(false),
        log_format: args.log_format,
    };
    let config = match Config::load(args.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(e) => {
            let json = Config::asks_for_json_logs(args.config.as_deref(), &overrides);
            return refuse(&e, json);
        }
    };
    let json = config.log.json;
    logging::init(json);
    match serve_config(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => refuse(e.as_ref(), json),
    }
}

async fn serve_config(config: Config) -> Result<(), Box<dyn Error>> {
    config.check_servable()?;
    let listen = config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("could not listen on {listen}: {e}"))?;
    let json = config.log.json;
    let server = Server::bind(config, listener).await?;
    match json {
        true => println!("{}", server.startup().json()),
        false => println!("{}", server.startup()),
    }
    std::io::stdout().flush()?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    server.run(shutdown).await?;
    tracing::info!("stopped: every accepted report is committed");
    Ok(())
}

/// Why `serve` did not start (or stopped): `ivrhook: <key>: <reason>` on standard error, or
/// with `log_format = "json"` one log line with the key and the reason as fields.
fn refuse(e: &(dyn Error + 'static), json: bool) -> ExitCode {
    if json {
        logging::init(true);
        let key = config_key(e).unwrap_or_default();
        tracing::error!(key, error = %report(e), "ivrhook cannot serve");
    } else {
        eprintln!("ivrhook: {}", report(e));
    }
    ExitCode::FAILURE
}

/// The configuration key an error is about, when it is about one.
fn config_key<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a str> {
    let config =
        e.downcast_ref::<ConfigError>()
            .or_else(|| match e.downcast_ref::<ServerError>() {
                Some(ServerError::Config(c)) => Some(c),
                _ => None,
            });
    match config? {
        ConfigError::Invalid { key, .. } => Some(key),
        _ => None,
    }
}
async fn tail(args: TailArgs) -> Result<(), Box<dyn Error>> {
    let follow = ivrhook::tail::Follow {
        server: args.server,
        token: args.token,
        app: args.app,
        call: args.call,
        json: args.json,
    };
    let print = |line: &str| println!("{line}");
    tokio::select! {
        r = ivrhook::tail::run(follow, print) => r.map_err(Into::into),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

async fn migrate(args: MigrateArgs) -> Result<(), Box<dyn Error>> {
    let config = args.store.load()?;
    let applied = ivrhook_store::migrate(&config.database).await?;
    match applied.as_slice() {
        [] => println!("{:?}: up to date", config.database),
        v => println!("{:?}: applied migration(s) {v:?}", config.database),
    }
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, answer and commit what is in flight, then exit 0.
async fn stop_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still works");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: answering requests in flight");
    shutdown.cancel();
}
