//! `--healthcheck`: the binary asks a running server whether it is healthy, so that a
//! container image without a shell or curl (`FROM scratch`) can still have a HEALTHCHECK.
//! Plain blocking HTTP/1.1 over std: no runtime is started for one GET.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);
/// A health answer is small; anything beyond this is not ours.
const MAX_ANSWER: u64 = 1 << 20;

/// The URL asked when `--healthcheck` has no value: this machine, the configured port.
pub fn default_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/_local/health")
}

/// Ok when `url` answers 200 with a JSON body whose `status` is `"ok"`; the reason otherwise.
pub fn check(url: &str) -> Result<(), String> {
    let (authority, path) = split_url(url)?;
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    stream.set_write_timeout(Some(TIMEOUT)).ok();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    judge(&answer)
}

/// `http://host:port/path` into (`host:port`, `/path`); only plain HTTP is spoken.
fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs can be checked"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/_local/health"),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let authority = if authority.rsplit_once(':').is_some_and(|(_, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']')
    }) {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// A raw HTTP answer: status 200 and `{"status":"ok"}` in the body (chunked or not: the body
/// is found by its JSON object, which the health endpoint sends in one piece).
fn judge(answer: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "no complete HTTP answer".to_string())?;
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("answered {status_line:?}"));
    }
    let json = body
        .find('{')
        .zip(body.rfind('}'))
        .and_then(|(start, end)| serde_json::from_str::<serde_json::Value>(&body[start..=end]).ok())
        .ok_or_else(|| "the answer is not JSON".to_string())?;
    match json.get("status").and_then(|s| s.as_str()) {
        Some("ok") => Ok(()),
        other => Err(format!("status is {other:?}, not \"ok\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://127.0.0.1:4010/_local/health").unwrap(),
            ("127.0.0.1:4010".into(), "/_local/health".into())
        );
        assert_eq!(
            split_url("http://localhost").unwrap(),
            ("localhost:80".into(), "/_local/health".into())
        );
        assert!(split_url("https://x/").is_err());
    }

    #[test]
    fn judges_answers() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"status\":\"ok\"}";
        assert_eq!(judge(ok), Ok(()));
        let bad = b"HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"ok\"}";
        assert!(judge(bad).is_err());
        let not_ok = b"HTTP/1.1 200 OK\r\n\r\n{\"status\":\"starting\"}";
        assert!(judge(not_ok).is_err());
    }
}
