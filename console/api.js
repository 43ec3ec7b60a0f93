// Requests to the server: the AWS JSON API (same origin, unsigned, with a credential scope
// naming the account and region), the Scheduler's REST API and the /_local/ endpoints.

export const scope = { account: "", region: "" };

function authorization() {
  // The server reads the account (a 12-digit access key) and the region from the
  // credential scope; without --verify-signatures it checks nothing else.
  return `AWS4-HMAC-SHA256 Credential=${scope.account}/20260101/${scope.region}/events/aws4_request, SignedHeaders=host, Signature=0`;
}

export class ApiError extends Error {
  constructor(type, message) {
    super(message || type);
    this.type = type;
  }
}

/** Calls an EventBridge operation (`AWSEvents.<op>`). */
export async function aws(op, body = {}) {
  const response = await fetch("/", {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSEvents.${op}`,
      authorization: authorization(),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const type = (data.__type || "Error").split("#").pop();
    throw new ApiError(type, data.message || data.Message || `${op}: HTTP ${response.status}`);
  }
  return data;
}

/** Every page of a List operation: `key` names the list in the answer. */
export async function awsAll(op, body, key) {
  const out = [];
  let token;
  do {
    const page = await aws(op, token ? { ...body, NextToken: token } : body);
    out.push(...(page[key] || []));
    token = page.NextToken;
  } while (token && out.length < 10000);
  return out;
}

function withScope(params = {}) {
  const query = new URLSearchParams({ account: scope.account, region: scope.region });
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") query.set(k, v);
  }
  return query.toString();
}

/** A GET of a /_local/ endpoint, with the current scope. */
export async function local(path, params = {}, options = {}) {
  const response = await fetch(`/_local/${path}?${withScope(params)}`, options);
  const data = await response.json();
  if (!response.ok) throw new ApiError("LocalError", data.message);
  return data;
}

/** A POST of a /_local/ control. */
export async function localPost(path, body) {
  const response = await fetch(`/_local/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ account: scope.account, region: scope.region, ...body }),
  });
  const data = await response.json();
  if (!response.ok) throw new ApiError("LocalError", data.message);
  return data;
}

/** Follows a bus's events live; `onEvents` gets each batch (oldest first). */
export function follow(bus, onEvents, onState) {
  const source = new EventSource(`/_local/console/stream?${withScope({ bus })}`);
  source.onmessage = (message) => onEvents(JSON.parse(message.data));
  source.onopen = () => onState && onState("live");
  source.onerror = () => onState && onState("reconnecting");
  return () => source.close();
}
