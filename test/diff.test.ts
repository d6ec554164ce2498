/**
 * `npm run plan -- --diff BASE` on pairs of estates (the dev stack mutated, evaluated through
 * the harness). Each expected action is reasoned from the provider's own rule, cited beside it
 * (scripts/diff/replace-rules.ts holds the same rules with their sources), never copied from
 * the tool's output.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHARTS } from "../components/versions";
import { DERIVED_ANNOTATION } from "../components/kit";
import { renderComment } from "../scripts/ci-comment";
import { diffExitCode, diffPlans, type Change, type PlanDiff } from "../scripts/diff/diff";
import { covers, formatPath, parsePath, rulesFor, touches } from "../scripts/diff/replace-rules";
import { renderDiff } from "../scripts/diff/render";
import { MOCK_SECRET_MARKER, REPO_ROOT } from "../scripts/harness";
import { parseArgs, runPlan } from "../scripts/plan";
import type { Plan } from "../scripts/plan-model";
import { devPlan } from "./helpers/estates";

const NEW_ORG = { slug: "nouvelle-coop", name: "Nouvelle coop", domain: "nouvelle.dev.liiibre.coop", plan: "dedicated", users: 15 };
const demo = (c: any) => c.tenants.find((t: any) => t.slug === "demo");
const workers = (c: any) => c.nodePools.find((p: any) => p.name === "workers").cloud;

const of = (d: PlanDiff, type: string) => d.changes.filter((c) => c.type === type);
const actions = (cs: Change[]) => [...new Set(cs.map((c) => c.action))].sort();

let base: Plan;
let basePerApp: Plan;
const d: Record<string, PlanDiff> = {};

beforeAll(async () => {
  base = await devPlan();
  const pairs: Record<string, (c: any) => void> = {
    addOrg: (c) => c.tenants.push(NEW_ORG),
    removeOrg: (c) => (c.tenants = c.tenants.filter((t: any) => t.slug !== "demo")),
    growUsers: (c) => (demo(c).users = 40),
    serverType: (c) => (workers(c).serverType = "cpx51"),
    location: (c) => (workers(c).location = "nbg1"),
    image: (c) => (workers(c).image = "debian-13"),
    reorder: (c) => c.tenants.reverse(),
    rename: (c) => (demo(c).name = "Démo renommée"),
    apiDomain: (c) => (c.cluster.apiDomain = "api.dev2.liiibre.coop"),
    controllers: (c) => (c.nodePools.find((p: any) => p.name === "controllers").cloud.count = 3),
  };
  for (const [k, mutate] of Object.entries(pairs)) d[k] = diffPlans(base, await devPlan(mutate));
  // A per-app organisation (prod's): the lean layout has no Keycloak Organization (docs/scaling.md).
  const perApp = (c: any) => (demo(c).dataLayout = "per-app");
  basePerApp = await devPlan(perApp);
  d.renamePerApp = diffPlans(basePerApp, await devPlan((c) => (perApp(c), (demo(c).name = "Démo renommée"))));
  // An organisation with its own realm, renamed.
  const ownRealm = (c: any) => (demo(c).dedicatedRealm = true);
  d.renameOwnRealm = diffPlans(await devPlan(ownRealm), await devPlan((c) => (ownRealm(c), (demo(c).name = "Démo renommée"))));
  // A chart bump: the pinned version of one chart changes (components/versions.ts is the only pin).
  const pin = CHARTS.nextcloud as { version: string };
  const pinned = pin.version;
  pin.version = "8.7.0";
  try {
    d.chartBump = diffPlans(base, await devPlan());
  } finally {
    pin.version = pinned;
  }
});

describe("pairs of estates", () => {
  it("adding an organisation only creates, and tells it the DNS records to add", () => {
    const x = d.addOrg;
    // One update besides: the stack's replication CronJob, whose BUCKETS gains the new bucket.
    expect(x.changeSummary).toMatchObject({ create: expect.any(Number), update: 1, replace: 0, delete: 0, dangerous: 0 });
    expect(x.changeSummary.create).toBeGreaterThan(20);
    const [update] = x.changes.filter((c) => c.action === "update");
    expect([update.type, update.name, update.properties.map((p) => p.path)]).toEqual(["kubernetes:batch/v1:CronJob", "offsite-replication-cronjob", [expect.stringMatching(/BUCKETS|env/)]]);
    expect(x.changes.filter((c) => c !== update).every((c) => c.action === "create" && c.tenant === "nouvelle-coop")).toBe(true);
    expect(x.consequences.tenants.added).toEqual(["nouvelle-coop"]);
    const dns = x.consequences.dns.find((t) => t.tenant === "nouvelle-coop")!;
    expect(dns.remove).toEqual([]);
    expect(dns.add.map((r) => r.name)).toContain("cloud.nouvelle.dev.liiibre.coop");
    expect(diffExitCode(x, false)).toBe(0);
  });

  it("removing an organisation deletes, is flagged, and says its data is retained", () => {
    const x = d.removeOrg;
    // And the stack's replication CronJob, whose BUCKETS loses the organisation's bucket.
    expect(actions(x.changes)).toEqual(["delete", "update"]);
    expect(x.changes.filter((c) => c.action === "update").map((c) => c.type)).toEqual(["kubernetes:batch/v1:CronJob"]);
    const buckets = of(x, "minio:index/s3Bucket:S3Bucket");
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) {
      expect(b.danger.join(" ")).toMatch(/retained on delete/);
      expect(b.danger.join(" ")).toMatch(/protected/);
    }
    expect(x.dangerous.some((g) => g.what.includes("kubernetes:core/v1:Namespace"))).toBe(true);
    expect(x.consequences.tenants.removed).toEqual(["demo"]);
    expect(x.consequences.dns.find((t) => t.tenant === "demo")!.add).toEqual([]);
    expect(diffExitCode(x, false)).toBe(1);
    expect(diffExitCode(x, true)).toBe(0);
  });

  it("growing an organisation's users updates its bucket quota in place (minio: quota is not ForceNew)", () => {
    const x = d.growUsers;
    expect(x.changeSummary.replace + x.changeSummary.delete + x.changeSummary.create).toBe(0);
    const nc = of(x, "minio:index/s3Bucket:S3Bucket").find((c) => c.name === "demo-nextcloud")!;
    expect(nc.action).toBe("update");
    // 12 → 40 accounts × 10 GB, in bytes (1 GB = 1024³ bytes, components/units.ts).
    expect(nc.properties.find((p) => p.path === "quota")).toMatchObject({ old: 120 * 1024 ** 3, new: 400 * 1024 ** 3 });
    expect(x.dangerous).toEqual([]);
    // Deployments get new resources (pod template): their pods restart.
    expect(x.consequences.restarts.find((r) => r.tenant === "demo")!.workloads).toContain("demo-nextcloud-release");
  });

  it("a cloud node's server type is resized in place (hcloud server_type is not ForceNew)", () => {
    const x = d.serverType;
    const servers = of(x, "hcloud:index/server:Server");
    expect(servers.length).toBe(4); // dev's four workers
    for (const s of servers) {
      expect(s.action).toBe("update");
      expect(s.properties.map((p) => p.path)).toEqual(["serverType"]);
      expect(s.notes.join(" ")).toMatch(/powers the server off/);
    }
    expect(x.dangerous).toEqual([]);
    expect(x.consequences.machines.resized.map((m) => m.new)).toEqual(["cpx51", "cpx51", "cpx51", "cpx51"]);
    // Catalogue list prices: cpx51 costs more than cpx41 in fsn1.
    expect(x.consequences.figures.head.cloudMonthlyEUR).toBeGreaterThan(x.consequences.figures.base.cloudMonthlyEUR);
  });

  it("a cloud node's location replaces the server, its volume and its addresses (ForceNew), flagged", () => {
    const x = d.location;
    const server = of(x, "hcloud:index/server:Server")[0];
    expect(server.action).toBe("replace");
    expect(server.replaceReasons.map((r) => r.path)).toContain("location");
    expect(of(x, "hcloud:index/volume:Volume").every((v) => v.action === "replace")).toBe(true);
    expect(of(x, "hcloud:index/primaryIp:PrimaryIp").every((v) => v.action === "replace")).toBe(true);
    expect(x.dangerous.some((g) => g.what.startsWith("replace hcloud:index/server:Server"))).toBe(true);
    expect(diffExitCode(x, false)).toBe(1);
  });

  it("a cloud node's image would force a new server, but the program ignores it (ignoreChanges)", () => {
    const x = d.image;
    expect(x.changeSummary).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(x.ignored.map((i) => i.paths)).toEqual([["image"], ["image"], ["image"], ["image"]]); // dev's four workers
    // Without the ignoreChanges option the hcloud rule would replace: the rule exists.
    expect(rulesFor("hcloud:index/server:Server").some((r) => r.paths.includes("image"))).toBe(true);
  });

  it("a chart bump updates its Helm releases in place (only name/namespace force a new release)", () => {
    const x = d.chartBump;
    const releases = of(x, "kubernetes:helm.sh/v3:Release");
    expect(releases.length).toBeGreaterThan(0);
    for (const r of releases) {
      expect(r.action).toBe("update");
      expect(r.properties.find((p) => p.path === "version")).toMatchObject({ new: "8.7.0" });
    }
    expect(x.changeSummary.replace).toBe(0);
  });

  it("a no-op edit (tenants reordered: URNs derive from slugs) gives an empty diff", () => {
    const x = d.reorder;
    expect(x.changes).toEqual([]);
    expect(x.changeSummary).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, dangerous: 0 });
    expect(renderDiff(x, "text")).toMatch(/no changes/);
  });

  it("renaming an organisation's display name updates its Keycloak organization's description in place: the ForceNew name is set once and ignored", () => {
    // keycloak/terraform-provider-keycloak resource_keycloak_organization.go: "name" ForceNew, "description" updatable.
    // Lean (dev's demo): no Organization, nothing in Keycloak to rename.
    expect(d.rename.changes.filter((c) => c.type.startsWith("keycloak:"))).toEqual([]);
    const x = d.renamePerApp;
    expect(x.changes.filter((c) => c.action === "replace")).toEqual([]);
    const org = x.changes.find((c) => c.type === "keycloak:index/organization:Organization")!;
    expect(org.action).toBe("update");
    expect(org.properties.map((p) => p.path)).toEqual(["description"]);
    expect(x.dangerous).toEqual([]);
    expect(x.consequences.tenants.changed).toEqual([{ slug: "demo", fields: [{ field: "name", old: "Association de démonstration", new: "Démo renommée" }] }]);
  });

  it("an organization created under the old rule (named after its display name) is kept: its name is ignored, the description added in place", () => {
    const old = structuredClone(basePerApp);
    const orgOf = (p: Plan) => p.resources.find((r) => r.type === "keycloak:index/organization:Organization" && r.inputs.alias === "demo")!;
    orgOf(old).inputs.name = "Association de démonstration";
    delete orgOf(old).inputs.description;
    orgOf(old).ignoreChanges = [];
    const x = diffPlans(old, basePerApp);
    const org = x.changes.find((c) => c.type === "keycloak:index/organization:Organization")!;
    expect(org.action).toBe("update");
    expect(org.properties.map((p) => p.path)).toEqual(["description"]);
    expect(org.ignored.length).toBeGreaterThan(0);
    // Without the ignore, the same step replaces it (the provider's ForceNew rule is live).
    const head = structuredClone(basePerApp);
    orgOf(head).ignoreChanges = [];
    expect(diffPlans(old, head).changes.find((c) => c.type === "keycloak:index/organization:Organization")!.action).toBe("replace");
  });

  it("renaming an organisation with its own realm updates the realm's displayName in place (only `realm` is ForceNew)", () => {
    const x = d.renameOwnRealm;
    expect(x.changes.map((c) => [c.type, c.action, c.properties.map((p) => p.path)])).toEqual([["keycloak:index/realm:Realm", "update", ["displayName"]]]);
    expect(x.dangerous).toEqual([]);
  });

  it("a changed apiDomain is dangerous (the kubeconfig and the API certificate's names change), but the pinned clusterIdentifier keeps every object from being replaced", () => {
    const x = d.apiDomain;
    expect(x.dangerous[0].what).toMatch(/cluster identity: API address/);
    expect(x.dangerous[0].why).toMatch(/clusterIdentifier keeps the objects/);
    expect(x.changes.find((c) => c.type === "pulumi:providers:kubernetes")?.action).not.toBe("replace");
    expect(x.changes.filter((c) => c.type.startsWith("kubernetes:") && c.action === "replace")).toEqual([]);
  });
});

describe("one-time rotations (derived secrets)", () => {
  it("a key that becomes derived, or changes purpose, is noted on its Secret although both values show [secret]", () => {
    // BASE: the same plan before the derivation (no annotation on demo's Synapse Secret), and a
    // purpose label changed on the OnlyOffice JWT of its bundle's Secret (demo is lean: its
    // apps' values are in `bundle-liiibre`, Synapse's bound keys are derived too).
    const before: Plan = structuredClone(base);
    const find = (p: Plan, name: string) => p.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata?.namespace === "demo" && (r.inputs as any).metadata?.name === name)!;
    delete (find(before, "synapse-liiibre").inputs as any).metadata.annotations;
    const shared = (find(before, "bundle-liiibre").inputs as any).metadata.annotations;
    expect(shared[DERIVED_ANNOTATION].split(",")).toContain("onlyoffice.JWT_SECRET=onlyoffice/jwt");
    shared[DERIVED_ANNOTATION] = shared[DERIVED_ANNOTATION].split(",").map((kv: string) => (kv === "onlyoffice.JWT_SECRET=onlyoffice/jwt" ? `${kv}-0` : kv)).join(",");
    const diff = diffPlans(before, base);
    const notes = diff.changes.flatMap((c) => c.notes.filter((n) => n.startsWith("one-time rotation")));
    expect([...notes].sort()).toEqual([
      "one-time rotation: demo/bundle-liiibre key onlyoffice.JWT_SECRET re-derived (onlyoffice/jwt-0 → onlyoffice/jwt): a new value; the pods reading it restart with it",
      ...["OIDC_CLIENT_SECRET=oidc/matrix", "registration=matrix/registration", "secrets.yaml=matrix/form-secret", "macaroon=matrix/macaroon", "signing.key=matrix/signing-key"].map((kv) => {
        const [k, p] = kv.split("=");
        return `one-time rotation: demo/synapse-liiibre key ${k} now derived from the bundle's key (${p}): a new value; the pods reading it restart with it`;
      }),
    ].sort());
    // The same plan on both sides: no rotation.
    expect(diffPlans(base, base).changes.flatMap((c) => c.notes)).toEqual([]);
  });
});

describe("adding controllers", () => {
  it("creates servers and re-runs k0sctl, but is no cluster identity change: nothing in the cluster is replaced", () => {
    const x = d.controllers;
    expect(of(x, "hcloud:index/server:Server").filter((c) => c.action === "create")).toHaveLength(2);
    expect(x.changes.filter((c) => c.type.startsWith("kubernetes:") || c.type.startsWith("pulumi:providers:"))).toEqual([]);
    expect(x.dangerous.filter((g) => /cluster identity/.test(g.what))).toEqual([]);
    const kubeconfig = x.changes.find((c) => c.name.endsWith("-kubeconfig"))!;
    expect(kubeconfig.action).toBe("update");
    expect(kubeconfig.notes.join(" ")).toMatch(/kubeconfig is fetched again/);
  });
});

describe("renderings", () => {
  it("text is like pulumi preview --diff: symbols, paths, old => new", () => {
    const t = renderDiff(d.serverType, "text");
    expect(t).toMatch(/^ {2}~ {2}hcloud:index\/server:Server {2}dev-workers-01$/m);
    expect(t).toContain('~ serverType: "cpx41" => "cpx51"');
    const r = renderDiff(d.location, "text");
    expect(r).toMatch(/\+- hcloud:index\/server:Server/);
    expect(r).toContain("[forces replacement]");
    expect(r.indexOf("DANGEROUS")).toBeLessThan(r.indexOf("(platform)"));
  });

  it("markdown puts the dangerous section first, then per organisation in collapsible sections", () => {
    const m = renderDiff(d.removeOrg, "markdown");
    expect(m.indexOf("Dangerous")).toBeGreaterThan(0);
    expect(m.indexOf("Dangerous")).toBeLessThan(m.indexOf("Changes per organisation"));
    expect(m).toContain("<details><summary><b>demo</b>");
    expect(m.split("<details>").length).toBe(m.split("</details>").length);
  });

  it("the JSON contract: changes[] with urn, type, action, paths and replace reasons; changeSummary", () => {
    const j = JSON.parse(renderDiff(d.location, "json"));
    expect(Object.keys(j.changeSummary).sort()).toEqual(["create", "dangerous", "delete", "replace", "same", "update"]);
    const c = j.changes.find((x: any) => x.type === "hcloud:index/server:Server");
    expect(c).toMatchObject({ urn: expect.stringMatching(/^urn:pulumi:dev::liiibre::/), action: "replace" });
    expect(c.properties.find((p: any) => p.path === "location")).toMatchObject({ old: "fsn1", new: "nbg1", replaces: true });
    expect(c.replaceReasons[0]).toMatchObject({ path: "location", source: expect.stringContaining("terraform-provider-hcloud") });
  });

  it("no secret reaches any rendering, and a value turning secret is masked on both sides", () => {
    for (const x of Object.values(d)) for (const f of ["text", "json", "markdown"] as const) expect(renderDiff(x, f)).not.toContain(MOCK_SECRET_MARKER);
    const a = structuredClone(base);
    const b = structuredClone(base);
    const ns = b.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
    (a.resources.find((r) => r.urn === ns.urn)!.inputs as any).metadata.labels = { visible: "plain-value" };
    (ns.inputs as any).metadata.labels = { visible: "[secret]" };
    const p = diffPlans(a, b).changes[0].properties[0];
    expect(p).toMatchObject({ path: 'metadata.labels.visible', old: "[secret]", new: "[secret]" });
  });

  it("the merge-request comment keeps the dangerous section within the comment builder's cap", () => {
    // A huge diff: the removal of an organisation, repeated as if 60 organisations went.
    const big: PlanDiff = structuredClone(d.removeOrg);
    big.changes = Array.from({ length: 60 }, (_, i) => d.removeOrg.changes.map((c) => ({ ...c, tenant: `org-${i}`, urn: `${c.urn}-${i}` }))).flat();
    big.dangerous = Array.from({ length: 60 }, (_, i) => d.removeOrg.dangerous.map((x) => ({ ...x, tenant: `org-${i}` }))).flat();
    const md = renderDiff(big, "markdown");
    expect(md.length).toBeLessThanOrEqual(55_000 + 1_000);
    expect(md).toMatch(/and \d+ more dangerous change\(s\)/);
    const comment = renderComment({ key: "offline-plan", title: "Offline plan (prod)", exitCode: 1, max: 60_000 }, md);
    expect(comment.length).toBeLessThanOrEqual(60_000);
    expect(comment).toContain("Dangerous");
    expect(comment).not.toMatch(/truncated \(\d+ characters more/); // the renderer fitted it, no blind cut
    expect(comment).toMatch(/more organisation\(s\) left out/);
    expect(comment.split("<details>").length).toBe(comment.split("</details>").length);
  });
});

describe("rules and paths", () => {
  it("parses and prints Pulumi property paths", () => {
    expect(parsePath('spec.template.spec.containers[0]["app.kubernetes.io/name"]')).toEqual(["spec", "template", "spec", "containers", 0, "app.kubernetes.io/name"]);
    expect(formatPath(["metadata", "labels", "liiibre.org/users"])).toBe('metadata.labels["liiibre.org/users"]');
    expect(covers(parsePath("triggers[*]"), parsePath("triggers[2]"))).toBe(true);
    expect(covers(parsePath("spec.selector"), parsePath("spec.template"))).toBe(false);
    expect(touches(parsePath("spec.selector.matchLabels"), parsePath("spec"))).toBe(true);
  });

  it("a Deployment's selector replaces it, its template does not (rolling update)", () => {
    const dep = base.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const change = (mutate: (i: any) => void) => {
      const b = structuredClone(base);
      mutate(b.resources.find((r) => r.urn === dep.urn)!.inputs);
      return diffPlans(base, b).changes[0];
    };
    // Named, same name and namespace: pulumi-kubernetes deletes it before creating the new one.
    expect(change((i) => (i.spec.selector.matchLabels.extra = "x"))).toMatchObject({ action: "replace", deleteBeforeReplace: true });
    expect(change((i) => (i.spec.template.metadata.labels.extra = "x")).action).toBe("update");
  });

  it("a ConfigMap's data replaces it, unless its provider makes ConfigMaps mutable", () => {
    const cm = base.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.inputs as any).data)!;
    const edit = (mutable: boolean) => {
      const a = structuredClone(base);
      const b = structuredClone(base);
      for (const p of [a, b]) if (mutable) p.resources.find((r) => r.urn === cm.provider)!.inputs.enableConfigMapMutable = "true";
      const data = (b.resources.find((r) => r.urn === cm.urn)!.inputs as any).data;
      data[Object.keys(data)[0]] += "<!-- edited -->";
      return diffPlans(a, b).changes.find((c) => c.urn === cm.urn)!;
    };
    expect(edit(false).action).toBe("replace");
    expect(edit(true).action).toBe("update");
  });

  it("replaceOnChanges and a changed provider reference force replacements", () => {
    const r = base.resources.find((x) => x.type === "kubernetes:core/v1:Namespace")!;
    const b = structuredClone(base);
    const nr = b.resources.find((x) => x.urn === r.urn)!;
    nr.replaceOnChanges = ["metadata.labels"];
    (nr.inputs as any).metadata.labels = { ...(nr.inputs as any).metadata.labels, extra: "x" };
    expect(diffPlans(base, b).changes[0].replaceReasons[0].reason).toMatch(/replaceOnChanges/);
    const c = structuredClone(base);
    c.resources.find((x) => x.urn === r.urn)!.provider = "urn:pulumi:dev::liiibre::pulumi:providers:kubernetes::other";
    expect(diffPlans(base, c).changes.find((x) => x.urn === r.urn)!.replaceReasons[0].path).toBe("provider");
  });
});

describe("provider replacement (pulumi-kubernetes DiffConfig)", () => {
  /** The plan with another API address and the provider's clusterIdentifier set (string) or removed (null). */
  const withApi = (p: Plan, api: string, clusterIdentifier: string | null) => {
    const c = structuredClone(p);
    for (const r of c.resources) {
      if (typeof r.inputs.stdin === "string") r.inputs.stdin = r.inputs.stdin.replaceAll("api.dev.liiibre.coop", api);
      if (r.type === "pulumi:providers:kubernetes") {
        if (clusterIdentifier === null) delete r.inputs.clusterIdentifier;
        else r.inputs.clusterIdentifier = clusterIdentifier;
      }
    }
    return c;
  };
  const providerAction = (x: ReturnType<typeof diffPlans>) => x.changes.find((c) => c.type === "pulumi:providers:kubernetes")?.action;
  const anyObjectReplaced = (x: ReturnType<typeof diffPlans>) => x.changes.some((c) => c.type.startsWith("kubernetes:") && c.action === "replace");

  it("the program pins the identifier to the cluster's name, on the platform stack's provider", () => {
    const providers = base.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
    expect(providers.length).toBeGreaterThan(0);
    for (const p of providers) expect(p.inputs.clusterIdentifier).toBe("k0s/dev");
  });

  it("without an identifier, a new API address changes the kubeconfig: the provider and everything under it are replaced", () => {
    const old = withApi(base, "api.dev.liiibre.coop", null);
    const x = diffPlans(old, withApi(base, "api.other.liiibre.coop", null));
    expect(providerAction(x)).toBe("replace");
    expect(anyObjectReplaced(x)).toBe(true);
    expect(x.dangerous.some((g) => /cluster identity/.test(g.what))).toBe(true);
  });

  it("with the same identifier on both sides the provider is only replaced when the identifier changes", () => {
    const a = withApi(base, "api.dev.liiibre.coop", "dev");
    const same = diffPlans(a, withApi(base, "api.other.liiibre.coop", "dev"));
    expect(anyObjectReplaced(same)).toBe(false);
    expect(providerAction(same)).not.toBe("replace");
    const renamed = diffPlans(a, withApi(base, "api.dev.liiibre.coop", "dev-2"));
    expect(providerAction(renamed)).toBe("replace");
  });

  it("adding the identifier is an update, but does not shield a kubeconfig change made in the same step", () => {
    const old = withApi(base, "api.dev.liiibre.coop", null);
    const added = diffPlans(old, withApi(base, "api.dev.liiibre.coop", "k0s/dev"));
    expect(providerAction(added)).toBe("update");
    expect(anyObjectReplaced(added)).toBe(false);
    const addedAndMoved = diffPlans(old, withApi(base, "api.other.liiibre.coop", "k0s/dev"));
    expect(providerAction(addedAndMoved)).toBe("replace");
  });
});

