/**
 * Renderings of a plan diff: `text` (like `pulumi preview --diff`), `markdown` (the merge-request
 * comment: counts, the dangerous section first, consequences, then one collapsible section per
 * organisation, within a size budget) and `json` (the contract, docs/plan.md).
 */
import type { Format } from "../report";
import type { Action, Change, PlanDiff, PropertyChange } from "./diff";
import type { PropertyChangeLike } from "./bundle";
import type { EstateFigures } from "./consequences";

export const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

export function renderDiff(d: PlanDiff, format: Format, opts: { maxChars?: number } = {}): string {
  switch (format) {
    case "json":
      return JSON.stringify(d, null, 2) + "\n";
    case "markdown":
      return renderMarkdown(d, opts.maxChars ?? 55_000);
    case "text":
      return renderText(d);
  }
}

const short = (v: unknown, max = 160): string => {
  const s = v === undefined ? "undefined" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
};

/** Lines of a property change, indented; multi-line strings as a line diff. */
function propertyLines(p: PropertyChange | PropertyChangeLike, indent: string): string[] {
  const mark = p.kind === "add" ? "+" : p.kind === "delete" ? "-" : "~";
  const tag = "replaces" in p && p.replaces ? "  [forces replacement]" : "";
  if (p.kind === "update" && typeof p.old === "string" && typeof p.new === "string" && (p.old.includes("\n") || p.new.includes("\n"))) {
    const a = p.old.split("\n");
    const b = p.new.split("\n");
    let s = 0;
    while (s < a.length && s < b.length && a[s] === b[s]) s++;
    let e = 0;
    while (e < a.length - s && e < b.length - s && a[a.length - 1 - e] === b[b.length - 1 - e]) e++;
    const out = [`${indent}~ ${p.path}: (text, line ${s + 1})${tag}`];
    const cap = (xs: string[], m: string) => (xs.length > 12 ? [...xs.slice(0, 12).map((l) => `${indent}    ${m} ${l}`), `${indent}      … ${xs.length - 12} more lines`] : xs.map((l) => `${indent}    ${m} ${l}`));
    out.push(...cap(a.slice(s, a.length - e), "-"), ...cap(b.slice(s, b.length - e), "+"));
    return out;
  }
  if (p.kind === "add") return [`${indent}+ ${p.path}: ${short(p.new)}${tag}`];
  if (p.kind === "delete") return [`${indent}- ${p.path}: ${short(p.old)}${tag}`];
  return [`${indent}${mark} ${p.path}: ${short(p.old)} => ${short(p.new)}${tag}`];
}

function changeLines(c: Change, indent = "    "): string[] {
  const head = `${SYMBOL[c.action].padEnd(2)} ${c.type}  ${c.name}${c.aliasOf ? `  (was ${c.aliasOf})` : ""}${c.deleteBeforeReplace && c.action === "replace" ? "  [delete before replace]" : ""}`;
  const out = [head];
  for (const p of c.properties) out.push(...propertyLines(p, indent));
  // a bundle's objects release: object by object (scripts/diff/bundle.ts)
  for (const o of c.objects ?? []) {
    out.push(`${indent}${SYMBOL[o.action].padEnd(2)} object ${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}  (${o.type})`);
    for (const p of o.properties) out.push(...propertyLines(p, `${indent}    `));
    for (const n of o.notes) out.push(`${indent}    note: ${n}`);
  }
  for (const o of c.options) out.push(`${indent}~ [${o.path}]: ${short(o.old)} => ${short(o.new)}`);
  for (const r of c.replaceReasons) out.push(`${indent}replaces because ${r.path}: ${r.reason}  (${r.source})`);
  if (c.ignored.length) out.push(`${indent}ignored (ignoreChanges): ${c.ignored.join(", ")}`);
  for (const n of c.notes) out.push(`${indent}note: ${n}`);
  for (const d of c.danger) out.push(`${indent}DANGER: ${d}`);
  return out;
}

const byTenant = (d: PlanDiff): Array<[string, Change[]]> => {
  const m = new Map<string, Change[]>();
  for (const c of d.changes) m.set(c.tenant ?? "(platform)", [...(m.get(c.tenant ?? "(platform)") ?? []), c]);
  return [...m.entries()].sort(([a], [b]) => (a === "(platform)" ? -1 : b === "(platform)" ? 1 : a.localeCompare(b)));
};

const counts = (cs: Change[]) => {
  const n: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const c of cs) n[c.action]++;
  return (Object.keys(n) as Action[]).filter((a) => n[a]).map((a) => `${SYMBOL[a]}${n[a]}`).join(" ");
};

const eur = (n: number) => `${n.toFixed(2)} €`;
const signed = (n: number, unit = "") => `${n > 0 ? "+" : ""}${Math.round(n * 100) / 100}${unit}`;

