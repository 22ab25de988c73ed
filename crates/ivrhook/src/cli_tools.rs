//! The `simulate` and `check` subcommands: arguments, progress, output.

use ivrhook::{bench, check, recording_server::RecordingServer, simulate};
use ivrhook_protocol::AppId;
use std::{error::Error, io::IsTerminal, path::Path, sync::Arc, time::Duration};

const EXAMPLE_APP: &str = "247e35ff320a4142a105024055c367cf";

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The receiver's callback URL.
    #[arg(long)]
    target: String,
    /// The appId the reports carry.
    #[arg(long, default_value = EXAMPLE_APP)]
    app: String,
    /// How many calls to report (default 1000, unless --duration is given).
    #[arg(long)]
    calls: Option<u64>,
    /// How long to send, e.g. 30s or 2m.
    #[arg(long, value_parser = duration)]
    duration: Option<Duration>,
    /// Reports per second, across all senders (default: as fast as answers come).
    #[arg(long)]
    rate: Option<f64>,
    /// Concurrent senders (connections).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Share of calls the callee hangs up early (status 1 with a hang-up notice).
    #[arg(long, default_value_t = 0.1)]
    hangup_ratio: f64,
    /// The same seed gives the same traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve hung-up calls' recordings (WAV files of a tone) and put their links in the
    /// reports; one call in three answers 404 at first (not ready yet). Waits for the
    /// receiver to fetch them.
    #[arg(long)]
    recordings: bool,
    /// Where the recordings are served (with --recordings).
    #[arg(long, default_value = "127.0.0.1:0", requires = "recordings")]
    recordings_listen: std::net::SocketAddr,
    /// How long to wait for the receiver to fetch them, at most (with --recordings).
    #[arg(long, value_parser = duration, default_value = "2m", requires = "recordings")]
    recordings_wait: Duration,
    /// Calls walk this IVR menu tree: a TOML file, or `example` for the built-in one (the
    /// README shows it). --hangup-ratio does not apply: each prompt says how often callers
    /// hang up during it.
    #[arg(long, value_name = "FILE")]
    ivr_flow: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The receiver's callback URL.
    target: String,
    /// An appId the receiver is configured for.
    #[arg(long, default_value = EXAMPLE_APP)]
    app: String,
    /// An appId it is not configured for (expects 108101).
    #[arg(long, default_value = "00000000000000000000000000000000")]
    unknown_app: String,
}

fn duration(text: &str) -> Result<Duration, String> {
    ivrhook_server::config::parse_duration(text)
}

pub async fn simulate(args: SimulateArgs) -> Result<(), Box<dyn Error>> {
    if !(0.0..=1.0).contains(&args.hangup_ratio) {
        return Err("--hangup-ratio must be between 0 and 1".into());
    }
    if args.rate.is_some_and(|r| r <= 0.0) {
        return Err("--rate must be greater than 0".into());
    }
    let app = AppId::try_from(args.app.as_str()).map_err(|e| format!("--app: {e}"))?;
    let calls = args.calls.or(if args.duration.is_some() {
        None
    } else {
        Some(1000)
    });
    let target = ivrhook::net::http_url("--target", &args.target)?;
    let flow = (args.ivr_flow.as_deref())
        .map(ivrhook::flow::Flow::load)
        .transpose()
        .map_err(|e| format!("--ivr-flow {e}"))?;
    let recordings = match args.recordings {
        true => Some(
            (RecordingServer::start(args.recordings_listen).await)
                .map_err(|e| format!("--recordings-listen {}: {e}", args.recordings_listen))?,
        ),
        false => None,
    };
    let opts = simulate::Options {
        target: target.clone(),
        app,
        calls,
        duration: args.duration,
        rate: args.rate,
        concurrency: args.concurrency.max(1),
        hangup_ratio: args.hangup_ratio,
        seed: args.seed,
        max_retries: 5,
        recordings: recordings.clone(),
        flow,
    };
    let progress = progress(calls, args.duration);
    let mut summary = simulate::run(opts, progress.0).await;
    if let Some(bar) = progress.1 {
        bar.finish_and_clear();
    }
    print!("{}", summary.render());
    if let Some(server) = &recordings {
        fetched(server, args.recordings_wait).await;
    }
    match summary.not_accepted() {
        Some(which) => Err(format!(
            "{} of {} reports were not accepted: {which}{}",
            summary.reports - summary.accepted(),
            summary.reports,
            not_found_hint(&target, &summary)
        )
        .into()),
        None => Ok(()),
    }
}

