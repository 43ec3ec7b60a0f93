//! ARN formats of EventBridge resources and of the targets it delivers to.

use super::Scope;

pub fn event_bus(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:event-bus/{name}",
        scope.region, scope.account
    )
}

/// Rules on the default bus have no bus segment; rules on other buses do.
pub fn rule(scope: &Scope, bus: &str, name: &str) -> String {
    if bus == "default" {
        format!(
            "arn:aws:events:{}:{}:rule/{name}",
            scope.region, scope.account
        )
    } else {
        format!(
            "arn:aws:events:{}:{}:rule/{bus}/{name}",
            scope.region, scope.account
        )
    }
}

pub fn archive(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:archive/{name}",
        scope.region, scope.account
    )
}

pub fn replay(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:events:{}:{}:replay/{name}",
        scope.region, scope.account
    )
}

/// The parts of `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedArn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Whether an ARN names something in `scope` (its region and account).
pub fn in_scope(arn: &str, scope: &Scope) -> bool {
    parse(arn).is_some_and(|p| p.region == scope.region && p.account == scope.account)
}

pub fn parse(arn: &str) -> Option<ParsedArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    Some(ParsedArn {
        service,
        region,
        account,
        resource,
    })
}

/// `(scope, bus name)` of an event-bus ARN.
pub fn parse_event_bus(arn: &str) -> Option<(Scope, String)> {
    let parsed = parse(arn)?;
    let name = parsed.resource.strip_prefix("event-bus/")?;
    (parsed.service == "events" && !name.is_empty()).then(|| {
        (
            Scope {
                account: parsed.account.to_string(),
                region: parsed.region.to_string(),
            },
            name.to_string(),
        )
    })
}

/// `(scope, bus name, rule name)` of a rule ARN: `rule/NAME` on the default bus,
/// `rule/BUS/NAME` on another (BUS may itself contain '/': partner buses).
pub fn parse_rule(arn: &str) -> Option<(Scope, String, String)> {
    let parsed = parse(arn)?;
    let path = parsed.resource.strip_prefix("rule/")?;
    if parsed.service != "events" || parsed.region.is_empty() || parsed.account.is_empty() {
        return None;
    }
    let (bus, name) = path.rsplit_once('/').unwrap_or(("default", path));
    (!bus.is_empty() && !name.is_empty()).then(|| {
        (
            Scope {
                account: parsed.account.to_string(),
                region: parsed.region.to_string(),
            },
            bus.to_string(),
            name.to_string(),
        )
    })
}

/// `(scope, archive name)` of an archive ARN.
pub fn parse_archive(arn: &str) -> Option<(Scope, String)> {
    let parsed = parse(arn)?;
    let name = parsed.resource.strip_prefix("archive/")?;
    (parsed.service == "events" && !name.is_empty()).then(|| {
        (
            Scope {
                account: parsed.account.to_string(),
                region: parsed.region.to_string(),
            },
            name.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "eu-west-3".into(),
        }
    }

    #[test]
    fn rule_arns_name_the_bus_except_default() {
        assert_eq!(
            rule(&scope(), "default", "r"),
            "arn:aws:events:eu-west-3:123456789012:rule/r"
        );
        assert_eq!(
            rule(&scope(), "b", "r"),
            "arn:aws:events:eu-west-3:123456789012:rule/b/r"
        );
    }

    #[test]
    fn parses_bus_and_archive_arns() {
        let (s, name) =
            parse_event_bus("arn:aws:events:eu-west-3:123456789012:event-bus/my-bus").unwrap();
        assert_eq!((s, name.as_str()), (scope(), "my-bus"));
        assert!(parse_event_bus("arn:aws:events:eu-west-3:123456789012:archive/a").is_none());
        let (_, name) = parse_archive("arn:aws:events:eu-west-3:123456789012:archive/a").unwrap();
        assert_eq!(name, "a");
        assert!(parse("not-an-arn").is_none());
    }
}
