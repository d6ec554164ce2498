/**
 * Collabora's hashing proxy checked by the real HAProxy (Debian's `haproxy` package; the image is
 * the official one at IMAGES.haproxy, 3.4 — every keyword the configuration uses exists in both
 * Debian's 2.6 and 3.4, and `haproxy -c` refuses unknown ones):
 * - `haproxy -c` accepts the generated configuration as each replica's pod sees it (its name, its
 *   address, the peers' Service addresses), with the shared stick table's `peers` in effect, and
 *   refuses a broken one;
 * - run for real on the loopback in front of three stand-in coolwsd servers (the configuration
 *   with only the server addresses and health-check timings replaced: DNS discovery needs the
 *   cluster), every request of one document — the page, the websocket upgrade of
 *   `/cool/<document + the user's access token>/ws?WOPISrc=<document>&compat=/ws`, a POST — reaches
 *   one server whatever the user's token; a server that goes moves only its documents; when it
 *   comes back, the documents that moved stay where they are (stick table), new ones use it again;
 *   its access log names method, status and server, never a path (the websocket's holds the token).
 *   There the two replicas cannot reach each other (as while a peer's pod is away), so what one
 *   does without the other's table is seen;
 * - two replicas connected as peers: a document that moved on one during an outage is sent there
 *   by the other too, which never saw a request of it (the table is shared, `peers`).
 * What is expected follows from HAProxy's manual ("balance url_param", "hash-type consistent",
 * "stick on", "peers") and Collabora's URL format (wsd/RequestDetails.hpp), not from a previous run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect } from "vitest";
import { COLLABORA_PODS_SERVICE, COLLABORA_PORT, PROXY_HEALTH_PATH, collaboraHaproxyConfig, collaboraProxyPodNames } from "../components/apps/collabora-proxy";
import { serviceHostEnv } from "../components/kit/haproxy";
import { haproxyCheck, itWithHaproxy } from "./helpers/haproxy-tool";
import { freePort } from "./helpers/ports";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-haproxy-"));
const PODS = collaboraProxyPodNames(2);
/** What a replica's pod gives HAProxy: its name, its address, the peers' Service addresses (service links). */
const podEnv = (pod: string): Record<string, string> => ({ HOSTNAME: pod, POD_IP: "10.244.1.7", [serviceHostEnv(PODS[0])]: "10.96.12.1", [serviceHostEnv(PODS[1])]: "10.96.12.2" });

describe("haproxy -c", () => {
  itWithHaproxy("accepts the generated configuration on each replica, its peers in effect (2 and 3 server slots)", () => {
    for (const replicas of [2, 3])
      for (const pod of PODS) {
        const cfg = collaboraHaproxyConfig({ namespace: "mutualise", replicas, podNames: PODS });
        expect(cfg).toContain("peers collabora");
        const r = haproxyCheck(cfg, podEnv(pod));
        expect(r.output, r.output).not.toMatch(/\[ALERT\]/);
        expect(r.output).not.toMatch(/incomplete section 'peers/);
        expect(r.status, r.output).toBe(0);
      }
  });
  itWithHaproxy("refuses a broken one, and a pod that is no peer runs without the shared table (the checks can fail)", () => {
    const cfg = collaboraHaproxyConfig({ namespace: "mutualise", replicas: 2 });
    const broken = cfg.replace("balance url_param WOPISrc check_post", "balance url_parm WOPISrc");
    const r = haproxyCheck(broken, podEnv(PODS[0]));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/\[ALERT\].*balance only supports/);
    expect(haproxyCheck(cfg, podEnv("collabora-haproxy-7")).output).toMatch(/Removing incomplete section 'peers collabora'/);
  });
});