describe("arguments", () => {
  it("--diff takes a value; --allow-dangerous only with --diff", () => {
    expect(parseArgs(["--diff", "main", "--allow-dangerous"])).toMatchObject({ diff: "main", allowDangerous: true });
    expect(parseArgs(["--diff=HEAD~1"]).diff).toBe("HEAD~1");
    expect(() => parseArgs(["--diff"])).toThrow(/needs a value/);
    expect(() => parseArgs(["--allow-dangerous"])).toThrow(/only applies with --diff/);
  });
});

describe("the command", () => {
  async function run(args: Parameters<typeof runPlan>[0]) {
    let out = "";
    let err = "";
    const code = await runPlan(args, { write: (s) => (out += s), error: (s) => (err += s) });
    return { code, out, err };
  }

  it("against a plan file: exit 1 when a protected resource would be replaced, 0 with --allow-dangerous", async () => {
    // BASE: the workers were in nbg1; HEAD (dev as committed) has them in fsn1: their replacement.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-diff-")), "base.json");
    fs.writeFileSync(file, JSON.stringify(await devPlan((c) => (workers(c).location = "nbg1"))));
    const refused = await run({ stack: "dev", format: "text", diff: file });
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/DANGEROUS/);
    expect(refused.err).toMatch(/--allow-dangerous/);
    const allowed = await run({ stack: "dev", format: "json", diff: file, allowDangerous: true });
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.out).changeSummary.replace).toBeGreaterThan(0);
  });

  it("a BASE that is neither a plan nor a ref is invalid input (exit 2)", async () => {
    const r = await run({ stack: "dev", format: "text", diff: "no-such-ref-or-file" });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/neither a plan JSON file nor a git ref/);
  });

  it("--diff HEAD in a fresh clone evaluates HEAD in a worktree and finds no change", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-clone-"));
    const clone = path.join(tmp, "repo");
    const branch = spawnSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim();
    expect(spawnSync("git", ["clone", "-q", "-b", branch, REPO_ROOT, clone]).status).toBe(0);
    // Dependencies: the clone and the base's cache reuse this checkout's install (same lockfile),
    // so the test needs no network; a real clone runs `npm ci` once per lockfile.
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(clone, "node_modules"), "dir");
    const lock = fs.readFileSync(path.join(clone, "package-lock.json"));
    const hash = require("node:crypto").createHash("sha256").update(lock).digest("hex").slice(0, 16);
    fs.mkdirSync(path.join(clone, ".cache", "plan-diff", hash), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(clone, ".cache", "plan-diff", hash, "node_modules"), "dir");
    const r = spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), ["scripts/plan.ts", "--stack", "dev", "--diff", "HEAD"], { cwd: clone, encoding: "utf8" });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no changes/);
    // The temporary worktree is gone.
    expect(spawnSync("git", ["worktree", "list"], { cwd: clone, encoding: "utf8" }).stdout.trim().split("\n")).toHaveLength(1);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