function figureLines(b: EstateFigures, h: EstateFigures): string[] {
  const out: string[] = [];
  if (b.cloudServers !== h.cloudServers || b.dedicatedServers !== h.dedicatedServers)
    out.push(`machines: ${b.cloudServers} cloud + ${b.dedicatedServers} dedicated → ${h.cloudServers} cloud + ${h.dedicatedServers} dedicated`);
  if (b.cloudMonthlyEUR !== h.cloudMonthlyEUR) out.push(`Hetzner Cloud €/month (list prices): ${eur(b.cloudMonthlyEUR)} → ${eur(h.cloudMonthlyEUR)} (${signed(h.cloudMonthlyEUR - b.cloudMonthlyEUR, " €")}); dedicated servers are invoiced apart`);
  if (b.cloudCores !== h.cloudCores || b.cloudRamGB !== h.cloudRamGB || b.quotaCores !== h.quotaCores || b.quotaRamGB !== h.quotaRamGB) {
    out.push(
      `capacity: cloud nodes ${b.cloudCores} → ${h.cloudCores} cores, ${b.cloudRamGB} → ${h.cloudRamGB} GB; reserved by tenant quotas ${b.quotaCores} → ${h.quotaCores} cores, ${b.quotaRamGB} → ${h.quotaRamGB} GiB`,
    );
  }
  return out;
}

function consequenceLines(d: PlanDiff): string[] {
  const c = d.consequences;
  const out: string[] = [];
  if (c.tenants.added.length) out.push(`organisations added: ${c.tenants.added.join(", ")}`);
  if (c.tenants.removed.length) out.push(`organisations removed: ${c.tenants.removed.join(", ")}`);
  for (const t of c.tenants.changed) out.push(`organisation ${t.slug}: ${t.fields.map((f) => `${f.field} ${short(f.old, 60)} → ${short(f.new, 60)}`).join("; ")}`);
  for (const m of c.machines.added) out.push(`machine added: ${m.name} (${m.kind}${m.serverType ? ` ${m.serverType} in ${m.location}` : ""})`);
  for (const m of c.machines.removed) out.push(`machine removed: ${m.name} (${m.kind}${m.serverType ? ` ${m.serverType} in ${m.location}` : ""})`);
  for (const m of c.machines.resized) out.push(`machine resized: ${m.name} ${m.old} → ${m.new}`);
  out.push(...figureLines(c.figures.base, c.figures.head));
  for (const r of c.restarts) out.push(`pods restart in ${r.tenant}: ${r.workloads.join(", ")}`);
  return out;
}

function renderText(d: PlanDiff): string {
  const s = d.changeSummary;
  const out: string[] = [`Offline diff of liiibre/${d.head.stack}: ${d.base.label} → ${d.head.label} (Pulumi runtime mocks, no credentials)`, ""];
  if (d.dangerous.length) {
    out.push(`DANGEROUS (${d.dangerous.length}) — exit 1 unless --allow-dangerous:`);
    for (const x of d.dangerous) out.push(`  ! ${x.what}${x.tenant ? ` [${x.tenant}]` : ""}: ${x.why}`);
    out.push("");
  }
  for (const [tenant, cs] of byTenant(d)) {
    out.push(`${tenant} (${counts(cs)}):`);
    for (const c of cs) out.push(...changeLines(c).map((l, i) => (i === 0 ? `  ${l}` : `  ${l}`)));
    out.push("");
  }
  if (d.ignored.length) out.push(`Ignored changes (ignoreChanges, nothing happens): ${d.ignored.length} resource(s)`, ...d.ignored.slice(0, 20).map((i) => `    ${i.urn}: ${i.paths.join(", ")}`), "");
  const dns = d.consequences.dns;
  if (dns.length) {
    out.push("DNS records organisations must change:");
    for (const t of dns) {
      out.push(`  ${t.tenant} (${t.domain}):`);
      for (const r of t.add) out.push(`    + ${r.name.padEnd(40)} ${r.type.padEnd(5)} ${r.value}`);
      for (const r of t.remove) out.push(`    - ${r.name.padEnd(40)} ${r.type.padEnd(5)} ${r.value}`);
    }
    out.push("");
  }
  const cons = consequenceLines(d);
  if (cons.length) out.push("Consequences:", ...cons.map((l) => `  ${l}`), "");
  if (d.violations.added.length || d.violations.resolved.length) {
    out.push("Policy verdicts:");
    for (const v of d.violations.added) out.push(`  new [${v.level}] ${v.policy}: ${v.message}`);
    for (const v of d.violations.resolved) out.push(`  resolved [${v.level}] ${v.policy}: ${v.message}`);
    out.push("");
  }
  out.push("Resources:");
  if (!s.create && !s.update && !s.replace && !s.delete) out.push("    no changes");
  if (s.create) out.push(`    + ${s.create} to create`);
  if (s.update) out.push(`    ~ ${s.update} to update`);
  if (s.replace) out.push(`   +- ${s.replace} to replace`);
  if (s.delete) out.push(`    - ${s.delete} to delete`);
  out.push(`      ${s.same} unchanged`);
  return out.join("\n") + "\n";
}