/// Waits, at most `wait`, for the receiver to fetch every recording handed out; says how far
/// it got, and why none may have been asked for.
async fn fetched(server: &RecordingServer, wait: Duration) {
    let started = tokio::time::Instant::now();
    let mut said = (usize::MAX, usize::MAX);
    loop {
        let (links, asked, served) = server.fetched();
        if (asked, served) != said {
            eprintln!("recordings: {served} of {links} fetched ({asked} asked for)");
            said = (asked, served);
        }
        let waited = started.elapsed();
        if served == links || waited >= wait {
            println!("recordings fetched: {served} of {links}");
            return;
        }
        if asked == 0 && waited >= Duration::from_secs(15) {
            println!(
                "recordings fetched: none of {links} was asked for in 15 s: does the receiver's \
                 app have recordings = true?"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// For a target that answered 404: nothing takes reports at its path, and where an ivrhook
/// takes them.
fn not_found_hint(target: &str, summary: &simulate::Summary) -> String {
    let missing = summary.by_code.keys().any(|c| c.starts_with("HTTP 404"));
    let Some(mut url) = reqwest::Url::parse(target).ok().filter(|_| missing) else {
        return String::new();
    };
    let path = url.path().to_owned();
    url.set_path("/callback");
    format!(
        "; nothing takes reports at {path}: an ivrhook takes them at /callback (its \
         inbound.path), e.g. --target {url}"
    )
}

/// A progress bar on a terminal; a plain line a second otherwise.
fn progress(
    calls: Option<u64>,
    duration: Option<Duration>,
) -> (simulate::Progress, Option<indicatif::ProgressBar>) {
    if std::io::stderr().is_terminal() {
        let bar = match calls {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} reports  {per_sec}  {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        let b = bar.clone();
        (Arc::new(move |done| b.set_position(done)), Some(bar))
    } else {
        let started = std::time::Instant::now();
        let last = std::sync::Mutex::new(0u64);
        let goal = calls.map_or_else(
            || format!("{:?}", duration.unwrap_or_default()),
            |n| n.to_string(),
        );
        (
            Arc::new(move |done| {
                let secs = started.elapsed().as_secs();
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if secs > *last {
                    *last = secs;
                    eprintln!("{secs:>4}s  {done} reports sent (of {goal})");
                }
            }),
            None,
        )
    }
}

pub async fn check(args: CheckArgs) -> Result<(), Box<dyn Error>> {
    let opts = check::Options {
        target: ivrhook::net::http_url("the target", &args.target)?,
        app: args.app,
        unknown_app: args.unknown_app,
    };
    let outcomes = check::run(&opts).await;
    print!("{}", check::render(&outcomes));
    let failed = (outcomes.iter())
        .filter(|o| o.verdict == check::Verdict::Failed)
        .count();
    if failed > 0 {
        return Err(format!("{failed} of {} cases failed", outcomes.len()).into());
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    path: BenchPath,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, global = true, default_value_t = 64)]
    connections: usize,
    /// How long each measured phase runs, e.g. 10s.
    #[arg(long, global = true, value_parser = duration, default_value = "10s")]
    duration: Duration,
    /// Database of the server under test (default: a SQLite file in a temporary directory).
    #[arg(long, global = true)]
    database: Option<String>,
    /// Servers under test on the one database, the load spread over them (more than one
    /// needs --database postgres://…: a SQLite file belongs to one process).
    #[arg(long, global = true, default_value_t = 1)]
    nodes: usize,
    /// Also write the figures as a JSON object to this file.
    #[arg(long, global = true)]
    json: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum BenchPath {
    /// Durable acks per second on the callback path, next to the HTTP stack's ceiling.
    Receive,
    /// Deliveries per second from API acceptance to the receiver's 000000, and the lag.
    Deliver,
    /// The receive rate with two destinations (a webhook and NATS JetStream) next to the rate
    /// with none, forwarded reports per second, and the forwarding lag at half capacity.
    Forward {
        /// The destinations: webhook-nats (a webhook the bench serves and NATS JetStream),
        /// redis (a Redis stream) or mqtt (an MQTT topic).
        #[arg(long, default_value = "webhook-nats", value_parser = bench::forward_ends::Kinds::parse)]
        kind: bench::forward_ends::Kinds,
        /// The NATS server (with JetStream) for --kind webhook-nats.
        #[arg(long, env = "TEST_NATS_URL", default_value = "nats://127.0.0.1:4222")]
        nats: String,
        /// The Redis server for --kind redis.
        #[arg(
            long,
            env = "TEST_REDIS_URL",
            default_value = "redis://127.0.0.1:6379/0"
        )]
        redis: String,
        /// The MQTT broker for --kind mqtt.
        #[arg(long, env = "TEST_MQTT_URL", default_value = "mqtt://127.0.0.1:1883")]
        mqtt: String,
    },
    /// What retention costs the receiver, one node: on SQLite the receive rate at half
    /// capacity while old reports are pruned, next to the same without; with --database
    /// postgres://… receive capacity while a day of --rows reports is dropped, next to
    /// capacity without.
    Prune {
        /// Old reports to seed and prune.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// Receive capacity, latency at half of it and bytes per report on a store of 0, 1 M and
    /// --rows reports (random callIds), the API's and dashboard's reads at --rows, and on
    /// SQLite the WAL's largest size during a long capacity phase.
    Growth {
        /// Reports in the store at the last size.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// The capacity phase whose WAL is watched (SQLite), e.g. 10m.
        #[arg(long, value_parser = duration, default_value = "10m")]
        wal_phase: Duration,
    },
    /// The time to render the dashboard's page of a call with many reports and attempts
    /// (one node, SQLite), and the overview page's weight.
    Dashboard {
        /// Reports of the call, each forwarded once.
        #[arg(long, default_value_t = 200)]
        reports: u64,
        /// Attempts of each forward (the last one dead).
        #[arg(long, default_value_t = 5)]
        attempts_each: u64,
        /// Renders of the call's page measured.
        #[arg(long, default_value_t = 50)]
        renders: u64,
    },
    /// Receive with [analytics] enabled against disabled, in alternating rounds (one node,
    /// SQLite); then the analytics page and API for an app with --calls calls over 30 days
    /// (on --database when given).
    Analytics {
        /// Rounds of each, alternating.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Calls seeded for the page.
        #[arg(long, default_value_t = 1_000_000)]
        calls: u64,
        /// Renders of each page measured.
        #[arg(long, default_value_t = 200)]
        renders: u64,
    },
    /// Recordings kept per second and MB/s (one node, SQLite, a directory store), next to a
    /// plain copy of the same files by the bench (a GET streamed into a directory).
    Recordings {
        /// Recordings a round.
        #[arg(long, default_value_t = 1000)]
        files: u64,
        /// Bytes each, e.g. 1MiB.
        #[arg(long, default_value = "1MiB", value_parser = size)]
        size: usize,
        /// Rounds of each, alternating.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
}

fn size(text: &str) -> Result<usize, String> {
    let bytes: bytesize::ByteSize = text.parse().map_err(|e| format!("{text:?}: {e}"))?;
    usize::try_from(bytes.as_u64()).map_err(|e| e.to_string())
}

pub async fn bench(args: BenchArgs) -> Result<(), Box<dyn Error>> {
    let postgres = args
        .database
        .as_deref()
        .is_some_and(|d| d.starts_with("postgres://") || d.starts_with("postgresql://"));
    if args.nodes == 0 || (args.nodes > 1 && !postgres) {
        return Err(
            "--nodes: 1, or more with --database postgres://… (a SQLite file belongs \
                    to one process)"
                .into(),
        );
    }
    let one_node = |path: &str| match args.nodes {
        1 => Ok(()),
        _ => Err(format!("--nodes: bench {path} runs one node")),
    };
    match &args.path {
        BenchPath::Forward { .. } => one_node("forward")?,
        BenchPath::Growth { .. } => one_node("growth")?,
        BenchPath::Recordings { .. } => one_node("recordings")?,
        BenchPath::Prune { .. } if args.database.is_some() && !postgres => {
            return Err(
                "--database: bench prune takes a postgres:// URL; on SQLite it makes \
                        its own file"
                    .into(),
            )
        }
        _ => {}
    }
    let dir = tempfile::tempdir()?;
    let json = args.json.clone();
    let report = measure(args, dir.path()).await?;
    print!("{}", report.render());
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&report.json)?)
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Runs the bench `args` name, its options checked by `bench`.
async fn measure(args: BenchArgs, dir: &Path) -> Result<bench::Report, String> {
    let (connections, duration, database) = (args.connections, args.duration, args.database);
    let warmup = Duration::from_secs(1);
    match args.path {
        BenchPath::Receive => {
            let nodes = args.nodes;
            let o = bench::receive::Options {
                connections,
                duration,
                warmup,
                database,
                nodes,
            };
            bench::receive::run(dir, &o).await
        }
        BenchPath::Deliver => {
            let (nodes, refuse_share) = (args.nodes, 0.1);
            let o = bench::deliver::Options {
                connections,
                duration,
                database,
                refuse_share,
                nodes,
            };
            bench::deliver::run(dir, &o).await
        }
        BenchPath::Forward {
            kind,
            nats,
            redis,
            mqtt,
        } => {
            let servers = bench::forward_ends::Servers { nats, redis, mqtt };
            let o = bench::forward::Options {
                connections,
                duration,
                warmup,
                database,
                kinds: kind,
                servers,
            };
            bench::forward::run(dir, &o).await
        }
        BenchPath::Prune { rows } => {
            let o = bench::prune::Options {
                connections,
                duration,
                rows,
            };
            match database {
                Some(pg) => bench::prune_days::run(dir, &o, &pg).await,
                None => bench::prune::run(dir, &o).await,
            }
        }
        BenchPath::Growth { rows, wal_phase } => {
            let o = bench::growth::Options {
                connections,
                duration,
                rows,
                wal_phase,
                database,
            };
            bench::growth::run(dir, &o).await
        }
        BenchPath::Dashboard {
            reports,
            attempts_each,
            renders,
        } => {
            let o = bench::dashboard::Options {
                reports,
                attempts_each,
                renders,
            };
            bench::dashboard::run(dir, &o).await
        }
        BenchPath::Analytics {
            rounds,
            calls,
            renders,
        } => {
            let o = bench::analytics::Options {
                connections,
                duration,
                warmup,
                rounds,
                calls,
                renders,
                database,
            };
            bench::analytics::run(dir, &o).await
        }
        BenchPath::Recordings {
            files,
            size,
            rounds,
        } => {
            let o = bench::recordings::Options {
                files,
                size,
                rounds,
            };
            bench::recordings::run(dir, &o).await
        }
    }
}
