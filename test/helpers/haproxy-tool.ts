/**
 * Debian's `haproxy` (apt-get install -y haproxy) for the tests of generated HAProxy configs:
 * `haproxyCheck` runs `haproxy -c` on a config with the environment a pod would give it,
 * `startHaproxy` runs one in the foreground. Tests needing it use `itWithHaproxy` (skipped with
 * a notice outside CI, failing in CI, like every tool: ./tools.ts).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { itNeeding, onPath } from "./tools";

export const haproxyAvailable = onPath("haproxy");
export const itWithHaproxy = itNeeding("haproxy", haproxyAvailable, "apt-get install -y haproxy");

function writeConfig(cfg: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-"));
  const file = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(file, cfg);
  return file;
}

/** `haproxy -c -f <cfg>` with `env` added to a minimal environment: exit status and what it printed. */
export function haproxyCheck(cfg: string, env: Record<string, string> = {}): { status: number; output: string } {
  const file = writeConfig(cfg);
  const r = spawnSync("haproxy", ["-c", "-f", file], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
  return { status: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Runs HAProxy in the foreground (`-db`) on `cfg`; stop it with `.kill()`. */
export function startHaproxy(cfg: string, env: Record<string, string> = {}): ChildProcess {
  const file = writeConfig(cfg);
  return spawn("haproxy", ["-db", "-f", file], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] });
}
