/**
 * URN stability across layouts (docs/scaling.md): the prod estate planned as one stack and as a
 * platform stack plus tenant shards (the real `npm run plan` path: shards in worker processes)
 * holds the same resources under the same URNs but for the stack part — which `pulumi state
 * move` rewrites — plus each shard's own providers, whose aliases name the one-stack providers a
 * moved organisation arrives with. Adding and removing other organisations moves nobody and
 * changes no other organisation's URNs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseEstate } from "../components/estate";
import { stackLayout } from "../components/layers/placement";
import main from "../index";
import { oneStackProviderUrns, SHARD_RESOURCES } from "../programs/shard";
import { evaluate, readStackConfig, stackConfigFile } from "../scripts/harness";
import { buildPlan, type Plan } from "../scripts/plan-model";
import { planStacks } from "../scripts/plan-stacks";
import { parseArgs, runPlan } from "../scripts/plan";

const prodRaw = () => readStackConfig(stackConfigFile("prod")) as Record<string, any>;
const noPolicies = async () => [];
/** A URN without its stack part. */
const unstacked = (urn: string) => urn.replace(/^urn:pulumi:[^:]+::/, "urn:pulumi:*::");

async function sharded(raw: Record<string, any>): Promise<Plan> {
  const estate = parseEstate(raw);
  return planStacks({ config: raw, estate, estateName: "prod", stacks: stackLayout("prod", estate), policies: noPolicies });
}

describe("one stack and sharded layouts", () => {
  let single: Plan;
  let split: Plan;
  let changed: Plan;
  let added: string;
  let removed: string;

  beforeAll(async () => {
    const ev = await evaluate({ config: prodRaw(), stack: "prod", program: (e) => main(e) });
    single = buildPlan(ev, []);
    split = await sharded(prodRaw());
    // Another organisation added, one removed, the list reversed.
    const raw = prodRaw();
    const dedicated = raw.tenants.filter((t: any) => t.plan === "dedicated");
    removed = dedicated[3].slug;
    added = "nouvelle-coop";
    raw.tenants = [...raw.tenants.filter((t: any) => t.slug !== removed), { slug: added, name: "Nouvelle coop", domain: "nouvelle-coop.org", plan: "dedicated", users: 120 }].reverse();
    changed = await sharded(raw);
  }, 300_000);

  it("plans prod as a platform stack and shards, none above 2,000 resources", () => {
    expect(split.stacks.map((s) => s.layer)).toEqual(["platform", "shard", "shard", "shard", "shard"]);
    for (const s of split.stacks) expect(s.resourceCount, s.name).toBeLessThanOrEqual(2000);
    for (const s of split.stacks) expect(s.resourceCount, `${s.name}: the estimate must not under-count`).toBeLessThanOrEqual(s.estimatedResources);
    expect(split.stacks.reduce((n, s) => n + s.resourceCount, 0)).toBe(split.resources.length);
  });

  it("holds the same resources under the same URNs but the stack part, plus each shard's four providers and its replication CronJob", () => {
    const one = new Set(single.resources.map((r) => unstacked(r.urn)));
    const two = split.resources.map((r) => unstacked(r.urn));
    const extra = two.filter((u) => !one.has(u));
    const shards = split.stacks.filter((s) => s.layer === "shard").length;
    expect(extra.length).toBe(4 * shards);
    expect(new Set(extra.map((u) => u.split("::").pop()))).toEqual(new Set(Object.values(SHARD_RESOURCES).filter((n) => n !== "platform")));
    // Each stack has its own replication CronJob (and component), under the one stack's name: twice
    // the one stack's, once per shard, and nothing else repeated.
    const seen = new Map<string, number>();
    for (const u of two.filter((x) => one.has(x))) seen.set(u, (seen.get(u) ?? 0) + 1);
    const repeated = [...seen].filter(([, n]) => n > 1);
    expect(repeated.map(([u, n]) => [u.split("::").pop(), n]).sort()).toEqual([["offsite-replication", shards + 1], ["offsite-replication-cronjob", shards + 1]]);
    expect(seen.size).toBe(one.size);
    // Each tenant resource sits in the stack its tenant was placed in.
    for (const r of split.resources) if (r.tenant) expect(split.stacks.find((s) => s.name === r.stack)!.tenants).toContain(r.tenant);
  });

  it("a shard's providers alias the one-stack providers a moved organisation arrives with", () => {
    const providers = new Set(single.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => unstacked(r.urn)));
    for (const u of Object.values(oneStackProviderUrns(parseEstate(prodRaw()), "prod"))) expect(providers).toContain(unstacked(u));
    const shardProviders = split.resources.filter((r) => r.stack !== "prod" && r.type.startsWith("pulumi:providers:"));
    expect(shardProviders.length).toBeGreaterThan(0);
    for (const p of shardProviders) {
      expect(p.aliases).toHaveLength(1);
      expect(String(p.aliases[0]).startsWith(`urn:pulumi:${p.stack}::`)).toBe(true);
      expect(providers).toContain(unstacked(String(p.aliases[0])));
    }
  });

  it("shard providers get the contract's credentials as secrets, its endpoints in clear", () => {
    const p = (name: string) => split.resources.find((r) => r.stack === "prod-b" && r.name === name)!;
    expect(p(SHARD_RESOURCES.kubernetes).inputs.kubeconfig).toBe("[secret]");
    expect(p(SHARD_RESOURCES.primaryMinio).inputs.minioPassword).toBe("[secret]");
    expect(p(SHARD_RESOURCES.primaryMinio).inputs.minioServer).toBe("s3.fsn.liiibre.coop:443");
    expect(p(SHARD_RESOURCES.backupMinio).inputs.minioPassword).toBe("[secret]");
    expect(p(SHARD_RESOURCES.keycloak).inputs.password).toBe("[secret]");
    expect(p(SHARD_RESOURCES.keycloak).inputs.url).toBe("https://auth.liiibre.coop");
  });

  it("every stack's Kubernetes provider is pinned to the same cluster (clusterIdentifier from the cluster's name in Pulumi.prod.yaml)", () => {
    const providers = split.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
    expect(new Set(providers.map((r) => r.stack))).toEqual(new Set(split.stacks.map((s) => s.name)));
    // cluster.name of Pulumi.prod.yaml is ada-lovelace: a kubeconfig change on any stack is an update, never a replacement.
    expect(prodRaw().cluster.name).toBe("ada-lovelace");
    for (const r of providers) expect(r.inputs.clusterIdentifier, r.stack).toBe("k0s/ada-lovelace");
  });

  it("adding, removing and reordering other organisations moves nobody and changes no other URN", () => {
    const stackOf = (plan: Plan) => new Map(plan.stacks.flatMap((s) => s.tenants.map((t) => [t, s.name] as const)));
    const urnsOf = (plan: Plan) => {
      const m = new Map<string, string[]>();
      for (const r of plan.resources) if (r.tenant) m.set(r.tenant, [...(m.get(r.tenant) ?? []), r.urn]);
      return m;
    };
    const [s1, s2] = [stackOf(split), stackOf(changed)];
    const [u1, u2] = [urnsOf(split), urnsOf(changed)];
    expect(s2.has(removed)).toBe(false);
    expect(s2.has(added)).toBe(true);
    let compared = 0;
    for (const [slug, stack] of s1) {
      if (slug === removed) continue;
      expect(s2.get(slug), slug).toBe(stack);
      expect([...(u2.get(slug) ?? [])].sort(), slug).toEqual([...(u1.get(slug) ?? [])].sort());
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });
});

