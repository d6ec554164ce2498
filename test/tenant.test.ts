/**
 * The dedicated Tenant bundle: its namespace and the facts the policies read, the Helm values
 * of its apps (S3, database, OIDC, quota, Matrix rules), states, quotas, DNS guide, secrets
 * and URN stability when tenants come, go or move in the list.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ANNOTATIONS, LABELS } from "../components/conventions";
import { resourceQuotaSpec } from "../components/tenant/quota";
import { ConfigMap, Pod } from "kubernetes-models/v1";
import { resourcesFor } from "../components/apps/sizing";
import { s3ProviderInstallCommand, s3ProviderRequirements } from "../components/apps/matrix";
import { IMAGES, SYNAPSE_S3_PROVIDER_LOCK } from "../components/versions";
import { MOCK_SECRET_MARKER, isSecretMarker, secretAwareInputs, type Evaluation, type RecordedResource } from "../scripts/harness";
import { DERIVED_ANNOTATION, deriveFromKey } from "../components/kit";
import { T, INGRESS, evalBundles, objectOf, ofType, release, under, values, yaml } from "./bundle-fixtures";
import { isObjectsRelease } from "../components/kit/objects";

const TENANT = "liiibre:tenant:Tenant";
/**
 * acme is in the lean layout (the default: one Secret `bundle-liiibre` for the apps reading single
 * keys, bound secrets derived); legacy-coop is an organisation created before it (`per-app`: a
 * Secret per app, `s3-credentials`, bound secrets each their own resource).
 */
const LEGACY = { slug: "legacy-coop", name: "Legacy Coop", domain: "legacy.example.org", plan: "dedicated", users: 30, dataLayout: "per-app" };
let ev: Evaluation;
beforeAll(async () => {
  ev = await evalBundles([T.acme, T.exempt, T.realm, T.small1, T.small2, LEGACY]);
}, 120_000);

const nsOf = (slug: string) => ev.resources.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.name === `${slug}-namespace`)!;

describe("namespace", () => {
  it("is labelled and annotated for the policy pack, and protected", () => {
    const ns = nsOf("acme");
    const md = ns.inputs.metadata as any;
    expect(md.name).toBe("acme");
    expect(md.labels).toMatchObject({ [LABELS.tenant]: "acme", [LABELS.layer]: "tenant", [LABELS.stateful]: "true" });
    expect(md.annotations).toEqual({ [ANNOTATIONS.users]: "120", [ANNOTATIONS.quotaPerUserGB]: "10", [ANNOTATIONS.plan]: "dedicated" });
    expect(ns.protect).toBe(true);
    expect(ns.retainOnDelete).toBe(true);
  });

  it("carries the exemption reason and the exempted quota", () => {
    const md = nsOf("studio-son").inputs.metadata as any;
    expect(md.annotations[ANNOTATIONS.quotaExemption]).toBe("audiovisual post-production rushes");
    expect(md.annotations[ANNOTATIONS.quotaPerUserGB]).toBe("50");
  });
});

