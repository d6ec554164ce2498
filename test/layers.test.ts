/**
 * The stack layout (components/layers): placement of organisations in shards, the resource
 * estimate and the limit rule, the platform contract. Pure, except the cost model's check
 * against one evaluation of the real program.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { configProblems, parseEstate, type Estate } from "../components/estate";
import { APP_COST, DEDICATED_REALM_COST, HA_APP_COST, TENANT_BASE_COST, estimateStacks, tenantCost } from "../components/layers/cost";
import { ContractError, PlatformContractSchema, parseContract, platformFacts } from "../components/layers/contract";
import { defaultShard, shardOf, stackLayout, stackRole } from "../components/layers/placement";
import main from "../index";
import { REPO_ROOT, evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";
import { tenantResolver } from "../scripts/plan-model";

const prodRaw = () => readStackConfig(stackConfigFile("prod")) as Record<string, any>;
const SHARDS = ["a", "b", "c", "d"];
const slugArb = fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/);

describe("placement", () => {
  it("a slug's default shard depends on nothing but the slug and the set of shard names", () => {
    fc.assert(
      fc.property(slugArb, fc.uniqueArray(slugArb, { maxLength: 20 }), (slug, others) => {
        const e = (ts: string[]) => ({ sharding: { enabled: true, shards: SHARDS }, tenants: ts.map((s) => ({ slug: s, plan: "dedicated" as const })) });
        const where = (ts: string[]) => stackLayout("prod", e(ts)).find((s) => s.tenants.includes(slug))!.name;
        const alone = where([slug]);
        // Other organisations added around it, removed, reordered: it stays.
        expect(where([...others.filter((o) => o !== slug), slug])).toBe(alone);
        expect(where([slug, ...[...others].reverse().filter((o) => o !== slug)])).toBe(alone);
        // The shard list reordered: it stays.
        expect(defaultShard(slug, [...SHARDS].reverse())).toBe(defaultShard(slug, SHARDS));
      }),
    );
  });

  it("adding a shard moves only organisations onto the new shard, never between old ones", () => {
    fc.assert(
      fc.property(slugArb, (slug) => {
        const before = defaultShard(slug, SHARDS);
        const after = defaultShard(slug, [...SHARDS, "e"]);
        expect(after === before || after === "e").toBe(true);
      }),
    );
  });

  it("spreads organisations over every shard (no shard empty over 200 slugs)", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) counts.set(defaultShard(`co-${i}`, SHARDS), (counts.get(defaultShard(`co-${i}`, SHARDS)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(SHARDS);
  });

  it("a pinned shard wins over the hash; shared organisations live in the platform stack", () => {
    const pinned = SHARDS.find((s) => s !== defaultShard("amap-idf", SHARDS))!;
    expect(shardOf({ slug: "amap-idf", plan: "dedicated", shard: pinned }, SHARDS)).toBe(pinned);
    const layout = stackLayout("prod", { sharding: { enabled: true, shards: SHARDS }, tenants: [{ slug: "small", plan: "shared" }, { slug: "amap-idf", plan: "dedicated", shard: pinned }] });
    expect(layout.map((s) => [s.name, s.layer, s.tenants])).toEqual([
      ["prod", "platform", ["small"]],
      [`prod-${pinned}`, "shard", ["amap-idf"]],
    ]);
  });

  it("sharding disabled: one stack holding everything (dev)", () => {
    const dev = parseEstate(readStackConfig(stackConfigFile("dev")));
    expect(dev.sharding.enabled).toBe(false);
    expect(stackLayout("dev", dev)).toEqual([{ name: "dev", layer: "single", shard: null, tenants: dev.tenants.map((t) => t.slug) }]);
  });

  it("stack names: the estate's own is the platform, <estate>-<shard> a shard, anything else nothing", () => {
    const e = { sharding: { enabled: true, shards: SHARDS } };
    expect(stackRole("prod", "prod", e)).toEqual({ layer: "platform", shard: null });
    expect(stackRole("prod", "prod-b", e)).toEqual({ layer: "shard", shard: "b" });
    expect(stackRole("prod", "prod-z", e)).toBeUndefined();
    expect(stackRole("prod", "staging-b", e)).toBeUndefined();
    expect(stackRole("prod", "prod-b", { sharding: { enabled: false, shards: SHARDS } })).toBeUndefined();
  });
});

describe("limits as rules", () => {
  it("prod fits: every stack at most 2,000 resources", () => {
    const stacks = estimateStacks("prod", parseEstate(prodRaw()));
    expect(stacks.length).toBeGreaterThan(1);
    for (const s of stacks) expect(s.resources, s.name).toBeLessThanOrEqual(2000);
  });

  it("a lowered limit refuses the shard that exceeds it, with its estimated count", () => {
    const raw = prodRaw();
    raw.sharding = { ...raw.sharding, maxResourcesPerStack: 1200 };
    const estate = parseEstate(prodRaw());
    const over = estimateStacks("prod", estate).filter((s) => s.resources > 1200);
    expect(over.length).toBeGreaterThan(0);
    const problems = configProblems(raw);
    expect(problems).toHaveLength(over.length);
    for (const s of over) expect(problems).toContain(`liiibre:sharding.maxResourcesPerStack: shard "${s.shard}" (stack <estate>-${s.shard}) would hold about ${s.resources} resources (${s.tenants.length} organisations), above the limit of 1200: add shard names to liiibre:sharding.shards or move organisations with tenants[].shard`);
  });

  it("the limit cannot be raised above 2,000; one unsharded stack of prod is refused", () => {
    const raw = prodRaw();
    raw.sharding = { ...raw.sharding, maxResourcesPerStack: 5000 };
    expect(configProblems(raw)).toEqual(["liiibre:sharding.maxResourcesPerStack: expected an integer between 100 and 2000, got 5000"]);
    raw.sharding = { enabled: false };
    expect(configProblems(raw)).toEqual([expect.stringMatching(/^liiibre:sharding\.maxResourcesPerStack: the estate's one stack \(sharding disabled\) would hold about \d+ resources \(66 organisations\), above the limit of 2000: enable liiibre:sharding$/)]);
  });

  it("an unknown shard, or a shard on a shared organisation, is refused with its key path", () => {
    const raw = prodRaw();
    const ded = raw.tenants.findIndex((t: any) => t.plan === "dedicated");
    const shr = raw.tenants.findIndex((t: any) => t.plan === "shared");
    raw.tenants[ded].shard = "z";
    raw.tenants[shr].shard = "a";
    expect(configProblems(raw)).toEqual([
      `liiibre:tenants[${Math.min(ded, shr)}].shard: ${ded < shr ? 'expected one of liiibre:sharding.shards (a, b, c, d), got "z"' : 'only dedicated organisations live in a shard; a "shared" one lives on the shared instance (remove the key)'}`,
      `liiibre:tenants[${Math.max(ded, shr)}].shard: ${ded < shr ? 'only dedicated organisations live in a shard; a "shared" one lives on the shared instance (remove the key)' : 'expected one of liiibre:sharding.shards (a, b, c, d), got "z"'}`,
    ]);
  });

  it("an estate file without sharding settings plans sharded over the default shards (a 700-organisation estate fits)", () => {
    const raw = prodRaw();
    delete raw.sharding;
    // 336 of the 700 on the shared instance (every 50th odd one dedicated too, like bench/synthetic.ts).
    const shared = (i: number) => i % 2 === 1 && i % 50 !== 1;
    raw.tenants = Array.from({ length: 700 }, (_, i) => ({ slug: `co-${i}`, name: `Co ${i}`, domain: `co-${i}.example.org`, plan: shared(i) ? "shared" : "dedicated", users: shared(i) ? 5 : 80 }));
    expect(configProblems(raw)).toEqual([]);
    const stacks = estimateStacks("synthetic", parseEstate(raw));
    expect(stacks.length).toBeGreaterThan(40);
    expect(Math.max(...stacks.map((s) => s.resources))).toBeLessThanOrEqual(2000);
  });
  it("the platform stack holds the shared organisations' Keycloak objects (4 each): 350 of them put it over 2,000 and the estate is refused", () => {
    const raw = prodRaw();
    delete raw.sharding;
    raw.tenants = Array.from({ length: 700 }, (_, i) => ({ slug: `co-${i}`, name: `Co ${i}`, domain: `co-${i}.example.org`, plan: i % 2 ? "shared" : "dedicated", users: i % 2 ? 5 : 80 }));
    // Base 604 + 350 × 4 = 2,004 (the evaluated 700-organisation platform stack had 2,004 when the base was 605).
    const p = configProblems(raw);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^liiibre:sharding\.maxResourcesPerStack: the platform stack would hold about 2004 resources \(350 organisations\), above the limit of 2000: the shared instance's organisations \(about 4 resources each\) stay in the platform stack and no shard can take them/);
    // The shard advice would be wrong here: tenants[].shard on a shared organisation is refused.
    expect(p[0]).not.toMatch(/tenants\[\]\.shard/);
  });
});

describe("the cost model against the evaluated program", () => {
  let ev: Evaluation;
  let estate: Estate;
  beforeAll(async () => {
    // Two organisations whose valid slugs prefix platform names (the cluster ada-lovelace, the storage platform).
    const raw = prodRaw();
    raw.tenants.push({ slug: "ada", name: "Ada", domain: "ada.example.org", plan: "dedicated", users: 30 }, { slug: "storage", name: "Storage", domain: "storage.example.org", plan: "dedicated", users: 30, apps: ["nextcloud"] },
      // A stateless Nextcloud (STATELESS_NEXTCLOUD_COST): its Secret, scripts, budget, Job and RBAC count.
      { slug: "haven", name: "Haven", domain: "haven.example.org", plan: "dedicated", users: 30, ha: true, apps: ["nextcloud"], nextcloud: { stateless: true, secretsImported: true } });
    ev = await evaluate({ config: raw, program: (e) => main(e) });
    estate = ev.estate;
  });

  it("credits an organisation with its bundle only, never with platform resources its slug prefixes", () => {
    const tenantOf = tenantResolver(estate, ev.resources);
    const byUrn = new Map(ev.resources.map((r) => [r.urn, r]));
    const underTenant = (r: (typeof ev.resources)[number], slug: string): boolean => {
      for (let x: typeof r | undefined = r; x; x = x.parent ? byUrn.get(x.parent) : undefined) if (x.type === "liiibre:tenant:Tenant" && x.name === slug) return true;
      return false;
    };
    for (const slug of ["ada", "storage"]) {
      const credited = ev.resources.filter((r) => tenantOf(r) === slug);
      expect(credited.every((r) => underTenant(r, slug)), slug).toBe(true);
      expect(credited.length).toBe(ev.resources.filter((r) => underTenant(r, slug)).length);
      // The platform names it prefixes exist, and stay the platform's.
      const prefixed = ev.resources.filter((r) => r.name.startsWith(`${slug}-`) && !underTenant(r, slug));
      expect(prefixed.length, `${slug}-… platform resources`).toBeGreaterThan(10);
      for (const r of prefixed) expect(tenantOf(r), r.urn).toBeNull();
    }
  });

  it("is additive: base + apps (+ own realm) is never below an organisation's count, and within 10 % of an active one's", () => {
    const tenantOf = tenantResolver(estate, ev.resources);
    const counts = new Map<string, number>();
    for (const r of ev.resources) {
      const t = tenantOf(r);
      if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const dedicated = estate.tenants.filter((t) => t.plan === "dedicated");
    const shapes = new Set(dedicated.map((t) => `${t.apps.join(",")}|${t.dedicatedRealm}`));
    // Prod has several app sets: the model is checked on more shapes than it has parameters would need for a fit.
    expect(shapes.size).toBeGreaterThanOrEqual(5);
    for (const t of dedicated) {
      const actual = counts.get(t.slug)!;
      // Never under (the limit must hold), at most 10 % over for an active one (the limit must not bite early).
      expect(tenantCost(t), t.slug).toBeGreaterThanOrEqual(actual);
      if (t.state === "active") expect(tenantCost(t), t.slug).toBeLessThanOrEqual(Math.ceil(actual * 1.1));
    }
    expect(tenantCost({ plan: "dedicated", apps: ["nextcloud"], dedicatedRealm: true })).toBe(TENANT_BASE_COST + APP_COST.nextcloud + DEDICATED_REALM_COST);
  });

  it("with its objects bundled (kubernetesObjects, BUNDLED_OBJECTS_COST): never under, within 10 % of an active one, in every layout", async () => {
    const raw = prodRaw();
    const layouts = ["lean", "per-app", "migrating"];
    raw.tenants
      .filter((t: any) => t.plan === "dedicated")
      .forEach((t: any, i: number) => {
        t.dataLayout = layouts[i % 3];
        delete t.boundSecrets;
        t.kubernetesObjects = i % 4 === 3 ? "adopting" : "bundled";
      });
    raw.tenants.push({ slug: "haven", name: "Haven", domain: "haven.example.org", plan: "dedicated", users: 30, ha: true, apps: ["nextcloud"], nextcloud: { stateless: true, secretsImported: true } });
    const mixed = await evaluate({ config: raw, program: (e) => main(e) });
    const tenantOf = tenantResolver(mixed.estate, mixed.resources);
    const counts = new Map<string, number>();
    for (const r of mixed.resources) {
      const t = tenantOf(r);
      if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const dedicated = mixed.estate.tenants.filter((t) => t.plan === "dedicated");
    // Every layout, both modes, with and without ha, and a stateless Nextcloud are among them.
    expect(new Set(dedicated.map((t) => `${t.dataLayout}|${t.kubernetesObjects}`)).size).toBe(6);
    for (const t of dedicated) {
      const actual = counts.get(t.slug)!;
      expect(tenantCost(t), t.slug).toBeGreaterThanOrEqual(actual);
      if (t.state === "active") expect(tenantCost(t), t.slug).toBeLessThanOrEqual(Math.ceil(actual * 1.1));
    }
    // The same organisations with their objects as resources cost the bundled objects more (the model is not flat).
    const bundled = dedicated.find((t) => t.kubernetesObjects === "bundled" && t.dataLayout === "lean")!;
    expect(tenantCost({ ...bundled, kubernetesObjects: "resources" }) - tenantCost(bundled)).toBeGreaterThan(20);
  }, 180_000);

  it("`ha` costs what the program adds under an organisation's Collabora (its budget and hashing proxy), and nothing without it", () => {
    const tenantOf = tenantResolver(estate, ev.resources);
    const underCollabora = (slug: string) => ev.resources.filter((r) => tenantOf(r) === slug && r.urn.includes("$liiibre:apps:Collabora")).length;
    const withCollabora = estate.tenants.filter((t) => t.plan === "dedicated" && t.state === "active" && t.apps.includes("collabora"));
    const ha = withCollabora.find((t) => t.ha)!;
    const single = withCollabora.find((t) => !t.ha)!;
    expect(ha && single).toBeTruthy();
    expect(underCollabora(ha.slug) - underCollabora(single.slug)).toBe(HA_APP_COST.collabora);
    expect(tenantCost({ ...single, ha: true }) - tenantCost(single)).toBe(HA_APP_COST.collabora);
  });
});

describe("the platform contract", () => {
  let contract: unknown;
  let estate: Estate;
  beforeAll(async () => {
    const ev = await evaluate({ config: prodRaw(), program: (e) => main(e, { layer: "platform" }) });
    contract = ev.outputs.platform;
    estate = ev.estate;
  });

  it("is plain data that survives JSON and validates against its schema", () => {
    const parsed = PlatformContractSchema.parse(JSON.parse(JSON.stringify(contract)));
    expect(parsed).toEqual(contract);
    expect(parseContract(contract, platformFacts(estate), "prod").identity.estateServiceRoleIds.jitsi).toBeTruthy();
  });

  it("a contract that disagrees with the estate file, or lacks a field, is refused naming the paths", () => {
    const facts = platformFacts(estate);
    const stale = structuredClone(contract) as any;
    stale.identity.url = "https://auth.old.example";
    expect(() => parseContract(stale, facts, "prod")).toThrow(new ContractError('stack prod exports platform.identity.url different from its estate file: run `pulumi up` on prod first'));
    const partial = structuredClone(contract) as any;
    delete partial.providers.keycloak;
    expect(() => parseContract(partial, facts, "prod")).toThrow(/platform\.providers\.keycloak: .*run `pulumi up` on prod first/);
  });
});

describe("program selection by the real CLI (a shard stack's own config names its estate)", () => {
  const run = (stack: string, estate: string) =>
    spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), ["-e", 'require("./index.ts").default()'], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, PULUMI_NODEJS_STACK: stack, PULUMI_NODEJS_PROJECT: "liiibre", PULUMI_CONFIG: JSON.stringify({ "liiibre:estate": estate }) },
    });

  it("2 when the stack is not <estate>-<shard> of a shard of that estate", () => {
    const r = run("prod-z", "prod");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('liiibre:estate: stack "prod-z" is not a shard of estate "prod": expected prod-<shard> with <shard> one of liiibre:sharding.shards of Pulumi.prod.yaml (sharding enabled)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("every shard of a sharded estate has its stack file, naming that estate and nothing else; no stack file names a shard that does not exist", () => {
    const files = fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
    const stackOf = (f: string) => f.slice("Pulumi.".length, -".yaml".length);
    const shardFiles = new Map<string, string>();
    for (const f of files) {
      const cfg = parse(fs.readFileSync(path.join(REPO_ROOT, f), "utf8"))?.config ?? {};
      if (cfg["liiibre:estate"] === undefined) continue;
      // The CLI reads only this file for the shard's stack: anything else here would be ignored by the program.
      expect(Object.keys(cfg), f).toEqual(["liiibre:estate"]);
      shardFiles.set(stackOf(f), cfg["liiibre:estate"]);
    }
    const expected = new Map<string, string>();
    for (const f of files) {
      const stack = stackOf(f);
      if (shardFiles.has(stack)) continue;
      const estate = parseEstate(readStackConfig(stackConfigFile(stack)));
      if (!estate.sharding.enabled) continue;
      for (const s of stackLayout(stack, estate)) if (stackRole(stack, s.name, estate)?.layer === "shard") expected.set(s.name, stack);
    }
    expect(expected.size).toBeGreaterThan(0);
    expect(new Map([...shardFiles].sort())).toEqual(new Map([...expected].sort()));
  });

  it("2 when the estate file does not exist", () => {
    const r = run("nope-a", "nope");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/liiibre:estate: expected the name of an estate whose file Pulumi\.nope\.yaml is readable, got "nope"/);
  });
});