/** A stand-in coolwsd: discovery answers 200, every answer (and websocket upgrade) names the server. */
function standIn(name: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "x-backend": name, connection: "close" }).end(req.url === "/hosting/discovery" ? "<wopi-discovery/>" : name));
  });
  const sockets = new Set<net.Socket>();
  server.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  upgraded.set(server, sockets);
  server.on("upgrade", (req, socket) => {
    // RFC 6455 §4.2.2: the accept key proves the handshake (HAProxy checks it).
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Backend: ${name}\r\n\r\n`);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}
/** Every socket of each stand-in, upgraded ones included (the HTTP server stops tracking those). */
const upgraded = new Map<http.Server, Set<net.Socket>>();
const stop = (s: http.Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    for (const c of upgraded.get(s) ?? []) c.destroy();
    s.closeAllConnections();
  });

/** Which server answered a request through the proxy (an upgrade when `ws`). */
function via(port: number, urlPath: string, opts: { ws?: boolean; body?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1", port, path: urlPath, method: opts.body ? "POST" : "GET", agent: false,
      headers: { host: "collabora.example.org", ...(opts.ws ? { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } : {}), ...(opts.body ? { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(opts.body) } : {}) },
    });
    req.setTimeout(5000, () => req.destroy(new Error(`timeout on ${urlPath}`)));
    req.on("upgrade", (res, socket) => { socket.destroy(); resolve(String(res.headers["x-backend"])); });
    req.on("response", (res) => { res.resume(); resolve(String(res.headers["x-backend"] ?? `status ${res.statusCode}`)); });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const wopiSrc = (i: number) => encodeURIComponent(`https://cloud.example.org/index.php/apps/richdocuments/wopi/files/${1000 + i}_ocabcdef`);
/** The websocket URL of document `i` for a user's token (the token is in the path, not in WOPISrc). */
const wsPath = (i: number, token: string) => `/cool/${encodeURIComponent(`${decodeURIComponent(wopiSrc(i))}?access_token=${token}&access_token_ttl=0`)}/ws?WOPISrc=${wopiSrc(i)}&compat=/ws`;
const pagePath = (i: number) => `/browser/0123abc/cool.html?WOPISrc=${wopiSrc(i)}&lang=fr`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const running: ChildProcess[] = [];
const servers: http.Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) p.kill("SIGKILL");
  for (const s of servers.splice(0)) await stop(s);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Proxy replica `i` (its own process, as each pod has) in front of the stand-ins, listening on a
 * free port: the generated configuration with only what needs the cluster changed — the servers'
 * addresses (no DNS here), the bind address and faster checks. Its pod address is 127.0.0.(i+1);
 * the peers' Service addresses are `peerHost` (or each replica's own address when undefined).
 */
async function replica(i: number, names: string[], ports: number[], peersPort: number, peerHost: string | undefined, onLog: (d: string) => void): Promise<number> {
  const generated = collaboraHaproxyConfig({ namespace: "t", replicas: names.length, podNames: PODS, peersPort });
  const template = `server-template collabora ${names.length} ${COLLABORA_PODS_SERVICE}.t.svc.cluster.local:${COLLABORA_PORT}`;
  expect(generated).toContain(template);
  const front = await freePort();
  let cfg = generated
    .replace(template, names.map((n, k) => `server ${n} 127.0.0.1:${ports[k]}`).join("\n  "))
    .replace(/default-server check .*/, "default-server check inter 100ms fall 1 rise 1")
    .replace(/bind :\d+/, `bind 127.0.0.1:${front}`);
  const dir = tmp();
  dirs.push(dir);
  // The runtime API, for the tests to wait on the peers' state instead of guessing a delay.
  const sock = path.join(dir, "admin.sock");
  runtimeSockets.set(front, sock);
  cfg = cfg.replace(/^global\n/, `global\n  stats socket ${sock} level admin\n`);
  fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
  const env = { PATH: process.env.PATH ?? "", HOSTNAME: PODS[i], POD_IP: `127.0.0.${i + 1}`, [serviceHostEnv(PODS[0])]: peerHost ?? "127.0.0.1", [serviceHostEnv(PODS[1])]: peerHost ?? "127.0.0.2" };
  const hp = spawn("haproxy", ["-db", "-f", path.join(dir, "haproxy.cfg")], { env, stdio: ["ignore", "pipe", "pipe"] });
  hp.stdout!.on("data", (d) => onLog(String(d)));
  hp.stderr!.on("data", (d) => onLog(String(d)));
  running.push(hp);
  for (let k = 0; k < 50; k++) {
    if (await via(front, PROXY_HEALTH_PATH).then(() => true, () => false)) break;
    await sleep(100);
  }
  return front;
}

