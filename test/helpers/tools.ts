/**
 * Tests that need an outside tool (a Debian package such as `cloud-init`, or the project's
 * own Helm): on a developer machine without it they are SKIPPED with a visible notice naming
 * how to get it; in CI (`CI=true`) they are never skipped: they fail, saying the tool is
 * missing (`.ci/run` installs it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { it } from "vitest";

export type ToolDecision = "run" | "skip" | "fail";

/** What to do with a test needing a tool: run it, skip it (not in CI), or fail it (CI). */
export function toolDecision(available: boolean, env: NodeJS.ProcessEnv = process.env): ToolDecision {
  if (available) return "run";
  return env.CI === "true" || env.CI === "1" ? "fail" : "skip";
}

/** True when `cmd` is an executable file on PATH. */
export function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const noticed = new Set<string>();

/**
 * `it` for tests needing something that may be missing: `what` names it, `howTo` says how
 * to get it (e.g. `apt-get install -y cloud-init`), `why` why it is missing.
 */
export function itNeeding(what: string, available: boolean, howTo: string, why = `${what} is not installed`): typeof it {
  const decision = toolDecision(available);
  if (decision === "run") return it;
  if (decision === "fail") {
    const failing = (name: string) => it(name, () => {
      throw new Error(`${why}, and CI=true: tests needing ${what} never skip in CI (${howTo})`);
    });
    return failing as unknown as typeof it;
  }
  if (!noticed.has(what)) {
    noticed.add(what);
    process.stderr.write(`\nNOTICE: ${why}: tests needing it are SKIPPED. To run them: ${howTo}\n\n`);
  }
  const skipping = (name: string) => it.skip(`${name} [SKIPPED: ${why}; ${howTo}]`, () => undefined);
  return skipping as unknown as typeof it;
}

/** `it` for tests that run Debian's `cloud-init schema`. */
export const itWithCloudInit = itNeeding("cloud-init", onPath("cloud-init"), "apt-get install -y cloud-init");
