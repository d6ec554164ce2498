/**
 * `npm run plan -- [--stack NAME | --config-file PATH] [--format text|json|markdown] [--out PATH]`
 *                 `[--diff BASE [--allow-dangerous]] [--render]`
 *
 * Runs the real program offline under the Pulumi SDK's runtime mocks with a stack's config,
 * checks the policy pack over what it registers, and reports the desired state.
 * With `--diff BASE` (a git ref or a plan JSON file) the report is the change from BASE instead
 * (scripts/diff/).
 * With `--render`, every Helm release is also rendered and checked (scripts/render, docs/render.md).
 * The estate twin (scripts/twin, docs/twin.md) checks that the estate would work, with the rendered
 * objects when `--render` is given; it adds the capacity per pool and the footprint and cost.
 * Exit codes: 0 fine, 1 at least one mandatory policy violation or twin error (or, with --diff, a
 * dangerous change without --allow-dangerous; or, with --render, a render problem), 2 invalid
 * configuration (or invalid command-line arguments, or a BASE that cannot be evaluated).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, EXIT_INVALID_CONFIG, parseEstate, reportConfigError, type RawConfig } from "../components/estate";
import { stackLayout } from "../components/layers/placement";
import { checkPolicies } from "./check-policies";
import { REPO_ROOT, readStackConfig, stackConfigFile } from "./harness";
import { BaseError, loadBase } from "./diff/base";
import { diffExitCode, diffPlans } from "./diff/diff";
import { renderDiff } from "./diff/render";
import { planExitCode, type Plan } from "./plan-model";
import { planStacks } from "./plan-stacks";
import { FORMATS, render, type Format } from "./report";
import { attachTwin } from "./twin/plan-twin";

export interface PlanArgs {
  stack: string;
  configFile?: string;
  format: Format;
  out?: string;
  /** `--diff BASE`: report the change from BASE (git ref or plan JSON file). */
  diff?: string;
  /** `--allow-dangerous`: a dangerous change does not fail the command. */
  allowDangerous?: boolean;
  /** Render every Helm release and check the result (docs/render.md). */
  render?: boolean;
  /** `--only a,b`: plan the platform and the shards holding these organisations only (docs/scaling.md). */
  only?: string[];
}

const USAGE = "usage: npm run plan -- [--stack NAME | --config-file PATH] [--format text|json|markdown] [--out PATH] [--only SLUG[,SLUG]] [--diff BASE [--allow-dangerous]] [--render]";

export class UsageError extends Error {}

export function parseArgs(argv: string[]): PlanArgs {
  const args: PlanArgs = { stack: "prod", format: "text" };
  let stackGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--stack":
        args.stack = value();
        stackGiven = true;
        break;
      case "--config-file":
        args.configFile = value();
        break;
      case "--format": {
        const f = value();
        if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: expected one of ${FORMATS.join(" | ")}, got "${f}"`);
        args.format = f as Format;
        break;
      }
      case "--out":
        args.out = value();
        break;
      case "--diff":
        args.diff = value();
        break;
      case "--only": {
        const list = value().split(",").map((x) => x.trim()).filter(Boolean);
        if (!list.length) throw new UsageError("--only needs at least one organisation slug");
        args.only = list;
        break;
      }
      case "--allow-dangerous":
        args.allowDangerous = true;
        break;
      case "--render":
        if (inline !== undefined) throw new UsageError("--render takes no value");
        args.render = true;
        break;
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument "${a}"`);
    }
  }
  if (stackGiven && args.configFile) throw new UsageError("give either --stack or --config-file, not both");
  if (args.allowDangerous && !args.diff) throw new UsageError("--allow-dangerous only applies with --diff BASE");
  if (!/^[A-Za-z0-9_.-]+$/.test(args.stack)) throw new UsageError(`--stack: expected a stack name, got "${args.stack}"`);
  return args;
}

/** The stack's raw config (`--stack` or `--config-file`), or the exit code after saying why not. */
export function loadStackConfig(args: Pick<PlanArgs, "stack" | "configFile">, io: { error: (s: string) => void }): RawConfig | number {
  const file = args.configFile ? path.resolve(args.configFile) : stackConfigFile(args.stack);
  if (!fs.existsSync(file)) {
    io.error(`error: no configuration file ${file}${args.configFile ? "" : ` (is "${args.stack}" a stack of this project?)`}\n`);
    return EXIT_INVALID_CONFIG;
  }
  try {
    return readStackConfig(file);
  } catch (err) {
    io.error(`error: ${path.relative(process.cwd(), file) || file} is not valid YAML: ${(err as Error).message.split("\n")[0]}\n`);
    return EXIT_INVALID_CONFIG;
  }
}

