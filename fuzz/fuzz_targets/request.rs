//! Fuzz target `request`: the front door never panics and never answers a 5xx.
//!
//! Input, shaped like an HTTP request:
//! ```text
//! <operation>\n<Header>: <value>\n...\n\n<body>
//! ```
//! The first line is an operation name; one that is not among the 57 of the API picks an
//! implemented operation from its bytes instead (so that mutations keep exercising handlers).
//! The headers go where the server's would: `Authorization` through `request_scope` (the
//! request's account and region), and all of them through the SigV4 check
//! (`protocol::authenticate`, which parses `Authorization` and `X-Amz-Date`); the body goes
//! through the JSON check and `ops::dispatch` on one in-memory `App`, whose state carries
//! over from input to input (buses made by one input are there for the next).
//!
//! Checked: nothing panics; every error is a code of the error table with a non-empty
//! message; no input gets `InternalException` (a 500) or `UnknownOperationException` for an
//! operation of the API; a success is a JSON object.
//!
//! Deliveries go nowhere: every AWS service endpoint is a closed local port.
//!
//! Run: `cargo fuzz run request` from the repository root (see fuzz/README.md).

#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use eventbridge_local::error::ErrorCode;
use eventbridge_local::ops::{ALL_OPERATIONS, IMPLEMENTED, dispatch};
use eventbridge_local::protocol::{SignedParts, authenticate, check_json, request_scope};
use eventbridge_local::signature::{Credential, Verifier};
use eventbridge_local::{App, Config};
use libfuzzer_sys::fuzz_target;

struct World {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    verifier: Verifier,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // SAFETY: set once, before any other thread of this process exists.
        unsafe { std::env::set_var("AWS_ENDPOINT_URL", "http://127.0.0.1:9") };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let mut config = Config::for_tests();
        config.retry_base_delay_ms = 1;
        let app = {
            let _inside = runtime.enter();
            App::start(config).expect("the app starts")
        };
        let verifier = Verifier::new(vec![Credential {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            account: "111122223333".into(),
        }]);
        World {
            runtime,
            app,
            verifier,
        }
    })
}

const AUTH_CODES: [ErrorCode; 4] = [
    ErrorCode::MissingAuthenticationToken,
    ErrorCode::UnrecognizedClient,
    ErrorCode::IncompleteSignature,
    ErrorCode::InvalidSignature,
];

fuzz_target!(|data: &[u8]| {
    let world = world();
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let first = lines.next().unwrap_or_default().trim();
    let operation = if ALL_OPERATIONS.contains(&first) {
        first
    } else {
        let pick = first.bytes().fold(0usize, |a, b| a.wrapping_mul(31) + b as usize);
        IMPLEMENTED[pick % IMPLEMENTED.len()]
    };
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    let authorization = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| *v);

    let scope = request_scope(authorization, "000000000000", "us-east-1");
    assert!(!scope.account.is_empty() && !scope.region.is_empty());

    // The signature check, on the headers that make a valid HTTP request head.
    let mut request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("x-amz-target", format!("AWSEvents.{operation}"));
    for (name, value) in &headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && http::HeaderValue::from_str(value).is_ok()
        {
            request = request.header(*name, *value);
        }
    }
    if let Ok(request) = request.body(()) {
        let parts = SignedParts::of(&request);
        if let Err(e) = authenticate(&world.verifier, &parts, body, &scope) {
            assert!(AUTH_CODES.contains(&e.code), "{e}");
            assert!(!e.message.is_empty());
        }
    }

    let result = world.runtime.block_on(async {
        let body = check_json(Bytes::copy_from_slice(body))?;
        dispatch(&world.app, &scope, operation, body).await
    });
    match result {
        Ok(value) => assert!(value.is_object(), "{operation} answered {value}"),
        Err(e) => {
            assert!(!e.message.is_empty(), "{operation}: an empty message");
            assert_ne!(e.code, ErrorCode::Internal, "{operation}: {e}");
            assert_ne!(e.code, ErrorCode::UnknownOperation, "{operation}: {e}");
            assert!(!AUTH_CODES.contains(&e.code), "{operation}: {e}");
            let (code, status) = e.code.code_and_status();
            assert!(code.ends_with("Exception") && status == 400, "{code} {status}");
        }
    }
});