describe("Nextcloud values (sample tenant acme)", () => {
  it("stores files in the tenant's bucket with the storage layer's credentials Secret", () => {
    const s3 = values(release(ev.resources, "acme-nextcloud-release")).nextcloud.objectStore.s3;
    // Lean: the storage layer's keys are in the bundle's Secret (same key names); the organisation's
    // one bucket, Nextcloud's objects under `nextcloud/` (objectPrefix: `nextcloud/urn:oid:<file id>`).
    expect(s3).toMatchObject({ enabled: true, bucket: "acme-apps", prefix: "nextcloud/urn:oid:", existingSecret: "bundle-liiibre", host: "s3.dev.liiibre.coop", usePathStyle: true });
    expect(s3.secretKeys).toEqual({ accessKey: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" });
    const legacy = values(release(ev.resources, "legacy-coop-nextcloud-release")).nextcloud.objectStore.s3;
    expect(legacy).toMatchObject({ bucket: "legacy-coop-nextcloud", existingSecret: "s3-credentials", secretKeys: s3.secretKeys });
    expect(legacy).not.toHaveProperty("prefix");
  });

  it("uses the CloudNativePG database through its app Secret", () => {
    const v = values(release(ev.resources, "acme-nextcloud-release"));
    expect(v.internalDatabase.enabled).toBe(false);
    // acme says no dataLayout: the lean one (docs/storage.md#data-layouts), the organisation's
    // cluster acme-pg, Nextcloud on its own role and database.
    expect(v.externalDatabase).toMatchObject({ enabled: true, type: "postgresql", host: "acme-pg-rw.acme.svc:5432", database: "nextcloud" });
    expect(v.externalDatabase.existingSecret).toEqual({ enabled: true, secretName: "acme-pg-nextcloud", usernameKey: "username", passwordKey: "password" });
    // The OrganisationDatabase is a child of the tenant, in its namespace; the role Secret is its child.
    const pg = under(ev.resources, TENANT, "acme").find((r) => r.type === "liiibre:storage:OrganisationDatabase" && r.name === "acme-db");
    expect(pg).toBeDefined();
    expect(under(ev.resources, "liiibre:storage:OrganisationDatabase", "acme-db").some((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata.name === "acme-pg-nextcloud")).toBe(true);
  });

  it("sets default_quota from the offer, or from the exemption", () => {
    const hook = (slug: string) => values(release(ev.resources, `${slug}-nextcloud-release`)).nextcloud.hooks["before-starting"] as string;
    expect(hook("acme")).toContain("occ config:app:set files default_quota --value '10 GB'");
    expect(hook("studio-son")).toContain("occ config:app:set files default_quota --value '50 GB'");
  });

  it("logs in through the estate realm's OIDC client, secret from a Secret", () => {
    const v = values(release(ev.resources, "acme-nextcloud-release"));
    const hook = v.nextcloud.hooks["before-starting"] as string;
    expect(hook).toContain("--clientid='acme-nextcloud'");
    expect(hook).toContain("--discoveryuri='https://auth.dev.liiibre.coop/realms/liiibre/.well-known/openid-configuration'");
    // The secret is read by occ from its environment, never passed on its command line.
    expect(hook).toContain("--clientsecret-env=OIDC_CLIENT_SECRET");
    expect(hook).not.toMatch(/--clientsecret=/);
    // From the app's entry of the bundle's Secret (lean), or its own Secret (per-app: one Secret for
    // Nextcloud: admin, Redis, relay, OIDC client).
    expect(v.nextcloud.extraEnv).toContainEqual({ name: "OIDC_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: "bundle-liiibre", key: "nextcloud.OIDC_CLIENT_SECRET" } } });
    const legacy = values(release(ev.resources, "legacy-coop-nextcloud-release"));
    expect(legacy.nextcloud.extraEnv).toContainEqual({ name: "OIDC_CLIENT_SECRET", valueFrom: { secretKeyRef: { name: "nextcloud-liiibre", key: "OIDC_CLIENT_SECRET" } } });
    const own = ofType(ev.resources, "kubernetes:core/v1:Secret").filter((r) => (r.inputs as any).metadata.namespace === "acme");
    expect(own.map((r) => (r.inputs as any).metadata.name)).not.toContain("nextcloud-oidc");
    const client = ofType(ev.resources, "keycloak:openid/client:Client").find((r) => r.name === "acme-nextcloud-oidc")!;
    expect(client.inputs).toMatchObject({ realmId: "liiibre", clientId: "acme-nextcloud", accessType: "CONFIDENTIAL", validRedirectUris: ["https://cloud.acme.example.org/apps/user_oidc/code"] });
    expect(client.inputs.clientSecret).toBe("[secret]");
  });

  it("a tenant with dedicatedRealm gets its own protected realm and its clients live there", () => {
    const realm = ofType(ev.resources, "keycloak:index/realm:Realm").find((r) => r.name === "senat-petitions-realm")!;
    expect(realm.inputs.realm).toBe("senat-petitions");
    expect(realm.protect).toBe(true);
    const hook = values(release(ev.resources, "senat-petitions-nextcloud-release")).nextcloud.hooks["before-starting"] as string;
    expect(hook).toContain("https://auth.dev.liiibre.coop/realms/senat-petitions/.well-known/openid-configuration");
    expect(ofType(ev.resources, "keycloak:index/organization:Organization").map((o) => o.inputs.alias)).not.toContain("senat-petitions");
  });

  it("wires each office suite to the formats it handles best", () => {
    const hook = values(release(ev.resources, "acme-nextcloud-release")).nextcloud.hooks["before-starting"] as string;
    const def = JSON.parse(/defFormats --value '([^']+)'/.exec(hook)![1]);
    expect(def).toMatchObject({ docx: "true", xlsx: "true", pptx: "true", odt: "false", ods: "false", odp: "false" });
    expect(hook).toContain("occ config:app:set richdocuments wopi_url --value 'https://collabora.acme.example.org/'");
    expect(hook).toContain("occ config:app:set onlyoffice DocumentServerUrl --value 'https://office.acme.example.org/'");
    // Collabora alone (studio-son): no OnlyOffice wiring at all.
    const solo = values(release(ev.resources, "studio-son-nextcloud-release")).nextcloud.hooks["before-starting"] as string;
    expect(solo).not.toContain("onlyoffice");
    expect(solo).toContain("richdocuments");
  });
});

describe("Matrix values (sample tenant acme)", () => {
  const synapse = () => yaml(values(release(ev.resources, "acme-matrix-release")).synapse.additional["10-liiibre.yaml"].config);

  it("turns end-to-end encryption off by default and keeps federation open", () => {
    const cfg = synapse();
    expect(cfg.encryption_enabled_by_default_for_room_type).toBe("off");
    expect(cfg).not.toHaveProperty("federation_domain_whitelist");
    const v = values(release(ev.resources, "acme-matrix-release"));
    expect(v.serverName).toBe("acme.example.org");
    expect(JSON.parse(v.wellKnownDelegation.additional.server)).toEqual({ "m.server": "matrix.acme.example.org:443" });
  });

  it("publishes the client well-known with e2ee off", () => {
    const v = values(release(ev.resources, "acme-matrix-release"));
    expect(v.wellKnownDelegation.enabled).toBe(true);
    expect(JSON.parse(v.wellKnownDelegation.additional.client)).toEqual({
      "m.homeserver": { base_url: "https://matrix.acme.example.org" },
      "io.element.e2ee": { default: false },
    });
  });

  it("stores media in the tenant's bucket with credentials from the Secret, as a mounted credentials file", () => {
    const cfg = synapse();
    // The organisation's one bucket, the media under `matrix-media/` (the provider's `prefix`).
    expect(cfg.media_storage_providers[0]).toMatchObject({ module: "s3_storage_provider.S3StorageProviderBackend", config: { bucket: "acme-apps", prefix: "matrix-media/", endpoint_url: "https://s3.dev.liiibre.coop" } });
    // No key in the values: boto3 finds them through AWS_SHARED_CREDENTIALS_FILE.
    expect(cfg.media_storage_providers[0].config).not.toHaveProperty("access_key_id");
    expect(cfg.media_storage_providers[0].config).not.toHaveProperty("secret_access_key");
    const v = values(release(ev.resources, "acme-matrix-release")).synapse;
    // The chart's schema takes name/value env entries only (no valueFrom).
    for (const e of v.extraEnv) expect(Object.keys(e).sort()).toEqual(["name", "value"]);
    expect(v.extraEnv).toContainEqual({ name: "AWS_SHARED_CREDENTIALS_FILE", value: "/secrets/s3/credentials" });
    // Only the `credentials` item: from the bundle's Secret (lean) Synapse sees nothing else.
    expect(v.extraVolumes).toContainEqual({ name: "s3-credentials", secret: { secretName: "bundle-liiibre", items: [{ key: "credentials", path: "credentials" }] } });
    expect(v.extraVolumeMounts).toContainEqual({ name: "s3-credentials", mountPath: "/secrets/s3", readOnly: true });
    expect(values(release(ev.resources, "legacy-coop-matrix-release")).synapse.extraVolumes).toContainEqual({ name: "s3-credentials", secret: { secretName: "s3-credentials", items: [{ key: "credentials", path: "credentials" }] } });
  });

  it("lean: the same install with the lock's file inline (piped to pip's -r /dev/stdin), no ConfigMap", () => {
    const v = values(release(ev.resources, "acme-matrix-release")).synapse;
    const init = v.extraInitContainers.find((c: any) => c.name === "s3-storage-provider");
    expect(init.command).toEqual(["sh", "-c", `printf '%s' "$S3_PROVIDER_REQUIREMENTS" | ${s3ProviderInstallCommand(SYNAPSE_S3_PROVIDER_LOCK, "/dev/stdin").join(" ")}`]);
    expect(init.env).toEqual([{ name: "S3_PROVIDER_REQUIREMENTS", value: s3ProviderRequirements() }]);
    expect(init.volumeMounts).toEqual([{ name: "s3-storage-provider", mountPath: "/s3-storage-provider" }]);
    expect(v.extraVolumes.map((x: any) => x.name)).not.toContain("s3-storage-provider-requirements");
    expect(under(ev.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:core/v1:ConfigMap")).toEqual([]);
    // The CronJob's sync script likewise: `python3 -c`, nothing mounted.
    const cron = under(ev.resources, TENANT, "acme").find((r) => r.type === "kubernetes:batch/v1:CronJob")!;
    const pod = (cron.inputs as any).spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].command.slice(0, 2)).toEqual(["python3", "-c"]);
    expect(pod.volumes).toBeUndefined();
  });

  it("installs the S3 provider from an exact lock: no resolver, no build, the lock's file mounted, the module on PYTHONPATH", () => {
    // The per-app layout (organisations created before the lean one) mounts it from a ConfigMap.
    const v = values(release(ev.resources, "legacy-coop-matrix-release")).synapse;
    const init = v.extraInitContainers.find((c: any) => c.name === "s3-storage-provider");
    expect(init.image).toBe(`${IMAGES.python.repository}:${IMAGES.python.tag}`);
    expect(init.command).toEqual(s3ProviderInstallCommand());
    expect(init.command).toEqual(expect.arrayContaining(["--no-deps", "--only-binary=:all:", "-r", "/requirements/requirements.txt", "--target", "/s3-storage-provider"]));
    // Nothing named on the command line: only the lock file decides what is installed.
    expect(init.command.filter((a: string) => /==/.test(a))).toEqual([]);
    expect(init.volumeMounts).toContainEqual({ name: "s3-storage-provider-requirements", mountPath: "/requirements", readOnly: true });
    expect(v.extraVolumes).toContainEqual({ name: "s3-storage-provider-requirements", configMap: { name: "synapse-s3-provider-requirements" } });
    expect(v.extraVolumeMounts).toContainEqual({ name: "s3-storage-provider", mountPath: "/s3-storage-provider", readOnly: true });
    expect(v.extraEnv).toContainEqual({ name: "PYTHONPATH", value: "/s3-storage-provider" });
    const cm = ev.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "legacy-coop-matrix-s3-provider-requirements")!;
    expect(() => new ConfigMap(cm.inputs as any).validate()).not.toThrow();
    expect((cm.inputs as any).metadata).toMatchObject({ name: "synapse-s3-provider-requirements", namespace: "legacy-coop" });
    const lines = (cm.inputs as any).data["requirements.txt"].trim().split("\n");
    expect(lines.map((l: string) => l.split("==")[0]).sort()).toEqual(SYNAPSE_S3_PROVIDER_LOCK.map((p) => p.name).sort());
    expect(lines).toContain("synapse-s3-storage-provider==1.5.0");
    // Exact versions only (PEP 440 release, optional post release), never a range.
    for (const l of lines) expect(l).toMatch(/^[a-z0-9-]+==\d+(\.\d+)+(\.post\d+)?( --hash=sha256:[0-9a-f]{64})?$/);
    // The boto3 closure: boto3 and botocore of one release (boto3 X.Y.Z wants botocore X.Y.Z).
    const ver = (n: string) => SYNAPSE_S3_PROVIDER_LOCK.find((p) => p.name === n)!.version;
    expect(ver("boto3")).toBe(ver("botocore"));
  });

  it("hash-checks the install once every pin has its hash, and only then", () => {
    const h = "a".repeat(64);
    const all = [{ name: "x", version: "1.0.0", sha256: h }, { name: "y", version: "2.0.0", sha256: h }];
    expect(s3ProviderInstallCommand(all)).toContain("--require-hashes");
    expect(s3ProviderRequirements(all)).toBe(`x==1.0.0 --hash=sha256:${h}\ny==2.0.0 --hash=sha256:${h}\n`);
    // pip refuses a half-hashed file under --require-hashes; without it, it would check nothing.
    expect(s3ProviderInstallCommand([all[0], { name: "y", version: "2.0.0" }])).not.toContain("--require-hashes");
    expect(s3ProviderInstallCommand(SYNAPSE_S3_PROVIDER_LOCK)).toEqual(s3ProviderInstallCommand());
  });

  it("logs in through Keycloak with the secret read from a file", () => {
    const p = synapse().oidc_providers[0];
    expect(p).toMatchObject({ issuer: "https://auth.dev.liiibre.coop/realms/liiibre", client_id: "acme-matrix", client_secret_path: "/secrets/oidc/OIDC_CLIENT_SECRET" });
    expect(p).not.toHaveProperty("client_secret");
    const v = values(release(ev.resources, "acme-matrix-release"));
    // Only the client secret of the app's Secret is mounted there (not the macaroon or signing keys).
    expect(v.synapse.extraVolumes).toContainEqual({ name: "oidc", secret: { secretName: "synapse-liiibre", items: [{ key: "OIDC_CLIENT_SECRET", path: "OIDC_CLIENT_SECRET" }] } });
    expect(v.synapse.postgres.password).toEqual({ secret: "acme-pg-synapse", secretKey: "password" });
  });
});

describe("HedgeDoc", () => {
  it("uploads to the tenant's bucket and logs in through Keycloak", () => {
    const d = objectOf(ev.resources, "kubernetes:apps/v1:Deployment", "acme", "hedgedoc")!;
    const env = Object.fromEntries(((d.inputs as any).spec.template.spec.containers[0].env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.CMD_IMAGE_UPLOAD_TYPE).toBe("minio");
    // The organisation's one bucket: HedgeDoc's keys are `uploads/…` at its root (it has no prefix setting).
    expect(env.CMD_S3_BUCKET).toBe("acme-apps");
    expect([env.CMD_MINIO_ENDPOINT, env.CMD_MINIO_PORT, env.CMD_MINIO_SECURE]).toEqual(["s3.dev.liiibre.coop", "443", "true"]);
    expect(env.CMD_MINIO_SECRET_KEY).toEqual({ secretKeyRef: { name: "bundle-liiibre", key: "AWS_SECRET_ACCESS_KEY" } });
    expect(env.CMD_SESSION_SECRET).toEqual({ secretKeyRef: { name: "bundle-liiibre", key: "hedgedoc.CMD_SESSION_SECRET" } });
    const legacy = objectOf(ev.resources, "kubernetes:apps/v1:Deployment", "legacy-coop", "hedgedoc")!;
    const legacyEnv = Object.fromEntries(((legacy.inputs as any).spec.template.spec.containers[0].env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(legacyEnv.CMD_MINIO_SECRET_KEY).toEqual({ secretKeyRef: { name: "s3-credentials", key: "AWS_SECRET_ACCESS_KEY" } });
    expect(legacyEnv.CMD_SESSION_SECRET).toEqual({ secretKeyRef: { name: "hedgedoc-liiibre", key: "CMD_SESSION_SECRET" } });
    expect(env.CMD_OAUTH2_CLIENT_ID).toBe("acme-hedgedoc");
    expect(env.CMD_OAUTH2_AUTHORIZATION_URL).toBe("https://auth.dev.liiibre.coop/realms/liiibre/protocol/openid-connect/auth");
    expect(env.CMD_ALLOW_ANONYMOUS).toBe("false");
  });
});

describe("ingress hosts and TLS", () => {
  it("serves every app under the tenant's domain with a cert-manager certificate", () => {
    // The apps the program deploys itself: Gateway API routes on the bundle's Gateway, a listener per host.
    const gateways = under(ev.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway");
    expect(gateways.map((r) => (r.inputs as any).metadata.name).sort()).toEqual(["bundle", "bundle-chart-tls"]);
    // The well-known documents on the homeserver host ride on the chart's Synapse certificate (on the Gateway that asks for none).
    const wk = gateways.find((r) => (r.inputs as any).metadata.name === "bundle-chart-tls")!;
    expect((wk.inputs as any).metadata.annotations?.["cert-manager.io/cluster-issuer"]).toBeUndefined();
    expect((wk.inputs as any).spec.listeners[0]).toMatchObject({ hostname: "matrix.acme.example.org", tls: { certificateRefs: [{ name: "matrix-synapse-certmanager-tls" }] } });
    const wkRoute = under(ev.resources, TENANT, "acme").find((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" && (r.inputs as any).metadata.name === "matrix-well-known-homeserver")!;
    expect((wkRoute.inputs as any).spec.rules).toEqual([
      { matches: [{ path: { type: "PathPrefix", value: "/.well-known/matrix" } }], backendRefs: [{ group: "", kind: "Service", name: "matrix-well-known", port: 8010 }] },
    ]);
    const own = gateways.filter((r) => r !== wk);
    const hosts = own.flatMap((r) => ((r.inputs as any).spec.listeners as any[]).map((x) => x.hostname)).sort();
    expect(hosts).toEqual(["collabora.acme.example.org", "office.acme.example.org", "pad.acme.example.org"]);
    for (const r of own) {
      expect((r.inputs as any).metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
      // Each listener keeps the Secret its host had with a Gateway of its own (same Certificates).
      for (const l of (r.inputs as any).spec.listeners) expect(l.tls.certificateRefs[0].name).toBe(`${l.hostname.replace(/\./g, "-")}-tls`);
    }
    expect(under(ev.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress")).toEqual([]);
    // The charts' Ingresses: the edge's class and the cluster issuer.
    const nc = values(release(ev.resources, "acme-nextcloud-release")).ingress;
    expect(nc.className).toBe("traefik");
    expect(nc.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    expect(nc.tls[0].hosts).toEqual(["cloud.acme.example.org"]);
    const mx = values(release(ev.resources, "acme-matrix-release"));
    expect([mx.synapse.ingress.host, mx.elementWeb.ingress.host]).toEqual(["matrix.acme.example.org", "chat.acme.example.org"]);
    expect(mx.certManager.clusterIssuer).toBe("letsencrypt");
    expect(mx.ingress).toEqual({ className: "traefik" });
  });
});

describe("DNS guide and URLs", () => {
  it("lists one A/AAAA record per host and ingress address plus the Matrix federation SRV", () => {
    const out = (ev.outputs.tenants as any).acme;
    const hosts = ["cloud", "office", "collabora", "matrix", "chat", "pad"].map((h) => `${h}.acme.example.org`);
    const a = out.dnsRecords.filter((r: any) => r.type === "A");
    const aaaa = out.dnsRecords.filter((r: any) => r.type === "AAAA");
    expect(a).toHaveLength(hosts.length * INGRESS.ipv4.length);
    expect(aaaa).toHaveLength(hosts.length * INGRESS.ipv6.length);
    for (const h of hosts) expect(a.filter((r: any) => r.name === h).map((r: any) => r.value).sort()).toEqual([...INGRESS.ipv4].sort());
    expect(out.dnsRecords).toContainEqual(expect.objectContaining({ name: "_matrix-fed._tcp.acme.example.org", type: "SRV", value: "10 0 443 matrix.acme.example.org." }));
    expect(out.urls).toMatchObject({ nextcloud: "https://cloud.acme.example.org", element: "https://chat.acme.example.org", jitsi: "https://meet.dev.liiibre.coop" });
  });

  it("gives shared organisations the shared instance's URLs and nothing to create", () => {
    const out = (ev.outputs.tenants as any)["petite-asso"];
    expect(out.dnsRecords).toEqual([]);
    expect(out.urls.nextcloud).toBe("https://cloud.mutualise.dev.liiibre.coop");
  });

  it("gives a dedicated-Jitsi tenant its own meet host", () => {
    const out = (ev.outputs.tenants as any)["studio-son"];
    expect(out.urls.jitsi).toBe("https://meet.studio-son.example.org");
    expect(out.dnsRecords.map((r: any) => r.name)).toContain("meet.studio-son.example.org");
    expect(out.dnsRecords.some((r: any) => r.type === "SRV")).toBe(false);
  });
});

describe("quota and limits", () => {
  it("sizes the ResourceQuota from the sizing table (worked example)", () => {
    // nextcloud 250+100 = 350m, cron 50+10 = 60m, redis 50+5 = 55 → 60m, postgres 100+40 = 140m:
    // 610m of requests, × 1.5 headroom = 915m; memory 512+192 + 256+32 + 64+16 + 256+96 = 1424Mi × 1.5 = 2136Mi.
    const hard = resourceQuotaSpec(["nextcloud"], 100).hard;
    expect(hard["requests.cpu"]).toBe("915m");
    expect(hard["requests.memory"]).toBe("2136Mi");
    expect(hard["limits.cpu"]).toBe(`${915 * 4}m`);
    expect(hard["services.loadbalancers"]).toBe("0");
  });

  it("counts the replicas `ha` runs (worked example): second database instances, Element Web, both HAProxies, Collabora's two half-size pods", () => {
    const hard = (apps: any[], users: number, instances: number) => resourceQuotaSpec(apps, users, "per-app", [], instances).hard;
    // nextcloud + matrix, 100 accounts. One instance: nextcloud 350m/704Mi, cron 60m/288Mi, redis 55 → 60m/80Mi,
    // its postgres 140m/352Mi, synapse 250m/640Mi, element-web 10m/32Mi, matrix-haproxy 55 → 60m/72 → 80Mi,
    // synapse's postgres 140m/352Mi = 1070m / 2528Mi; × 1.5 = 1605m / 3792Mi; 8 pods × 2 + 10 = 26.
    expect(hard(["nextcloud", "matrix"], 100, 1)).toMatchObject({ "requests.cpu": "1605m", "requests.memory": "3792Mi", "limits.cpu": `${1605 * 4}m`, "limits.memory": `${3792 * 2}Mi`, pods: "26" });
    // With ha: + a second instance of each database (2 × 140m/352Mi), Element Web (10m/32Mi) and the
    // chart's HAProxy (60m/80Mi) = + 350m / 816Mi → 1420m / 3344Mi; × 1.5 = 2130m / 5016Mi; 12 pods → 34.
    expect(hard(["nextcloud", "matrix"], 100, 2)).toMatchObject({ "requests.cpu": "2130m", "requests.memory": "5016Mi", "limits.cpu": `${2130 * 4}m`, "limits.memory": `${5016 * 2}Mi`, pods: "34" });
    // Collabora, 200 accounts. One pod sized for 200: 300 + 200 = 500m, 768 + 2 × 256 = 1280Mi → 750m / 1920Mi, 12 pods;
    // no proxy. With ha: two pods sized for 100 each (400m/1024Mi) and two proxies for 200 (50 + 10 = 60m,
    // 64 + 16 = 80Mi) = 920m / 2208Mi → 1380m / 3312Mi; 4 pods → 18.
    expect(hard(["collabora"], 200, 1)).toMatchObject({ "requests.cpu": "750m", "requests.memory": "1920Mi", pods: "12" });
    expect(hard(["collabora"], 200, 2)).toMatchObject({ "requests.cpu": "1380m", "requests.memory": "3312Mi", pods: "18" });
    // The default is one instance.
    expect(resourceQuotaSpec(["collabora"], 200).hard).toEqual(hard(["collabora"], 200, 1));
  });

  it("grows with users and with apps", () => {
    const cpu = (apps: any[], users: number) => parseInt(resourceQuotaSpec(apps, users).hard["requests.cpu"], 10);
    expect(cpu(["nextcloud"], 1000)).toBeGreaterThan(cpu(["nextcloud"], 100));
    expect(cpu(["nextcloud", "matrix"], 100)).toBeGreaterThan(cpu(["nextcloud"], 100));
  });

  it("every database instance gets the postgres profile for the bundle's accounts, within the LimitRange max", () => {
    const lr = objectOf(ev.resources, "kubernetes:core/v1:LimitRange", "acme", "bundle")!;
    const max = (lr.inputs as any).spec.limits[0].max;
    const clusters = under(ev.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster");
    // acme (120 accounts, default apps, lean layout): one cluster for its nextcloud, synapse and hedgedoc databases.
    expect(clusters.length).toBe(1);
    // The profile's fixed part once, its per-account part per database: 100m + 40m × 1.2 × 3 = 244 → 250m;
    // 256Mi + 96Mi × 1.2 × 3 = 601.6 → 608Mi (16Mi steps); limits ×4 CPU, ×2 memory.
    const want = { requests: { cpu: "250m", memory: "608Mi" }, limits: { cpu: "1000m", memory: "1216Mi" } };
    // A per-app instance of the same bundle: 100m + 40m × 1.2 = 148 → 150m; 256Mi + 96Mi × 1.2 = 371.2 → 384Mi.
    expect(resourcesFor("postgres", 120)).toEqual({ requests: { cpu: "150m", memory: "384Mi" }, limits: { cpu: "600m", memory: "768Mi" } });
    for (const c of clusters) {
      const res = (c.inputs as any).spec.resources;
      expect(res, c.name).toEqual(want);
      // CloudNativePG's spec.resources is a core/v1 ResourceRequirements.
      expect(() => new Pod({ metadata: { name: "x" }, spec: { containers: [{ name: "x", image: "x:1", resources: res }] } }).validate()).not.toThrow();
      expect(parseInt(res.limits.cpu, 10)).toBeLessThanOrEqual(parseInt(max.cpu, 10));
      expect(parseInt(res.limits.memory, 10)).toBeLessThanOrEqual(parseInt(max.memory, 10));
    }
  });

  it("every container we declare fits the LimitRange max and the quota", () => {
    const lr = objectOf(ev.resources, "kubernetes:core/v1:LimitRange", "acme", "bundle")!;
    const max = (lr.inputs as any).spec.limits[0].max;
    const n = (q: string) => parseInt(q, 10);
    for (const d of under(ev.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:apps/v1:Deployment")) {
      for (const c of (d.inputs as any).spec.template.spec.containers) {
        expect(n(c.resources.limits.cpu)).toBeLessThanOrEqual(n(max.cpu));
        expect(n(c.resources.limits.memory)).toBeLessThanOrEqual(n(max.memory));
      }
    }
  });
});

describe("states", () => {
  let states: Evaluation;
  beforeAll(async () => {
    states = await evalBundles([{ ...T.acme, state: "suspended" }, { ...T.exempt, state: "decommissioned" }]);
  }, 120_000);

  it("suspended with a dedicated Jitsi: its Keycloak adapter is scaled to zero too (no new logins)", async () => {
    const ev2 = await evalBundles([{ ...T.exempt, state: "suspended" }]);
    const dep = objectOf(ev2.resources, "kubernetes:apps/v1:Deployment", "studio-son", "jitsi-keycloak-adapter")!;
    expect((dep.inputs as any).spec.replicas).toBe(0);
  }, 120_000);

  it("suspended: workloads scaled to zero, data untouched", () => {
    const deps = under(states.resources, TENANT, "acme").filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deps.length).toBeGreaterThan(0);
    for (const d of deps) expect((d.inputs as any).spec.replicas).toBe(0);
    expect(values(release(states.resources, "acme-nextcloud-release")).replicaCount).toBe(0);
    expect(under(states.resources, TENANT, "acme").some((r) => r.type === "liiibre:storage:TenantStorage")).toBe(true);
  });

  it("decommissioned: no app workload, every piece of data kept", () => {
    const rs = under(states.resources, TENANT, "studio-son");
    // Its objects release stays (quota, limit range, NetworkPolicies, backups): no app's release, no workload.
    expect(rs.filter((r) => (r.type === "kubernetes:helm.sh/v3:Release" && !isObjectsRelease(r.type, r.inputs)) || r.type === "kubernetes:apps/v1:Deployment")).toEqual([]);
    const ns = rs.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
    expect(ns.protect).toBe(true);
    expect(rs.filter((r) => r.type === "liiibre:storage:OrganisationDatabase").map((r) => r.name)).toEqual(["studio-son-db"]);
    expect(rs.filter((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster").map((r) => [r.name, r.protect, r.retainOnDelete])).toEqual([["studio-son-db-cluster", true, true]]);
    const buckets = rs.filter((r) => r.type === "minio:index/s3Bucket:S3Bucket" && r.protect);
    expect(buckets.map((b) => b.inputs.bucket)).toContain("studio-son-apps");
    // Credentials that open the kept data stay too: Nextcloud's entries of the bundle's Secret
    // (lean), re-derivable from the protected key.
    const shared = rs.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata.name === "bundle-liiibre")!;
    expect((shared.inputs as any).metadata.annotations[DERIVED_ANNOTATION]).toContain("nextcloud.nextcloud-password=nextcloud/admin");
    expect(rs.find((r) => r.name === "studio-son-derivation-key")!.protect).toBe(true);
  });
});

describe("secrets", () => {
  it("no secret value in Helm values, Deployments or outputs; Secrets hold Pulumi secrets only", () => {
    for (const r of ev.resources) {
      const text = JSON.stringify(r.inputs);
      expect(text.includes(MOCK_SECRET_MARKER), `${r.type} ${r.name}`).toBe(false);
      if (r.type === "kubernetes:core/v1:Secret") {
        // The Kubernetes SDK marks the whole stringData secret once a value in it is secret.
        const sd = (r.inputs as any).stringData;
        if (typeof sd === "string") expect(sd, r.name).toBe("[secret]");
        else for (const v of Object.values(sd ?? {})) expect(v, r.name).toBe("[secret]");
        expect((r.inputs as any).data, r.name).toBeUndefined();
      }
    }
    expect(JSON.stringify(ev.outputs).includes(MOCK_SECRET_MARKER)).toBe(false);
  });

  it("every password of the bundles comes from @pulumi/random", () => {
    const names = ofType(ev.resources, "random:index/randomPassword:RandomPassword").map((r) => r.name);
    const passwords = ofType(ev.resources, "random:index/randomPassword:RandomPassword");
    // Per-app (legacy-coop): bound to data or sessions, their own RandomPassword/RandomBytes, protected (docs/security.md, "Generated secrets").
    const seed = ev.resources.find((r) => r.type === "random:index/randomBytes:RandomBytes" && r.name === "legacy-coop-matrix-signing-key")!;
    expect(seed.inputs.length).toBe(32);
    expect(seed.protect).toBe(true);
    for (const n of ["legacy-coop-nextcloud-admin-password", "legacy-coop-nextcloud-redis-password", "legacy-coop-matrix-macaroon", "legacy-coop-hedgedoc-session-secret", "legacy-coop-derivation-key"]) {
      expect(names).toContain(n);
      expect(passwords.find((p) => p.name === n)!.protect, n).toBe(true);
    }
    // Lean (acme): the bundle's protected key is the only generated value; every other derives from it.
    expect(passwords.filter((p) => p.name.startsWith("acme-")).map((p) => p.name)).toEqual(["acme-derivation-key"]);
    expect(ev.resources.filter((r) => r.type === "random:index/randomBytes:RandomBytes" && r.name.startsWith("acme-"))).toEqual([]);
    expect(passwords.find((p) => p.name === "acme-derivation-key")!).toMatchObject({ protect: true, inputs: { length: 64, special: false } });
    for (const slug of ["acme", "legacy-coop"]) expect(values(release(ev.resources, `${slug}-matrix-release`)).synapse.signingKey).toEqual({ secret: "synapse-liiibre", secretKey: "signing.key" });
    // Rotatable: derived from the bundle's key in every layout, no resource of their own.
    for (const slug of ["acme", "legacy-coop"])
      for (const n of ["matrix-registration", "matrix-form-secret", "onlyoffice-jwt-secret", "collabora-admin-password", "nextcloud-oidc-secret", "matrix-oidc-secret", "hedgedoc-oidc-secret"]) {
        expect(names).not.toContain(`${slug}-${n}`);
      }
  });

  it("derived secrets stay secret: annotated by purpose on their Secret and pods, the value never in plaintext", () => {
    const secret = (name: string) => ofType(ev.resources, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.namespace === "acme" && (r.inputs as any).metadata.name === name)!;
    const ann = (r: RecordedResource) => (r.inputs as any).metadata.annotations?.[DERIVED_ANNOTATION];
    const legacy = (name: string) => ofType(ev.resources, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.namespace === "legacy-coop" && (r.inputs as any).metadata.name === name)!;
    // Per-app: each app's Secret; a bound secret (its own resource) is not annotated as derived.
    expect(ann(legacy("synapse-liiibre"))).toBe("OIDC_CLIENT_SECRET=oidc/matrix,registration=matrix/registration,secrets.yaml=matrix/form-secret");
    expect(ann(legacy("onlyoffice-jwt"))).toBe("JWT_SECRET=onlyoffice/jwt");
    expect(ann(legacy("nextcloud-liiibre"))).toBe("OIDC_CLIENT_SECRET=oidc/nextcloud");
    // Lean: Synapse's own Secret names its bound keys too (derived now); the others' entries are in the bundle's.
    expect(ann(secret("synapse-liiibre"))).toBe("macaroon=matrix/macaroon,OIDC_CLIENT_SECRET=oidc/matrix,registration=matrix/registration,secrets.yaml=matrix/form-secret,signing.key=matrix/signing-key");
    expect(ann(secret("bundle-liiibre")).split(",")).toEqual(expect.arrayContaining(["onlyoffice.JWT_SECRET=onlyoffice/jwt", "nextcloud.OIDC_CLIENT_SECRET=oidc/nextcloud", "nextcloud.nextcloud-password=nextcloud/admin"]));
    // Both readers of the JWT restart when its derivation changes.
    const dep = objectOf(ev.resources, "kubernetes:apps/v1:Deployment", "acme", "onlyoffice")!;
    expect((dep.inputs as any).spec.template.metadata.annotations[DERIVED_ANNOTATION]).toBe("JWT_SECRET=onlyoffice/jwt");
    expect(values(release(ev.resources, "acme-nextcloud-release")).podAnnotations[DERIVED_ANNOTATION]).toContain("ONLYOFFICE_JWT_SECRET=onlyoffice/jwt");
    // The values the mocks derive (the mock key is known) appear in no plaintext input or output.
    const key = `${MOCK_SECRET_MARKER}-password-acme-derivation-key`;
    const derived = ["oidc/nextcloud", "oidc/matrix", "oidc/hedgedoc", "onlyoffice/jwt", "collabora/admin", "matrix/registration", "matrix/form-secret", "nextcloud/admin", "nextcloud/redis", "matrix/macaroon", "hedgedoc/session"].map((p) => deriveFromKey(key, p));
    const text = JSON.stringify(ev.resources.map((r) => r.inputs)) + JSON.stringify(ev.outputs);
    for (const d of derived) expect(text.includes(d)).toBe(false);
    // Those are the values really sent (so the search above looks for the right strings), and
    // Keycloak's client and the app's Secret hold the same one.
    const raw = (r: RecordedResource, ...path: string[]) => {
      let v: any = secretAwareInputs(r);
      for (const k of path) v = isSecretMarker(v) ? (v.value as any)[k] : v[k];
      return isSecretMarker(v) ? v.value : v;
    };
    const client = ofType(ev.resources, "keycloak:openid/client:Client").find((r) => r.name === "acme-nextcloud-oidc")!;
    expect(raw(client, "clientSecret")).toBe(derived[0]);
    expect(raw(secret("bundle-liiibre"), "stringData", "nextcloud.OIDC_CLIENT_SECRET")).toBe(derived[0]);
    expect(raw(secret("bundle-liiibre"), "stringData", "onlyoffice.JWT_SECRET")).toBe(derived[3]);
    expect(raw(secret("bundle-liiibre"), "stringData", "nextcloud.nextcloud-password")).toBe(derived[7]);
  });
});

describe("URN stability", () => {
  const urnsOf = (e: Evaluation, slug: string) =>
    e.resources
      .filter((r) => r.name === slug || r.name.startsWith(`${slug}-`) || r.urn.includes(`::${slug}-`))
      .filter((r) => r.urn.split("::")[2].includes(TENANT))
      .map((r) => r.urn)
      .sort();

  it("adding, removing or reordering tenants leaves the others' URNs unchanged", async () => {
    const before = await evalBundles([T.acme, T.exempt, T.realm, T.small1]);
    const after = await evalBundles([T.small2, T.realm, { ...T.acme, slug: "newcomer", domain: "newcomer.example.org" }, T.acme]); // exempt removed, newcomer added, order changed
    for (const slug of ["acme", "senat-petitions"]) {
      const a = urnsOf(before, slug);
      expect(a.length).toBeGreaterThan(40);
      expect(urnsOf(after, slug)).toEqual(a);
    }
  }, 120_000);
});
