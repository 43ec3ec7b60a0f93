// The console driven in headless Chromium: run by tests/console_browser.rs, which starts the
// server and passes its URL (EVENTBRIDGE_LOCAL_URL), the browser (CHROMIUM) and where the
// screenshots go (SCREENSHOT_DIR). Each test asserts on the page's content and saves a
// screenshot.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.EVENTBRIDGE_LOCAL_URL;
const SHOTS = process.env.SCREENSHOT_DIR || "screenshots";
const ACCOUNT = "000000000000";
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0`;
const TIMEOUT = 15000;

if (!BASE) throw new Error("EVENTBRIDGE_LOCAL_URL is not set (run through `cargo test --test console_browser`)");
mkdirSync(SHOTS, { recursive: true });

async function aws(op, body) {
  const response = await fetch(`${BASE}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSEvents.${op}`, authorization: AUTH },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${op}: ${JSON.stringify(data)}`);
  return data;
}

async function until(what, check, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let browser;
let page;
const busArn = (name) => `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${name}`;

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(TIMEOUT);
  await aws("CreateEventBus", { Name: "shop" });
  await aws("CreateEventBus", { Name: "sink" });
  await aws("PutRule", { Name: "orders", EventBusName: "shop", EventPattern: JSON.stringify({ source: ["shop.orders"], detail: { total: [{ numeric: [">", 100] }] } }) });
  await aws("PutTargets", { Rule: "orders", EventBusName: "shop", Targets: [{ Id: "to-sink", Arn: busArn("sink"), InputPath: "$.detail", RetryPolicy: { MaximumRetryAttempts: 3 } }] });
  await aws("PutRule", { Name: "refunds", EventBusName: "shop", EventPattern: JSON.stringify({ source: ["shop.refunds"] }) });
  await aws("PutTargets", { Rule: "refunds", EventBusName: "shop", Targets: [{ Id: "to-sink", Arn: busArn("sink") }] });
});

after(async () => {
  await browser?.close();
});

async function sendFromConsole(source, detail) {
  await page.goto(`${BASE}/_local/console#/bus/shop`);
  await page.getByRole("heading", { name: "Bus shop" }).waitFor();
  await page.locator("#live-status", { hasText: "live" }).waitFor();
  await page.getByLabel("source").fill(source);
  await page.getByLabel("detail type").fill("Order Placed");
  await page.getByLabel("detail", { exact: true }).fill(JSON.stringify(detail));
  await page.locator("#send-event").click();
  await page.locator("#send-result code").waitFor();
  return page.locator("#send-result code").innerText();
}

test("a sent event arrives live with its matched rule and its delivery", async () => {
  const id = await sendFromConsole("shop.orders", { total: 250 });
  const result = page.locator("#send-result");
  await assert.doesNotReject(result.locator('tr[data-rule="orders"]', { hasText: "matches" }).waitFor());
  const row = page.locator(`tr.event-row[data-event-id="${id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /shop\.orders[\s\S]*Order Placed[\s\S]*orders/);
  // The row itself shows how its delivery went, without a click.
  await row.locator("td.attempts", { hasText: "to-sink: succeeded" }).waitFor();
  await row.click();
  const delivery = page.locator("#deliveries tr.delivery");
  await delivery.first().waitFor();
  assert.match(await delivery.first().innerText(), /orders\s+to-sink\s+1\s+succeeded/);
  await page.screenshot({ path: join(SHOTS, "live-event.png"), fullPage: true });
});

test("a failed delivery shows its status and error", async () => {
  await aws("PutRule", { Name: "fragile", EventBusName: "shop", EventPattern: JSON.stringify({ source: ["shop.fragile"] }) });
  await aws("PutTargets", { Rule: "fragile", EventBusName: "shop", Targets: [{ Id: "to-sink", Arn: busArn("sink"), RetryPolicy: { MaximumRetryAttempts: 0 } }] });
  const fault = await fetch(`${BASE}/_local/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rule: "fragile", eventBusName: "shop", targetId: "to-sink", error: { status: 503 } }),
  });
  assert.equal(fault.status, 200, await fault.text());
  const id = await sendFromConsole("shop.fragile", { n: 1 });
  await page.locator(`tr.event-row[data-event-id="${id}"]`).click();
  const delivery = page.locator("#deliveries tr.delivery");
  await delivery.first().waitFor();
  const text = await delivery.first().innerText();
  assert.match(text, /fragile\s+to-sink\s+1\s+failed \(injected\)\s+503/, text);
  await page.screenshot({ path: join(SHOTS, "failed-delivery.png"), fullPage: true });
  await fetch(`${BASE}/_local/faults`, { method: "DELETE" });
  await aws("RemoveTargets", { Rule: "fragile", EventBusName: "shop", Ids: ["to-sink"] });
  await aws("DeleteRule", { Name: "fragile", EventBusName: "shop" });
});

