// The console's pages, one per hash route:
//   #/buses, #/bus/<bus>, #/rule/<bus>/<rule>, #/archives, #/archive/<name>,
//   #/replays, #/schedules, #/connections
import { aws, awsAll, follow, local, localPost, scope } from "./api.js";
import { badge, bytes, code, fill, h, inputTime, link, pretty, table, timeInput, toast, when } from "./views.js";

const main = document.getElementById("main");
/** Undoes what the current page started (streams, timers) when another is shown. */
let leave = [];
/** Events a live list keeps: the newest. */
const LIVE_MAX = 200;

function onLeave(fn) {
  leave.push(fn);
}

async function route() {
  for (const fn of leave) fn();
  leave = [];
  const [page, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === page || (page === "bus" && a.dataset.nav === "buses") || (page === "rule" && a.dataset.nav === "buses") || (page === "archive" && a.dataset.nav === "archives"));
  }
  const pages = { buses, bus, rule, archives, archive, replays, schedules, connections };
  const show = pages[page] || buses;
  fill(main, h("p", { class: "muted" }, "Loading…"));
  try {
    await show(...args);
  } catch (e) {
    fill(main, h("div", { class: "error" }, `${e.type ? e.type + ": " : ""}${e.message}`));
  }
}

// ---------- buses and rules ----------

async function buses() {
  const list = await awsAll("ListEventBuses", {}, "EventBuses");
  const rows = await Promise.all(
    list.map(async (b) => {
      const rules = await awsAll("ListRules", { EventBusName: b.Name }, "Rules").catch(() => []);
      return h(
        "tr",
        {},
        h("td", {}, link(`#/bus/${encodeURIComponent(b.Name)}`, b.Name)),
        h("td", {}, String(rules.length)),
        h("td", {}, b.Description || ""),
        h("td", { class: "mono" }, b.Arn),
      );
    }),
  );
  fill(main, h("h1", {}, "Event buses"), table(["Name", "Rules", "Description", "ARN"], rows, "No buses."));
}

function ruleState(r) {
  return badge(r.State, r.State === "ENABLED" ? "ok" : "off");
}

async function setRuleState(busName, name, enable) {
  await aws(enable ? "EnableRule" : "DisableRule", { Name: name, EventBusName: busName });
  toast(`Rule ${name} ${enable ? "enabled" : "disabled"}`, "info");
}

async function bus(name) {
  const rules = await awsAll("ListRules", { EventBusName: name }, "Rules");
  const ruleRows = rules.map((r) =>
    h(
      "tr",
      { "data-rule": r.Name },
      h("td", {}, link(`#/rule/${encodeURIComponent(name)}/${encodeURIComponent(r.Name)}`, r.Name)),
      h("td", {}, ruleState(r)),
      h("td", {}, r.ScheduleExpression ? h("code", {}, r.ScheduleExpression) : h("code", { class: "pattern" }, r.EventPattern || "")),
      h(
        "td",
        {},
        h(
          "button",
          {
            onclick: async () => {
              try {
                await setRuleState(name, r.Name, r.State !== "ENABLED");
                route();
              } catch (e) {
                toast(e.message);
              }
            },
          },
          r.State === "ENABLED" ? "Disable" : "Enable",
        ),
      ),
    ),
  );
  const live = h("tbody", { id: "live-events" });
  const status = h("span", { class: "badge off", id: "live-status" }, "connecting");
  const detail = h("section", { id: "event-detail", class: "panel hidden" });
  const sendResult = h("div", { id: "send-result" });
  fill(
    main,
    h("h1", {}, `Bus ${name}`),
    h("section", { class: "panel" }, h("h2", {}, "Rules"), table(["Name", "State", "Pattern / schedule", ""], ruleRows, "No rules on this bus.")),
    sendForm(name, sendResult),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Events arriving ", status),
      h("p", { class: "muted" }, `The newest ${LIVE_MAX}, live. Click one for its deliveries and why the other rules did not match.`),
      h("div", { class: "scroll" }, h("table", { class: "events" }, h("thead", {}, h("tr", {}, ["Received", "Event id", "Source", "Detail type", "Matched rules", "Deliveries"].map((x) => h("th", {}, x)))), live)),
    ),
    detail,
  );
  startLive(name, live, status, detail);
}