/** Runs the plan; returns the exit code. `write` receives the report unless `--out` is given. */
export async function runPlan(
  args: PlanArgs,
  io: { write: (s: string) => void; error: (s: string) => void },
  policies: typeof checkPolicies = checkPolicies,
): Promise<number> {
  const raw = loadStackConfig(args, io);
  if (typeof raw === "number") return raw;
  try {
    // The estate's stacks (docs/scaling.md): the platform (or the one stack), then its shards.
    const estate = parseEstate(raw);
    const layout = stackLayout(args.stack, estate);
    let stacks = layout;
    if (args.only) {
      const unknown = args.only.filter((s) => !estate.tenants.some((t) => t.slug === s));
      if (unknown.length) {
        io.error(`error: --only: no organisation ${unknown.map((u) => `"${u}"`).join(", ")} in the estate\n`);
        return EXIT_INVALID_CONFIG;
      }
      const only = new Set(args.only);
      stacks = [layout[0], ...layout.slice(1).filter((s) => s.tenants.some((t) => only.has(t)))];
    }
    const plan = await planStacks({ config: raw, estate, estateName: args.stack, stacks, policies });
    if (args.render) await (await import("./render/plan-render")).attachRender(plan); // loaded only when asked: Helm, Ajv, kubernetes-models
    const renderExit = plan.render?.problems.length ? 1 : 0;
    await attachTwin(plan, estate);
    if (args.diff) return Math.max(await runDiff(args, plan, io), renderExit, plan.summary.twin?.errors ? 1 : 0);
    const text = render(plan, args.format);
    if (args.out) {
      fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
      fs.writeFileSync(args.out, text);
      const rendered = plan.summary.render ? `, ${plan.summary.render.problems} render problems` : "";
      const bundled = plan.summary.bundledObjects ? ` + ${plan.summary.bundledObjects} bundled objects` : "";
      io.error(`plan written to ${args.out} (${plan.summary.resourceCount} resources${bundled}, ${plan.summary.mandatoryViolations} mandatory violations${rendered}, ${plan.summary.twin?.errors ?? 0} twin errors)\n`);
    } else io.write(text);
    return Math.max(planExitCode(plan), renderExit);
  } catch (err) {
    if (err instanceof ConfigError) {
      reportConfigError(err, io.error);
      return EXIT_INVALID_CONFIG;
    }
    throw err;
  }
}

/** `--diff BASE`: the change from BASE to this plan (scripts/diff/), written like the plan. */
async function runDiff(args: PlanArgs, plan: Plan, io: { write: (s: string) => void; error: (s: string) => void }): Promise<number> {
  let base;
  try {
    base = await loadBase({ base: args.diff!, stack: args.stack, configFile: args.configFile, repoRoot: REPO_ROOT, log: io.error });
  } catch (err) {
    if (!(err instanceof BaseError)) throw err;
    io.error(`error: ${err.message}\n`);
    return EXIT_INVALID_CONFIG;
  }
  if (base.plan.stack !== plan.stack) {
    io.error(`error: --diff ${args.diff}: that plan is of stack "${base.plan.stack}", not "${plan.stack}"\n`);
    return EXIT_INVALID_CONFIG;
  }
  const d = diffPlans(base.plan, plan, { baseLabel: base.label, headLabel: "working tree" });
  const text = renderDiff(d, args.format);
  const s = d.changeSummary;
  if (args.out) {
    fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
    fs.writeFileSync(args.out, text);
    io.error(`diff written to ${args.out} (+${s.create} ~${s.update} +-${s.replace} -${s.delete}, ${s.dangerous} dangerous)\n`);
  } else io.write(text);
  const code = diffExitCode(d, Boolean(args.allowDangerous));
  if (d.dangerous.length && !args.allowDangerous) io.error(`${d.dangerous.length} dangerous change(s): review them, then re-run with --allow-dangerous to accept\n`);
  return code;
}

async function cli(): Promise<void> {
  let args: PlanArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `error: ${err.message}\n` : ""}${USAGE}\n`);
      process.exit(err.message ? EXIT_INVALID_CONFIG : 0);
    }
    throw err;
  }
  const code = await runPlan(args, { write: (s) => process.stdout.write(s), error: (s) => process.stderr.write(s) });
  // Let stdout drain before exiting (large JSON plans are written asynchronously to pipes).
  process.stdout.write("", () => process.exit(code));
}

if (require.main === module) {
  cli().catch((err) => {
    process.stderr.write(`error: the plan failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  });
}
