/**
 * App modules and the catalogue: what is offered is deployed, what is not is refused by
 * validation; sizing follows the table; every chart and image is pinned.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { APPS, APP_NAMES, ConfigError, parseEstate } from "../components/estate";
import { MODULES } from "../components/apps";
import { nextcloudSetupScript, nextcloudValues, OFFICE_FORMATS } from "../components/apps/nextcloud";
import { JITSI_WEB_SELECTOR, jitsiCustomConfig, jitsiValues, widthFor } from "../components/apps/jitsi";
import { ELEMENT_WEB_SELECTOR, matrixValues, matrixWellKnown } from "../components/apps/matrix";
import { LIMIT_CPU_FACTOR, LIMIT_MEMORY_FACTOR, PROFILES, requestsFor, resourcesFor } from "../components/apps/sizing";
import { CHARTS, IMAGES } from "../components/versions";
import type { Evaluation } from "../scripts/harness";
import { T, config, evalBundles, ofType } from "./bundle-fixtures";
import { OBJECTS_CHART, isObjectsRelease } from "../components/kit/objects";

describe("catalogue and modules agree", () => {
  it("an app is available exactly when a module deploys it", () => {
    for (const a of APP_NAMES) expect(Boolean(MODULES[a]), a).toBe(APPS[a].available);
  });

  it("an app not deployed yet is refused by validation, naming the key and the allowed apps", () => {
    const unavailable = APP_NAMES.filter((a) => !APPS[a].available);
    expect(unavailable).toEqual(expect.arrayContaining(["etherpad", "discourse", "mobilizon", "decidim", "grist"]));
    for (const app of unavailable) {
      let err: unknown;
      try {
        parseEstate(config([{ ...T.acme, apps: ["nextcloud", app] }]));
      } catch (e) {
        err = e;
      }
      expect(err, app).toBeInstanceOf(ConfigError);
      const p = (err as ConfigError).problems.find((x) => x.path === "liiibre:tenants[0].apps[1]");
      expect(p?.message, app).toMatch(new RegExp(`^expected an app this project deploys \\(nextcloud \\| onlyoffice \\| collabora \\| matrix \\| hedgedoc \\| jitsi-dedicated\\), got "${app}"`));
    }
  });

  it("each module declares the buckets' owner apps its data needs", () => {
    // Apps whose module stores files have a bucket in the catalogue, and use it by suffix.
    expect(APPS.nextcloud.buckets).toEqual(["nextcloud"]);
    expect(APPS.matrix.buckets).toEqual(["matrix-media"]);
    expect(APPS.hedgedoc.buckets).toEqual(["hedgedoc"]);
    expect(MODULES.nextcloud!.databases).toEqual(["nextcloud"]);
    expect(MODULES.matrix!.databases).toEqual(["synapse"]);
  });
});

describe("sizing", () => {
  it("requests are base + per-100-users, rounded up, capped", () => {
    // Nextcloud: 250m + 100m per 100 accounts; 512Mi + 192Mi per 100 accounts.
    expect(requestsFor("nextcloud", 300)).toEqual({ cpu: 550, mem: 512 + 3 * 192 });
    // Redis 50m + 5m/100: 150 users → 57.5 → 60m (10m steps); 64 + 16×1.5 = 88 → 96Mi (16Mi steps).
    expect(requestsFor("redis", 150)).toEqual({ cpu: 60, mem: 96 });
    // Capped at cpuMax/memMax: scale out past that, not up.
    expect(requestsFor("nextcloud", 1_000_000)).toEqual({ cpu: 4000, mem: 8192 });
  });

  it("limits are the requests times the documented factors", () => {
    const r = resourcesFor("synapse", 400);
    const q = requestsFor("synapse", 400);
    expect(r.requests).toEqual({ cpu: `${q.cpu}m`, memory: `${q.mem}Mi` });
    expect(r.limits).toEqual({ cpu: `${q.cpu * LIMIT_CPU_FACTOR}m`, memory: `${q.mem * LIMIT_MEMORY_FACTOR}Mi` });
  });

  it("every profile is documented in docs/sizing.md", async () => {
    const fs = await import("node:fs");
    const doc = fs.readFileSync("docs/sizing.md", "utf8");
    for (const w of Object.keys(PROFILES)) expect(doc, w).toContain(`\`${w}\``);
  });
});

describe("app rules as code", () => {
  const ctx = { apps: ["nextcloud", "onlyoffice", "collabora"] as any[], domain: "x.org", quotaPerUserGB: 10, scim: false, oidc: undefined, groups: undefined };

  it("OnlyOffice opens OOXML, Collabora ODF, when both are there", () => {
    const s = nextcloudSetupScript(ctx);
    const def = JSON.parse(/defFormats --value '([^']+)'/.exec(s)![1]);
    for (const f of OFFICE_FORMATS.onlyoffice) expect(def[f]).toBe("true");
    for (const f of OFFICE_FORMATS.collabora) expect(def[f]).toBe("false");
    // OnlyOffice alone takes ODF too.
    const alone = JSON.parse(/defFormats --value '([^']+)'/.exec(nextcloudSetupScript({ ...ctx, apps: ["nextcloud", "onlyoffice"] }))![1]);
    for (const f of OFFICE_FORMATS.collabora) expect(alone[f]).toBe("true");
  });

  it("SCIM is a toggle", () => {
    expect(nextcloudSetupScript(ctx)).not.toContain("scimserviceprovider");
    expect(nextcloudSetupScript({ ...ctx, scim: true })).toContain("app scimserviceprovider");
  });

  it("quotes what it passes to the shell", () => {
    const s = nextcloudSetupScript({ ...ctx, groups: [{ slug: "o-brien", displayName: "O'Brien & co", quotaGB: 30, active: true, crossSharing: false }] });
    expect(s).toContain(`occ group:add --display-name 'O'\\''Brien & co' 'org-o-brien'`);
    expect(s).toContain("occ groupquota:set 'org-o-brien' '30 GB'");
  });

  it("Jitsi width follows a 16:9 height; bitrate caps land in config.js", () => {
    expect(widthFor(720)).toBe(1280);
    expect(widthFor(180)).toBe(320);
    expect(jitsiCustomConfig({ low: 1, standard: 2, high: 3 })).toContain('config.videoQuality.maxBitratesVideo = {"low":1,"standard":2,"high":3};');
  });

  it("the Matrix well-known documents", () => {
    expect(matrixWellKnown("a.org")).toEqual({
      client: { "m.homeserver": { base_url: "https://matrix.a.org" }, "io.element.e2ee": { default: false } },
      server: { "m.server": "matrix.a.org:443" },
    });
  });
});

describe("values builders (pure)", () => {
  const s3 = { host: "s3.x.org", url: "https://s3.x.org", region: "eu" };
  const oidc = { issuer: "https://auth.x.org/realms/r", clientId: "a-matrix", secretName: "matrix-oidc", accessRole: "member-a", accessClaim: "roles", groupWhitelist: ["org-a"] };
  const matrix = (state: "active" | "suspended", withOidc = true) =>
    matrixValues({
      ctx: { domain: "a.org", users: 50, state, s3, oidc: withOidc ? oidc : undefined },
      database: { host: "a-synapse-pg-rw.a.svc", port: 5432, appSecretName: "a-synapse-pg-app" },
      bucket: "a-matrix-media",
      credentialsSecretName: "s3-credentials",
    }) as any;

  it("matrix-stack: env name/value only, the credentials file mounted, OIDC volume only with a client", () => {
    const v = matrix("active");
    for (const e of v.synapse.extraEnv) expect(Object.keys(e).sort()).toEqual(["name", "value"]);
    const file = v.synapse.extraEnv.find((e: any) => e.name === "AWS_SHARED_CREDENTIALS_FILE").value;
    const vol = v.synapse.extraVolumes.find((x: any) => x.name === "s3-credentials");
    const mount = v.synapse.extraVolumeMounts.find((x: any) => x.name === "s3-credentials");
    // The file boto3 is told to read is the Secret key that the volume projects.
    expect(file).toBe(`${mount.mountPath}/${vol.secret.items[0].path}`);
    expect(vol.secret).toEqual({ secretName: "s3-credentials", items: [{ key: "credentials", path: "credentials" }] });
    expect(v.synapse.extraVolumes.map((x: any) => x.name)).toContain("oidc");
    const bare = matrix("active", false);
    expect(bare.synapse.extraVolumes.map((x: any) => x.name)).not.toContain("oidc");
    expect(bare.synapse.extraVolumeMounts.map((x: any) => x.name)).not.toContain("oidc");
  });

  it("matrix-stack: no chart Job needing the Kubernetes API (secrets are ours, MAS is off)", () => {
    const v = matrix("active");
    expect(v.initSecrets).toEqual({ enabled: false });
    expect(v.deploymentMarkers).toEqual({ enabled: false });
    // What initSecrets would otherwise generate is given from our Secret.
    for (const k of ["macaroon", "registrationSharedSecret", "signingKey"]) expect(v.synapse[k], k).toEqual({ secret: "synapse-liiibre", secretKey: expect.any(String) });
    expect(v.synapse.postgres.password).toEqual({ secret: "a-synapse-pg-app", secretKey: "password" });
  });

  it("matrix-stack: suspended scales Element Web to zero; the apex well-known gets no certificate and no redirect", () => {
    expect(matrix("active").elementWeb.replicas).toBe(1);
    expect(matrix("suspended").elementWeb.replicas).toBe(0);
    const wk = matrix("active").wellKnownDelegation;
    expect(wk).toMatchObject({ enabled: true, ingress: { tlsEnabled: false }, baseDomainRedirect: { enabled: false } });
    expect(wk).not.toHaveProperty("resources");
    expect(wk.ingress).not.toHaveProperty("host");
  });

  it("jitsi-meet: every secret from an existing Secret, and the JWT to Prosody only", () => {
    const v = jitsiValues({ host: "meet.x.org", resolution: 720, maxBitratesVideo: { low: 1, standard: 2, high: 3 } }) as any;
    expect([v.prosody.jwt.existingSecretName, v.jicofo.xmpp.existingSecretName, v.jvb.xmpp.existingSecretName]).toEqual(["jitsi-jwt", "jitsi-jicofo", "jitsi-jvb"]);
    expect(v).not.toHaveProperty("global");
    expect(v.web.extraEnvs).toMatchObject({ RESOLUTION: "720", RESOLUTION_WIDTH: "1280" });
  });

  it("nextcloud: S3 primary storage in the bundle's bucket, the cron sidecar sized", () => {
    const v = nextcloudValues({
      ctx: { apps: ["nextcloud"], domain: "a.org", namespace: "a", quotaPerUserGB: 10, oidc: undefined, groups: undefined, scim: false, users: 100, state: "active", s3 },
      database: { host: "a-nextcloud-pg-rw.a.svc", port: 5432, appSecretName: "a-nextcloud-pg-app" },
      bucket: "a-nextcloud",
      credentialsSecretName: "s3-credentials",
    }) as any;
    expect(v.nextcloud.objectStore.s3).toMatchObject({ enabled: true, bucket: "a-nextcloud", host: "s3.x.org", existingSecret: "s3-credentials" });
    expect(v.externalDatabase.host).toBe("a-nextcloud-pg-rw.a.svc:5432");
    expect(v.cronjob).toEqual({ enabled: true, sidecar: { resources: resourcesFor("nextcloud-cron", 100) } });
    expect(v.cronjob).not.toHaveProperty("resources");
  });

  // Operations (issue 12) inside the builders: mail through the relay, HA fronts.
  const relay = { host: "relay.x.org", port: 587, tls: "starttls" as const, user: "tx", from: { accounts: "a@x.org", notifications: "n@x.org", alerts: "al@x.org" } };
  const ncValues = (mail?: typeof relay) =>
    nextcloudValues({
      ctx: { apps: ["nextcloud"], domain: "a.org", namespace: "a", quotaPerUserGB: 10, oidc: undefined, groups: undefined, scim: false, users: 100, state: "active", s3, mail },
      database: { host: "h", port: 5432, appSecretName: "a-nextcloud-pg-app" },
      bucket: "a-nextcloud",
      credentialsSecretName: "s3-credentials",
    }) as any;

  it("nextcloud: with the relay, host/user/password come from the Secret's smtp keys and the sender from notifications", () => {
    const v = ncValues(relay);
    // The chart reads these three keys of existingSecret (the Nextcloud component puts them in the Secret).
    expect(v.nextcloud.existingSecret).toMatchObject({ secretName: "nextcloud-liiibre", smtpHostKey: "smtp-host", smtpUsernameKey: "smtp-username", smtpPasswordKey: "smtp-password" });
    expect(v.nextcloud.mail).toMatchObject({ enabled: true, fromAddress: "n", domain: "x.org", smtp: { port: 587 } });
    const bare = ncValues();
    expect(bare.nextcloud).not.toHaveProperty("mail");
    expect(bare.nextcloud.existingSecret).not.toHaveProperty("smtpPasswordKey");
  });

  it("matrix-stack: mail config from the Secret; ha spreads two Element Web replicas over nodes; suspended still 0", () => {
    const ctx = (state: "active" | "suspended", extra: object) => ({ domain: "a.org", users: 50, state, s3, oidc: undefined, ...extra });
    const mv = (state: "active" | "suspended", extra: object) =>
      matrixValues({ ctx: ctx(state, extra), database: { host: "h", port: 5432, appSecretName: "p" }, bucket: "b", credentialsSecretName: "s3-credentials" }) as any;
    // smtp_pass is a secret: the section is a configSecret key, never inline config.
    expect(mv("active", { mail: relay }).synapse.additional["30-liiibre-mail.yaml"]).toEqual({ configSecret: "synapse-liiibre", configSecretKey: "mail.yaml" });
    expect(mv("active", {}).synapse.additional).not.toHaveProperty("30-liiibre-mail.yaml");
    const ha = mv("active", { instances: 2 }).elementWeb;
    expect(ha.replicas).toBe(2);
    expect(ha.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: ELEMENT_WEB_SELECTOR } }]);
    expect(mv("active", {}).elementWeb).not.toHaveProperty("topologySpreadConstraints");
    expect(mv("suspended", { instances: 2 }).elementWeb.replicas).toBe(0);
  });

  it("jitsi-meet: two web fronts are kept on different nodes; one has no affinity", () => {
    const base = { host: "meet.x.org", resolution: 720, maxBitratesVideo: { low: 1, standard: 2, high: 3 } };
    const two = (jitsiValues({ ...base, frontReplicas: 2 }) as any).web;
    expect(two.replicaCount).toBe(2);
    expect(two.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([{ labelSelector: { matchLabels: JITSI_WEB_SELECTOR }, topologyKey: "kubernetes.io/hostname" }]);
    const one = (jitsiValues(base) as any).web;
    expect(one.replicaCount).toBe(1);
    expect(one).not.toHaveProperty("affinity");
  });
});

describe("pinned versions", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evalBundles([T.acme, T.exempt, T.small1]);
  }, 120_000);

  it("the apps' pins are exact (three-part versions at least)", () => {
    for (const k of ["nextcloud", "matrixStack", "jitsiMeet", "keycloakx"] as const) expect(CHARTS[k].version, k).toMatch(/^\d+\.\d+\.\d+$/);
    for (const k of ["onlyoffice", "collabora", "hedgedoc", "redis", "python"] as const) expect(IMAGES[k].tag, k).toMatch(/^\d+(\.\d+){2,}(-[a-z]+)?$/);
  });

  it("every Helm release names a chart with an exact version, every container an exact tag", () => {
    const releases = ofType(ev.resources, "kubernetes:helm.sh/v3:Release");
    expect(releases.length).toBeGreaterThanOrEqual(6);
    for (const r of releases) {
      expect(r.inputs.version, r.name).toMatch(/^v?\d+\.\d+\.\d+$/);
      const chart = String(r.inputs.chart);
      // A bundle's objects release installs the project's own chart from its directory, at its Chart.yaml version.
      if (isObjectsRelease(r.type, r.inputs)) {
        expect([chart, r.inputs.version, r.inputs.repositoryOpts], r.name).toEqual([OBJECTS_CHART.path, OBJECTS_CHART.version, undefined]);
        continue;
      }
      if (!chart.startsWith("oci://")) expect((r.inputs.repositoryOpts as any)?.repo, r.name).toMatch(/^https:\/\//);
    }
    const images: string[] = [];
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (k === "image" && typeof x === "string" ? images.push(x) : collect(x));
    };
    for (const r of ev.resources.filter((x) => x.type.startsWith("kubernetes:"))) collect(r.inputs);
    expect(images.length).toBeGreaterThan(5);
    for (const img of images) {
      expect(img, img).toMatch(/:[^:/]+$/);
      expect(img, img).not.toMatch(/:(latest|stable|main|master)$/);
    }
  });
});