/** The latest attempt of each (rule, target) an event went to, as badges. */
function deliverySummary(e, records) {
  if (!records || !records.length) return h("span", { class: "muted" }, e.matchedRules.length ? "—" : "");
  const latest = new Map();
  for (const d of records) {
    const key = `${d.ruleArn} ${d.targetId}`;
    if (!latest.has(key) || latest.get(key).attempt < d.attempt) latest.set(key, d);
  }
  return [...latest.values()].map((d) =>
    badge(`${d.targetId}: ${d.outcome}${d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}`, d.outcome === "succeeded" ? "ok" : d.outcome === "retrying" ? "off" : "failed"),
  );
}

function ruleArn(busName, rule) {
  return `arn:aws:events:${scope.region}:${scope.account}:rule/${busName === "default" ? "" : `${busName}/`}${rule}`;
}

function startLive(busName, tbody, status, detail) {
  let events = [];
  let pending = false;
  /** Event id -> its delivery attempts, refreshed each second for the rules the listed events matched. */
  let attempts = new Map();
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(render);
    }
  };
  let stopped = false;
  const refresh = async () => {
    const rules = new Set(events.flatMap((e) => e.matchedRules));
    const next = new Map();
    for (const rule of rules) {
      const { deliveries } = await local("deliveries", { rule: ruleArn(busName, rule), limit: 1000 }).catch(() => ({ deliveries: [] }));
      for (const d of deliveries) {
        if (!next.has(d.eventId)) next.set(d.eventId, []);
        next.get(d.eventId).push(d);
      }
    }
    attempts = next;
    schedule();
    if (!stopped) timer = setTimeout(refresh, 1000);
  };
  let timer = setTimeout(refresh, 300);
  onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const render = () => {
    pending = false;
    fill(
      tbody,
      events.map((e) =>
        h(
          "tr",
          { class: "event-row", "data-event-id": e.eventId, onclick: () => showEvent(busName, e, detail) },
          h("td", {}, when(e.receivedTime)),
          h("td", { class: "mono" }, e.eventId),
          h("td", {}, e.event.source),
          h("td", {}, e.event["detail-type"]),
          h("td", {}, e.matchedRules.length ? e.matchedRules.map((r) => badge(r, "rule")) : h("span", { class: "muted" }, "no rule matched")),
          h("td", { class: "attempts" }, deliverySummary(e, attempts.get(e.eventId))),
        ),
      ),
    );
  };
  const stop = follow(
    busName,
    (batch) => {
      events = batch.reverse().concat(events).slice(0, LIVE_MAX);
      schedule();
    },
    (state) => {
      status.textContent = state;
      status.className = `badge ${state === "live" ? "ok" : "off"}`;
    },
  );
  onLeave(stop);
}

function sendForm(busName, result) {
  const source = h("input", { name: "source", value: "console.test", "aria-label": "source" });
  const detailType = h("input", { name: "detail-type", value: "Test", "aria-label": "detail type" });
  const detail = h("textarea", { name: "detail", rows: 4, "aria-label": "detail" }, '{"hello": "world"}');
  const read = () => ({ Source: source.value, DetailType: detailType.value, Detail: detail.value, EventBusName: busName });
  const send = async (really) => {
    // Cleared at once: what shows next is this event's answer.
    fill(result, h("p", { class: "muted" }, "Sending…"));
    try {
      const entry = read();
      let explained;
      if (really) {
        const answer = await aws("PutEvents", { Entries: [entry] });
        const first = answer.Entries[0];
        if (!first.EventId) throw new Error(`${first.ErrorCode}: ${first.ErrorMessage}`);
        explained = await localPost("explain", { eventId: first.EventId, eventBusName: busName });
        explained.sentId = first.EventId;
      } else {
        explained = await localPost("explain", { event: entry, eventBusName: busName });
      }
      fill(result, explanation(explained));
    } catch (e) {
      fill(result, h("div", { class: "error" }, e.message));
    }
  };
  return h(
    "section",
    { class: "panel", id: "send" },
    h("h2", {}, "Send a test event"),
    h("div", { class: "form" }, h("label", {}, "Source ", source), h("label", {}, "Detail type ", detailType), h("label", { class: "wide" }, "Detail ", detail)),
    h("button", { id: "send-event", class: "primary", onclick: () => send(true) }, "Send"),
    " ",
    h("button", { id: "test-event", onclick: () => send(false) }, "Test the patterns only"),
    result,
  );
}

