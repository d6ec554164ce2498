/**
 * The diff of a bundle's objects release (scripts/diff/bundle.ts): object by object, with Helm's
 * consequences — a removed object is deleted by Helm, an immutable field refused by the API
 * server fails the atomic upgrade — and the hand-over between `resources`/`adopting` and
 * `bundled`. Plans: dev evaluated with `demo` in each `kubernetesObjects` mode (the program's
 * own shapes; test/helpers/bundle-objects.ts `devIn`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OBJECTS_RELEASE, bundledObjectUrn } from "../components/kit/objects";
import type { Plan } from "../scripts/plan-model";
import { diffExitCode, diffPlans } from "../scripts/diff/diff";
import { renderDiff } from "../scripts/diff/render";
import { devIn } from "./helpers/bundle-objects";

let plain: Plan;
let adopting: Plan;
let base: Plan;
let releaseUrn: string;
beforeAll(async () => {
  plain = (await devIn("resources")).plan;
  adopting = (await devIn("adopting")).plan;
  base = (await devIn()).plan;
  releaseUrn = base.resources.find((r) => r.name === "demo-objects")!.urn;
}, 120_000);

/** HEAD: BASE with the objects release's `values.objects` edited. */
function headWith(edit: (objects: any[]) => void): Plan {
  const head = structuredClone(base);
  edit((head.resources.find((r) => r.urn === releaseUrn)!.inputs as any).values.objects);
  return head;
}
const find = (objects: any[], kind: string, name: RegExp) => {
  const o = objects.find((x) => x.kind === kind && name.test(x.metadata.name));
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};

describe("diff: a bundle's objects release, object by object", () => {
  it("reordering values.objects changes nothing", () => {
    const d = diffPlans(base, headWith((os) => os.reverse()));
    expect(d.changes).toEqual([]);
    expect(d.changeSummary.update).toBe(0);
  });

  it("an image change is one object update with its path, no opaque values change; its pods restart", () => {
    let name = "";
    const d = diffPlans(base, headWith((os) => {
      const dep = find(os, "Deployment", /hedgedoc/);
      name = dep.metadata.name;
      dep.spec.template.spec.containers[0].image = "quay.io/hedgedoc/hedgedoc:99.0.0";
    }));
    expect(d.changes).toHaveLength(1);
    const [c] = d.changes;
    expect(c).toMatchObject({ urn: releaseUrn, action: "update", properties: [], danger: [] });
    expect(c.objects).toEqual([
      {
        action: "update", type: "kubernetes:apps/v1:Deployment", kind: "Deployment", name, namespace: "demo",
        urn: bundledObjectUrn(releaseUrn, { type: "kubernetes:apps/v1:Deployment", namespace: "demo", name }),
        properties: [expect.objectContaining({ path: "spec.template.spec.containers[0].image", kind: "update", new: "quay.io/hedgedoc/hedgedoc:99.0.0" })],
        danger: [], notes: [],
      },
    ]);
    expect(d.consequences.restarts).toEqual([{ tenant: "demo", workloads: [`demo-objects: Deployment/${name}`] }]);
    const text = renderDiff(d, "text");
    expect(text).toContain(`~  object Deployment demo/${name}  (kubernetes:apps/v1:Deployment)`);
    expect(text).toMatch(/~ spec\.template\.spec\.containers\[0\]\.image: "[^"]+" => "quay\.io\/hedgedoc\/hedgedoc:99\.0\.0"/);
    expect(text).not.toContain("values.objects");
    expect(diffExitCode(d, false)).toBe(0);
  });

  it("a removed object: Helm deletes it (said), and a danger when it holds data; an added one is a create", () => {
    const d = diffPlans(base, headWith((os) => {
      os.splice(os.indexOf(find(os, "NetworkPolicy", /^allow-bundle$/)), 1);
      os.splice(os.indexOf(find(os, "Database", /hedgedoc/)), 1);
      os.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extra", namespace: "demo" }, data: { a: "b" } });
    }));
    const objects = d.changes[0].objects!;
    expect(objects.map((o) => `${o.action} ${o.kind}`).sort()).toEqual(["create ConfigMap", "delete Database", "delete NetworkPolicy"]);
    expect(objects.at(-1)!.action).toBe("create"); // deletes first
    for (const o of objects.filter((x) => x.action === "delete")) expect(o.notes).toEqual(["removed from the objects release: Helm deletes it on the upgrade"]);
    const db = objects.find((o) => o.kind === "Database")!;
    expect(db.danger[0]).toMatch(/^holds data — an app's PostgreSQL database .*: removed from the objects release, Helm deletes it$/);
    expect(objects.find((o) => o.kind === "NetworkPolicy")!.danger).toEqual([]);
    expect(d.dangerous).toEqual([expect.objectContaining({ urn: releaseUrn, tenant: "demo", what: "update kubernetes:helm.sh/v3:Release demo-objects", why: expect.stringContaining(`Database demo/${db.name}: holds data`) })]);
    expect(diffExitCode(d, false)).toBe(1);
    const text = renderDiff(d, "text");
    expect(text).toContain(`-  object NetworkPolicy demo/`);
    expect(text).toContain("note: removed from the objects release: Helm deletes it on the upgrade");
    expect(renderDiff(d, "markdown")).toContain("Database demo/");
  });

  it("a new version of the objects chart with the same objects restarts nothing (Helm re-renders the same objects)", () => {
    const head = structuredClone(base);
    (head.resources.find((r) => r.urn === releaseUrn)!.inputs as any).version = "9.9.9";
    const d = diffPlans(base, head);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ action: "update", objects: [], properties: [expect.objectContaining({ path: "version", new: "9.9.9" })] });
    expect(d.consequences.restarts).toEqual([]);
  });

  it("an immutable field (a Deployment's selector) is a danger: the API server refuses the patch, the upgrade fails part-way", () => {
    const d = diffPlans(base, headWith((os) => (find(os, "Deployment", /onlyoffice/).spec.selector.matchLabels.extra = "x")));
    const o = d.changes[0].objects![0];
    expect(o.action).toBe("update");
    expect(o.danger).toEqual([expect.stringMatching(/^spec\.selector\.matchLabels\.extra: a Deployment's selector is immutable: Helm's upgrade patches it in place, the API server refuses it, and the release upgrade fails part-way/)]);
    expect(d.dangerous).toHaveLength(1);
  });
});