const mdEscape = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;");

function renderMarkdown(d: PlanDiff, maxChars: number): string {
  const s = d.changeSummary;
  const verdict = [
    d.dangerous.length ? `❌ ${d.dangerous.length} dangerous change(s)` : "✅ nothing dangerous",
    d.violations.mandatory ? `❌ ${d.violations.mandatory} mandatory policy violation(s)` : "✅ no mandatory policy violation",
  ].join(" · ");
  const total = s.create + s.update + s.replace + s.delete;
  const out: string[] = [
    `### Offline diff of \`liiibre/${d.head.stack}\`: \`${d.base.label}\` → \`${d.head.label}\``,
    "",
    verdict,
    "",
    total
      ? `| create | update | replace | delete | unchanged |\n|---:|---:|---:|---:|---:|\n| ${s.create} | ${s.update} | ${s.replace} | ${s.delete} | ${s.same} |`
      : `No change: ${s.same} resources unchanged.`,
    "",
  ];
  // Each section gets a share of the budget; what does not fit is counted and left to the artifacts.
  const section = (lines: string[], share: number, more: (n: number) => string) => {
    let room = maxChars * share;
    for (const [i, l] of lines.entries()) {
      if (room - l.length < 0) {
        out.push(more(lines.length - i));
        return;
      }
      out.push(l);
      room -= l.length + 1;
    }
  };
  if (d.dangerous.length) {
    out.push(`#### ⚠️ Dangerous (the job fails unless \`--allow-dangerous\`)`, "");
    section(d.dangerous.map((x) => `- **${mdEscape(x.what)}**${x.tenant ? ` (${x.tenant})` : ""}: ${mdEscape(x.why)}`), 0.4, (n) => `- … and ${n} more dangerous change(s): see the artifacts`);
    out.push("");
  }
  const dns = d.consequences.dns;
  if (dns.length) {
    out.push("#### DNS records organisations must change", "", "| organisation | | name | type | value |", "|---|---|---|---|---|");
    const rows = dns.flatMap((t) => [
      ...t.add.map((r) => `| ${t.tenant} | add | \`${r.name}\` | ${r.type} | \`${mdEscape(r.value)}\` |`),
      ...t.remove.map((r) => `| ${t.tenant} | remove | \`${r.name}\` | ${r.type} | \`${mdEscape(r.value)}\` |`),
    ]);
    section(rows, 0.2, (n) => `| … | | ${n} more records: see the artifacts | | |`);
    out.push("");
  }
  const cons = consequenceLines(d).map((l) => `- ${mdEscape(l.length > 600 ? `${l.slice(0, 600)}…` : l)}`);
  if (cons.length) {
    out.push("#### Consequences", "");
    section(cons, 0.1, (n) => `- … ${n} more: see the artifacts`);
    out.push("");
  }
  if (d.violations.added.length) {
    out.push("#### New policy violations", "");
    for (const v of d.violations.added) out.push(`- \`${v.level}\` **${v.policy}**: ${mdEscape(v.message)}`);
    out.push("");
  }
  if (d.ignored.length) out.push(`${d.ignored.length} resource(s) changed only under \`ignoreChanges\` (nothing happens): ${d.ignored.slice(0, 5).map((i) => `\`${i.urn.split("::").pop()}\` (${i.paths.join(", ")})`).join(", ")}${d.ignored.length > 5 ? ", …" : ""}`, "");
  const footer = ["", "Full plan and diff: the job's artifacts (`npm run plan -- --diff BASE --format json`)."];
  let used = out.join("\n").length + footer.join("\n").length;
  const groups = byTenant(d);
  if (groups.length) out.push("#### Changes per organisation", "");
  let left = 0;
  for (const [i, [tenant, cs]] of groups.entries()) {
    const body = cs.flatMap((c) => changeLines(c, "    ")).join("\n");
    const block = `<details><summary><b>${mdEscape(tenant)}</b>: ${counts(cs)}${cs.some((c) => c.danger.length) ? " ⚠️" : ""}</summary>\n\n\`\`\`diff\n${body.replace(/```/g, "ˋˋˋ")}\n\`\`\`\n</details>\n`;
    if (used + block.length > maxChars) {
      // A group too large for what is left: its head still fits when there is room for it.
      const room = maxChars - used - 400;
      if (room > 2000) {
        out.push(`${block.slice(0, room)}\n… (truncated)\n\`\`\`\n</details>\n`);
        used += room + 400;
      }
      left = groups.length - i - (room > 2000 ? 1 : 0);
      break;
    }
    out.push(block);
    used += block.length + 1;
  }
  if (left) out.push(`… ${left} more organisation(s) left out to fit the comment: see the artifacts.`);
  out.push(...footer);
  return out.join("\n") + "\n";
}