describe("npm run plan -- --only", () => {
  it("plans the platform and the shard holding the organisation only", async () => {
    let out = "";
    let err = "";
    const code = await runPlan({ stack: "prod", format: "json", only: ["amap-idf"] }, { write: (s) => (out += s), error: (s) => (err += s) }, noPolicies);
    expect(code, err).toBe(0);
    const plan = JSON.parse(out) as Plan;
    const shard = stackLayout("prod", parseEstate(prodRaw())).find((s) => s.tenants.includes("amap-idf"))!;
    expect(plan.stacks.map((s) => s.name)).toEqual(["prod", shard.name]);
    expect(plan.tenants.find((t) => t.slug === "amap-idf")!.urls.nextcloud).toBe("https://cloud.amap-idf.org");
    expect(new Set(plan.resources.map((r) => r.stack))).toEqual(new Set(["prod", shard.name]));
  });

  it("an unknown organisation is refused (exit 2), as is an empty list", async () => {
    let err = "";
    expect(await runPlan({ stack: "prod", format: "json", only: ["amap-idf", "nope"] }, { write: () => {}, error: (s) => (err += s) }, noPolicies)).toBe(2);
    expect(err).toBe('error: --only: no organisation "nope" in the estate\n');
    expect(parseArgs(["--only", "a,b"]).only).toEqual(["a", "b"]);
    expect(() => parseArgs(["--only", ","])).toThrow("--only needs at least one organisation slug");
  });
});
