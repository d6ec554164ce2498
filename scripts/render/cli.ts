/**
 * `npm run render -- [--stack NAME | --config-file PATH] [--format text|json|markdown] [--out PATH]`
 *
 * Evaluates the program offline (as `npm run plan` does), renders every Helm release with
 * real Helm and its pinned chart, and checks the result (docs/render.md).
 * Exit codes: 0 no render problem, 1 at least one render problem (each names the release and
 * the key or object field), 2 invalid configuration or arguments, 3 Helm or the program
 * could not run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, EXIT_INVALID_CONFIG, reportConfigError } from "../../components/config";
import { evaluate } from "../harness";
import { loadStackConfig, parseArgs, UsageError, type PlanArgs } from "../plan";
import { problemLine } from "./model";
import { renderPlan, type RenderOptions, type RenderResult } from "./render";

const USAGE = "usage: npm run render -- [--stack NAME | --config-file PATH] [--format text|json|markdown] [--out PATH]";

export function formatRender(stack: string, result: RenderResult, format: PlanArgs["format"]): string {
  const s = result.stats;
  if (format === "json") return JSON.stringify({ stack, stats: s, problems: result.problems, warnings: result.warnings, releases: result.releases }, null, 2) + "\n";
  const counts = `${s.releases} Helm releases, ${s.distinctRenders} distinct renders, ${s.objects} objects, ${result.problems.length} problems, ${result.warnings.length} warnings (${s.seconds} s)`;
  const byCheck = Object.entries(s.problemsByCheck).map(([c, n]) => `${c}: ${n}`).join(", ");
  if (format === "markdown") {
    const out = [`### Render of \`liiibre/${stack}\``, "", `${result.problems.length ? "❌" : "✅"} ${counts}${byCheck ? ` — ${byCheck}` : ""}`, ""];
    for (const p of result.problems) out.push(`- ${problemLine(p).replace(/\|/g, "\\|")}`);
    for (const w of result.warnings) out.push(`- warning ${problemLine(w).replace(/\|/g, "\\|")}`);
    return out.join("\n") + "\n";
  }
  const out = [`Render of liiibre/${stack}: ${counts}`];
  if (byCheck) out.push(`Problems by check: ${byCheck}`);
  for (const p of result.problems) out.push(problemLine(p));
  for (const w of result.warnings) out.push(`warning ${problemLine(w)}`);
  return out.join("\n") + "\n";
}

/** Runs the render; returns the exit code. */
export async function runRender(args: PlanArgs, io: { write: (s: string) => void; error: (s: string) => void }, options: RenderOptions = {}): Promise<number> {
  const raw = loadStackConfig(args, io);
  if (typeof raw === "number") return raw;
  let evaluation;
  try {
    evaluation = await evaluate({ config: raw, stack: args.stack });
  } catch (err) {
    if (err instanceof ConfigError) {
      reportConfigError(err, io.error);
      return EXIT_INVALID_CONFIG;
    }
    throw err;
  }
  const result = await renderPlan(evaluation.resources, options);
  const text = formatRender(args.stack, result, args.format);
  if (args.out) {
    fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
    fs.writeFileSync(args.out, text);
    io.error(`render written to ${args.out} (${result.stats.releases} releases, ${result.problems.length} problems)\n`);
  } else io.write(text);
  return result.problems.length ? 1 : 0;
}

async function cli(): Promise<void> {
  let args: PlanArgs;
  try {
    args = parseArgs(process.argv.slice(2));
    if (args.render) throw new UsageError("--render is a flag of npm run plan");
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `error: ${err.message}\n` : ""}${USAGE}\n`);
      process.exit(err.message ? EXIT_INVALID_CONFIG : 0);
    }
    throw err;
  }
  const code = await runRender(args, { write: (s) => process.stdout.write(s), error: (s) => process.stderr.write(s) });
  process.stdout.write("", () => process.exit(code));
}

if (require.main === module) {
  cli().catch((err) => {
    process.stderr.write(`error: the render failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  });
}
