//! Keeps web pages out: a page in the user's browser may send requests to 127.0.0.1, either
//! cross-origin (a form POST to `/_local/reset` needs no preflight) or through DNS rebinding
//! (its own host name made to resolve to 127.0.0.1, so the browser sends `Host: evil.test`).
//! Requests addressed to a host name that is not this server's are refused, and so are
//! state-changing requests whose `Origin` is another site. SDKs and the CLI send neither a
//! foreign `Host` nor an `Origin`, so they never meet this.

use std::net::IpAddr;

/// Which `Host`/`Origin` names are this server's.
#[derive(Debug, Clone)]
pub struct HostGuard {
    /// `None`: checks off (listening on a non-loopback address with no `--allowed-host`).
    allowed: Option<Vec<String>>,
}

impl HostGuard {
    pub fn new(listen_host: &str, allowed_hosts: &[String]) -> HostGuard {
        let listen_is_loopback = is_loopback(listen_host);
        if !listen_is_loopback && allowed_hosts.is_empty() {
            return HostGuard { allowed: None };
        }
        let mut allowed: Vec<String> = allowed_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if !listen_is_loopback {
            allowed.push(listen_host.to_ascii_lowercase());
        }
        HostGuard {
            allowed: Some(allowed),
        }
    }

    fn allows(&self, host: &str) -> bool {
        match &self.allowed {
            None => true,
            Some(list) => {
                let host = host.to_ascii_lowercase();
                is_loopback(&host) || list.contains(&host)
            }
        }
    }

    /// Why a request must be refused, if it must: `host` is its `Host` header, `origin` its
    /// `Origin` header, `changes_state` whether its method can change anything.
    pub fn refusal(
        &self,
        host: Option<&str>,
        origin: Option<&str>,
        changes_state: bool,
    ) -> Option<String> {
        self.allowed.as_ref()?;
        if let Some(host) = host
            && !self.allows(host_name(host))
        {
            return Some(format!(
                "Host {host} is not this server's (add it with --allowed-host to allow it)"
            ));
        }
        if changes_state && let Some(origin) = origin {
            let name = origin
                .split_once("://")
                .map(|(_, rest)| host_name(rest.split('/').next().unwrap_or(rest)));
            if !name.is_some_and(|n| self.allows(n)) {
                return Some(format!(
                    "cross-origin requests from {origin} may not change state (add its host with --allowed-host to allow it)"
                ));
            }
        }
        None
    }
}

/// `host:port`, `[v6]:port` or a bare host -> the host name or address.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => authority,
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_and_foreign_ones_do_not() {
        let guard = HostGuard::new("127.0.0.1", &[]);
        for host in [
            "127.0.0.1:4010",
            "localhost:4010",
            "[::1]:4010",
            "127.0.0.2",
            "LOCALHOST",
        ] {
            assert_eq!(guard.refusal(Some(host), None, true), None, "{host}");
        }
        assert!(guard.refusal(Some("evil.test:4010"), None, false).is_some());
        assert!(
            guard
                .refusal(Some("127.0.0.1:4010"), Some("http://evil.test"), true)
                .is_some()
        );
        assert_eq!(
            guard.refusal(Some("127.0.0.1:4010"), Some("http://evil.test"), false),
            None,
            "reads are not refused for their Origin (the browser keeps their answers from the page)"
        );
        assert_eq!(
            guard.refusal(Some("127.0.0.1:4010"), Some("http://127.0.0.1:4010"), true),
            None
        );
        assert!(
            guard
                .refusal(Some("127.0.0.1"), Some("null"), true)
                .is_some()
        );
    }

    #[test]
    fn allowed_hosts_and_open_listeners() {
        let guard = HostGuard::new("127.0.0.1", &["eventbridge.test".into()]);
        assert_eq!(
            guard.refusal(Some("eventbridge.test:4010"), None, true),
            None
        );
        let open = HostGuard::new("0.0.0.0", &[]);
        assert_eq!(
            open.refusal(Some("anything:1"), Some("http://x"), true),
            None
        );
        let named = HostGuard::new("0.0.0.0", &["eventbridge".into()]);
        assert!(named.refusal(Some("anything:1"), None, true).is_some());
        assert_eq!(named.refusal(Some("eventbridge:4010"), None, true), None);
    }
}
