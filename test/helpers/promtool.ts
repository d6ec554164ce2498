/**
 * Debian's `promtool` (package `prometheus`, installed by .ci/run). Outside CI a missing
 * promtool skips the tests that need it, with a notice; in CI (CI=true) it is an error.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const promtoolAvailable = spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0;

if (!promtoolAvailable) {
  if (process.env.CI) throw new Error("promtool is required in CI (apt-get install prometheus; .ci/run does it)");
  console.warn("notice: promtool not found (apt-get install prometheus): the promtool rule tests are skipped");
}

/** Writes `files` (name → text) into a fresh directory and runs `promtool <args>` there. */
export function promtool(args: string[], files: Record<string, string>): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
