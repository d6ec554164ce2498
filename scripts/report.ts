/**
 * Renderings of the plan: `json` (the contract), `text` (a `pulumi preview`-like tree with a
 * per-tenant summary) and `markdown` (fit for a merge-request comment).
 */
import type { Violation } from "./check-policies";
import type { Plan, PlanResource, PlanTenant } from "./plan-model";
import { problemLine } from "./render/model";
import { twinMarkdown, twinText } from "./twin/report";

export const FORMATS = ["text", "json", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

export function render(plan: Plan, format: Format): string {
  switch (format) {
    case "json":
      return JSON.stringify(plan, null, 2) + "\n";
    case "markdown":
      return renderMarkdown(plan);
    case "text":
      return renderText(plan);
  }
}

const flags = (r: PlanResource): string =>
  [r.protect ? "protect" : "", r.retainOnDelete ? "retain" : "", r.deleteBeforeReplace ? "delete-before-replace" : "", r.aliases.length ? "aliased" : "", r.bundledObjects?.length ? `${r.bundledObjects.length} bundled objects` : ""]
    .filter(Boolean)
    .join(",");

/** `, N bundled objects` when a section's objects releases hold some (components/kit/objects.ts), else "". */
const bundledNote = (n: number | undefined, sep = ", ") => (n ? `${sep}${n} bundled objects` : "");
const objectsReleases = (plan: Plan) => plan.resources.filter((r) => r.bundledObjects?.length).length;

/** The tree of each stack (one section per stack, platform first). */
function tree(plan: Plan): string[] {
  const stacks = plan.stacks?.length ? plan.stacks.map((s) => s.name) : [plan.stack];
  const multi = stacks.length > 1;
  return stacks.flatMap((name, i) => {
    const rs = multi ? plan.resources.filter((r) => (r.stack ?? plan.stack) === name) : plan.resources;
    const info = plan.stacks?.[i];
    const head = multi && info ? [`Stack ${name} (${info.layer}, ${info.resourceCount} resources${info.tenants.length ? `, ${info.tenants.length} organisations` : ""}${bundledNote(info.bundledObjects)}):`] : [];
    return [...head, ...stackTree(name, rs), ...(multi ? [""] : [])];
  });
}

function stackTree(stack: string, resources: PlanResource[]): string[] {
  const children = new Map<string | null, PlanResource[]>();
  for (const r of resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  // [op, type column, name, options]: `+` a resource to create; `·` an object of a bundle's objects release (Helm applies it)
  const rows: Array<[string, string, string, string]> = [["+", "pulumi:pulumi:Stack", `liiibre-${stack}`, ""]];
  const walk = (parent: string | null, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      rows.push(["+", `${prefix}${last ? "└─ " : "├─ "}${r.type}`, r.name, flags(r)]);
      const inner = `${prefix}${last ? "   " : "│  "}`;
      const objects = r.bundledObjects ?? [];
      const hasChildren = (children.get(r.urn) ?? []).length > 0;
      objects.forEach((o, j) => rows.push(["·", `${inner}${j === objects.length - 1 && !hasChildren ? "└─ " : "├─ "}${o.type}`, `${o.namespace ? `${o.namespace}/` : ""}${o.name}`, "bundled"]));
      walk(r.urn, inner);
    });
  };
  walk(null, "");
  const w0 = Math.min(90, Math.max(...rows.map((r) => r[1].length)));
  const w1 = Math.min(60, Math.max(...rows.map((r) => r[2].length)));
  return [
    `     ${"Type".padEnd(w0)}  ${"Name".padEnd(w1)}  Options`,
    ...rows.map(([op, t, n, f]) => ` ${op}   ${t.padEnd(w0)}  ${n.padEnd(w1)}  ${f}`.trimEnd()),
  ];
}

/** Violations grouped by tenant (platform first), each group sorted by policy. */
export function groupViolations(violations: Violation[]): Array<[string, Violation[]]> {
  const groups = new Map<string, Violation[]>();
  for (const v of violations) {
    const key = v.tenant ?? "(platform)";
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === "(platform)" ? -1 : b === "(platform)" ? 1 : a.localeCompare(b)))
    .map(([k, vs]) => [k, vs.sort((x, y) => x.policy.localeCompare(y.policy))]);
}

const tenantLine = (t: PlanTenant) =>
  `${t.slug.padEnd(32)} ${t.plan.padEnd(9)} ${t.state.padEnd(14)} ${String(t.users).padStart(6)} users  ${String(t.storagePoolGB).padStart(7)} GB  ${t.apps.join(",")}`;

