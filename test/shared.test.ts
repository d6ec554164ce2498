/**
 * Shared services on the production estate (Pulumi.prod.yaml): Keycloak with one estate
 * realm, every Jitsi release capped, the shared instance's groups and quotas.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { ConfigError, parseEstate } from "../components/estate";
import { gbToBytes, storagePoolGB } from "../components/units";
import { evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type Evaluation } from "../scripts/harness";
import { bundlesProgram, config, nextcloudSettings, ofType, release, values } from "./bundle-fixtures";

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

  it("its database instances get the keycloak-postgres profile for every account of the estate", () => {
    const pg = ofType(ev.resources, "kubernetes:postgresql.cnpg.io/v1:Cluster").find((r) => (r.inputs as any).metadata.namespace === "keycloak")!;
    const users = ev.estate.tenants.reduce((n, t) => n + t.users, 0);
    expect(users).toBe(13957);
    // 200m + 2m × 139.57 = 479.1 → 480m; 512Mi + 8Mi × 139.57 = 1628.6 → 1632Mi.
    expect((pg.inputs as any).spec.resources).toEqual({ requests: { cpu: "480m", memory: "1632Mi" }, limits: { cpu: "1920m", memory: "3264Mi" } });
    expect((pg.inputs as any).spec.instances).toBe(2);
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
    // nextcloud, matrix, hedgedoc and a dedicated Jitsi's adapter log in; + the shared
    // instance's three and the shared Jitsi's adapter.
    const expected = dedicated().reduce((n, t) => n + t.apps.filter((a) => ["nextcloud", "matrix", "hedgedoc", "jitsi-dedicated"].includes(a)).length, 0) + 3 + 1;
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

  it("the videobridge takes UDP 10000 on the media nodes", () => {
    for (const r of jitsiReleases()) {
      expect(values(r).jvb, r.name).toMatchObject({ UDPPort: 10000, useHostPort: true, nodeSelector: { "liiibre.org/media": "true" } });
    }
  });

  // Where each release lives, and the realm its users log in with.
  const jitsiSites = () => [
    { ns: "jitsi", host: "meet.liiibre.coop", realm: "liiibre", clientId: "jitsi", clientSecret: "jitsi-oidc" },
    ...dedicated()
      .filter((t) => t.apps.includes("jitsi-dedicated"))
      .map((t) => ({ ns: t.slug, host: `meet.${t.domain}`, realm: t.dedicatedRealm ? t.slug : "liiibre", clientId: `${t.slug}-jitsi-dedicated`, clientSecret: "jitsi-dedicated-oidc" })),
  ];
  const inNs = (type: string, ns: string) => ofType(ev.resources, type).filter((x) => (x.inputs as any).metadata?.namespace === ns);

  it("rooms need an estate login: JWT auth with the app id as issuer/audience, token URL on the adapter, JWT secret from a Secret", () => {
    const sites = jitsiSites();
    expect(sites.length).toBe(jitsiReleases().length);
    for (const site of sites) {
      const r = jitsiReleases().find((x) => x.inputs.namespace === site.ns)!;
      const v = values(r);
      expect(v.enableAuth, site.ns).toBe(true);
      expect(v.extraCommonEnvs, site.ns).toMatchObject({
        AUTH_TYPE: "jwt",
        JWT_APP_ID: "liiibre",
        JWT_ACCEPTED_ISSUERS: "liiibre",
        JWT_ACCEPTED_AUDIENCES: "liiibre",
        TOKEN_AUTH_URL: `https://${site.host}/oidc/auth?state={state}`,
      });
      // Guests may join a room only once an authenticated host is in it.
      expect(v.enableGuests).toBe(true);
      expect(v.extraCommonEnvs.XMPP_MUC_MODULES).toContain("muc_wait_for_host");
      // Every secret from our own Secrets (chart ≥ 2.0 reads these keys), so an upgrade never
      // generates new XMPP passwords; the JWT secret goes to Prosody only (no estate-wide
      // `global.releaseSecretsOverride` handing it to web, jicofo and jvb too).
      expect(v.prosody.jwt).toEqual({ existingSecretName: "jitsi-jwt" });
      expect(v.jicofo.xmpp).toEqual({ existingSecretName: "jitsi-jicofo" });
      expect(v.jvb.xmpp).toEqual({ existingSecretName: "jitsi-jvb" });
      expect(v.global?.releaseSecretsOverride).toBeUndefined();
      for (const [name, keys] of [["jitsi-jicofo", ["JICOFO_AUTH_PASSWORD"]], ["jitsi-jvb", ["JVB_AUTH_USER", "JVB_AUTH_PASSWORD"]]] as const) {
        const s = inNs("kubernetes:core/v1:Secret", site.ns).find((x) => (x.inputs as any).metadata.name === name);
        expect(s, `${site.ns}/${name}`).toBeDefined();
        // The keys the chart's own Secrets would carry (templates/jicofo/secret.yaml, templates/jvb/secret.yaml).
        const raw = secretAwareInputs(s!).stringData;
        expect(isSecretMarker(raw), name).toBe(true);
        expect(Object.keys((raw as { value: Record<string, unknown> }).value).sort(), name).toEqual([...keys].sort());
      }
      const jwt = inNs("kubernetes:core/v1:Secret", site.ns).find((x) => (x.inputs as any).metadata.name === "jitsi-jwt")!;
      // The Kubernetes SDK marks the whole stringData secret.
      expect((jwt.inputs as any).stringData).toBe("[secret]");
      // No secret in any Helm value: neither a key nor a fake secret value.
      const text = JSON.stringify(v);
      expect(text).not.toMatch(/JWT_APP_SECRET|CLIENT_SECRET|MOCKSECRET|\[secret\]/);
    }
  });

  it("every release has its Keycloak adapter: pinned image, wired to the realm, client and JWT Secrets, valid manifests", () => {
    for (const site of jitsiSites()) {
      const dep = inNs("kubernetes:apps/v1:Deployment", site.ns).find((x) => (x.inputs as any).metadata.name === "jitsi-keycloak-adapter");
      expect(dep, site.ns).toBeDefined();
      const obj = dep!.inputs as any;
      expect(() => new Deployment(obj).validate()).not.toThrow();
      const c = obj.spec.template.spec.containers[0];
      expect(c.image).toMatch(/^ghcr\.io\/nordeck\/jitsi-keycloak-adapter-v2:v\d{8}$/);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env).toMatchObject({
        KEYCLOAK_ORIGIN: "https://auth.liiibre.coop",
        KEYCLOAK_ORIGIN_INTERNAL: "http://keycloak-http.keycloak.svc",
        KEYCLOAK_REALM: site.realm,
        KEYCLOAK_CLIENT_ID: site.clientId,
        KEYCLOAK_CLIENT_SECRET: { secretKeyRef: { name: site.clientSecret, key: "OIDC_CLIENT_SECRET" } },
        JWT_APP_ID: "liiibre",
        JWT_APP_SECRET: { secretKeyRef: { name: "jitsi-jwt", key: "JWT_APP_SECRET" } },
        HOSTNAME: "0.0.0.0",
        PORT: "9000",
      });
      expect(c.resources.limits).toBeDefined();
      const svc = inNs("kubernetes:core/v1:Service", site.ns).find((x) => (x.inputs as any).metadata.name === "jitsi-keycloak-adapter")!;
      expect(() => new Service(svc.inputs as any).validate()).not.toThrow();
      expect((svc.inputs as any).spec.selector).toEqual(obj.spec.selector.matchLabels);
      // The login paths of the Jitsi host reach the adapter; the rest stays with Jitsi web.
      // A Gateway API route beside the chart's Ingress (test/edge.test.ts validates it against the CRDs).
      const route = inNs("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", site.ns).find((x) => (x.inputs as any).metadata.name === "jitsi-keycloak-adapter")!;
      expect((route.inputs as any).spec.hostnames).toEqual([site.host]);
      expect((route.inputs as any).spec.rules).toEqual([
        { matches: [{ path: { type: "PathPrefix", value: "/oidc/" } }], backendRefs: [{ group: "", kind: "Service", name: "jitsi-keycloak-adapter", port: (svc.inputs as any).spec.ports[0].port }] },
      ]);
      // Its Gateway (its own for the shared Jitsi, the bundle's unannotated one for a dedicated
      // Jitsi) reuses the certificate the chart's Ingress asks for, and asks for none itself.
      const parent = (route.inputs as any).spec.parentRefs[0];
      const gw = inNs("kubernetes:gateway.networking.k8s.io/v1:Gateway", site.ns).find((x) => (x.inputs as any).metadata.name === parent.name)!;
      expect((gw.inputs as any).metadata.annotations).toBeUndefined();
      const v = values(jitsiReleases().find((x) => x.inputs.namespace === site.ns)!);
      const listener = (gw.inputs as any).spec.listeners.find((l: any) => l.name === parent.sectionName);
      expect(listener.hostname).toBe(site.host);
      expect(listener.tls.certificateRefs[0].name).toBe(v.web.ingress.tls[0].secretName);
      expect(v.web.ingress.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    }
  });

  it("each adapter's OIDC client: confidential, in its realm, redirects only to the adapter, random secret kept secret", () => {
    const clients = ofType(ev.resources, "keycloak:openid/client:Client");
    for (const site of jitsiSites()) {
      const c = clients.find((x) => x.inputs.clientId === site.clientId);
      expect(c, site.clientId).toBeDefined();
      expect(c!.inputs).toMatchObject({ realmId: site.realm, accessType: "CONFIDENTIAL", standardFlowEnabled: true, validRedirectUris: [`https://${site.host}/oidc/*`], clientSecret: "[secret]" });
      // The adapter sends no PKCE challenge: requiring one would break every login.
      expect(c!.inputs.pkceCodeChallengeMethod).toBeUndefined();
      const secret = inNs("kubernetes:core/v1:Secret", site.ns).find((x) => (x.inputs as any).metadata.name === site.clientSecret)!;
      expect((secret.inputs as any).stringData).toBe("[secret]");
    }
    // The shared release's client is in the estate realm.
    expect(clients.find((x) => x.inputs.clientId === "jitsi")!.inputs.realmId).toBe("liiibre");
    // Other apps keep PKCE.
    for (const c of clients.filter((x) => !String(x.inputs.clientId).endsWith("jitsi") && !String(x.inputs.clientId).endsWith("jitsi-dedicated"))) {
      expect(c.inputs.pkceCodeChallengeMethod, String(c.inputs.clientId)).toBe("S256");
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
  // The shared instance's Nextcloud is stateless (prod): its settings run in the upgrade Job.
  const hook = () => nextcloudSettings(ev.resources, "mutualise");

  it("sets one group quota per shared organisation, equal to its pool", () => {
    const lines = [...hook().matchAll(/^occ groupquota:set '([^']+)' '(\d+) GB'$/gm)].map((m) => [m[1], Number(m[2])]);
    // Nextcloud group ids are namespaced `org-<slug>` (no slug can be Nextcloud's `admin`).
    const want = shared().map((t) => [`org-${t.slug}`, storagePoolGB(t)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(want.length).toBe(34);
    expect(lines).toEqual(want);
  });

  it("each shared organisation is a Keycloak organization and group `org-<slug>` of the estate realm", () => {
    const groups = ofType(ev.resources, "keycloak:index/group:Group");
    const sharedGroups = groups.filter((g) => shared().some((t) => g.name === `${t.slug}-group`));
    expect(sharedGroups.map((g) => g.inputs.name).sort()).toEqual(shared().map((t) => `org-${t.slug}`).sort());
    for (const g of sharedGroups) expect(g.inputs.realmId).toBe("liiibre");
    // Nextcloud's groups come from the estate-set claim, not from Keycloak group names.
    expect(hook()).toContain("--mapping-groups=nextcloud_groups");
    // Each also has its admins group `admins-<slug>` (components/ops/org-admins.ts), same realm.
    const admins = groups.filter((g) => shared().some((t) => g.name === `${t.slug}-admins-group`));
    expect(admins.map((g) => g.inputs.name).sort()).toEqual(shared().map((t) => `admins-${t.slug}`).sort());
    for (const g of admins) expect(g.inputs.realmId).toBe("liiibre");
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
