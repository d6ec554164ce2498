/**
 * The offline diff between two plans (scripts/plan-model.ts): what `pulumi up` would do to go
 * from BASE to HEAD — create, update, replace or delete each resource — with the changed input
 * paths, the predicted replacements and their reason (scripts/diff/replace-rules.ts), the
 * dangerous changes first, and the consequences for organisations and machines.
 *
 * Pure: two plan documents in, one diff document out (docs/plan.md, "Diff").
 */
import { parse as parseYaml } from "yaml";
import { SECRET_PLACEHOLDER } from "../harness";
import { DERIVED_ANNOTATION } from "../../components/kit/secrets";
import type { DnsRecord, Plan, PlanResource } from "../plan-model";
import { holdsData } from "./data-holders";
import { consequences, type Consequences } from "./consequences";
import { bundledObjects, isObjectsRelease } from "../../components/kit/objects";
import { bundledIndex, objectChanges, objectKey, objectLabel, ownedByObjectsRelease, resourceObjectKey, type ObjectChange } from "./bundle";
import { covers, formatPath, parsePath, providerRuleFor, rulesFor, touches, type PathSegment } from "./replace-rules";

export const DIFF_FORMAT_VERSION = 1;
export const ACTIONS = ["create", "update", "replace", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

export interface PropertyChange {
  /** Pulumi property path of the input, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  kind: "add" | "delete" | "update";
  /** Old and new values; a secret on either side is shown as "[secret]" on both. */
  old?: unknown;
  new?: unknown;
  /** True when this change forces the replacement. */
  replaces?: boolean;
}

export interface ReplaceReason {
  path: string;
  reason: string;
  source: string;
}

export interface Change {
  urn: string;
  type: string;
  name: string;
  tenant: string | null;
  action: Action;
  /** Changed input paths (empty for creates and deletes). */
  properties: PropertyChange[];
  /** Option changes (`protect`, `retainOnDelete`, `deleteBeforeReplace`): recorded in the state, no provider call. */
  options: PropertyChange[];
  /** Paths that changed but are covered by `ignoreChanges` (the engine keeps the old value). */
  ignored: string[];
  /** Why the resource is replaced (only for `replace`). */
  replaceReasons: ReplaceReason[];
  /** `replace` with `deleteBeforeReplace`: the old one is deleted before the new one exists. */
  deleteBeforeReplace: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  /** Why this change is dangerous (empty when it is not). */
  danger: string[];
  /** Consequences worth knowing that are not dangers (downtime, refused changes…). */
  notes: string[];
  /** The URN in BASE when the resource was matched through an alias. */
  aliasOf?: string;
  /**
   * A bundle's objects release (components/kit/objects.ts): what its upgrade does object by
   * object (scripts/diff/bundle.ts); its `values.objects` paths are not in `properties`.
   */
  objects?: ObjectChange[];
}

export interface Danger {
  urn: string | null;
  tenant: string | null;
  what: string;
  why: string;
}

export interface PlanDiff {
  version: number;
  kind: "liiibre-plan-diff";
  base: { label: string; stack: string; resourceCount: number };
  head: { label: string; stack: string; resourceCount: number };
  changeSummary: Record<Action, number> & { same: number; dangerous: number };
  /** Dangerous changes, listed first by every rendering; the command exits 1 unless --allow-dangerous. */
  dangerous: Danger[];
  changes: Change[];
  /** Resources whose only changes are under `ignoreChanges`: the engine keeps the old values (not counted). */
  ignored: Array<{ urn: string; tenant: string | null; paths: string[] }>;
  consequences: Consequences;
  violations: { added: Plan["violations"]; resolved: Plan["violations"]; mandatory: number };
}

// ---------------------------------------------------------------------------------------
// Property diff
// ---------------------------------------------------------------------------------------

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function diffValues(a: unknown, b: unknown, path: PathSegment[], out: Array<{ segs: PathSegment[]; kind: PropertyChange["kind"]; old?: unknown; new?: unknown }>): void {
  if (a === b) return;
  if (a === SECRET_PLACEHOLDER || b === SECRET_PLACEHOLDER) {
    // Both secret: the values cannot be compared offline (mock secrets are deterministic).
    if (a === SECRET_PLACEHOLDER && b === SECRET_PLACEHOLDER) return;
    out.push({ segs: path, kind: a === undefined ? "add" : b === undefined ? "delete" : "update", old: a === undefined ? undefined : SECRET_PLACEHOLDER, new: b === undefined ? undefined : SECRET_PLACEHOLDER });
    return;
  }
  if (a === undefined) return void out.push({ segs: path, kind: "add", new: b });
  if (b === undefined) return void out.push({ segs: path, kind: "delete", old: a });
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffValues(a[k], b[k], [...path, k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffValues(a[i], b[i], [...path, i], out);
    return;
  }
  if (typeof a === "object" || typeof b === "object") {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
  }
  out.push({ segs: path, kind: "update", old: a, new: b });
}

// ---------------------------------------------------------------------------------------
// Matching resources (URN, then aliases)
// ---------------------------------------------------------------------------------------

const qualifiedTypeOf = (urn: string) => urn.split("::")[2];

/** URNs a head resource may have had in BASE, from its aliases (parent's aliases one level up). */
function aliasUrns(r: PlanResource, byUrn: Map<string, PlanResource>): string[] {
  const [, stackPart, project] = r.urn.match(/^urn:pulumi:([^:]+)::([^:]+)::/) ?? [];
  const out: string[] = [];
  for (const a of r.aliases ?? []) {
    if (typeof a === "string") {
      out.push(a);
      continue;
    }
    const al = a as { name?: string; type?: string; parent?: string | null; stack?: string; project?: string };
    const type = al.type ?? r.type;
    const parents: Array<string | null> = [];
    if ("parent" in al) parents.push(al.parent ?? null);
    else {
      parents.push(r.parent);
      const p = r.parent ? byUrn.get(r.parent) : undefined;
      if (p) parents.push(...aliasUrns(p, byUrn));
    }
    for (const parent of parents) {
      const qt = parent ? `${qualifiedTypeOf(parent)}$${type}` : type;
      out.push(`urn:pulumi:${al.stack ?? stackPart}::${al.project ?? project}::${qt}::${al.name ?? r.name}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The diff
// ---------------------------------------------------------------------------------------

export interface DiffOptions {
  baseLabel?: string;
  headLabel?: string;
}

interface K0sIdentity {
  name: string | null;
  api: string[];
}

/** Cluster name and API addresses from a k0sctl document in a command's stdin. */
function clusterIdentities(plan: Plan): Map<string, K0sIdentity> {
  const out = new Map<string, K0sIdentity>();
  for (const r of plan.resources) {
    const stdin = r.inputs.stdin;
    if (!r.type.startsWith("command:") || typeof stdin !== "string" || !stdin.includes("k0sctl.k0sproject.io")) continue;
    try {
      const doc = parseYaml(stdin) as any;
      const api = doc?.spec?.k0s?.config?.spec?.api ?? {};
      // The API's DNS names only: controllers' addresses join the SANs as controllers come and go.
      const isIp = (x: string) => /^[0-9.]+$/.test(x) || x.includes(":");
      out.set(r.urn, { name: doc?.metadata?.name ?? null, api: [api.externalAddress, ...(api.sans ?? [])].filter(Boolean).map(String).filter((x) => !isIp(x)) });
    } catch {
      /* not YAML: ignore */
    }
  }
  return out;
}

export function diffPlans(base: Plan, head: Plan, opts: DiffOptions = {}): PlanDiff {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r]));
  const headByUrn = new Map(head.resources.map((r) => [r.urn, r]));
  const childrenOf = (plan: Plan) => {
    const m = new Map<string | null, PlanResource[]>();
    for (const r of plan.resources) m.set(r.parent, [...(m.get(r.parent) ?? []), r]);
    return (r: PlanResource) => (m.get(r.parent) ?? []).filter((s) => s !== r);
  };
  const baseSiblings = childrenOf(base);

  // Pair head resources with base ones: same URN first, then through aliases.
  const pairs: Array<{ old?: PlanResource; neu?: PlanResource }> = [];
  const matched = new Set<string>();
  for (const h of head.resources) {
    let old = baseByUrn.get(h.urn);
    if (!old) {
      const via = aliasUrns(h, headByUrn).find((u) => baseByUrn.has(u) && !headByUrn.has(u) && !matched.has(u));
      old = via ? baseByUrn.get(via) : undefined;
    }
    if (old) matched.add(old.urn);
    pairs.push({ old, neu: h });
  }
  for (const b of base.resources) if (!matched.has(b.urn)) pairs.push({ old: b });

  // Providers first: a replaced provider replaces everything it manages.
  const providerReplaced = new Map<string, ReplaceReason>();
  const providerPair = new Map<string, { old: PlanResource; neu: PlanResource }>();
  for (const p of pairs) if (p.old && p.neu && p.neu.type.startsWith("pulumi:providers:")) providerPair.set(p.neu.urn, { old: p.old, neu: p.neu });

  // The kubeconfig depends on the cluster's identity: its name and API address.
  const baseIds = clusterIdentities(base);
  const headIds = clusterIdentities(head);
  const dangerous: Danger[] = [];
  const identity = new Set<string>();
  for (const [urn, hid] of headIds) {
    const bid = baseIds.get(urn);
    if (!bid) continue;
    if (bid.name !== hid.name) identity.add(`cluster name ${bid.name} → ${hid.name}`);
    if (bid.api.join(",") !== hid.api.join(",")) identity.add(`API address ${bid.api.join(", ") || "(none)"} → ${hid.api.join(", ") || "(none)"}`);
  }
  const identityChanged = [...identity];
  for (const [urn, { old, neu }] of providerPair) {
    const rule = providerRuleFor(neu.type);
    if (!rule) continue;
    const changes: Array<{ segs: PathSegment[] }> = [];
    diffValues(old.inputs, neu.inputs, [], changes as never);
    // pulumi-kubernetes DiffConfig: a changed identifier replaces; an identifier set to the same
    // value on both sides makes every other change an update; adding or removing it is neither
    // (the usual rules decide), "to make on- and off-boarding less risky".
    const id = rule.identifier;
    const pinnedBoth = id !== undefined && old.inputs[id] !== undefined && neu.inputs[id] !== undefined;
    const idChanged = pinnedBoth && JSON.stringify(old.inputs[id!]) !== JSON.stringify(neu.inputs[id!]);
    const hit = pinnedBoth ? idChanged : changes.some((c) => rule.paths.some((p) => touches(parsePath(p), c.segs)));
    // The kubeconfig is a secret (compared as "[secret]"): a changed cluster identity changes it for sure.
    const identityHit = neu.type === "pulumi:providers:kubernetes" && identityChanged.length > 0 && !pinnedBoth;
    if (hit || identityHit) {
      providerReplaced.set(urn, { path: identityHit && !hit ? "kubeconfig" : (id && idChanged ? id : rule.paths[0]), reason: identityHit ? `${rule.reason} (${identityChanged.join("; ")})` : rule.reason, source: rule.source });
    }
  }
  const pinned = head.resources.some((r) => r.type === "pulumi:providers:kubernetes" && r.inputs.clusterIdentifier !== undefined);
  for (const what of identityChanged) {
    dangerous.push({
      urn: null,
      tenant: null,
      what: `cluster identity: ${what}`,
      why: pinned
        ? "the kubeconfig and the API certificate's names change (the provider's clusterIdentifier keeps the objects from being replaced)"
        : "the kubeconfig changes: the Kubernetes provider and every object in the cluster are replaced, and the API certificate's names change",
    });
  }

  const changes: Change[] = [];
  const ignoredOnly: PlanDiff["ignored"] = [];
  let same = 0;
  for (const { old, neu } of pairs) {
    const r = (neu ?? old)!;
    const change: Change = {
      urn: r.urn,
      type: r.type,
      name: r.name,
      tenant: r.tenant ?? null,
      action: "update",
      properties: [],
      options: [],
      ignored: [],
      replaceReasons: [],
      deleteBeforeReplace: Boolean(neu?.deleteBeforeReplace),
      protect: Boolean((old ?? neu)!.protect),
      retainOnDelete: Boolean((old ?? neu)!.retainOnDelete),
      danger: [],
      notes: [],
    };
    if (old && neu && old.urn !== neu.urn) change.aliasOf = old.urn;
    if (!old) {
      change.action = "create";
      changes.push(change);
      continue;
    }
    if (!neu) {
      change.action = "delete";
      dangerOfRemoval(change, old, baseSiblings);
      changes.push(change);
      continue;
    }

    // Inputs.
    const raw: Array<{ segs: PathSegment[]; kind: PropertyChange["kind"]; old?: unknown; new?: unknown }> = [];
    if (neu.custom || old.custom) diffValues(old.inputs, neu.inputs, [], raw);
    if (isObjectsRelease(old.type, old.inputs) && isObjectsRelease(neu.type, neu.inputs)) {
      // object by object (scripts/diff/bundle.ts), never as `values.objects[i]` paths
      const objects = objectChanges(old.urn, neu.urn, old.inputs, neu.inputs, diffValues);
      raw.splice(0, raw.length, ...raw.filter((c) => !(c.segs[0] === "values" && c.segs[1] === "objects")));
      change.objects = objects; // [] when only other inputs change (a chart version bump: the same objects, re-rendered)
    }
    const ignore = (neu.ignoreChanges ?? []).map(parsePath);
    const replaceOn = [...new Set([...(neu.replaceOnChanges ?? [])])].map((p) => ({ segs: parsePath(p), p }));
    const rules = rulesFor(neu.type).filter((rule) => !(rule.unlessProviderFlag && providerFlag(neu, headByUrn, rule.unlessProviderFlag)));
    for (const c of raw) {
      const path = formatPath(c.segs);
      if (ignore.some((ig) => covers(ig, c.segs))) {
        change.ignored.push(path);
        continue;
      }
      const pc: PropertyChange = { path, kind: c.kind, ...(c.kind !== "add" ? { old: c.old } : {}), ...(c.kind !== "delete" ? { new: c.new } : {}) };
      for (const rule of rules) {
        if (!rule.paths.some((p) => touches(parsePath(p), c.segs))) continue;
        if (rule.when === "decrease" && !(typeof c.old === "number" && typeof c.new === "number" && c.new < c.old)) continue;
        pc.replaces = true;
        change.replaceReasons.push({ path, reason: rule.reason, source: rule.source });
        break;
      }
      if (!pc.replaces) {
        const roc = replaceOn.find((x) => touches(x.segs, c.segs));
        if (roc) {
          pc.replaces = true;
          change.replaceReasons.push({ path, reason: `replaceOnChanges: ["${roc.p}"]`, source: "resource option replaceOnChanges (pulumi/pulumi step_generator.go applyReplaceOnChanges)" });
        }
      }
      change.properties.push(pc);
    }

    // Options.
    // (ignoreChanges/replaceOnChanges only steer the diff itself: they change nothing on their own.
    // A field absent on one side is a plan written by an older version: not a change.)
    for (const key of ["protect", "retainOnDelete", "deleteBeforeReplace"] as const) {
      if (old[key] === undefined || neu[key] === undefined) continue;
      if (old[key] !== neu[key]) change.options.push({ path: key, kind: "update", old: old[key], new: neu[key] });
    }
    if (change.options.some((o) => o.path === "protect" && o.new === false)) change.notes.push("unprotected: `pulumi up` will then allow deleting or replacing it");

    // Provider: another provider, or a replaced one.
    if ((old.provider ?? null) !== (neu.provider ?? null)) {
      const wasAlias = neu.provider && old.provider && headByUrn.get(neu.provider) && aliasUrns(headByUrn.get(neu.provider)!, headByUrn).includes(old.provider);
      if (!wasAlias) change.replaceReasons.push({ path: "provider", reason: `its provider changes (${old.provider ?? "default"} → ${neu.provider ?? "default"})`, source: "pulumi/pulumi step_generator.go providerChanged" });
    } else if (neu.provider && providerReplaced.has(neu.provider)) {
      change.replaceReasons.push({ path: "provider", reason: `its provider is replaced: ${providerReplaced.get(neu.provider)!.reason}`, source: "pulumi/pulumi step_generator.go providerChanged (ReplaceKeys [provider])" });
    }
    if (neu.type.startsWith("pulumi:providers:") && providerReplaced.has(neu.urn)) change.replaceReasons.push(providerReplaced.get(neu.urn)!);

    if (change.replaceReasons.length) change.action = "replace";
    else if (!change.properties.length && !change.options.length && !change.objects?.length) {
      same++;
      if (change.ignored.length) ignoredOnly.push({ urn: change.urn, tenant: change.tenant, paths: change.ignored });
      continue;
    }
    // pulumi-kubernetes deletes a named object before creating its replacement when the name and
    // namespace stay (provider/pkg/provider/provider.go Diff: deleteBeforeReplace).
    if (change.action === "replace" && neu.type.startsWith("kubernetes:") && neu.type !== "kubernetes:helm.sh/v3:Release" && !change.replaceReasons.some((x) => x.path === "provider")) {
      const m = (i: Record<string, unknown>) => (i.metadata ?? {}) as { name?: string; namespace?: string };
      if (m(neu.inputs).name && m(neu.inputs).name === m(old.inputs).name && m(neu.inputs).namespace === m(old.inputs).namespace) {
        change.deleteBeforeReplace = true;
        change.notes.push("a named object keeps its name: pulumi-kubernetes deletes it before creating the replacement (a moment without it)");
      }
    }
    if (change.action === "replace") dangerOfRemoval(change, old, baseSiblings, neu);
    notesFor(change, old, neu);
    changes.push(change);
  }

  handOver(changes, base, head, baseByUrn, headByUrn);
  for (const c of changes) for (const o of c.objects ?? []) for (const d of o.danger) c.danger.push(`${objectLabel(o)}: ${d}`);
  for (const c of changes) if (c.danger.length) dangerous.push({ urn: c.urn, tenant: c.tenant, what: `${c.action} ${c.type} ${c.name}`, why: c.danger.join("; ") });
  const summary = { create: 0, update: 0, replace: 0, delete: 0, same, dangerous: dangerous.length } as PlanDiff["changeSummary"];
  for (const c of changes) summary[c.action]++;

  const key = (v: Plan["violations"][number]) => `${v.policy}|${v.urn}|${v.message}`;
  const baseV = new Set(base.violations.map(key));
  const headV = new Set(head.violations.map(key));
  return {
    version: DIFF_FORMAT_VERSION,
    kind: "liiibre-plan-diff",
    base: { label: opts.baseLabel ?? "base", stack: base.stack, resourceCount: base.resources.length },
    head: { label: opts.headLabel ?? "head", stack: head.stack, resourceCount: head.resources.length },
    changeSummary: summary,
    dangerous,
    changes: sortChanges(changes),
    ignored: ignoredOnly,
    consequences: consequences(base, head, changes),
    violations: {
      added: head.violations.filter((v) => !baseV.has(key(v))),
      resolved: base.violations.filter((v) => !headV.has(key(v))),
      mandatory: head.summary.mandatoryViolations,
    },
  };
}

/**
 * Objects changing shape (scripts/diff/bundle.ts): a resource deleted from the stack whose
 * object HEAD bundles in an objects release, and an object leaving a release for a resource.
 */
function handOver(changes: Change[], base: Plan, head: Plan, baseByUrn: Map<string, PlanResource>, headByUrn: Map<string, PlanResource>): void {
  const inHead = bundledIndex(head.resources);
  const inBase = bundledIndex(base.resources);
  for (const c of changes) {
    if (c.action === "delete" && isObjectsRelease(c.type, baseByUrn.get(c.urn)!.inputs)) {
      const objects = bundledObjects(c.type, baseByUrn.get(c.urn)!.inputs);
      const moved = objects.filter((o) => [...headByUrn.values()].some((r) => resourceObjectKey(r) === objectKey(o)));
      c.notes.push(`helm uninstall deletes its ${objects.length} objects${moved.length ? ` (${moved.length} of them become resources of their own: see their creates)` : ""}`);
      for (const o of objects) {
        const data = holdsData({ type: o.type, name: o.name, inputs: o.props } as unknown as PlanResource, () => []);
        if (data) c.danger.push(`${objectLabel(o)}: holds data — ${data}: helm uninstall deletes it`);
      }
    }
    if (c.action === "delete") {
      const old = baseByUrn.get(c.urn)!;
      const key = resourceObjectKey(old);
      const into = key ? inHead.get(key) : undefined;
      if (!into || inBase.has(key!)) continue;
      const what = `moved into the objects release ${into.release.name}`;
      if (old.retainOnDelete && ownedByObjectsRelease(old)) {
        // Kept and adopted: neither "orphaned" nor "deleted" happens (its data stays where it is).
        const data = c.danger.find((d) => d.startsWith("holds data"));
        c.danger = c.danger.filter((d) => !d.startsWith("retained on delete") && !d.startsWith("holds data"));
        c.notes.push(`${what}: Pulumi forgets it (retainOnDelete) and Helm adopts it in place (it carries Helm's ownership metadata, \`kubernetesObjects: adopting\`): nothing is recreated${data ? `; it ${data.replace(/: it would be deleted$/, "")} — from now on, removing it from the release deletes it` : ""}`);
      } else {
        c.danger.push(
          `${what} without \`kubernetesObjects: adopting\` first: it exists without Helm's ownership metadata, so Helm's install or upgrade refuses it (invalid ownership metadata) before changing anything${old.retainOnDelete ? "" : "; and Pulumi deletes it"}`,
        );
      }
    }
    if (c.action === "create") {
      const neu = headByUrn.get(c.urn)!;
      const key = resourceObjectKey(neu);
      const from = key ? inBase.get(key) : undefined;
      if (!from || inHead.has(key!)) continue;
      c.danger.push(`taken out of the objects release ${from.release.name}: Helm deletes it on the upgrade while Pulumi creates it (Pulumi's create fails if it still exists, or it is gone until Pulumi creates it again)`);
    }
  }
}

function providerFlag(r: PlanResource, byUrn: Map<string, PlanResource>, flag: string): boolean {
  const p = r.provider ? byUrn.get(r.provider) : undefined;
  const v = p?.inputs[flag];
  return v === true || v === "true";
}

function dangerOfRemoval(change: Change, old: PlanResource, siblings: (r: PlanResource) => PlanResource[], neu?: PlanResource): void {
  const verb = change.action === "delete" ? "deleted" : "replaced";
  if (old.protect) change.danger.push(`protected: \`pulumi up\` refuses to ${change.action} it until it is unprotected`);
  if (old.retainOnDelete) {
    change.danger.push(
      change.action === "delete"
        ? "retained on delete: Pulumi forgets it, the object and its data stay (clean up or re-import by hand)"
        : "retained on delete: the replacement creates a new one and leaves the old one (and its data) orphaned",
    );
  }
  const data = holdsData(old, siblings);
  if (data) change.danger.push(`holds data — ${data}: it would be ${verb}`);
  if (old.type.startsWith("pulumi:providers:") && change.action !== "create") change.danger.push(`provider ${verb}: every resource it manages is ${verb === "replaced" ? "replaced" : "orphaned"}`);
  if (neu && change.deleteBeforeReplace && change.danger.length) change.danger.push("delete before replace: the old one is gone before the new one exists");
}

/** `KEY=purpose,…` of a Secret's derivation annotation (components/kit/secrets.ts). */
function derivationOf(r: PlanResource): Record<string, string> {
  const v = ((r.inputs as any)?.metadata?.annotations ?? {})[DERIVED_ANNOTATION];
  if (typeof v !== "string" || !v) return {};
  return Object.fromEntries(v.split(",").map((kv) => kv.split("=") as [string, string]));
}

/**
 * Secret values the diff cannot compare (both sides "[secret]") but knows change: a key that
 * starts being derived from the bundle's key, or whose purpose label changes, gets a new value
 * once (a one-time rotation, docs/security.md).
 */
export function rotationNotes(old: PlanResource, neu: PlanResource): string[] {
  if (neu.type !== "kubernetes:core/v1:Secret") return [];
  const before = derivationOf(old);
  const after = derivationOf(neu);
  const name = `${(neu.inputs as any)?.metadata?.namespace}/${(neu.inputs as any)?.metadata?.name}`;
  return Object.entries(after)
    .filter(([k, p]) => before[k] !== p)
    .map(([k, p]) => `one-time rotation: ${name} key ${k} ${before[k] ? `re-derived (${before[k]} → ${p})` : `now derived from the bundle's key (${p})`}: a new value; the pods reading it restart with it`);
}

function notesFor(change: Change, old: PlanResource, neu: PlanResource): void {
  const at = (p: string) => change.properties.find((x) => x.path === p);
  change.notes.push(...rotationNotes(old, neu));
  if (neu.type === "hcloud:index/server:Server" && at("serverType") && change.action === "update") {
    change.notes.push(`resized in place (${at("serverType")!.old} → ${at("serverType")!.new}): Hetzner powers the server off during the resize`);
  }
  if (neu.type === "hcloud:index/volume:Volume") {
    const s = at("size");
    if (s && typeof s.old === "number" && typeof s.new === "number" && s.new < s.old) change.notes.push(`size ${s.old} → ${s.new} GB: Hetzner volumes only grow, the update will be refused`);
  }
  if (neu.type === "minio:index/s3Bucket:S3Bucket" && at("quota")) change.notes.push(`bucket quota ${fmtBytes(at("quota")!.old)} → ${fmtBytes(at("quota")!.new)} (set in place, \`mc quota set\`)`);
  if (neu.type === "kubernetes:helm.sh/v3:Release") {
    const v = at("version");
    if (v) change.notes.push(`chart ${String(neu.inputs.chart)} ${String(v.old)} → ${String(v.new)} (helm upgrade)`);
  }
  if (old.type === "command:local:Command" && /kubeconfig/.test(old.name) && change.properties.length) {
    change.notes.push(
      "the kubeconfig is fetched again: where `pulumi preview` sees it unknown it predicts the Kubernetes provider's replacement (pulumi-kubernetes' computed-kubeconfig rule); `pulumi up` replaces it only if the text differs (a `clusterIdentifier` on the provider would avoid both)",
    );
  }
}

const fmtBytes = (v: unknown) => (typeof v === "number" ? `${Math.round((v / 1024 ** 3) * 10) / 10} GB` : String(v));

const ORDER: Record<Action, number> = { delete: 0, replace: 1, update: 2, create: 3 };
function sortChanges(changes: Change[]): Change[] {
  return changes.sort((a, b) => Number(b.danger.length > 0) - Number(a.danger.length > 0) || (a.tenant ?? "").localeCompare(b.tenant ?? "") || ORDER[a.action] - ORDER[b.action] || a.urn.localeCompare(b.urn));
}

export const dnsKey = (d: DnsRecord) => `${d.name} ${d.type} ${d.value}`;

/** 1 when something dangerous would happen and it was not allowed, or a mandatory violation remains. */
export function diffExitCode(d: PlanDiff, allowDangerous: boolean): number {
  if (d.violations.mandatory > 0) return 1;
  return d.dangerous.length > 0 && !allowDangerous ? 1 : 0;
}