function renderText(plan: Plan): string {
  const s = plan.summary;
  const out: string[] = [`Previewing liiibre/${plan.stack} offline (Pulumi runtime mocks, no credentials)`, "", ...tree(plan), ""];
  out.push("Tenants:");
  for (const t of plan.tenants) {
    out.push(`  ${tenantLine(t)}`);
    if (t.exemption) out.push(`      exemption: ${t.exemption}`);
    if (t.bundledObjects) out.push(`      bundled objects: ${t.bundledObjects} (entries of its objects release: Helm applies them; not counted as resources)`);
    for (const [app, url] of Object.entries(t.urls)) out.push(`      ${app.padEnd(16)} ${url}`);
    if (t.dnsRecords.length) {
      out.push("      DNS records to create:");
      for (const d of t.dnsRecords) out.push(`        ${d.name.padEnd(40)} ${d.type.padEnd(5)} ${d.value}${d.purpose ? `   (${d.purpose})` : ""}`);
    }
  }
  out.push("");
  if (plan.violations.length) {
    out.push(`Policy violations (${s.mandatoryViolations} mandatory, ${s.advisoryViolations} advisory):`);
    for (const [tenant, vs] of groupViolations(plan.violations)) {
      out.push(`  ${tenant}:`);
      for (const v of vs) out.push(`    [${v.level}] ${v.policy}: ${v.message}${v.urn ? `\n        ${v.urn}` : ""}`);
    }
  } else out.push("Policy violations: none");
  out.push(...renderTextSection(plan));
  out.push(...twinText(plan));
  out.push("");
  out.push("Resources:");
  out.push(`    + ${s.resourceCount} to create (${s.protectedCount} protected or retained on delete)`);
  if (s.bundledObjects) out.push(`      (and ${s.bundledObjects} Kubernetes objects bundled in ${objectsReleases(plan)} objects releases, each release 1 resource)`);
  for (const [type, n] of Object.entries(s.byType)) out.push(`      ${String(n).padStart(6)}  ${type}`);
  out.push(`Tenants: ${s.tenantCount} organisations, ${s.userCount} accounts, ${s.storagePoolGB} GB pooled storage`);
  if ((plan.stacks?.length ?? 0) > 1) {
    out.push(`Stacks: ${plan.stacks.length}`);
    for (const st of plan.stacks) out.push(`  ${st.name.padEnd(24)} ${st.layer.padEnd(8)} ${String(st.resourceCount).padStart(6)} resources (estimated ${st.estimatedResources})  ${st.tenants.length} organisations${bundledNote(st.bundledObjects, "  ")}`);
  }
  return out.join("\n") + "\n";
}

const mdEscape = (s: string) => s.replace(/\|/g, "\\|");

// --- `--render` (scripts/render, docs/render.md) ---------------------------------------
const renderCounts = (r: NonNullable<Plan["summary"]["render"]>) =>
  `${r.releases} Helm releases, ${r.distinctRenders} distinct renders, ${r.objects} objects, ${r.problems} problems, ${r.warnings} warnings`;

function renderTextSection(plan: Plan): string[] {
  const r = plan.summary.render;
  if (!r || !plan.render) return [];
  const out = ["", `Rendered with Helm: ${renderCounts(r)}`];
  for (const p of plan.render.problems) out.push(`  ${problemLine(p)}`);
  for (const w of plan.render.warnings) out.push(`  warning ${problemLine(w)}`);
  return out;
}

function renderMarkdownSection(plan: Plan): string[] {
  const r = plan.summary.render;
  if (!r || !plan.render) return [];
  const out = [`#### Render`, "", `${r.problems ? "❌" : "✅"} ${renderCounts(r)}`, ""];
  if (plan.render.problems.length || plan.render.warnings.length) {
    out.push("<details><summary>Render problems and warnings</summary>", "");
    for (const p of plan.render.problems) out.push(`- ${mdEscape(problemLine(p))}`);
    for (const w of plan.render.warnings) out.push(`- warning ${mdEscape(problemLine(w))}`);
    out.push("", "</details>", "");
  }
  return out;
}

function renderMarkdown(plan: Plan): string {
  const s = plan.summary;
  const verdict = [
    s.mandatoryViolations ? `❌ ${s.mandatoryViolations} mandatory policy violation(s)` : "✅ no mandatory policy violation",
    ...(s.twin ? [s.twin.errors ? `❌ ${s.twin.errors} twin error(s)` : "✅ no twin error"] : []),
  ].join(" · ");
  const out: string[] = [
    `### Offline plan of \`liiibre/${plan.stack}\``,
    "",
    `${verdict} · ${s.advisoryViolations} advisory · ${s.resourceCount} resources (${s.protectedCount} protected)${bundledNote(s.bundledObjects, " · ")} · ${s.tenantCount} organisations · ${s.userCount} accounts · ${s.storagePoolGB} GB pooled`,
    "",
  ];
  if (plan.violations.length) {
    out.push("#### Policy violations", "");
    for (const [tenant, vs] of groupViolations(plan.violations)) {
      out.push(`**${mdEscape(tenant)}**`, "");
      for (const v of vs) out.push(`- \`${v.level}\` **${v.policy}**: ${mdEscape(v.message)}${v.urn ? ` <sub>\`${v.urn}\`</sub>` : ""}`);
      out.push("");
    }
  }
  if ((plan.stacks?.length ?? 0) > 1) {
    out.push("<details><summary>Stacks</summary>", "", "| stack | layer | resources | estimated | organisations | bundled objects |", "|---|---|---:|---:|---:|---:|");
    for (const st of plan.stacks) out.push(`| ${st.name} | ${st.layer} | ${st.resourceCount} | ${st.estimatedResources} | ${st.tenants.length} | ${st.bundledObjects ?? 0} |`);
    out.push("", "</details>", "");
  }
  out.push(...renderMarkdownSection(plan));
  out.push(...twinMarkdown(plan));
  out.push("<details><summary>Organisations</summary>", "", "| slug | plan | state | users | pool (GB) | bundled objects | apps |", "|---|---|---|---:|---:|---:|---|");
  for (const t of plan.tenants) out.push(`| ${t.slug} | ${t.plan} | ${t.state} | ${t.users} | ${t.storagePoolGB} | ${t.bundledObjects ?? 0} | ${t.apps.join(", ")} |`);
  out.push("", "</details>", "", "<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---:|");
  for (const [type, n] of Object.entries(s.byType)) out.push(`| \`${type}\` | ${n} |`);
  out.push("", "</details>", "", "Full desired state: `npm run plan -- --stack " + plan.stack + " --format json`.", "");
  return out.join("\n");
}
