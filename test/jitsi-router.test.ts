/**
 * The shared Jitsi's shard router (components/apps/jitsiRouter.ts) checked by the real HAProxy
 * (Debian's `haproxy`, .ci/run installs it; the image runs the 3.4 LTS, the config keeps to what
 * 2.6 — Debian 12's — already reads):
 * - `haproxy -c` accepts the config as each replica sees it, with its stick-table peers in
 *   effect (a pod whose name is no peer would run without them: HAProxy drops the section);
 * - run against two stand-in shards: every request of a room (page, XMPP websocket, BOSH) reaches
 *   one shard, rooms spread over both; a shard that stops answering `/http-bind` loses only its
 *   own rooms; when it returns, the rooms that moved stay where they now run (stick table) and a
 *   replica started afterwards sends them there too (the table learned from its peer).
 */
import * as http from "node:http";
import * as net from "node:net";
import type { ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { JITSI_ROUTER, JITSI_ROUTER_READY_AFTER_SECONDS, jitsiRouterConfig, type RouterConfigArgs } from "../components/apps/jitsiRouter";
import { haproxyServerTargets, serviceHostEnv } from "../components/kit/haproxy";
import { haproxyCheck, itWithHaproxy, startHaproxy } from "./helpers/haproxy-tool";

const PODS = [`${JITSI_ROUTER}-0`, `${JITSI_ROUTER}-1`];
const shardsInCluster: RouterConfigArgs["shards"] = [
  { name: "shard-1", id: 1, host: "jitsi-jitsi-meet-web.jitsi.svc.cluster.local", port: 80 },
  { name: "shard-2", id: 2, host: "jitsi-2-jitsi-meet-web.jitsi.svc.cluster.local", port: 80 },
];
/** What a replica's pod gives HAProxy: its name, its address, the peers' Service addresses (service links). */
const podEnv = (pod: string, ip = "10.244.1.7"): Record<string, string> => ({
  HOSTNAME: pod,
  POD_IP: ip,
  [serviceHostEnv(PODS[0])]: "10.96.12.1",
  [serviceHostEnv(PODS[1])]: "10.96.12.2",
});

describe("the router's config (pure)", () => {
  const cfg = jitsiRouterConfig({ shards: shardsInCluster, podNames: PODS });

  it("hashes the room consistently and sticks it in a table shared with the peers", () => {
    expect(cfg).toContain("balance hash var(txn.room)");
    expect(cfg).toContain("hash-type consistent");
    expect(cfg).toMatch(/stick-table type string len 128 size \S+ expire 8h peers jitsi/);
    expect(cfg).toContain("stick on var(txn.room)");
  });

  it("names each shard's web Service, which the twin reads back", () => {
    expect(haproxyServerTargets(cfg)).toEqual([
      { backend: "rooms", server: "shard-1", service: "jitsi-jitsi-meet-web", namespace: "jitsi", port: 80 },
      { backend: "rooms", server: "shard-2", service: "jitsi-2-jitsi-meet-web", namespace: "jitsi", port: 80 },
      { backend: "any", server: "shard-1", service: "jitsi-jitsi-meet-web", namespace: "jitsi", port: 80 },
      { backend: "any", server: "shard-2", service: "jitsi-2-jitsi-meet-web", namespace: "jitsi", port: 80 },
    ]);
    // Peer lines are no backend servers; addresses outside the cluster are not Services.
    expect(haproxyServerTargets("peers p\n  server a 10.0.0.1:1\nbackend b\n  server x 192.0.2.1:80\n  server y web.ns.svc:8080 check\n")).toEqual([
      { backend: "b", server: "y", service: "web", namespace: "ns", port: 8080 },
    ]);
  });

  it("refuses duplicate server ids (the ring and the stick table key servers by id)", () => {
    expect(() => jitsiRouterConfig({ shards: [shardsInCluster[0], { ...shardsInCluster[1], id: 1 }], podNames: PODS })).toThrow(/ids must be unique/);
  });
});

describe("the router's config, checked by haproxy -c", () => {
  const cfg = jitsiRouterConfig({ shards: shardsInCluster, podNames: PODS });

  itWithHaproxy("is valid for each replica, with its peers section in effect", () => {
    for (const pod of PODS) {
      const r = haproxyCheck(cfg, podEnv(pod));
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain("Configuration file is valid");
      expect(r.output).not.toMatch(/incomplete section 'peers/);
    }
  });

  itWithHaproxy("fails where it should: a pod that is no peer runs without the shared table, a syntax error is refused", () => {
    const stranger = haproxyCheck(cfg, podEnv("jitsi-haproxy-7"));
    expect(stranger.output).toMatch(/Removing incomplete section 'peers jitsi'/);
    const broken = haproxyCheck(cfg.replace("balance hash var(txn.room)", "balance hash var(txn.room"), podEnv(PODS[0]));
    expect(broken.status).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------
// Behaviour, against stand-in shards on loopback.

const freePort = (host = "127.0.0.1") =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

/** A stand-in shard: every path answers 200 with its name (nginx + Prosody in the real one). */
function shard(name: string, port: number): Promise<http.Server> {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      req.resume();
      res.setHeader("connection", "close");
      res.end(name);
    });
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

function request(port: number, p: string, method = "GET"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, method, agent: false, headers: { Host: "meet.liiibre.test" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}`));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "<body rid='1'/>" : undefined);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const procs: ChildProcess[] = [];
const servers: http.Server[] = [];
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  for (const s of servers) s.close();
});

describe("the router at work (haproxy, two stand-in shards)", () => {
  itWithHaproxy("keeps each room on one shard, moves only a lost shard's rooms, and keeps moved rooms where they run", async () => {
    const [p1, p2, peers] = [await freePort(), await freePort(), await freePort()];
    const web = [await freePort(), await freePort()];
    const health = [await freePort(), await freePort()];
    const config = (i: number) =>
      jitsiRouterConfig({
        shards: [
          { name: "shard-1", id: 1, host: "127.0.0.1", port: p1 },
          { name: "shard-2", id: 2, host: "127.0.0.1", port: p2 },
        ],
        podNames: PODS,
        ports: { http: web[i], health: health[i], peers },
        checkInterval: "200ms",
        clusterDns: false,
      });
    // Replica i listens for its peer on 127.0.0.(i+1); the other's "Service" is the other loopback address.
    const env = (i: number) => ({ HOSTNAME: PODS[i], POD_IP: `127.0.0.${i + 1}`, [serviceHostEnv(PODS[0])]: "127.0.0.1", [serviceHostEnv(PODS[1])]: "127.0.0.2" });
    let s1 = await shard("shard-1", p1);
    servers.push(s1, await shard("shard-2", p2));
    const a = startHaproxy(config(0), env(0));
    procs.push(a);
    const via = (p: string, method?: string) => request(web[0], p, method);
    await until("replica 0 to see both shards up", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await via(`/libs/app.bundle.min.js?i=${i}`).catch(() => ""));
      return seen.has("shard-1") && seen.has("shard-2");
    });

    // One shard per room, whatever the request: page (any case), XMPP websocket, BOSH.
    const rooms = Array.from({ length: 24 }, (_, i) => `reunion-${i}`);
    const placed = new Map<string, string>();
    for (const r of rooms) {
      const answers = new Set([await via(`/${r.toUpperCase()}`), await via(`/xmpp-websocket?room=${r}`), await via(`/http-bind?room=${r}`, "POST"), await via(`/http-bind?room=${r}`, "POST")]);
      expect([...answers], r).toHaveLength(1);
      placed.set(r, [...answers][0]);
    }
    const on1 = rooms.filter((r) => placed.get(r) === "shard-1");
    const on2 = rooms.filter((r) => placed.get(r) === "shard-2");
    expect(on1.length).toBeGreaterThan(0);
    expect(on2.length).toBeGreaterThan(0);

    // Shard 1 goes down: its rooms move, shard 2's do not.
    await new Promise((r) => s1.close(r));
    s1.closeAllConnections?.();
    await until("shard 1's rooms to move", async () => (await via(`/xmpp-websocket?room=${on1[0]}`).catch(() => "")) === "shard-2");
    const moved = on1.slice(0, Math.ceil(on1.length / 2));
    for (const r of moved) expect(await via(`/http-bind?room=${r}`, "POST"), r).toBe("shard-2");
    for (const r of on2) expect(await via(`/xmpp-websocket?room=${r}`), r).toBe("shard-2");

    // Shard 1 returns: the rooms that moved stay on shard 2, the others are on shard 1 again.
    s1 = await shard("shard-1", p1);
    servers.push(s1);
    const untouched = on1.filter((r) => !moved.includes(r));
    // (Asking for a room before the router sees shard 1 again would move that room too: wait on static files.)
    await until("the router to see shard 1 again", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(await via(`/libs/app.bundle.min.js?i=${i}`));
      return seen.has("shard-1");
    });
    for (const r of moved) expect(await via(`/xmpp-websocket?room=${r}`), `${r} moved during the outage`).toBe("shard-2");
    for (const r of untouched) expect(await via(`/http-bind?room=${r}`, "POST"), r).toBe("shard-1");

    // Its metrics say which shard is up (haproxy_server_status, per backend and server).
    const metrics = await new Promise<string>((resolve, reject) =>
      http.get({ host: "127.0.0.1", port: health[0], path: "/metrics", agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      }).on("error", reject),
    );
    expect(metrics).toMatch(/haproxy_server_status\{proxy="rooms",server="shard-1"(,state="UP")?\} 1/);

    // A replica started now learns the table from its peer: it sends the moved rooms to shard 2 as well.
    const b = startHaproxy(config(1), env(1));
    procs.push(b);
    const viaB = (p: string) => request(web[1], p);
    // Only static files until it is ready (its readiness probe waits as long): a room asked of a
    // replica that has not learned the table yet would be hashed, stored and taught back to the peer.
    await until("replica 1 to serve", async () => (await viaB("/libs/app.bundle.min.js").catch(() => "")).startsWith("shard-"));
    await sleep(JITSI_ROUTER_READY_AFTER_SECONDS * 1000);
    for (const r of moved) expect(await viaB(`/xmpp-websocket?room=${r}`), r).toBe("shard-2");
    for (const r of on2) expect(await viaB(`/xmpp-websocket?room=${r}`), r).toBe("shard-2");
  }, 60_000);
});