describe("diff: objects changing shape", () => {
  it("resources → bundled without adopting: each moved resource is a danger (Helm refuses an object it does not own; Pulumi deletes it)", () => {
    const d = diffPlans(plain, base);
    const moved = d.changes.filter((c) => c.action === "delete" && c.danger.some((x) => x.startsWith("moved into the objects release demo-objects without `kubernetesObjects: adopting` first")));
    expect(moved.length).toBeGreaterThanOrEqual(25);
    expect(moved.every((c) => c.danger.some((x) => x.endsWith("; and Pulumi deletes it")))).toBe(true);
    const release = d.changes.find((c) => c.urn === releaseUrn)!;
    expect(release.action).toBe("create");
    expect(diffExitCode(d, false)).toBe(1);
  });

  it("adopting → bundled: Pulumi forgets them and Helm adopts them in place — no danger", () => {
    const movedUrns = new Set(diffPlans(plain, base).changes.filter((c) => c.action === "delete").map((c) => c.urn));
    // the program's `adopting`: the same resources, with Helm's ownership metadata and retainOnDelete
    const owned = adopting.resources.filter((r) => movedUrns.has(r.urn));
    expect(owned.length).toBe(movedUrns.size);
    expect(owned.every((r) => r.retainOnDelete && (r.inputs as any).metadata.annotations["meta.helm.sh/release-name"] === OBJECTS_RELEASE)).toBe(true);
    const d = diffPlans(adopting, base);
    const deletes = d.changes.filter((c) => movedUrns.has(c.urn));
    expect(deletes.length).toBe(movedUrns.size);
    for (const c of deletes) {
      expect(c.danger).toEqual([]);
      expect(c.notes).toEqual([expect.stringContaining("moved into the objects release demo-objects: Pulumi forgets it (retainOnDelete) and Helm adopts it in place")]);
    }
    expect(d.dangerous).toEqual([]);
  });

  it("bundled → resources: Helm deletes what Pulumi creates (a danger on each create); deleting the release says what helm uninstall deletes", () => {
    const d = diffPlans(base, plain);
    const creates = d.changes.filter((c) => c.action === "create" && c.danger.some((x) => x.startsWith("taken out of the objects release demo-objects")));
    expect(creates.length).toBeGreaterThanOrEqual(25);
    const release = d.changes.find((c) => c.urn === releaseUrn)!;
    expect(release.action).toBe("delete");
    expect(release.notes[0]).toMatch(/^helm uninstall deletes its \d+ objects \(\d+ of them become resources of their own: see their creates\)$/);
    expect(release.danger.some((x) => /Database demo\/.*: holds data — .*: helm uninstall deletes it/.test(x))).toBe(true);
  });
});
