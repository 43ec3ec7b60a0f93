//! Settings from flags and environment variables.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;

use crate::signature::Credential;

/// A local, AWS-compatible Amazon EventBridge.
#[derive(Parser, Debug, Clone)]
#[command(name = "eventbridge-local", version)]
pub struct Config {
    /// Address to listen on. Keep it on loopback unless you mean to share it.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on; 0 picks a free one (the bound address is printed on start).
    #[arg(long, env = "EVENTBRIDGE_LOCAL_PORT", default_value_t = 4010)]
    pub port: u16,

    /// Where buses, rules, targets, archives and replays are kept.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_DATA_DIR",
        default_value = "./eventbridge-data"
    )]
    pub data_dir: PathBuf,

    /// Keep nothing on disk: everything is gone when the process ends.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_IN_MEMORY")]
    pub in_memory: bool,

    /// Account of requests whose access key id is not a 12-digit number.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_ACCOUNT_ID",
        default_value = "000000000000"
    )]
    pub account_id: String,

    /// Region of requests that carry no SigV4 credential scope.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Endpoint of an AWS service that targets live in, as SERVICE=URL (for example
    /// `lambda=http://127.0.0.1:9001`). Repeatable; overrides AWS_ENDPOINT_URL_<SERVICE>.
    #[arg(long = "endpoint", value_name = "SERVICE=URL")]
    pub endpoints: Vec<String>,

    /// Largest PutEvents request, counted as AWS counts entry sizes.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_MAX_PUT_EVENTS_BYTES",
        default_value_t = 1_048_576
    )]
    pub max_put_events_bytes: usize,

    /// Largest request body accepted at all.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Check every AWS API request's SigV4 signature against the known credentials
    /// (`--credentials-file`, and the `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` pair).
    #[arg(long, env = "EVENTBRIDGE_LOCAL_VERIFY_SIGNATURES")]
    pub verify_signatures: bool,

    /// A JSON array of `{"accessKeyId", "secretAccessKey", "account"}`: the credentials that
    /// `--verify-signatures` accepts, each acting as its account.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Host names (besides loopback ones) that requests may address, so that a web page
    /// cannot reach this server through DNS rebinding. Repeatable. When the server listens on
    /// a non-loopback address and none is given, the Host and Origin checks are off (inside a
    /// container the host name is not known in advance).
    #[arg(
        long = "allowed-host",
        env = "EVENTBRIDGE_LOCAL_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// A connection that has not sent a complete request head within this many seconds (a
    /// client trickling its headers, or an idle keep-alive connection) is closed.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_HEADER_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub header_timeout_secs: u64,

    /// Open connections at most; more wait in the kernel's accept queue until one closes, so
    /// the clients already connected keep being answered.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,

    /// Largest request head (request line and headers); a larger one is answered 431.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
    pub max_header_bytes: usize,

    /// Memory for the store's page cache, in MiB.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_CACHE_MB", default_value_t = 64)]
    pub cache_mb: u64,

    /// Size of the archive log's segment files, in MiB (retention frees disk a whole
    /// segment at a time; tests use small ones to cross segment boundaries).
    #[arg(long, env = "EVENTBRIDGE_LOCAL_ARCHIVE_SEGMENT_MB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub archive_segment_mb: u64,

    /// Read every archive log segment through at start and repair the damaged ones: the
    /// unreadable events are dropped (and counted in the log), every intact one is kept, and
    /// each damaged segment is first copied to `<segment>.damaged`. Without it a start that
    /// finds damage other than a torn tail stops and says so. Use it once, when told to.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_REPAIR_ARCHIVE_LOG")]
    pub repair_archive_log: bool,

    /// Concurrent deliveries to targets.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_DELIVERY_WORKERS", default_value_t = 32)]
    pub delivery_workers: usize,

    /// First retry delay of a failed delivery in ms; it doubles per attempt (up to 60 s).
    /// Tests scale it down; AWS's own backoff starts around a second.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_RETRY_BASE_DELAY_MS",
        default_value_t = 1000
    )]
    pub retry_base_delay_ms: u64,

    /// Seconds between retention sweeps of the archives.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_RETENTION_SWEEP_SECS",
        default_value_t = 300
    )]
    pub retention_sweep_secs: u64,

    /// Cap on events per second that one replay re-injects; 0 means as fast as delivery
    /// allows. (AWS replays at the account's PutEvents rate.)
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_REPLAY_MAX_EVENTS_PER_SECOND",
        default_value_t = 0
    )]
    pub replay_max_events_per_second: u64,

    /// A replay reports COMPLETED no sooner than this after StartReplay, so that a
    /// CancelReplay sent right after StartReplay finds it in progress, as on AWS (where a
    /// replay spends seconds in STARTING). Deliveries are not held back; 0 turns it off.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_REPLAY_MIN_DURATION_MS",
        default_value_t = 500
    )]
    pub replay_min_duration_ms: u64,

    /// Divides the period of `rate(...)` schedules (tests use it to see scheduled rules fire
    /// quickly); 1 keeps real time.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_SCHEDULE_RATE_DIVISOR",
        default_value_t = 1
    )]
    pub schedule_rate_divisor: u32,

    /// Deliveries waiting at most; PutEvents (and replays) wait for room beyond that. Each
    /// holds its payload, so this bounds the memory that a backlog can take.
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_DELIVERY_QUEUE",
        default_value_t = 10_000
    )]
    pub delivery_queue: usize,

    /// `real` (the system clock) or `manual`: virtual time that stands still until
    /// `POST /_local/clock` moves it (schedules, retries and retention follow it).
    #[arg(long, env = "EVENTBRIDGE_LOCAL_CLOCK", value_enum, default_value_t = ClockMode::Real)]
    pub clock: ClockMode,

    /// Where a manual clock starts (RFC 3339, e.g. `2030-01-01T00:00:00Z`); the real time
    /// by default.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_CLOCK_START", value_parser = parse_rfc3339_ms)]
    pub clock_start: Option<i64>,

    /// Events each bus keeps for `/_local/events` and `/_local/explain` (the newest; 0
    /// keeps none).
    #[arg(long, env = "EVENTBRIDGE_LOCAL_RECENT_EVENTS", default_value_t = 1000)]
    pub recent_events: usize,

    /// A JSON file of API calls applied at every start, before the server announces itself:
    /// `[{"operation": "CreateEventBus", "input": {...}}, ...]`. Resources that already exist
    /// are left as they are; a bad entry stops the start.
    #[arg(long, env = "EVENTBRIDGE_LOCAL_INIT", value_name = "FILE")]
    pub init: Option<PathBuf>,

    /// Log lines for people (`human`) or one JSON object a line (`json`).
    #[arg(
        long,
        env = "EVENTBRIDGE_LOCAL_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Human
    )]
    pub log_format: LogFormat,

    /// Do not serve: ask a running server's health endpoint (by default
    /// `http://127.0.0.1:<--port>/_local/health`) and exit 0 when it answers ok, 1 otherwise.
    /// For container health checks in images without a shell or curl.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub healthcheck: Option<String>,
}

