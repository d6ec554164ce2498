/**
 * The twin's sections of the text and markdown plans: findings grouped by check, the capacity
 * table per pool, the footprint and cost table.
 */
import type { Plan } from "../plan-model";
import type { CapacityRow } from "./checks/capacity";
import type { Footprint } from "./footprint";
import type { TwinFinding } from "./model";

const md = (s: string) => s.replace(/\|/g, "\\|");
const gib = (mib: number) => (mib / 1024).toFixed(1);
const cores = (m: number) => (m / 1000).toFixed(1);

function byCheck(findings: TwinFinding[]): Array<[string, TwinFinding[]]> {
  const m = new Map<string, TwinFinding[]>();
  for (const f of findings) m.set(f.check, [...(m.get(f.check) ?? []), f]);
  return [...m.entries()];
}

export function capacityRows(rows: CapacityRow[]): string[][] {
  return rows.map((r) => [
    r.pool, String(r.nodes), `${cores(r.allocatableCpuM)} / ${gib(r.allocatableMemMiB)}`, `${cores(r.requestedCpuM)} / ${gib(r.requestedMemMiB)}`,
    `${cores(r.headroomN1CpuM)} / ${gib(r.headroomN1MemMiB)}`, `${r.cpuUtilisation}% / ${r.memUtilisation}%`, `${r.pods}${r.approximated ? "*" : ""}`,
  ]);
}
const CAPACITY_NOTE =
  "headroom at N+1: the pool's allocatable minus its largest node minus its requests, the pool alone; pods that fit other pools move there, which the pool-capacity check simulates for the whole estate.";
const CAPACITY_HEAD = ["pool", "nodes", "allocatable (cores / GiB)", "requested", "headroom at N+1", "utilisation (CPU / mem)", "pods"];

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head.map((h, i) => h.padEnd(w[i])).join("  "), ...rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "))];
}

function footprintLines(f: Footprint): string[][] {
  return [
    ["machines", `${f.machines.total} (${f.machines.byKindAndLocation.map((g) => `${g.count} ${g.kind} in ${g.location}${g.secondHand ? `, ${g.secondHand} second-hand` : ""}`).join("; ")})`],
    ["cost", `€${f.monthlyEUR.toFixed(2)}/month (list prices of ${f.pricedAt}, excl. VAT)`],
    ["per user", `€${f.eurPerUserMonth.toFixed(3)}/user/month for ${f.users} accounts; ${f.machinesPer1000Users} machines per 1,000 users`],
    ["kgCO2e/month", `${f.kgCO2ePerMonth.total} = embodied ${f.kgCO2ePerMonth.embodied} + use ${f.kgCO2ePerMonth.use} (${Object.entries(f.kgCO2ePerMonth.useByLocation).map(([l, v]) => `${l} ${v}`).join(", ")})`],
    ["per user", `${f.kgCO2ePerUserYear} kgCO2e/user/year (method: docs/footprint.md)`],
  ];
}

export function twinText(plan: Plan): string[] {
  if (!plan.twin || !plan.summary.twin) return [];
  const s = plan.summary.twin;
  const out = ["", `Estate twin${s.rendered ? " (with rendered charts)" : " (chart objects from values; --render for all)"}: ${s.errors} errors, ${s.warnings} warnings`];
  for (const [check, fs] of byCheck(plan.twin)) {
    out.push(`  ${check}:`);
    for (const f of fs) out.push(`    [${f.level}] ${f.objects.join(", ")}: ${f.message}`);
  }
  if (plan.capacity?.length) {
    out.push("", "Capacity per pool (* some pods estimated from chart values):");
    for (const l of table(CAPACITY_HEAD, capacityRows(plan.capacity))) out.push(`  ${l}`);
    out.push(`  ${CAPACITY_NOTE}`);
  }
  if (plan.footprint) {
    out.push("", "Footprint and cost:");
    for (const [k, v] of footprintLines(plan.footprint)) out.push(`  ${k.padEnd(13)} ${v}`);
  }
  return out;
}

export function twinMarkdown(plan: Plan): string[] {
  if (!plan.twin || !plan.summary.twin) return [];
  const s = plan.summary.twin;
  const out = ["#### Estate twin", "", `${s.errors ? "❌" : "✅"} ${s.errors} errors, ${s.warnings} warnings${s.rendered ? "" : " (chart objects from values: run with `--render` for all)"}`, ""];
  if (plan.twin.length) {
    out.push("<details><summary>Twin findings</summary>", "");
    for (const [check, fs] of byCheck(plan.twin)) for (const f of fs) out.push(`- \`${f.level}\` **${check}** ${md(f.objects.join(", "))}: ${md(f.message)}`);
    out.push("", "</details>", "");
  }
  if (plan.capacity?.length) {
    out.push("| " + CAPACITY_HEAD.join(" | ") + " |", "|---|" + CAPACITY_HEAD.slice(1).map(() => "---:").join("|") + "|");
    for (const r of capacityRows(plan.capacity)) out.push(`| ${r.join(" | ")} |`);
    out.push("", `<sub>${CAPACITY_NOTE}</sub>`, "");
  }
  if (plan.footprint) {
    out.push("| footprint | |", "|---|---|");
    for (const [k, v] of footprintLines(plan.footprint)) out.push(`| ${k} | ${md(v)} |`);
    out.push("");
  }
  return out;
}
