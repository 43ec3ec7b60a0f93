// Servers for the suite: eventbridge-local itself (the binary of EVENTBRIDGE_LOCAL_BIN, on
// 127.0.0.1 and an ephemeral port, its port read from the startup line) and an SQS stand-in
// that records SendMessage calls.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;

export function binaryPath() {
  return process.env.EVENTBRIDGE_LOCAL_BIN ?? path.join(here, "..", "..", "target", "debug", "eventbridge-local");
}

/** Starts eventbridge-local with `args`; resolves to { url, port, stop() }. */
export function startServer(args = []) {
  const child = spawn(binaryPath(), ["--host", "127.0.0.1", "--port", "0", "--in-memory", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`eventbridge-local printed no startup line within ${STARTUP_TIMEOUT_MS} ms`));
    }, STARTUP_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${binaryPath()}: ${e.message}`));
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`eventbridge-local exited with ${code} before listening`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      const match = /^eventbridge-local \(data: .+\) listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      if (!match) {
        child.kill("SIGKILL");
        reject(new Error(`unexpected startup line ${JSON.stringify(line)}`));
        return;
      }
      child.removeAllListeners("exit");
      resolve({
        url: match[1],
        port: Number(match[2]),
        stop: () =>
          new Promise((done) => {
            child.once("exit", (code, signal) => done(code ?? signal));
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

/** An SQS stand-in on 127.0.0.1: records each request's target header and JSON body. */
export async function startSqs() {
  const calls = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      calls.push({ target: req.headers["x-amz-target"], body: JSON.parse(body) });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify({ MessageId: `m-${calls.length}`, MD5OfMessageBody: "x" }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Polls `check` until it returns something truthy; throws after `seconds`. */
export async function waitFor(what, check, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