/** The runtime API socket of each replica, by its front port. */
const runtimeSockets = new Map<number, string>();
/** One command on a replica's runtime API (HAProxy's management guide, "Unix Socket commands"): its answer. */
function runtimeApi(front: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const c = net.createConnection(runtimeSockets.get(front)!, () => c.end(`${command}\n`));
    c.setEncoding("utf8");
    c.on("data", (d) => (out += d));
    c.on("end", () => resolve(out));
    c.on("error", reject);
  });
}
/** Whether a replica's session with its peer is established (`show peers`: last_status=ESTA). */
const peerConnected = async (front: number) => /\(remote,[^)]*\)[^\n]*last_status=ESTA/.test(await runtimeApi(front, "show peers"));
/** A replica's shared table: the server each key (a WOPISrc as in the URL) sticks to (`show table collabora`). */
async function tableServers(front: number): Promise<Map<string, string>> {
  const out = await runtimeApi(front, "show table collabora");
  return new Map([...out.matchAll(/ key=(\S+) .* server_key=(\S+)/g)].map((m) => [m[1], m[2]]));
}

/** What a replica's health checks say of each server (`show stat`, its CSV's `status`: UP, DOWN…). */
async function serverStates(front: number): Promise<Map<string, string>> {
  const [header, ...rows] = (await runtimeApi(front, "show stat")).trim().split("\n").map((l) => l.replace(/^# /, "").split(","));
  const [px, sv, st] = ["pxname", "svname", "status"].map((c) => header.indexOf(c));
  return new Map(rows.filter((r) => r[px] === "collabora" && r[sv].startsWith("collabora")).map((r) => [r[sv], r[st]]));
}
/** Waits until every replica in `fronts` checks each named server as `state`. */
const untilChecked = (fronts: number[], state: "UP" | "DOWN", names: string[]) =>
  until(`${names.join(", ")} checked ${state}`, async () => {
    for (const f of fronts) {
      const states = await serverStates(f);
      if (!names.every((n) => states.get(n) === state)) return false;
    }
    return true;
  });

async function until(what: string, f: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the proxy at work (loopback)", () => {
  itWithHaproxy("one document, one server; a server that goes moves only its documents; one that comes back keeps what moved away", async () => {
    const names = ["collabora1", "collabora2", "collabora3"];
    const ports = await Promise.all(names.map(() => freePort()));
    for (const [i, n] of names.entries()) servers.push(await standIn(n, ports[i]));
    const peersPort = await freePort();
    let logs = "";
    // Each replica's peer address is one nobody listens on: the two run apart, each with its own table.
    const front = await replica(0, names, ports, peersPort, "127.0.0.9", (d) => (logs += d));
    const other = await replica(1, names, ports, peersPort, "127.0.0.9", (d) => (logs += d));
    await untilChecked([front, other], "UP", names);

    const docs = Array.from({ length: 24 }, (_, i) => i);
    const home = new Map<number, string>();
    for (const d of docs) {
      const first = await via(front, pagePath(d));
      home.set(d, first);
      // Two co-editors (two tokens) on the websocket, a POST without the parameter in the URL: the same server.
      expect(await via(front, wsPath(d, "tokenA"), { ws: true }), `doc ${d}`).toBe(first);
      expect(await via(front, wsPath(d, "tokenB"), { ws: true }), `doc ${d}`).toBe(first);
      expect(await via(front, "/cool/clipboard", { body: `WOPISrc=${wopiSrc(d)}&ViewId=1` }), `doc ${d}`).toBe(first);
    }
    // The documents are spread: every server holds some (24 keys over 3 servers).
    expect(new Set(home.values()).size).toBe(3);
    // The other proxy replica, sharing nothing with the first (its peer unreachable), sends the first half to the same servers (same hash).
    for (const d of docs.slice(0, 12)) expect(await via(other, wsPath(d, "tokenB"), { ws: true }), `doc ${d} on the other replica`).toBe(home.get(d));

    // collabora2 goes: only its documents move; the others stay where they are — also on the other
    // replica for documents it never saw (no stick entry: the consistent hash alone keeps them).
    const gone = servers[1];
    await stop(gone);
    await untilChecked([front, other], "DOWN", ["collabora2"]);
    for (const d of docs.slice(12)) {
      const now = await via(other, pagePath(d));
      if (home.get(d) === "collabora2") expect(now, `doc ${d} moved off the lost server`).not.toBe("collabora2");
      else expect(now, `doc ${d} stays (other replica, never seen)`).toBe(home.get(d));
    }
    for (const d of docs) {
      const now = await via(front, wsPath(d, "tokenC"), { ws: true });
      if (home.get(d) === "collabora2") expect(now, `doc ${d} moved off the lost server`).not.toBe("collabora2");
      else expect(now, `doc ${d} stays`).toBe(home.get(d));
      home.set(d, now);
    }
    // collabora2 comes back: the documents that moved stay on their new server (stick table)…
    servers[1] = await standIn("collabora2", ports[1]);
    await untilChecked([front], "UP", ["collabora2"]);
    for (const d of docs) expect(await via(front, wsPath(d, "tokenD"), { ws: true }), `doc ${d}`).toBe(home.get(d));
    // …while documents not seen before reach it again.
    const fresh = Array.from({ length: 24 }, (_, i) => 100 + i);
    const served = new Set<string>();
    for (const d of fresh) served.add(await via(front, pagePath(d)));
    expect(served.has("collabora2")).toBe(true);
    // The access log names the server of each request, never a path: the websocket's carries the user's token.
    await until("the access log of a websocket", async () => /collabora\/collabora[123] .* 101 .* GET/.test(logs));
    expect(logs).not.toMatch(/token[ABCD]|access_token|WOPISrc|cool\.html/);
    expect(logs).toMatch(/collabora\/collabora[123] .* 101 .* GET/);
  }, 60_000);

  itWithHaproxy("peers: a document that moved on one replica during an outage is sent there by the other, which never saw it", async () => {
    const names = ["collabora1", "collabora2"];
    const ports = await Promise.all(names.map(() => freePort()));
    for (const [i, n] of names.entries()) servers.push(await standIn(n, ports[i]));
    const peersPort = await freePort();
    // Replica i listens for its peer on 127.0.0.(i+1); the other's "Service" is the other loopback address.
    const a = await replica(0, names, ports, peersPort, undefined, () => undefined);
    const b = await replica(1, names, ports, peersPort, undefined, () => undefined);
    // Every server checked up by both, the peers' session established (their runtime API says so):
    // no request until then — one with a document key would be hashed and stored.
    await untilChecked([a, b], "UP", names);
    await until("the replicas to connect as peers", async () => (await peerConnected(a)) && (await peerConnected(b)));

    // Documents that hash to collabora2, seen on replica a only.
    const docs = Array.from({ length: 24 }, (_, i) => 200 + i);
    const onSecond: number[] = [];
    for (const d of docs) if ((await via(a, pagePath(d))) === "collabora2") onSecond.push(d);
    expect(onSecond.length).toBeGreaterThan(0);
    // collabora2 goes: through a, its documents move to collabora1 (a's table, pushed to b).
    await stop(servers[1]);
    await untilChecked([a], "DOWN", ["collabora2"]);
    for (const d of onSecond) expect(await via(a, wsPath(d, "tokenA"), { ws: true }), `doc ${d}`).toBe("collabora1");
    // a pushes its updated entries to b asynchronously (HAProxy's peers protocol): b holds them once
    // its table says so — and only then does the question below (what b does with them) make sense.
    await until("b's table to hold the moved documents", async () => {
      const held = await tableServers(b);
      return onSecond.every((d) => held.get(wopiSrc(d)) === "collabora1");
    });
    // collabora2 comes back: a new editor reaching b (no request of these documents ever) joins the open one on collabora1.
    servers[1] = await standIn("collabora2", ports[1]);
    // b checks collabora2 up again: what b now does with a moved document is its table's doing.
    await untilChecked([b], "UP", ["collabora2"]);
    for (const d of onSecond) expect(await via(b, wsPath(d, "tokenB"), { ws: true }), `doc ${d} through the other replica`).toBe("collabora1");
    // What b would do without the shared table: the hash sends a document never seen to its pod, collabora2 again.
    const unseen = Array.from({ length: 24 }, (_, i) => 400 + i);
    const served = new Set<string>();
    for (const d of unseen) served.add(await via(b, pagePath(d)));
    expect(served.has("collabora2")).toBe(true);
  }, 60_000);
});
