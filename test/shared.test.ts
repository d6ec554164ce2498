/**
 * Shared services on the production estate (Pulumi.prod.yaml): Keycloak with one estate
 * realm, every Jitsi release capped, the shared instance's groups and quotas.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseEstate } from "../components/config";
import { gbToBytes, storagePoolGB } from "../components/units";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";
import { bundlesProgram, config, ofType, release, values } from "./bundle-fixtures";

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluate({ config: readStackConfig(stackConfigFile("prod")), program: bundlesProgram });
}, 300_000);

const shared = () => ev.estate.tenants.filter((t) => t.plan === "shared");
const dedicated = () => ev.estate.tenants.filter((t) => t.plan === "dedicated");

describe("Keycloak", () => {
  it("runs the pinned chart on a CloudNativePG database, with its admin password from random", () => {
    const r = release(ev.resources, "keycloak-release");
    expect(r.inputs).toMatchObject({ chart: "keycloakx", repositoryOpts: { repo: "https://codecentric.github.io/helm-charts" } });
    const v = values(r);
    expect(v.database).toMatchObject({ vendor: "postgres", hostname: "keycloak-pg-rw.keycloak.svc", existingSecret: "keycloak-pg-app", existingSecretKey: "password" });
    expect(v.extraEnv).toContain("KC_BOOTSTRAP_ADMIN_PASSWORD");
    expect(v.extraEnv).toContain("secretKeyRef");
    const provider = ev.resources.find((x) => x.type === "pulumi:providers:keycloak")!;
    expect(provider.inputs.password).toBe("[secret]");
    expect(provider.inputs.url).toBe("https://auth.liiibre.coop");
  });

  it("one estate realm with Organizations; every organisation is an organization of it, unless it has its own realm", () => {
    const realms = ofType(ev.resources, "keycloak:index/realm:Realm");
    const estateRealm = realms.find((r) => r.inputs.realm === "liiibre")!;
    expect(estateRealm.inputs.organizationsEnabled).toBe(true);
    expect(estateRealm.protect).toBe(true);
    const own = ev.estate.tenants.filter((t) => t.dedicatedRealm).map((t) => t.slug).sort();
    expect(realms.filter((r) => r !== estateRealm).map((r) => r.inputs.realm).sort()).toEqual(own);
    const orgs = ofType(ev.resources, "keycloak:index/organization:Organization");
    expect(orgs.map((o) => o.inputs.alias).sort()).toEqual(ev.estate.tenants.filter((t) => !t.dedicatedRealm).map((t) => t.slug).sort());
    for (const o of orgs) expect(o.inputs.realm).toBe("liiibre");
    // Hundreds of organisations, a handful of realms (keycloak#31956).
    expect(realms.length).toBeLessThan(10);
  });

  it("OIDC clients: one per app and bundle, random secrets", () => {
    const clients = ofType(ev.resources, "keycloak:openid/client:Client");
    const expected = dedicated().reduce((n, t) => n + t.apps.filter((a) => ["nextcloud", "matrix", "hedgedoc"].includes(a)).length, 0) + 3; // + the shared instance's three
    expect(clients).toHaveLength(expected);
    for (const c of clients) expect(c.inputs.clientSecret).toBe("[secret]");
  });
});

describe("Jitsi", () => {
  const jitsiReleases = () => ofType(ev.resources, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "jitsi-meet");

  it("one shared release, plus one per tenant with jitsi-dedicated", () => {
    const withOwn = dedicated().filter((t) => t.apps.includes("jitsi-dedicated"));
    expect(withOwn.length).toBeGreaterThan(0);
    expect(jitsiReleases().map((r) => r.inputs.namespace).sort()).toEqual(["jitsi", ...withOwn.map((t) => t.slug)].sort());
  });

  it("every release (shared and dedicated) is capped at 720p with bitrate caps", () => {
    const caps = ev.estate.sharedServices.jitsi.maxBitratesVideo;
    for (const r of jitsiReleases()) {
      const v = values(r);
      const env = v.web.extraEnvs;
      expect(Number(env.RESOLUTION), r.name).toBeLessThanOrEqual(720);
      expect(Number(env.RESOLUTION_MIN), r.name).toBeLessThanOrEqual(Number(env.RESOLUTION));
      expect(Number(env.RESOLUTION_WIDTH), r.name).toBeLessThanOrEqual(1280);
      const m = /maxBitratesVideo = (\{[^}]+\})/.exec(v.web.custom.configs._custom_config_js);
      expect(JSON.parse(m![1]), r.name).toEqual({ low: caps.low, standard: caps.standard, high: caps.high });
    }
  });

  it("the videobridge takes UDP 10000 on the media nodes; rooms need an estate login", () => {
    for (const r of jitsiReleases()) {
      const v = values(r);
      expect(v.jvb).toMatchObject({ UDPPort: 10000, useHostPort: true, nodeSelector: { "liiibre.org/media": "true" } });
      expect(v.enableAuth).toBe(true);
      expect(v.extraCommonEnvs.AUTH_TYPE).toBe("jwt");
      expect(v.prosody.extraEnvFrom).toEqual([{ secretRef: { name: "jitsi-jwt" } }]);
      expect(JSON.stringify(v)).not.toMatch(/JWT_APP_SECRET"\s*:/);
    }
  });

  it("a resolution above 720 is refused before anything is registered", () => {
    expect(() => parseEstate(config([], (raw) => (raw.sharedServices.jitsi = { resolution: 1080 })))).toThrow(ConfigError);
    try {
      parseEstate(config([], (raw) => (raw.sharedServices.jitsi = { resolution: 1080 })));
    } catch (e) {
      expect((e as ConfigError).problems).toContainEqual({ path: "liiibre:sharedServices.jitsi.resolution", message: "expected at most 720 (the offer caps video at 720p), got 1080" });
    }
  });
});

describe("the shared instance", () => {
  const hook = () => values(release(ev.resources, "mutualise-nextcloud-release")).nextcloud.hooks["before-starting"] as string;

  it("sets one group quota per shared organisation, equal to its pool", () => {
    const lines = [...hook().matchAll(/^occ groupquota:set '([^']+)' '(\d+) GB'$/gm)].map((m) => [m[1], Number(m[2])]);
    const want = shared().map((t) => [t.slug, storagePoolGB(t)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(want.length).toBe(34);
    expect(lines).toEqual(want);
  });

  it("each shared organisation is a Keycloak organization and group of the estate realm", () => {
    const groups = ofType(ev.resources, "keycloak:index/group:Group");
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(shared().map((t) => t.slug).sort());
    for (const g of groups) expect(g.inputs.realmId).toBe("liiibre");
    expect(hook()).toContain("--mapping-groups=groups");
  });

  it("its buckets' hard quota is the sum of the shared pools, and its namespace says so", () => {
    const sum = shared().reduce((n, t) => n + storagePoolGB(t), 0);
    const buckets = ofType(ev.resources, "minio:index/s3Bucket:S3Bucket").filter((b) => String(b.inputs.bucket).startsWith("mutualise-") && b.inputs.quota !== undefined);
    expect(buckets.map((b) => b.inputs.bucket).sort()).toEqual(["mutualise-hedgedoc", "mutualise-matrix-media", "mutualise-nextcloud"]);
    for (const b of buckets) expect(b.inputs.quota).toBe(gbToBytes(sum));
    const ns = ev.resources.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.name === "mutualise-namespace")!;
    expect((ns.inputs as any).metadata.annotations["liiibre.org/users"]).toBe(String(shared().reduce((n, t) => n + t.users, 0)));
  });

  it("every organisation gets outputs: URLs, and DNS records only for dedicated bundles", () => {
    const out = ev.outputs.tenants as Record<string, any>;
    expect(Object.keys(out).sort()).toEqual(ev.estate.tenants.map((t) => t.slug).sort());
    for (const t of shared()) expect(out[t.slug].dnsRecords).toEqual([]);
    for (const t of dedicated()) expect(out[t.slug].dnsRecords.length, t.slug).toBeGreaterThan(0);
  });
});