describe("merge-request pipelines", () => {
  const { parse } = require("yaml") as typeof import("yaml");
  const gitlab = parse(fs.readFileSync(path.join(REPO_ROOT, ".gitlab-ci.yml"), "utf8"));
  const github = parse(fs.readFileSync(path.join(REPO_ROOT, ".github/workflows/merge-request.yml"), "utf8"));

  it("GitLab posts the diff against the merge base as the one offline-plan comment, the full plan as an artifact", () => {
    const job = gitlab["offline-plan"];
    const script = job.script.join("\n");
    expect(job.variables.GIT_DEPTH).toBe("0");
    expect(script).toContain('--diff "$base" $allow --format markdown --out plan-diff.md');
    expect(script).toContain("CI_MERGE_REQUEST_DIFF_BASE_SHA");
    expect(script).toMatch(/ci-comment\.ts --key offline-plan .*--body plan-diff\.md/);
    expect(script).toContain("--format json --out plan.json");
    expect(job.artifacts.paths).toEqual(expect.arrayContaining(["plan.json", "plan-diff.md"]));
  });

  it("GitHub does the same against the pull request's base commit", () => {
    const steps = github.jobs["offline-plan"].steps as Array<any>;
    expect(steps.find((s) => s.uses?.startsWith("actions/checkout")).with["fetch-depth"]).toBe(0);
    const plan = steps.find((s) => s.id === "plan");
    expect(plan.env.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
    expect(plan.run).toContain('--diff "$BASE_SHA" $allow --format markdown --out plan-diff.md');
    expect(steps.find((s) => s.name === "Comment").run).toMatch(/--key offline-plan .*--body plan-diff\.md/);
    expect(steps.find((s) => s.uses?.startsWith("actions/upload-artifact")).with.path).toContain("plan.json");
  });
});
