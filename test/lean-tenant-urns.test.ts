/**
 * Existing URNs survive the lean-tenant changes (issue 14, item 4): the URNs a dedicated
 * organisation had at c989fd6 (test/helpers/urns-fcso-occitanie-c989fd6.json, written from that
 * commit's prod plan) are all still there, except the objects removed on purpose, each named
 * below with the reason; what is new is only what replaces them. The kit (components/kit) moved
 * helper functions, not components, so no resource changed name or parent and none needs an
 * alias: a rename would show here as a lost URN.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Estate } from "../components/config";
import main from "../index";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";

const SLUG = "fcso-occitanie";
const BEFORE: string[] = JSON.parse(readFileSync(path.join(__dirname, "helpers", "urns-fcso-occitanie-c989fd6.json"), "utf8"));
const tail = (urn: string) => urn.replace(/^urn:pulumi:[^:]+::liiibre::/, "");
const nameOf = (u: string) => u.split("::").pop()!;
const typeOf = (u: string) => u.split("::")[0].split("$").pop()!;

/** Removed on purpose: type → names (after the slug) → why. */
const REMOVED: Array<{ type: string; names: RegExp; why: string }> = [
  { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", names: /-netpol-(allow-same-namespace|allow-from-ingress-controller|allow-from-nodes|allow-from-cnpg-operator|allow-from-monitoring|allow-dns|allow-to-ingress-controller|allow-to-object-store|allow-to-keycloak|allow-cnpg-to-kubernetes-api|allow-internet-egress)$/, why: "merged into allow-bundle / allow-cnpg" },
  { type: "random:index/randomPassword:RandomPassword", names: /-(nextcloud|matrix|hedgedoc)-oidc-secret$|-onlyoffice-jwt-secret$|-collabora-admin-password$|-matrix-(registration|form-secret)$/, why: "rotatable: derived from the bundle's key" },
  { type: "kubernetes:core/v1:Secret", names: /-(nextcloud|matrix|hedgedoc)-oidc-k8s-secret$/, why: "the client secret moved into the app's own Secret" },
  { type: "kubernetes:gateway.networking.k8s.io/v1:Gateway", names: /-(onlyoffice|collabora|hedgedoc)-route-gateway$|-matrix-well-known-gateway$/, why: "one Gateway per organisation" },
  { type: "keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper", names: /-oidc-groups$/, why: "realm client scope" },
  { type: "keycloak:openid/userRealmRoleProtocolMapper:UserRealmRoleProtocolMapper", names: /-oidc-access$/, why: "realm client scope" },
  { type: "keycloak:openid/userAttributeProtocolMapper:UserAttributeProtocolMapper", names: /-oidc-nextcloud-groups$/, why: "realm client scope" },
  { type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule", names: /-pool-alert$/, why: "the estate's one pool rule (components/ops/alert-rules.ts)" },
  { type: "keycloak:authentication/executionConfig:ExecutionConfig", names: /-members-10-config$/, why: "the deny step shows Keycloak's translated message (components/shared/membership.ts)" },
  { type: "kubernetes:batch/v1:Job", names: /-replication$/, why: "the stack's one replication CronJob (components/storage/offsiteReplication.ts)" },
];
/** What replaces them. */
const ADDED: Array<{ type: string; names: RegExp }> = [
  { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", names: /-netpol-(allow-bundle|allow-cnpg)$/ },
  { type: "random:index/randomPassword:RandomPassword", names: /-derivation-key$/ },
  { type: "kubernetes:gateway.networking.k8s.io/v1:Gateway", names: /-gateway(-chart-tls)?$/ },
  { type: "keycloak:openid/clientDefaultScopes:ClientDefaultScopes", names: /-oidc-scopes$/ },
  // Not a lean-tenant change: issue 12's budget for Matrix's HAProxy, which runs twice with `ha` (fcso-occitanie has 2,100 accounts).
  { type: "kubernetes:policy/v1:PodDisruptionBudget", names: /-matrix-haproxy-pdb$/ },
  // Issue 12 too: with `ha`, Collabora's budget and its hashing proxy (components/apps/collabora-proxy.ts).
  { type: "kubernetes:policy/v1:PodDisruptionBudget", names: /-collabora-(proxy-)?pdb$/ },
  { type: "liiibre:apps:CollaboraProxy", names: /-collabora-proxy$/ },
  { type: "kubernetes:core/v1:ConfigMap", names: /-collabora-proxy-config$/ },
  // The proxy's replicas share their stick table: a StatefulSet and a Service per pod (the peers' addresses).
  { type: "kubernetes:core/v1:Service", names: /-collabora-proxy-(pods|service|peer-[01])$/ },
  { type: "kubernetes:apps/v1:StatefulSet", names: /-collabora-proxy-statefulset$/ },
  // Not a lean-tenant change either: HedgeDoc's pad images, anonymously readable under uploads/ (docs/apps.md#hedgedoc-images).
  { type: "minio:index/s3BucketPolicy:S3BucketPolicy", names: /-hedgedoc-anonymous-read$/ },
];
const matches = (rules: Array<{ type: string; names: RegExp }>, u: string) => rules.some((r) => r.type === typeOf(u) && r.names.test(nameOf(u)));

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluate({ config: readStackConfig(stackConfigFile("prod")), program: (e: Estate) => main(e) });
}, 180_000);

describe("URNs of a dedicated organisation across the lean-tenant changes", () => {
  it("every URN it had is still there, but the objects removed on purpose", () => {
    const now = new Set(ev.resources.filter((r) => r.urn.includes(`liiibre:tenant:Tenant`) && (r.name === SLUG || r.urn.includes(`::${SLUG}-`))).map((r) => tail(r.urn)));
    const lost = BEFORE.filter((u) => !now.has(u));
    expect(lost.filter((u) => !matches(REMOVED, u))).toEqual([]);
    // Every rule removed something (a rule that matches nothing is a stale rule).
    for (const r of REMOVED) expect(lost.some((u) => r.type === typeOf(u) && r.names.test(nameOf(u))), `${r.type} ${r.names}`).toBe(true);
    // 11 NetworkPolicies (13 less default-deny and allow-k8up, kept), 7 passwords, 3 Secrets, 4 Gateways, 7 mappers, the pool rule, the deny step's config, the replication Job.
    expect(lost.length).toBe(11 + 7 + 3 + 4 + 3 + 3 + 1 + 1 + 1 + 1);
    const added = [...now].filter((u) => !BEFORE.includes(u));
    expect(added.filter((u) => !matches(ADDED, u))).toEqual([]);
    // The last term: Collabora's budget and its proxy's 8 objects (component, ConfigMap, 4 Services, StatefulSet, budget).
    expect(added.length).toBe(2 + 1 + 2 + 3 + 1 + 1 + 9);
  });

  it("the comparison notices a renamed resource", () => {
    const renamed = BEFORE.map((u) => (u.endsWith("::fcso-occitanie-namespace") ? u.replace(/::fcso-occitanie-namespace$/, "::fcso-occitanie-ns") : u));
    const now = new Set(BEFORE);
    expect(renamed.filter((u) => !now.has(u) && !matches(REMOVED, u))).toEqual([expect.stringContaining("fcso-occitanie-ns")]);
  });
});

describe("URNs of a dedicated organisation across its objects' modes (docs/scaling.md#bundled-kubernetes-objects)", () => {
  let adopting: Evaluation;
  let bundled: Evaluation;
  const mine = (e: Evaluation) => e.resources.filter((r) => r.urn.includes(`liiibre:tenant:Tenant`) && (r.name === SLUG || r.urn.includes(`::${SLUG}-`)));
  const withMode = (mode: string) => {
    const raw = readStackConfig(stackConfigFile("prod")) as any;
    raw.tenants.find((t: any) => t.slug === SLUG).kubernetesObjects = mode;
    return evaluate({ config: raw, program: (e: Estate) => main(e) });
  };
  beforeAll(async () => {
    adopting = await withMode("adopting");
    bundled = await withMode("bundled");
  }, 180_000);

  it("adopting keeps every URN (the objects are updated in place, then retained)", () => {
    expect(mine(adopting).map((r) => r.urn).sort()).toEqual(mine(ev).map((r) => r.urn).sort());
  });

  it("bundled drops exactly the adopted (retained) objects' URNs and adds only the objects release", () => {
    const before = new Map(mine(adopting).map((r) => [r.urn, r]));
    const now = new Set(mine(bundled).map((r) => r.urn));
    const lost = [...before.values()].filter((r) => !now.has(r.urn));
    // Each one Pulumi forgets was retained in the adopting step: nothing is deleted in the cluster.
    expect(lost.length).toBeGreaterThan(20);
    expect(lost.filter((r) => !r.retainOnDelete).map((r) => r.urn)).toEqual([]);
    expect(lost.filter((r) => !(r.inputs as any).metadata?.annotations?.["meta.helm.sh/release-name"]).map((r) => r.urn)).toEqual([]);
    const added = [...now].filter((u) => !before.has(u));
    expect(added.map(tail)).toEqual([`liiibre:tenant:Tenant$kubernetes:helm.sh/v3:Release::${SLUG}-objects`]);
  });
});

