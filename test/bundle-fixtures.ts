/**
 * Shared by the tenant/apps/shared tests: a small estate (the dev stack plus crafted
 * tenants), a program that builds SharedServices and the Tenants on a test StorageContext,
 * and lookups over harness records.
 */
import { tenantEnvironment } from "../components/tenant/environment";
import { parse as parseYaml } from "yaml";
import type { Estate } from "../components/config";
import { SharedServices } from "../components/shared";
import { Tenant } from "../components/tenant";
import { withBundledObjects } from "./helpers/objects";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation, type RecordedResource } from "../scripts/harness";
import { testContext } from "./storage-fixtures";

export const INGRESS = { ipv4: ["198.51.100.10", "198.51.100.11"], ipv6: ["2001:db8::10"] };

type RawTenant = Record<string, unknown> & { slug: string };

export const T = {
  acme: { slug: "acme", name: "Acme Coop", domain: "acme.example.org", plan: "dedicated", users: 120 },
  exempt: {
    slug: "studio-son",
    name: "Studio Son",
    domain: "studio-son.example.org",
    plan: "dedicated",
    users: 15,
    quotaPerUserGB: 50,
    exemption: { reason: "audiovisual post-production rushes" },
    apps: ["nextcloud", "collabora", "jitsi-dedicated"],
  },
  realm: { slug: "senat-petitions", name: "Pétitions", domain: "petitions.example.org", plan: "dedicated", users: 40, apps: ["nextcloud", "matrix"], dedicatedRealm: true },
  small1: { slug: "petite-asso", name: "Petite association", domain: "petite.example.org", plan: "shared", users: 4 },
  small2: { slug: "club-photo", name: "Club photo", domain: "club-photo.example.org", plan: "shared", users: 7 },
} satisfies Record<string, RawTenant>;

/** The dev stack's config with the given tenants. */
export function config(tenants: RawTenant[], mutate?: (raw: Record<string, any>) => void): Record<string, unknown> {
  const raw: Record<string, any> = readStackConfig(stackConfigFile("dev"));
  raw.tenants = tenants;
  mutate?.(raw);
  return raw;
}

/** SharedServices + one Tenant per dedicated organisation, as index.ts composes them. */
export function bundlesProgram(estate: Estate) {
  const storage = testContext(estate);
  const shared = new SharedServices("shared", { estate, storage });
  const tenants = estate.tenants
    .filter((t) => t.plan === "dedicated")
    .map((t) => new Tenant(t.slug, { tenant: t, env: tenantEnvironment(estate), storage, identity: shared.identity, ingress: INGRESS }));
  return {
    tenants: { ...shared.sharedTenantOutputs(), ...Object.fromEntries(tenants.map((t) => [t.slug, { urls: t.urls, dnsRecords: t.dnsRecords }])) },
  };
}

export const evalBundles = (tenants: RawTenant[], mutate?: (raw: Record<string, any>) => void): Promise<Evaluation> =>
  evaluate({ config: config(tenants, mutate), program: bundlesProgram });

/** Records of a type, bundled objects included (helpers/objects.ts `withBundledObjects`). */
export const ofType = (rs: RecordedResource[], type: string) => withBundledObjects(rs).filter((r) => r.type === type);

/** The Kubernetes object `namespace/name` of a type, its own resource or a bundled one. */
export const objectOf = (rs: RecordedResource[], type: string, namespace: string, name: string) =>
  ofType(rs, type).find((r) => (r.inputs as any).metadata?.namespace === namespace && (r.inputs as any).metadata?.name === name);

/** Records whose ancestor chain includes the component `type::name` (by URN), bundled objects included (`withBundledObjects`). */
export function under(rs: RecordedResource[], type: string, name: string): RecordedResource[] {
  const all = withBundledObjects(rs);
  return all.filter((r) => r.urn.includes(`${type}$`) && ancestorNames(all, r).includes(`${type}::${name}`));
}
function ancestorNames(rs: RecordedResource[], r: RecordedResource): string[] {
  const byUrn = new Map(rs.map((x) => [x.urn, x]));
  const out: string[] = [];
  let p = r.parent ? byUrn.get(r.parent) : undefined;
  while (p) {
    out.push(`${p.type}::${p.name}`);
    p = p.parent ? byUrn.get(p.parent) : undefined;
  }
  return out;
}

export const RELEASE = "kubernetes:helm.sh/v3:Release";
/** The Helm release recorded under `name` (e.g. `acme-nextcloud-release`). */
export function release(rs: RecordedResource[], name: string): RecordedResource {
  const r = rs.find((x) => x.type === RELEASE && x.name === name);
  if (!r) throw new Error(`no release ${name}; releases: ${ofType(rs, RELEASE).map((x) => x.name).join(", ")}`);
  return r;
}
export const values = (r: RecordedResource): any => r.inputs.values as any;
export const yaml = (s: unknown): any => parseYaml(String(s));

/**
 * The settings script of a bundle's Nextcloud: the chart's before-starting hook, or, for a
 * stateless Nextcloud (components/apps/nextcloud-stateless.ts), the upgrade Job's `setup.sh`.
 */
export function nextcloudSettings(rs: RecordedResource[], slug: string): string {
  const hook = values(release(rs, `${slug}-nextcloud-release`)).nextcloud.hooks?.["before-starting"];
  if (hook) return hook as string;
  const cm = objectOf(rs, "kubernetes:core/v1:ConfigMap", slug, "nextcloud-stateless");
  if (!cm) throw new Error(`${slug}: neither a before-starting hook nor a stateless setup script`);
  return (cm.inputs as any).data["setup.sh"] as string;
}
