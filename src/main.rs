use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use eventbridge_local::Config;
use eventbridge_local::config::LogFormat;
use tokio::net::TcpListener;

/// glibc's malloc spent a third of the CPU of archived PutEvents and replays (profiled with
/// perf: consolidation, page zeroing after trims); mimalloc keeps freed pages for reuse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(url) = &config.healthcheck {
        let url = if url.is_empty() {
            eventbridge_local::healthcheck::default_url(config.port)
        } else {
            url.clone()
        };
        return match eventbridge_local::healthcheck::check(&url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(reason) => {
                eprintln!("eventbridge-local: {url} is not healthy: {reason}");
                ExitCode::FAILURE
            }
        };
    }
    init_logs(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("eventbridge-local: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // No colour codes in files and container logs.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

async fn serve(config: Config) -> ExitCode {
    let listener = match TcpListener::bind((config.host.as_str(), config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "eventbridge-local: cannot listen on {}:{}: {e}",
                config.host, config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("bound address");
    let format = config.log_format;
    let data = (!config.in_memory).then(|| config.data_dir.clone());
    let init = config.init.clone();
    let app = match eventbridge_local::App::start(config) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("eventbridge-local: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The seed state is in place before the server announces itself: whoever waits for the
    // line finds the buses and rules of the init file.
    if let Some(path) = init {
        match eventbridge_local::init::apply_file(&app, &path).await {
            Ok(done) => tracing::info!(
                file = %path.display(),
                applied = done.applied,
                already_there = done.existing,
                "init file applied"
            ),
            Err(message) => {
                eprintln!("eventbridge-local: {message}");
                app.shutdown().await;
                return ExitCode::FAILURE;
            }
        }
    }
    // Handlers exist before the address is printed: a SIGTERM sent as soon as the line is read
    // must shut down gracefully, not kill the process.
    let shutdown = shutdown_signal();
    println!("{}", startup_line(format, addr, data.as_deref()));
    // On stderr: scripts read stdout's single line for the address.
    tracing::info!("console: http://{addr}/_local/console");
    let _ = std::io::stdout().flush();
    eventbridge_local::run(listener, app, shutdown).await;
    ExitCode::SUCCESS
}

/// The one line on stdout, printed once the server answers: where its data lives and where it
/// listens. Tools wait for it and read the URL from it when started with `--port 0`: the URL
/// is its last word, whatever the data folder's name.
fn startup_line(format: LogFormat, addr: SocketAddr, data: Option<&Path>) -> String {
    match format {
        LogFormat::Human => {
            let data = data.map_or("in memory".to_string(), |d| d.display().to_string());
            format!("eventbridge-local (data: {data}) listening on http://{addr}")
        }
        LogFormat::Json => {
            let timestamp = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            serde_json::json!({
                "timestamp": timestamp,
                "level": "INFO",
                "message": "eventbridge-local listening",
                "url": format!("http://{addr}"),
                "address": addr.to_string(),
                "data_dir": data.map(|d| d.display().to_string()),
                "in_memory": data.is_none(),
            })
            .to_string()
        }
    }
}

/// Ctrl-C or SIGTERM. The handlers are registered when this is called, not when the future
/// is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term => {},
                _ = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
