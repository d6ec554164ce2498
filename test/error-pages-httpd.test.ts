/**
 * The Teapot pages served by the real BusyBox httpd (Debian's `busybox` package; the image is
 * `busybox` too, IMAGES.errorPages): the ConfigMap's files laid out as the kubelet mounts them
 * (a `..data` symlink to a timestamped directory, one symlink per key), the program's own
 * command line and httpd.conf. What Traefik relies on (components/platform/edge.ts):
 * - the catch-all Ingress sends unknown hosts here with their path: any path that is not a page
 *   answers status 404 with the 404 page;
 * - the errors middleware fetches `/<status>.html`: each page answers 200 with its body (Traefik
 *   then sends the upstream's status).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect } from "vitest";
import { ERROR_CODES, errorPage, errorPagesData, HTTPD_CONF, httpdCommand, httpdConf, PAGES_DIR } from "../components/platform/error-pages";
import { itNeeding, onPath } from "./helpers/tools";
import { freePort } from "./helpers/ports";

const itWithBusybox = itNeeding("busybox", onPath("busybox"), "apt-get install -y busybox");
const CONTACT = "contact@liiibre.example";

/** Writes `files` as a kubelet ConfigMap volume does (atomic writer layout). */
function configMapVolume(dir: string, files: Record<string, string>): void {
  const stamp = "..2026_12_01_00_00_00.000000001";
  fs.mkdirSync(path.join(dir, stamp), { recursive: true });
  for (const [k, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, stamp, k), v);
  fs.symlinkSync(stamp, path.join(dir, "..data"));
  for (const k of Object.keys(files)) fs.symlinkSync(path.join("..data", k), path.join(dir, k));
}

function get(port: number, p: string, host: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, headers: { Host: host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => net.connect(port, "127.0.0.1").on("connect", function (this: net.Socket) { this.destroy(); r(true); }).on("error", () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`busybox httpd did not listen on ${port}`);
}

const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill();
});

/** Starts BusyBox httpd on the generated files; `conf` replaces the generated httpd.conf. */
async function serve(conf?: string): Promise<number> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "teapot-"));
  const pages = path.join(root, "www");
  const confDir = path.join(root, "conf");
  const data = errorPagesData(CONTACT);
  configMapVolume(pages, Object.fromEntries(ERROR_CODES.map((c) => [`${c}.html`, data[`${c}.html`]])));
  // The ConfigMap's httpd.conf names the pages under the container's mount point; here the same
  // builder names them under the temporary directory.
  configMapVolume(confDir, { "httpd.conf": conf ?? httpdConf(pages) });
  const port = await freePort();
  const [cmd, ...args] = httpdCommand(port, pages, confDir);
  const p = spawn("busybox", [cmd, ...args.map((a) => (a === String(port) ? `127.0.0.1:${port}` : a))], { stdio: "ignore" });
  servers.push(p);
  await waitListening(port);
  return port;
}

describe("Teapot pages through BusyBox httpd", () => {
  itWithBusybox("the ConfigMap's httpd.conf is the builder's, for the container's mount point", () => {
    expect(errorPagesData(CONTACT)["httpd.conf"]).toBe(HTTPD_CONF);
    expect(HTTPD_CONF).toBe(`E404:${PAGES_DIR}/404.html\n`);
  });

  itWithBusybox("an unknown host, whatever its path, gets status 404 and the 404 page", async () => {
    const port = await serve();
    for (const p of ["/", "/index.html", "/wp-login.php", "/a/b/c?x=1"]) {
      const r = await get(port, p, "nobody-serves-this.example");
      expect(r.status, p).toBe(404);
      expect(r.type).toMatch(/^text\/html/);
      expect(r.body).toBe(errorPage(404, CONTACT));
    }
  });

  itWithBusybox("each page the errors middleware fetches (/<status>.html) answers 200 with that page", async () => {
    const port = await serve();
    for (const code of [502, 503, 504]) {
      const r = await get(port, `/${code}.html`, "teapot.traefik.svc.cluster.local");
      expect(r.status).toBe(200);
      expect(r.body).toBe(errorPage(code, CONTACT));
      expect(r.body).toContain(`<h1>${code} `);
    }
  });

  itWithBusybox("an E404 line naming a missing file gives BusyBox's own body, not the page (the check can fail)", async () => {
    const port = await serve(httpdConf("/nonexistent"));
    const r = await get(port, "/missing", "nobody-serves-this.example");
    expect(r.status).toBe(404);
    expect(r.body).not.toBe(errorPage(404, CONTACT));
  });
});
