/**
 * A bundle's objects release in the plan (docs/plan.md), dev's `demo` in `kubernetesObjects:
 * resources` and in its default `bundled`: the release counts as one resource, and the
 * plan says how many Kubernetes objects it holds — per stack, per organisation, per release
 * (their type, name and identity) — in JSON, text and markdown. Attribution: the objects
 * belong to the release's organisation (components/attribution.ts `objectsOf`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { attribution } from "../components/attribution";
import { LABELS } from "../components/conventions";
import { bundledObjectUrn, bundledObjects } from "../components/kit/objects";
import type { Plan } from "../scripts/plan-model";
import { render } from "../scripts/report";
import { devIn, objectsReleaseResource, trickyManifests } from "./helpers/bundle-objects";

let plain: Plan;
let bundled: Plan;
/** demo's resources that are entries of its objects release in `bundled` (plan order). */
let moved: Array<{ urn: string; type: string; inputs: Record<string, any> }>;
let releaseUrn: string;

beforeAll(async () => {
  plain = (await devIn("resources")).plan;
  bundled = (await devIn()).plan;
  const release = bundled.resources.find((r) => r.name === "demo-objects")!;
  releaseUrn = release.urn;
  const key = (type: string, o: any) => `${type}|${o.metadata?.namespace}|${o.metadata?.name}`;
  const entries = new Set(bundledObjects(release.type, release.inputs).map((o) => key(o.type, o.props)));
  moved = plain.resources.filter((r) => r.tenant === "demo" && entries.has(key(r.type, r.inputs))) as typeof moved;
  expect(moved).toHaveLength(entries.size);
}, 120_000);

describe("plan: a bundle's objects release", () => {
  it("counts as one resource; the stack, the organisation and the summary say how many objects it holds", () => {
    expect(bundled.summary.resourceCount).toBe(plain.summary.resourceCount - moved.length + 1);
    expect(bundled.summary.bundledObjects).toBe(moved.length);
    expect(bundled.stacks.map((s) => [s.name, s.resourceCount, s.bundledObjects])).toEqual([["dev", plain.summary.resourceCount - moved.length + 1, moved.length]]);
    expect(bundled.tenants.map((t) => [t.slug, t.bundledObjects])).toEqual(plain.tenants.map((t) => [t.slug, t.slug === "demo" ? moved.length : 0]));
    // without objects releases: every count is 0, nothing else changes
    expect(plain.summary.bundledObjects).toBe(0);
    expect(plain.stacks[0].bundledObjects).toBe(0);
    expect(plain.resources.some((r) => "bundledObjects" in r)).toBe(false);
  });

  it("the release lists its objects: the type each had as a resource of its own, its name and its identity", () => {
    const release = bundled.resources.find((r) => r.urn === releaseUrn)!;
    expect(release.tenant).toBe("demo");
    const view = (xs: Array<{ urn: string }>) => [...xs].sort((a, b) => a.urn.localeCompare(b.urn));
    expect(view(release.bundledObjects!)).toEqual(
      view(moved.map((m) => ({ type: m.type, name: m.inputs.metadata.name, namespace: "demo", urn: bundledObjectUrn(releaseUrn, { type: m.type, namespace: "demo", name: m.inputs.metadata.name }) }))),
    );
    expect(release.bundledObjects![0].urn).toMatch(/^urn:pulumi:dev::liiibre::liiibre:tenant:Tenant\$kubernetes:helm\.sh\/v3:Release\$kubernetes:[^:]+:[A-Za-z]+::demo\/[a-z0-9-]+$/);
    expect(bundled.resources.filter((r) => r.bundledObjects).map((r) => r.urn)).toEqual([releaseUrn]);
  });

  it("text and markdown say it in the organisation's and the release's lines", () => {
    const text = render(bundled, "text");
    expect(text).toContain(`      bundled objects: ${moved.length} (entries of its objects release: Helm applies them; not counted as resources)`);
    expect(text).toMatch(new RegExp(`kubernetes:helm\\.sh/v3:Release +demo-objects +${moved.length} bundled objects`));
    expect(text).toContain(`(and ${moved.length} Kubernetes objects bundled in 1 objects releases, each release 1 resource)`);
    // the tree lists them under their release, marked `·` (Helm applies them), never `+`
    const rows = text.split("\n").filter((l) => l.endsWith("  bundled"));
    expect(rows).toHaveLength(moved.length);
    expect(rows.every((l) => l.startsWith(" ·   "))).toBe(true);
    const hedgedoc = moved.find((m) => m.type === "kubernetes:apps/v1:Deployment" && /hedgedoc/.test(m.inputs.metadata.name))!;
    expect(rows.some((l) => l.includes(`kubernetes:apps/v1:Deployment`) && l.includes(`demo/${hedgedoc.inputs.metadata.name}`))).toBe(true);
    const md = render(bundled, "markdown");
    expect(md).toContain(` · ${moved.length} bundled objects · `);
    expect(md).toMatch(new RegExp(`\\| demo \\| dedicated \\| active \\| \\d+ \\| \\d+ \\| ${moved.length} \\|`));
    expect(render(plain, "text")).not.toContain("bundled objects");
    const json = JSON.parse(render(bundled, "json"));
    expect(json.summary.bundledObjects).toBe(moved.length);
  });
});

describe("plan: a sharded estate's stacks", () => {
  it("each stack's section and line say how many objects its objects releases hold", () => {
    const p = structuredClone(bundled);
    for (const r of p.resources) if (r.tenant === "demo") r.stack = "dev-a";
    const count = (stack: string) => p.resources.filter((r) => r.stack === stack).length;
    const n = moved.length;
    p.stacks = [
      { name: "dev", layer: "platform", resourceCount: count("dev"), estimatedResources: 0, tenants: [], bundledObjects: 0 },
      { name: "dev-a", layer: "shard", resourceCount: count("dev-a"), estimatedResources: 0, tenants: ["demo"], bundledObjects: n },
    ];
    const text = render(p, "text");
    expect(text).toContain(`Stack dev-a (shard, ${count("dev-a")} resources, 1 organisations, ${n} bundled objects):`);
    expect(text).toContain(`Stack dev (platform, ${count("dev")} resources):`);
    expect(text).toMatch(new RegExp(`  dev-a +shard +${count("dev-a")} resources \\(estimated 0\\)  1 organisations  ${n} bundled objects`));
    expect(render(p, "markdown")).toContain(`| dev-a | shard | ${count("dev-a")} | 0 | 1 | ${n} |`);
  });
});

describe("attribution of bundled objects", () => {
  it("they belong to the release's organisation, whatever their own tenant label says", () => {
    const tenant = { urn: "urn:pulumi:dev::liiibre::liiibre:tenant:Tenant::acme", type: "liiibre:tenant:Tenant", props: {}, parent: null as string | null };
    const objects = trickyManifests("acme");
    objects[0].metadata.labels[LABELS.tenant] = "someone-else";
    const rel = { ...objectsReleaseResource("acme", "acme", objects), props: objectsReleaseResource("acme", "acme", objects).inputs };
    const all = [tenant, rel];
    const attr = attribution(all, (r) => all.find((x) => x.urn === r.parent));
    expect(attr.bundleOf(rel)).toBe("acme");
    const owned = attr.objectsOf(rel);
    expect(owned.map((o) => [o.kind, o.name, o.bundle])).toEqual(objects.map((o) => [o.kind, o.metadata.name, "acme"]));
    expect(attr.objectsOf(tenant)).toEqual([]);
  });
});
