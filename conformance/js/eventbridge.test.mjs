// The AWS SDK for JavaScript v3 (@aws-sdk/client-eventbridge) against eventbridge-local: the
// whole story of a user and the SDK's typed errors. `eventBridgeClient` is the README's snippet.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  InvalidEventPatternException,
  ListArchivesCommand,
  ListEventBusesCommand,
  ListReplaysCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";

import { startServer, startSqs, waitFor } from "./support.mjs";

function eventBridgeClient(endpoint) {
  return new EventBridgeClient({
    endpoint, // e.g. "http://127.0.0.1:4010"
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

let sqs;
let server;
let events;

before(async () => {
  sqs = await startSqs();
  server = await startServer(["--endpoint", `sqs=${sqs.url}`, "--replay-min-duration-ms", "0"]);
  events = eventBridgeClient(server.url);
});

after(async () => {
  events?.destroy();
  if (server) assert.equal(await server.stop(), 0, "SIGTERM shuts down cleanly");
  await sqs?.close();
});

/** The events that reached the queue, in arrival order. */
function messages() {
  return sqs.calls.map((call) => {
    assert.equal(call.target, "AmazonSQS.SendMessage");
    assert.match(call.body.QueueUrl, /\/000000000000\/orders-queue$/);
    return JSON.parse(call.body.MessageBody);
  });
}

test("bus, rule, SQS target, archive, PutEvents, a replay of a window, all read back", async () => {
  const { EventBusArn: busArn } = await events.send(new CreateEventBusCommand({ Name: "orders" }));
  assert.equal(busArn, "arn:aws:events:us-east-1:000000000000:event-bus/orders");
  const { RuleArn: ruleArn } = await events.send(
    new PutRuleCommand({
      Name: "order-created",
      EventBusName: "orders",
      EventPattern: JSON.stringify({ source: ["shop"], "detail-type": ["OrderCreated"] }),
    }),
  );
  const targets = await events.send(
    new PutTargetsCommand({
      Rule: "order-created",
      EventBusName: "orders",
      Targets: [{ Id: "orders-queue", Arn: "arn:aws:sqs:us-east-1:000000000000:orders-queue" }],
    }),
  );
  assert.equal(targets.FailedEntryCount, 0);
  const archive = await events.send(
    new CreateArchiveCommand({ ArchiveName: "orders-archive", EventSourceArn: busArn, RetentionDays: 7 }),
  );
  assert.equal(archive.State, "ENABLED");

  // Whole seconds: events' times are kept to the second.
  const windowStart = new Date((Math.floor(Date.now() / 1000) - 60) * 1000);
  const put = await events.send(
    new PutEventsCommand({
      Entries: [1, 2].map((orderId) => ({
        EventBusName: "orders",
        Source: "shop",
        DetailType: "OrderCreated",
        Detail: JSON.stringify({ orderId }),
      })),
    }),
  );
  assert.equal(put.FailedEntryCount, 0);
  const ids = put.Entries.map((e) => e.EventId);
  assert.equal(ids.length, 2);
  const windowEnd = new Date((Math.floor(Date.now() / 1000) + 1) * 1000);

  await waitFor("two deliveries to the queue", () => sqs.calls.length >= 2);
  const delivered = messages();
  assert.deepEqual(delivered.map((e) => e.id).sort(), [...ids].sort());
  assert.equal(delivered[0]["detail-type"], "OrderCreated");
  assert.deepEqual(delivered.map((e) => e.detail.orderId).sort(), [1, 2]);

  const described = await events.send(new DescribeArchiveCommand({ ArchiveName: "orders-archive" }));
  assert.equal(described.EventCount, 2);
  assert.equal(described.RetentionDays, 7);

  const replay = await events.send(
    new StartReplayCommand({
      ReplayName: "orders-replay",
      EventSourceArn: archive.ArchiveArn,
      EventStartTime: windowStart,
      EventEndTime: windowEnd,
      Destination: { Arn: busArn, FilterArns: [ruleArn] },
    }),
  );
  assert.equal(replay.State, "STARTING");
  const done = await waitFor("the replay to complete", async () => {
    const d = await events.send(new DescribeReplayCommand({ ReplayName: "orders-replay" }));
    return d.State === "COMPLETED" && d;
  });
  assert.equal(done.EventSourceArn, archive.ArchiveArn);
  assert.equal(done.EventStartTime.getTime(), windowStart.getTime());
  assert.deepEqual(done.Destination.FilterArns, [ruleArn]);
  await waitFor("the replayed deliveries", () => sqs.calls.length >= 4);
  for (const event of messages().slice(2)) {
    assert.equal(event["replay-name"], "orders-replay");
    assert.ok(ids.includes(event.id));
  }

  // Everything read back.
  const buses = await events.send(new ListEventBusesCommand({ NamePrefix: "ord" }));
  assert.deepEqual(buses.EventBuses.map((b) => b.Name), ["orders"]);
  const rule = await events.send(new DescribeRuleCommand({ Name: "order-created", EventBusName: "orders" }));
  assert.equal(rule.State, "ENABLED");
  assert.equal(rule.Arn, ruleArn);
  const rules = await events.send(new ListRulesCommand({ EventBusName: "orders" }));
  assert.ok(rules.Rules.some((r) => r.Name === "order-created"));
  const listed = await events.send(new ListTargetsByRuleCommand({ Rule: "order-created", EventBusName: "orders" }));
  assert.deepEqual(listed.Targets, [{ Id: "orders-queue", Arn: "arn:aws:sqs:us-east-1:000000000000:orders-queue" }]);
  const archives = await events.send(new ListArchivesCommand({ EventSourceArn: busArn }));
  assert.deepEqual(archives.Archives.map((a) => a.ArchiveName), ["orders-archive"]);
  const replays = await events.send(new ListReplaysCommand({ NamePrefix: "orders" }));
  assert.deepEqual(replays.Replays.map((r) => [r.ReplayName, r.State]), [["orders-replay", "COMPLETED"]]);
});

test("AWS errors are the SDK's typed exceptions", async () => {
  await assert.rejects(events.send(new DescribeEventBusCommand({ Name: "missing" })), (err) => {
    assert.ok(err instanceof ResourceNotFoundException, err.name);
    assert.equal(err.message, "Event bus missing does not exist.");
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  });
  await assert.rejects(events.send(new DescribeArchiveCommand({ ArchiveName: "missing" })), (err) => {
    assert.ok(err instanceof ResourceNotFoundException, err.name);
    assert.equal(err.message, "Archive missing does not exist.");
    return true;
  });
  await events.send(new CreateEventBusCommand({ Name: "twice" }));
  await assert.rejects(events.send(new CreateEventBusCommand({ Name: "twice" })), ResourceAlreadyExistsException);
  await assert.rejects(events.send(new PutRuleCommand({ Name: "bad-pattern", EventPattern: "{" })), (err) => {
    assert.ok(err instanceof InvalidEventPatternException, err.name);
    assert.match(err.message, /^Event pattern is not valid\./);
    return true;
  });
  // EventBridge's model has no ValidationException shape: the SDK raises a generic service
  // exception carrying AWS's code as its name.
  await assert.rejects(events.send(new CreateEventBusCommand({ Name: "bad/name" })), (err) => {
    assert.equal(err.name, "ValidationException");
    assert.equal(err.message, "Event bus name must not contain '/': bad/name");
    return true;
  });
});