/// Which clock the server runs on.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    Real,
    Manual,
}

/// An RFC 3339 time as epoch milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time ({e}): {text}"))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| format!("out of range: {text}"))
}

/// How log lines (and the startup line) are written.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl Config {
    /// The credentials `--verify-signatures` accepts: the `--credentials-file` entries, then
    /// the `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` pair (its account: the key id when that
    /// is 12 digits, else `--account-id`).
    pub fn credentials(&self) -> Result<Vec<Credential>, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Entry {
            access_key_id: String,
            secret_access_key: String,
            account: String,
        }
        let mut out = Vec::new();
        if let Some(path) = &self.credentials_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let entries: Vec<Entry> = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{}: expected a JSON array of {{\"accessKeyId\", \"secretAccessKey\", \"account\"}}: {e}",
                    path.display()
                )
            })?;
            for entry in entries {
                if entry.account.len() != 12 || !entry.account.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "{}: account {} of access key {} is not 12 digits",
                        path.display(),
                        entry.account,
                        entry.access_key_id
                    ));
                }
                out.push(Credential {
                    access_key_id: entry.access_key_id,
                    secret_access_key: entry.secret_access_key,
                    account: entry.account,
                });
            }
        }
        if let (Ok(key), Ok(secret)) = (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            let account = if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
                key.clone()
            } else {
                self.account_id.clone()
            };
            out.push(Credential {
                access_key_id: key,
                secret_access_key: secret,
                account,
            });
        }
        Ok(out)
    }

    /// A configuration for tests and embedding: in memory, ephemeral port, no flags read.
    pub fn for_tests() -> Config {
        Config::parse_from(["eventbridge-local", "--in-memory", "--port", "0"])
    }

    /// Endpoints of target services: `--endpoint` flags over `AWS_ENDPOINT_URL_<SERVICE>` over
    /// `AWS_ENDPOINT_URL`, as the AWS SDKs resolve them.
    pub fn endpoint_table(&self) -> Endpoints {
        let mut by_service = BTreeMap::new();
        for (key, value) in std::env::vars() {
            if let Some(service) = key.strip_prefix("AWS_ENDPOINT_URL_") {
                by_service.insert(service.to_ascii_lowercase(), value);
            }
        }
        for flag in &self.endpoints {
            if let Some((service, url)) = flag.split_once('=') {
                by_service.insert(
                    service.to_ascii_lowercase().replace('-', "_"),
                    url.to_string(),
                );
            }
        }
        Endpoints {
            by_service,
            fallback: std::env::var("AWS_ENDPOINT_URL").ok(),
        }
    }
}

/// Where each AWS service that a target lives in is reached.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    by_service: BTreeMap<String, String>,
    fallback: Option<String>,
}

impl Endpoints {
    /// The endpoint for a service by its SDK env-var suffix (`sqs`, `lambda`, `cloudwatch_logs`).
    pub fn get(&self, service: &str) -> Option<&str> {
        self.by_service
            .get(service)
            .or(self.fallback.as_ref())
            .map(|s| s.trim_end_matches('/'))
    }

    /// The variable a user sets for a service.
    pub fn variable_for(service: &str) -> String {
        format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase())
    }
}
