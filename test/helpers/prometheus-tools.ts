/**
 * Debian's Prometheus tools: `promtool` (package `prometheus`) and `amtool` (package
 * `prometheus-alertmanager`), both installed by .ci/run. Outside CI a missing tool skips the
 * tests that need it, with a notice; in CI (CI=true) it is an error.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

function available(tool: string, pkg: string): boolean {
  const ok = spawnSync(tool, ["--version"], { encoding: "utf8" }).status === 0;
  if (!ok) {
    if (process.env.CI) throw new Error(`${tool} is required in CI (apt-get install ${pkg}; .ci/run does it)`);
    console.warn(`notice: ${tool} not found (apt-get install ${pkg}): the tests that need it are skipped`);
  }
  return ok;
}

export const promtoolAvailable = available("promtool", "prometheus");
export const amtoolAvailable = available("amtool", "prometheus-alertmanager");

/** Writes `files` (name → text) into a fresh directory and runs `tool <args>` there. */
function run(tool: string, args: string[], files: Record<string, string>): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${tool}-`));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync(tool, args, { cwd: dir, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

export const promtool = (args: string[], files: Record<string, string>) => run("promtool", args, files);
export const amtool = (args: string[], files: Record<string, string>) => run("amtool", args, files);