/** Which rules an event matches and, for the others, why not. */
function explanation(answer, heading = true) {
  const rows = answer.rules.map((r) =>
    h(
      "tr",
      { class: r.matches ? "match" : "mismatch", "data-rule": r.name },
      h("td", {}, r.name),
      h("td", {}, r.matches ? badge("matches", "ok") : badge("no match", "failed")),
      h(
        "td",
        { class: "why" },
        r.reason || "",
        r.mismatch ? h("div", { class: "mono" }, `at ${r.mismatch.path}: wanted ${pretty(r.mismatch.wanted)}, had ${r.mismatch.had === undefined ? "nothing" : pretty(r.mismatch.had)}`) : null,
      ),
    ),
  );
  return h(
    "div",
    { class: "explanation" },
    !heading ? null : answer.sentId ? h("p", {}, "Sent event ", h("code", {}, answer.sentId)) : h("p", {}, "Not sent: the patterns only."),
    table(["Rule", "", "Why"], rows, "The bus has no rules."),
  );
}

async function showEvent(busName, e, panel) {
  panel.classList.remove("hidden");
  const deliveries = h("div", { id: "deliveries" }, h("p", { class: "muted" }, "Loading deliveries…"));
  const why = h("div", { id: "why" });
  fill(
    panel,
    h("h2", {}, "Event ", h("code", {}, e.eventId)),
    h("div", { class: "columns" }, h("div", {}, h("h3", {}, "Envelope"), code(e.event)), h("div", {}, h("h3", {}, "Delivery attempts"), deliveries, h("h3", {}, "Rules"), why)),
  );
  localPost("explain", { eventId: e.eventId, eventBusName: busName })
    .then((a) => fill(why, explanation(a, false)))
    .catch((err) => fill(why, h("div", { class: "error" }, err.message)));
  // Deliveries keep coming (retries): refresh while the panel shows this event.
  let shown = true;
  onLeave(() => (shown = false));
  const eventId = e.eventId;
  panel.dataset.eventId = eventId;
  for (let round = 0; shown && panel.dataset.eventId === eventId && round < 120; round++) {
    try {
      const { deliveries: list } = await local("deliveries", { eventId, wait: round ? 2 : 0, min: 1 });
      renderDeliveries(deliveries, list, e.matchedRules.length);
      if (list.length && list.every((d) => d.outcome !== "retrying")) break;
    } catch (err) {
      fill(deliveries, h("div", { class: "error" }, err.message));
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function renderDeliveries(el, list, matched) {
  const rows = list
    .slice()
    .reverse()
    .map((d) =>
      h(
        "tr",
        { class: `delivery ${d.outcome}` },
        h("td", {}, d.ruleArn.split("/").pop()),
        h("td", {}, d.targetId),
        h("td", {}, String(d.attempt)),
        h("td", {}, badge(d.outcome, d.outcome === "succeeded" ? "ok" : d.outcome === "retrying" ? "off" : "failed"), d.injected ? " (injected)" : ""),
        h("td", {}, d.status === undefined ? "" : String(d.status)),
        h("td", {}, d.error || ""),
        h("td", {}, when(d.finishedMs, "ms")),
      ),
    );
  fill(el, table(["Rule", "Target", "Attempt", "Outcome", "Status", "Error", "At"], rows, matched ? "No attempt yet." : "No rule matched: nothing to deliver."));
}

async function rule(busName, name) {
  const r = await aws("DescribeRule", { Name: name, EventBusName: busName });
  const targets = await awsAll("ListTargetsByRule", { Rule: name, EventBusName: busName }, "Targets");
  const toggle = h(
    "button",
    {
      id: "toggle-rule",
      onclick: async () => {
        try {
          await setRuleState(busName, name, r.State !== "ENABLED");
          route();
        } catch (e) {
          toast(e.message);
        }
      },
    },
    r.State === "ENABLED" ? "Disable" : "Enable",
  );
  fill(
    main,
    h("p", {}, link(`#/bus/${encodeURIComponent(busName)}`, `← bus ${busName}`)),
    h("h1", {}, `Rule ${name} `, ruleState(r), " ", toggle),
    r.Description ? h("p", {}, r.Description) : null,
    h("section", { class: "panel" }, r.ScheduleExpression ? [h("h2", {}, "Schedule"), h("code", {}, r.ScheduleExpression)] : [h("h2", {}, "Event pattern"), code(r.EventPattern || "")]),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, `Targets (${targets.length})`),
      targets.length
        ? targets.map((t) =>
            h(
              "div",
              { class: "target" },
              h("h3", {}, t.Id, " → ", h("span", { class: "mono" }, t.Arn)),
              h(
                "dl",
                {},
                t.Input !== undefined ? [h("dt", {}, "Input (constant)"), h("dd", {}, code(t.Input))] : null,
                t.InputPath !== undefined ? [h("dt", {}, "InputPath"), h("dd", {}, h("code", {}, t.InputPath))] : null,
                t.InputTransformer ? [h("dt", {}, "InputTransformer"), h("dd", {}, code(t.InputTransformer))] : null,
                [h("dt", {}, "Retry policy"), h("dd", {}, t.RetryPolicy ? `${t.RetryPolicy.MaximumRetryAttempts ?? 185} retries, events up to ${t.RetryPolicy.MaximumEventAgeInSeconds ?? 86400} s old` : "default: 185 retries, 24 hours")],
                [h("dt", {}, "Dead-letter queue"), h("dd", {}, t.DeadLetterConfig?.Arn ? h("span", { class: "mono" }, t.DeadLetterConfig.Arn) : "none")],
              ),
            ),
          )
        : h("p", { class: "muted" }, "No targets."),
    ),
  );
}

// ---------- archives and replays ----------

async function archives() {
  const list = await awsAll("ListArchives", {}, "Archives");
  const rows = list.map((a) =>
    h(
      "tr",
      {},
      h("td", {}, link(`#/archive/${encodeURIComponent(a.ArchiveName)}`, a.ArchiveName)),
      h("td", { class: "mono" }, a.EventSourceArn.split("/").pop()),
      h("td", {}, badge(a.State, a.State === "ENABLED" ? "ok" : "off")),
      h("td", {}, String(a.EventCount ?? 0)),
      h("td", {}, bytes(a.SizeBytes)),
      h("td", {}, a.RetentionDays ? `${a.RetentionDays} days` : "indefinite"),
    ),
  );
  fill(main, h("h1", {}, "Archives"), table(["Name", "Bus", "State", "Events", "Size", "Retention"], rows, "No archives."));
}

async function archive(name) {
  const a = await aws("DescribeArchive", { ArchiveName: name });
  const created = Math.floor(a.CreationTime * 1000);
  const from = h("input", { type: "datetime-local", step: 1, name: "from", "aria-label": "from" });
  const to = h("input", { type: "datetime-local", step: 1, name: "to", "aria-label": "to" });
  const q = h("input", { type: "search", name: "q", placeholder: "text in the event", "aria-label": "search" });
  const pageSize = h("select", { name: "limit", "aria-label": "page size" }, [25, 50, 100, 200].map((n) => h("option", { value: n, selected: n === 50 }, String(n))));
  const results = h("div", { id: "archive-events" });
  const pager = h("div", { class: "pager" });
  let cursors = [""];
  const load = async () => {
    const cursor = cursors[cursors.length - 1];
    const page = await local("console/api/archive-events", { archive: name, from: inputTime(from), to: inputTime(to), q: q.value, cursor, limit: pageSize.value });
    const start = (cursors.length - 1) * Number(pageSize.value);
    fill(
      results,
      table(
        ["#", "Event time", "Source", "Detail type", "Event"],
        page.events.map((e, i) =>
          h(
            "tr",
            { class: "archived" },
            h("td", {}, String(start + i + 1)),
            h("td", {}, when(e.time)),
            h("td", {}, e.event.source),
            h("td", {}, e.event["detail-type"]),
            h("td", {}, h("details", {}, h("summary", { class: "mono" }, e.event.id), code(e.event))),
          ),
        ),
        "No archived events in this window.",
      ),
    );
    fill(
      pager,
      h("button", { id: "prev-page", disabled: cursors.length === 1, onclick: () => { cursors.pop(); load().catch((e) => toast(e.message)); } }, "← Previous"),
      h("span", { id: "page-number" }, ` Page ${cursors.length} `),
      h("button", { id: "next-page", disabled: !page.nextCursor, onclick: () => { cursors.push(page.nextCursor); load().catch((e) => toast(e.message)); } }, "Next →"),
      h("span", { class: "muted" }, ` ${page.scanned} events read`),
    );
  };
  const search = () => {
    cursors = [""];
    load().catch((e) => toast(e.message));
  };
  fill(
    main,
    h("p", {}, link("#/archives", "← archives")),
    h("h1", {}, `Archive ${name} `, badge(a.State, a.State === "ENABLED" ? "ok" : "off")),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Bus"), h("dd", { class: "mono" }, a.EventSourceArn),
      h("dt", {}, "Events"), h("dd", { id: "event-count" }, String(a.EventCount ?? 0)),
      h("dt", {}, "Size"), h("dd", {}, bytes(a.SizeBytes)),
      h("dt", {}, "Retention"), h("dd", {}, a.RetentionDays ? `${a.RetentionDays} days` : "indefinite"),
      a.EventPattern ? [h("dt", {}, "Pattern"), h("dd", {}, code(a.EventPattern))] : null,
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Archived events"),
      h("div", { class: "form" }, h("label", {}, "From (UTC) ", from), h("label", {}, "To (UTC) ", to), h("label", {}, "Search ", q), h("label", {}, "Page size ", pageSize), h("button", { id: "search", onclick: search }, "Show")),
      results,
      pager,
    ),
    replayForm(a, created),
  );
  q.addEventListener("keydown", (e) => e.key === "Enter" && search());
  await load();
}