test("a non-matching event shows why each rule did not match", async () => {
  const id = await sendFromConsole("shop.orders", { total: 20 });
  const orders = page.locator('#send-result tr[data-rule="orders"]');
  await orders.waitFor();
  const text = await orders.innerText();
  assert.match(text, /no match/);
  assert.match(text, /detail\.total/, text);
  const refunds = await page.locator('#send-result tr[data-rule="refunds"]').innerText();
  assert.match(refunds, /no match[\s\S]*source/, refunds);
  const row = page.locator(`tr.event-row[data-event-id="${id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /no rule matched/);
  await page.screenshot({ path: join(SHOTS, "why-not.png"), fullPage: true });
});

test("a rule shows its pattern and targets, and can be disabled and enabled", async () => {
  await page.goto(`${BASE}/_local/console#/rule/shop/orders`);
  await page.getByRole("heading", { name: /Rule orders/ }).waitFor();
  const body = await page.locator("main").innerText();
  assert.match(body, /"numeric"/);
  assert.match(body, /to-sink/);
  assert.match(body, /3 retries/);
  await page.locator("#toggle-rule", { hasText: "Disable" }).click();
  await page.locator("h1 .badge", { hasText: "DISABLED" }).waitFor();
  assert.equal((await aws("DescribeRule", { Name: "orders", EventBusName: "shop" })).State, "DISABLED");
  await page.locator("#toggle-rule", { hasText: "Enable" }).click();
  await page.locator("h1 .badge", { hasText: "ENABLED" }).waitFor();
  assert.equal((await aws("DescribeRule", { Name: "orders", EventBusName: "shop" })).State, "ENABLED");
});

const ARCHIVED = 130;

test("an archive pages through its events and finds them by text", async () => {
  await aws("CreateArchive", { ArchiveName: "shop-archive", EventSourceArn: busArn("shop"), RetentionDays: 7 });
  for (let i = 0; i < ARCHIVED; i += 10) {
    const entries = [];
    for (let j = i; j < i + 10; j++) {
      entries.push({ EventBusName: "shop", Source: "shop.archived", DetailType: "Archived", Detail: JSON.stringify({ n: j, tag: `needle-${j}` }) });
    }
    const answer = await aws("PutEvents", { Entries: entries });
    assert.equal(answer.FailedEntryCount, 0);
  }
  await until("the archive to hold every event", async () => (await aws("DescribeArchive", { ArchiveName: "shop-archive" })).EventCount >= ARCHIVED);
  await page.goto(`${BASE}/_local/console#/archive/shop-archive`);
  await page.getByRole("heading", { name: /Archive shop-archive/ }).waitFor();
  const rows = page.locator("#archive-events tr.archived");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 50);
  assert.match(await rows.first().innerText(), /^1\s/);
  await page.locator("#next-page").click();
  await page.locator("#page-number", { hasText: "Page 2" }).waitFor();
  assert.match(await rows.first().innerText(), /^51\s/);
  await page.locator("#next-page").click();
  await page.locator("#page-number", { hasText: "Page 3" }).waitFor();
  assert.equal(await rows.count(), ARCHIVED - 100);
  assert.ok(await page.locator("#next-page").isDisabled());
  await page.locator("#prev-page").click();
  await page.locator("#page-number", { hasText: "Page 2" }).waitFor();
  await page.getByLabel("search").fill("needle-42\"");
  await page.locator("#search").click();
  await page.locator("#page-number", { hasText: "Page 1" }).waitFor();
  await until("one search result", async () => (await rows.count()) === 1);
  await rows.first().locator("summary").click();
  assert.match(await rows.first().innerText(), /"needle-42"/);
  await page.screenshot({ path: join(SHOTS, "archive.png"), fullPage: true });
});

test("a replay started from the console runs to COMPLETED with its progress", async () => {
  await page.goto(`${BASE}/_local/console#/archive/shop-archive`);
  await page.locator("#start-replay").waitFor();
  await page.getByLabel("replay name").fill("console-replay");
  await page.locator("#start-replay").click();
  await page.getByRole("heading", { name: "Replays" }).waitFor();
  const row = page.locator('tr[data-replay="console-replay"]');
  // The server replays 50 events a second: the page sees it run, then complete.
  await row.locator(".replay-state", { hasText: "RUNNING" }).waitFor();
  await row.locator(".replay-state", { hasText: "COMPLETED" }).waitFor({ timeout: 30000 });
  const text = await row.innerText();
  assert.match(text, /100%/);
  assert.match(text, new RegExp(`${ARCHIVED + 2} of ${ARCHIVED + 2}|${ARCHIVED} of ${ARCHIVED}`), text);
  assert.equal(await row.locator("progress").getAttribute("value"), "100");
  await page.screenshot({ path: join(SHOTS, "replay.png"), fullPage: true });
});

test("a replay is cancelled from the console", async () => {
  await page.goto(`${BASE}/_local/console#/archive/shop-archive`);
  await page.locator("#start-replay").waitFor();
  await page.getByLabel("replay name").fill("cancel-me");
  await page.locator("#start-replay").click();
  const row = page.locator('tr[data-replay="cancel-me"]');
  await row.locator("button.cancel").click();
  await row.locator(".replay-state", { hasText: "CANCELLED" }).waitFor();
  assert.equal((await aws("DescribeReplay", { ReplayName: "cancel-me" })).State, "CANCELLED");
  assert.equal(await row.locator("button.cancel").count(), 0);
});

