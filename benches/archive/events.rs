//! The events the bench puts: ~1 KB orders whose times are spread over four weeks, so that a
//! retention of 10 days expires most of them and leaves segments partly dead.

use bytes::Bytes;

pub const DAY_MS: i64 = 86_400_000;
const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";
pub const ENTRIES_PER_REQUEST: u64 = 10;
/// Event times are spread uniformly over [now - OLDEST_DAYS, now - NEWEST_DAYS].
pub const OLDEST_DAYS: i64 = 30;
const NEWEST_DAYS: i64 = 2;

pub fn bus_arn(name: &str) -> String {
    format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}")
}

/// The time of event `seq` of `total`: uniformly spread, newest first.
pub fn event_time(base_ms: i64, seq: u64, total: u64) -> i64 {
    let span = (OLDEST_DAYS - NEWEST_DAYS) * DAY_MS;
    base_ms - NEWEST_DAYS * DAY_MS - (span as f64 * seq as f64 / total.max(1) as f64) as i64
}

/// A realistic ~1 KB order event.
pub fn detail(seq: u64) -> String {
    let items: Vec<String> = (0..4)
        .map(|i| {
            format!(
                r#"{{"sku":"SKU-{:06}","name":"Ergonomic widget model {}","quantity":{},"unitPrice":{}.{:02},"warehouse":"wh-{}"}}"#,
                (seq * 7 + i) % 1_000_000,
                i,
                1 + (seq + i) % 5,
                5 + (seq * 13 + i) % 200,
                (seq + i * 17) % 100,
                (seq + i) % 12
            )
        })
        .collect();
    format!(
        r#"{{"orderId":"ord-{seq:012}","sequence":{seq},"status":"PLACED","channel":"web","customer":{{"id":"cust-{:08}","name":"Customer Number {}","email":"customer{}@example.com","tier":"{}","address":{{"street":"{} Market Street","city":"San Francisco","state":"CA","postalCode":"94{:03}","country":"US"}}}},"items":[{}],"payment":{{"method":"card","brand":"visa","last4":"{:04}","amount":{}.{:02},"currency":"USD"}},"shipping":{{"carrier":"UPS","service":"ground","estimatedDays":{}}},"tags":["promo-spring","first-order","priority"],"note":"Leave the parcel at the front desk if nobody answers."}}"#,
        seq % 50_000_000,
        seq % 100_000,
        seq % 100_000,
        ["bronze", "silver", "gold", "platinum"][(seq % 4) as usize],
        1 + seq % 2000,
        seq % 1000,
        items.join(","),
        seq % 10_000,
        20 + seq % 900,
        seq % 100,
        1 + seq % 7
    )
}

/// A PutEvents body with events `first..first + count` of `total` on `bus`.
pub fn put_events_body(bus: &str, first: u64, count: u64, total: u64, base_ms: i64) -> Bytes {
    let mut body = String::with_capacity(1400 * count as usize);
    body.push_str(r#"{"Entries":["#);
    for seq in first..first + count {
        if seq > first {
            body.push(',');
        }
        let t = event_time(base_ms, seq, total);
        let detail = serde_json::to_string(&detail(seq)).unwrap();
        body.push_str(&format!(
            r#"{{"EventBusName":"{bus}","Source":"bench.orders","DetailType":"OrderPlaced","Time":{}.{:03},"Resources":["arn:aws:example:{REGION}:{ACCOUNT}:order/ord-{seq:012}"],"Detail":{detail}}}"#,
            t.div_euclid(1000),
            t.rem_euclid(1000)
        ));
    }
    body.push_str("]}");
    Bytes::from(body)
}
