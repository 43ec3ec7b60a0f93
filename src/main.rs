use clap::Parser;
use eventbridge_local::Config;
use std::io::Write;
use tokio::net::TcpListener;

/// glibc's malloc spent a third of the CPU of archived PutEvents and replays (profiled with
/// perf: consolidation, page zeroing after trims); mimalloc keeps freed pages for reuse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::parse();
    let listener = match TcpListener::bind((config.host.as_str(), config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "eventbridge-local: cannot listen on {}:{}: {e}",
                config.host, config.port
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("bound address");
    let app = match eventbridge_local::App::start(config) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("eventbridge-local: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Handlers exist before the address is printed: a SIGTERM sent as soon as the line is read
    // must shut down gracefully, not kill the process.
    let shutdown = shutdown_signal();
    println!("eventbridge-local listening on http://{addr}");
    // On stderr: scripts read stdout's single line for the address.
    eprintln!("eventbridge-local console: http://{addr}/_local/console");
    let _ = std::io::stdout().flush();
    eventbridge_local::run(listener, app, shutdown).await;
    std::process::ExitCode::SUCCESS
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