test("connections and API destinations are listed without their secrets", async () => {
  const secret = "s3cr3t-api-key-value";
  const connection = await aws("CreateConnection", {
    Name: "partner",
    AuthorizationType: "API_KEY",
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: "x-api-key", ApiKeyValue: secret } },
  });
  await aws("CreateApiDestination", { Name: "partner-orders", ConnectionArn: connection.ConnectionArn, InvocationEndpoint: "https://partner.example/orders", HttpMethod: "POST", InvocationRateLimitPerSecond: 20 });
  await page.goto(`${BASE}/_local/console#/connections`);
  await page.locator("tr", { hasText: "partner-orders" }).waitFor();
  const text = await page.locator("main").innerText();
  assert.match(text, /partner\s+API_KEY/);
  assert.match(text, /partner-orders\s+POST\s+https:\/\/partner\.example\/orders\s+partner\s+20\/s/);
  assert.ok(!(await page.content()).includes(secret), "the page shows a secret");
});

test("the live list stays bounded and current at a thousand events a second", async () => {
  await aws("CreateEventBus", { Name: "busy" });
  await page.goto(`${BASE}/_local/console#/bus/busy`);
  await page.locator("#live-status", { hasText: "live" }).waitFor();
  const started = Date.now();
  let sent = 0;
  let lastId;
  while (Date.now() - started < 3000) {
    const tick = Date.now();
    const answer = await aws("PutEvents", { Entries: Array.from({ length: 10 }, (_, i) => ({ EventBusName: "busy", Source: "load", DetailType: "Tick", Detail: JSON.stringify({ n: sent + i }) })) });
    sent += 10;
    lastId = answer.Entries[9].EventId;
    await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - tick))));
  }
  assert.ok(sent >= 1000, `sent only ${sent}`);
  await page.locator(`tr.event-row[data-event-id="${lastId}"]`).waitFor();
  assert.equal(await page.locator("tr.event-row").count(), 200);
  const clicked = Date.now();
  await page.locator(`tr.event-row[data-event-id="${lastId}"]`).click();
  await page.locator("#event-detail h2", { hasText: lastId }).waitFor();
  assert.ok(Date.now() - clicked < 2000, "the page answered a click slowly");
  await page.screenshot({ path: join(SHOTS, "busy.png"), fullPage: false });
});

test("scheduled rules and Scheduler schedules show their next instants", async () => {
  await aws("PutRule", { Name: "every-five", ScheduleExpression: "rate(5 minutes)" });
  await page.goto(`${BASE}/_local/console#/schedules`);
  await page.getByRole("heading", { name: "Scheduled rules" }).waitFor();
  const row = page.locator("tr", { hasText: "every-five" });
  await until("the rule's next instant", async () => {
    await page.reload();
    await row.waitFor();
    return /\d{4}-\d\d-\d\d \d\d:\d\d/.test(await row.innerText());
  });
  assert.match(await row.innerText(), /rate\(5 minutes\)/);
  const created = await fetch(`${BASE}/schedules/nightly`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: AUTH.replace("/events/", "/scheduler/") },
    body: JSON.stringify({
      ScheduleExpression: "cron(0 2 * * ? *)",
      ScheduleExpressionTimezone: "Europe/Paris",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: { Arn: busArn("sink"), RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`, EventBridgeParameters: { DetailType: "Nightly", Source: "console.test" } },
    }),
  });
  assert.equal(created.status, 200, await created.text());
  const schedule = page.locator("tr", { hasText: "nightly" });
  await until("the schedule's next instant", async () => {
    await page.reload();
    await schedule.waitFor();
    return / 0[01]:00:00/.test(await schedule.innerText());
  });
  assert.match(await schedule.innerText(), /Europe\/Paris/);
  await page.screenshot({ path: join(SHOTS, "schedules.png"), fullPage: false });
});

test("another site cannot change state through the console's endpoints", async () => {
  // What a page on another site could send the server from the user's browser.
  const foreign = await fetch(`${BASE}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.DisableRule", authorization: AUTH, origin: "http://evil.test" },
    body: JSON.stringify({ Name: "orders", EventBusName: "shop" }),
  });
  assert.equal(foreign.status, 403);
  const reset = await fetch(`${BASE}/_local/reset`, { method: "POST", headers: { origin: "http://evil.test" } });
  assert.equal(reset.status, 403);
  assert.equal((await aws("DescribeRule", { Name: "orders", EventBusName: "shop" })).State, "ENABLED");
  // The console's pages are not to be framed by other sites.
  const response = await fetch(`${BASE}/_local/console`);
  assert.match(response.headers.get("content-security-policy"), /frame-ancestors 'none'/);
});

test("the bus page is the console's front: a screenshot for the README", async () => {
  const id = await sendFromConsole("shop.orders", { total: 180, item: "book" });
  const row = page.locator(`tr.event-row[data-event-id="${id}"]`);
  await row.click();
  await page.locator("#deliveries tr.delivery").first().waitFor();
  await row.locator("td.attempts", { hasText: "to-sink: succeeded" }).waitFor();
  await page.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });
});