function replayForm(a, created) {
  const name = h("input", { name: "replay-name", value: `replay-${Date.now()}`, "aria-label": "replay name" });
  const from = h("input", { type: "datetime-local", step: 1, name: "replay-from", value: timeInput(created - 60000), "aria-label": "replay from" });
  const to = h("input", { type: "datetime-local", step: 1, name: "replay-to", value: timeInput(Date.now() + 60000), "aria-label": "replay to" });
  const start = async () => {
    try {
      await aws("StartReplay", {
        ReplayName: name.value,
        EventSourceArn: a.ArchiveArn,
        EventStartTime: inputTime(from) / 1000,
        EventEndTime: inputTime(to) / 1000,
        Destination: { Arn: a.EventSourceArn },
      });
      location.hash = "#/replays";
    } catch (e) {
      toast(e.message);
    }
  };
  return h(
    "section",
    { class: "panel", id: "replay-form" },
    h("h2", {}, "Replay into the bus"),
    h("div", { class: "form" }, h("label", {}, "Name ", name), h("label", {}, "From (UTC) ", from), h("label", {}, "To (UTC) ", to), h("button", { id: "start-replay", class: "primary", onclick: start }, "Start replay")),
  );
}

async function replays() {
  const body = h("div", { id: "replays" });
  fill(main, h("h1", {}, "Replays"), body);
  let alive = true;
  onLeave(() => (alive = false));
  while (alive) {
    const { replays: list } = await local("console/api/replays");
    list.sort((x, y) => y.replayStartTimeMs - x.replayStartTimeMs);
    fill(
      body,
      table(
        ["Name", "Archive", "State", "Progress", "Events replayed", "Window", "Started", ""],
        list.map((r) => {
          const span = Math.max(1, r.eventEndTimeMs - r.eventStartTimeMs);
          const done = r.state === "COMPLETED" ? 1 : r.eventLastReplayedTimeMs ? (r.eventLastReplayedTimeMs - r.eventStartTimeMs) / span : 0;
          const pct = Math.round(Math.min(1, Math.max(0, done)) * 100);
          const active = ["STARTING", "RUNNING"].includes(r.state);
          return h(
            "tr",
            { "data-replay": r.name },
            h("td", {}, r.name),
            h("td", {}, r.eventSourceArn.split("/").pop()),
            h("td", { class: "replay-state" }, badge(r.state, r.state === "COMPLETED" ? "ok" : active ? "off" : "failed"), r.stateReason ? h("div", { class: "muted" }, r.stateReason) : null),
            h("td", {}, h("progress", { max: 100, value: pct }), ` ${pct}%`),
            h("td", { class: "replayed" }, `${r.eventsReplayed} of ${r.eventsInWindow}`),
            h("td", {}, when(r.eventStartTimeMs, "ms"), " → ", when(r.eventEndTimeMs, "ms")),
            h("td", {}, when(r.replayStartTimeMs, "ms")),
            h(
              "td",
              {},
              active
                ? h("button", { class: "cancel", onclick: () => aws("CancelReplay", { ReplayName: r.name }).catch((e) => toast(e.message)) }, "Cancel")
                : null,
            ),
          );
        }),
        "No replays. Start one from an archive.",
      ),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---------- schedules, connections ----------

async function schedules() {
  const s = await local("console/api/schedules");
  fill(
    main,
    h("h1", {}, "Scheduled rules"),
    table(
      ["Rule", "Bus", "Expression", "Targets", "Next"],
      s.rules.map((r) => h("tr", {}, h("td", {}, link(`#/rule/${encodeURIComponent(r.eventBusName)}/${encodeURIComponent(r.name)}`, r.name)), h("td", {}, r.eventBusName), h("td", {}, h("code", {}, r.scheduleExpression)), h("td", {}, String(r.targets)), h("td", {}, when(r.next)))),
      "No enabled scheduled rules.",
    ),
    h("h1", {}, "Scheduler schedules"),
    table(
      ["Group", "Name", "Expression", "State", "Target", "Invocations", "Next"],
      s.schedules.map((x) => h("tr", {}, h("td", {}, x.groupName), h("td", {}, x.name), h("td", {}, h("code", {}, x.scheduleExpression), x.scheduleExpressionTimezone ? ` (${x.scheduleExpressionTimezone})` : ""), h("td", {}, badge(x.state, x.state === "ENABLED" ? "ok" : "off")), h("td", { class: "mono" }, x.target || ""), h("td", {}, String(x.invocations)), h("td", {}, when(x.next)))),
      "No schedules.",
    ),
  );
}

async function connections() {
  // The List operations carry no secrets (and DescribeConnection's answer none either).
  const conns = await awsAll("ListConnections", {}, "Connections");
  const dests = await awsAll("ListApiDestinations", {}, "ApiDestinations");
  fill(
    main,
    h("h1", {}, "Connections"),
    table(["Name", "Authorization", "State", "Created"], conns.map((c) => h("tr", {}, h("td", {}, c.Name), h("td", {}, c.AuthorizationType), h("td", {}, badge(c.ConnectionState, c.ConnectionState === "AUTHORIZED" ? "ok" : "off")), h("td", {}, when(c.CreationTime)))), "No connections."),
    h("h1", {}, "API destinations"),
    table(["Name", "Method", "Endpoint", "Connection", "Rate limit", "State"], dests.map((d) => h("tr", {}, h("td", {}, d.Name), h("td", {}, d.HttpMethod), h("td", { class: "mono" }, d.InvocationEndpoint), h("td", {}, (d.ConnectionArn || "").split("/")[1] || ""), h("td", {}, d.InvocationRateLimitPerSecond ? `${d.InvocationRateLimitPerSecond}/s` : "—"), h("td", {}, badge(d.ApiDestinationState, d.ApiDestinationState === "ACTIVE" ? "ok" : "off")))), "No API destinations."),
  );
}

// ---------- start ----------

async function start() {
  const select = document.getElementById("scope");
  const { scopes, default: own } = await local("console/api/scopes");
  Object.assign(scope, JSON.parse(sessionStorage.getItem("scope") || "null") || own);
  if (!scopes.some((s) => s.account === scope.account && s.region === scope.region)) scopes.push({ ...scope });
  fill(select, scopes.map((s) => h("option", { value: `${s.account}/${s.region}`, selected: s.account === scope.account && s.region === scope.region }, `${s.account} / ${s.region}`)));
  select.addEventListener("change", () => {
    const [account, region] = select.value.split("/");
    Object.assign(scope, { account, region });
    sessionStorage.setItem("scope", JSON.stringify(scope));
    route();
  });
  window.addEventListener("hashchange", route);
  await route();
}

start().catch((e) => fill(main, h("div", { class: "error" }, e.message)));
