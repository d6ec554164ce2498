/**
 * Shared services on the production estate (Pulumi.prod.yaml): Keycloak with one estate
 * realm, every Jitsi release capped, the shared instance's groups and quotas.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { ConfigError, parseEstate } from "../components/estate";
import { gbToBytes, storagePoolGB } from "../components/units";
import { haproxyServerTargets, serviceHostEnv } from "../components/kit/haproxy";
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

  it("two shared releases (the shards), plus one per tenant with jitsi-dedicated", () => {
    const withOwn = dedicated().filter((t) => t.apps.includes("jitsi-dedicated"));
    expect(withOwn.length).toBeGreaterThan(0);
    expect(jitsiReleases().map((r) => r.inputs.namespace).sort()).toEqual(["jitsi", "jitsi", ...withOwn.map((t) => t.slug)].sort());
    expect(jitsiReleases().filter((r) => r.inputs.namespace === "jitsi").map((r) => r.inputs.name).sort()).toEqual(["jitsi", "jitsi-2"]);
  });

  it("shard one keeps the single-shard release, URN and pod specs; shard two keeps its signalling off shard one's nodes", () => {
    const shard = (name: string) => jitsiReleases().find((r) => r.inputs.namespace === "jitsi" && r.inputs.name === name)!;
    const [one, two] = [shard("jitsi"), shard("jitsi-2")];
    // Same Pulumi name (hence URN) as the single-shard release: no replacement, no new install.
    expect(one.name).toBe("jitsi-release");
    expect(one.urn).toMatch(/liiibre:apps:JitsiMeet\$kubernetes:helm\.sh\/v3:Release::jitsi-release$/);
    const v1 = values(one);
    const v2 = values(two);
    // Shard one: no scheduling term added to Prosody or Jicofo (their pods do not restart); no Ingress (the router serves the host).
    expect(v1.prosody.affinity).toBeUndefined();
    expect(v1.jicofo.affinity).toBeUndefined();
    expect(v1.web.ingress).toEqual({ enabled: false });
    expect(v2.web.ingress).toEqual({ enabled: false });
    // Shard two: its Prosody and Jicofo never share a node with another shard's.
    for (const c of ["prosody", "jicofo"]) {
      const term = v2[c].affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      expect(term.topologyKey).toBe("kubernetes.io/hostname");
      expect(term.labelSelector.matchExpressions).toEqual([
        { key: "app.kubernetes.io/component", operator: "In", values: ["prosody", "jicofo"] },
        { key: "app.kubernetes.io/instance", operator: "NotIn", values: ["jitsi-2"] },
      ]);
    }
    // Each shard's web replicas spread among themselves.
    expect(v2.web.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels["app.kubernetes.io/instance"]).toBe("jitsi-2");
    // One JWT secret and one set of XMPP passwords: the adapter's tokens open rooms on every shard.
    for (const v of [v1, v2]) {
      expect(v.prosody.jwt).toEqual({ existingSecretName: "jitsi-jwt" });
      expect(v.jvb).toMatchObject({ UDPPort: 10000, useHostPort: true });
    }
    // Shard one's release waits for the router and its route (its Ingress goes only once they serve the host).
    expect(one.dependsOn.some((u) => u.includes("JitsiRouter"))).toBe(true);
    // Shard two after shard one: an upgrade restarts them in turn.
    expect(two.dependsOn).toContain(one.urn);
  });

  it("budgets: each shard's web, and Prosody, Jicofo, videobridges and the router across shards", () => {
    const pdbs = inNs("kubernetes:policy/v1:PodDisruptionBudget", "jitsi").map((x) => x.inputs as any);
    const byName = Object.fromEntries(pdbs.map((p) => [p.metadata.name, p.spec]));
    expect(Object.keys(byName).sort()).toEqual(["jitsi-2-web", "jitsi-haproxy", "jitsi-jicofo", "jitsi-jvb", "jitsi-keycloak-adapter", "jitsi-prosody", "jitsi-web"]);
    for (const spec of Object.values(byName) as any[]) expect(spec.minAvailable).toBe(1);
    expect(byName["jitsi-prosody"].selector.matchLabels).toEqual({ "app.kubernetes.io/name": "jitsi-meet", "app.kubernetes.io/component": "prosody" });
    expect(byName["jitsi-web"].selector.matchLabels["app.kubernetes.io/instance"]).toBe("jitsi");
    expect(byName["jitsi-2-web"].selector.matchLabels["app.kubernetes.io/instance"]).toBe("jitsi-2");
  });

  it("the shard router: pinned HAProxy ×2 spread over nodes, its config naming both shards' web Services, its peers' Services first", () => {
    const sts = inNs("kubernetes:apps/v1:StatefulSet", "jitsi").find((x) => (x.inputs as any).metadata.name === "jitsi-haproxy")!;
    const obj = sts.inputs as any;
    expect(() => new StatefulSet(obj).validate()).not.toThrow();
    expect(obj.spec.replicas).toBe(2);
    expect(obj.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" });
    const c = obj.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^docker\.io\/library\/haproxy:3\.4\.\d+-alpine$/);
    const cm = inNs("kubernetes:core/v1:ConfigMap", "jitsi").find((x) => (x.inputs as any).metadata.name === "jitsi-haproxy")!;
    const cfg = (cm.inputs as any).data["haproxy.cfg"];
    expect(haproxyServerTargets(cfg).filter((t) => t.backend === "rooms").map((t) => t.service)).toEqual(["jitsi-jitsi-meet-web", "jitsi-2-jitsi-meet-web"]);
    // The pods read the peers' ClusterIPs from service links: the per-pod Services exist before them.
    const peers = inNs("kubernetes:core/v1:Service", "jitsi").filter((x) => /^jitsi-haproxy-\d$/.test((x.inputs as any).metadata.name));
    expect(peers).toHaveLength(2);
    for (const p of peers) expect(sts.dependsOn).toContain(p.urn);
    for (const pod of ["jitsi-haproxy-0", "jitsi-haproxy-1"]) expect(cfg).toContain(`\${${serviceHostEnv(pod)}}`);
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
    expect(sites.length).toBe(new Set(jitsiReleases().map((r) => r.inputs.namespace)).size);
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
      // The login paths of the Jitsi host reach the adapter; the rest goes to Jitsi web (a
      // dedicated Jitsi: the chart's Ingress) or to the shard router (the shared Jitsi: the same
      // route). test/edge.test.ts validates the route against the CRDs.
      const route = inNs("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", site.ns).find((x) => (x.inputs as any).metadata.name === "jitsi-keycloak-adapter")!;
      expect((route.inputs as any).spec.hostnames).toEqual([site.host]);
      const sharded = site.ns === "jitsi";
      expect((route.inputs as any).spec.rules).toEqual([
        { matches: [{ path: { type: "PathPrefix", value: "/oidc/" } }], backendRefs: [{ group: "", kind: "Service", name: "jitsi-keycloak-adapter", port: (svc.inputs as any).spec.ports[0].port }] },
        ...(sharded ? [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ group: "", kind: "Service", name: "jitsi-haproxy", port: 80 }] }] : []),
      ]);
      // Its Gateway: a dedicated Jitsi's is the bundle's unannotated one, reusing the certificate
      // the chart's Ingress asks for; the shared Jitsi's (no chart Ingress) asks for it itself.
      const parent = (route.inputs as any).spec.parentRefs[0];
      const gw = inNs("kubernetes:gateway.networking.k8s.io/v1:Gateway", site.ns).find((x) => (x.inputs as any).metadata.name === parent.name)!;
      const v = values(jitsiReleases().find((x) => x.inputs.namespace === site.ns)!);
      const listener = (gw.inputs as any).spec.listeners.find((l: any) => l.name === parent.sectionName);
      expect(listener.hostname).toBe(site.host);
      if (sharded) {
        expect((gw.inputs as any).metadata.annotations).toEqual({ "cert-manager.io/cluster-issuer": "letsencrypt" });
        expect(listener.tls.certificateRefs[0].name).toBe("meet-liiibre-coop-tls");
      } else {
        expect((gw.inputs as any).metadata.annotations).toBeUndefined();
        expect(listener.tls.certificateRefs[0].name).toBe(v.web.ingress.tls[0].secretName);
        expect(v.web.ingress.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
      }
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
