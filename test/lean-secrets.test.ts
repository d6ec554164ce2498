/**
 * The secrets of a lean bundle (docs/security.md#generated-secrets-bound-or-rotatable,
 * components/kit/bundleSecrets.ts): the `boundSecrets` key; derived values in the formats their
 * consumers take (MinIO's 8–40 characters, an ed25519 seed checked with Node's crypto against
 * RFC 8032); one Secret shared by the apps that read single keys; the readers' restart
 * annotations naming exactly the derived values each reads; and what `--diff` shows when a
 * migrated organisation switches to lean with its own bound secrets or with derived ones.
 */
import { createHmac, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { configProblems, parseEstate } from "../components/estate";
import { BUNDLE_SECRET, BundleSecrets, DERIVED_ANNOTATION, deriveFormatted, derivedSecret } from "../components/kit";
import { ORG_ADMINS_SCRIPT } from "../components/ops/org-admins";
import { s3ProviderRequirements } from "../components/apps/matrix";
import { diffPlans, type PlanDiff } from "../scripts/diff/diff";
import { attachTwin } from "../scripts/twin/plan-twin";
import type { Plan, PlanResource } from "../scripts/plan-model";
import { devConfig, devPlan } from "./helpers/estates";
import { objectsOfType } from "./helpers/objects";
import { JITSI_PURPOSES } from "../components/apps/jitsi";
import { renderPlan } from "../scripts/render/render";
import { HELM, itWithHelm } from "./helpers/render";

const org = (slug: string, extra: Record<string, unknown> = {}) => ({ slug, name: slug, domain: `${slug}.example.org`, plan: "dedicated", users: 15, ...extra });
const unwrap = <T>(o: { apply: (f: (v: T) => void) => unknown }) => new Promise<T>((r) => o.apply(r));

describe("the boundSecrets key", () => {
  it("defaults to derived in the lean layout and to own in the others; own is accepted in lean (a migrated organisation)", () => {
    const raw = devConfig();
    raw.tenants.push(org("alpha"), org("bravo", { dataLayout: "per-app" }), org("charlie", { dataLayout: "migrating" }), org("delta", { dataLayout: "lean", boundSecrets: "own" }));
    const bound = Object.fromEntries(parseEstate(raw).tenants.map((t) => [t.slug, t.boundSecrets]));
    expect(bound).toMatchObject({ alpha: "derived", bravo: "own", charlie: "own", delta: "own" });
  });
  it("refuses derived outside the lean layout (those organisations' bound secrets hold data), any value on a shared organisation, and another value", () => {
    for (const layout of ["per-app", "migrating"]) {
      const raw = devConfig();
      const i = raw.tenants.length;
      raw.tenants.push(org("alpha", { dataLayout: layout, boundSecrets: "derived" }));
      expect(configProblems(raw), layout).toEqual([expect.stringMatching(new RegExp(`^liiibre:tenants\\[${i}\\]\\.boundSecrets: expected own .*derived needs dataLayout lean`))]);
    }
    const shared = devConfig();
    const s = shared.tenants.findIndex((t: any) => t.plan === "shared");
    shared.tenants[s].boundSecrets = "own";
    expect(configProblems(shared)).toEqual([expect.stringMatching(new RegExp(`^liiibre:tenants\\[${s}\\]\\.boundSecrets: expected no boundSecrets for plan "shared"`))]);
    const bad = devConfig();
    bad.tenants[0].boundSecrets = "random";
    expect(configProblems(bad)).toEqual(['liiibre:tenants[0].boundSecrets: expected one of own | derived, got "random"']);
  });
});

describe("derived values in their consumers' formats", () => {
  const key = "k".repeat(64);
  const hmac = (purpose: string) => createHmac("sha256", key).update(`derived-secret:${purpose}`).digest();

  it("hex cut to a length: MinIO secret keys are 8 to 40 characters, so an S3 key is the HMAC's first 40 hex digits", () => {
    expect(deriveFormatted(key, "s3/primary", { length: 40 })).toBe(hmac("s3/primary").toString("hex").slice(0, 40));
    expect(deriveFormatted(key, "s3/primary", { length: 40 })).toMatch(/^[0-9a-f]{40}$/);
    // Redis' requirepass, HedgeDoc's and Nextcloud's passwords: hex, nothing a config line or a shell would interpret.
    expect(deriveFormatted(key, "nextcloud/redis")).toMatch(/^[0-9a-f]{64}$/);
    for (const length of [7, 65, 40.5]) expect(() => derivedSecret(key, "s3/primary", { length }), String(length)).toThrow(/length/);
    expect(() => derivedSecret(key, "matrix/signing-key", { encoding: "base64", length: 40 })).toThrow(/hex only/);
  });

  it("base64 is the HMAC's 32 bytes unpadded: a valid ed25519 seed (Node's crypto, checked on RFC 8032's vector) and a Synapse signing key line", () => {
    // PKCS#8 wrapping of an ed25519 seed (RFC 8410); RFC 8032 §7.1 test 1: this seed has this public key.
    const pkcs8 = (seed: Buffer) => createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
    const rfc = pkcs8(Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"));
    expect(createPublicKey(rfc).export({ format: "der", type: "spki" }).subarray(-32).toString("hex")).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

    const b64 = deriveFormatted(key, "matrix/signing-key", { encoding: "base64" });
    expect(b64).toMatch(/^[A-Za-z0-9+/]{43}$/); // 32 bytes, no padding (as Synapse writes its keys)
    // Synapse (signedjson) reads `ed25519 <version> <base64>`, padding optional.
    const line = `ed25519 a_liiibre ${b64}`;
    const [alg, version, encoded] = line.split(" ");
    expect([alg, version]).toEqual(["ed25519", "a_liiibre"]);
    const seed = Buffer.from(encoded + "=".repeat((4 - (encoded.length % 4)) % 4), "base64");
    expect(seed.equals(hmac("matrix/signing-key"))).toBe(true);
    const priv = pkcs8(seed);
    const msg = Buffer.from('{"server_name":"demo.dev.liiibre.coop"}');
    const sig = sign(null, msg, priv);
    expect(verify(null, msg, createPublicKey(priv), sig)).toBe(true);
    expect(verify(null, Buffer.from("another message"), createPublicKey(priv), sig)).toBe(false);
    // What would not be a key: a seed of the wrong length.
    expect(() => pkcs8(seed.subarray(0, 31))).toThrow();
  });
});

describe("BundleSecrets (pure parts: no resource is created before register)", () => {
  const shared = () => new BundleSecrets({ key: "k".repeat(64), bound: "derived", shared: { resourceName: "x-bundle-secret", name: BUNDLE_SECRET, namespace: "x", labels: {} } });

  it("an app's entries go to the shared Secret under <app>.<key>; readers elsewhere find them with refOf; without a shared Secret, the app's own", () => {
    const s = shared();
    const held = s.appSecret("onlyoffice", "x-onlyoffice-jwt", { name: "onlyoffice-jwt", namespace: "x", stringData: { JWT_SECRET: "v" }, derived: { JWT_SECRET: "onlyoffice/jwt" } }, {});
    expect([held.name, held.key("JWT_SECRET")]).toEqual([BUNDLE_SECRET, "onlyoffice.JWT_SECRET"]);
    expect(s.refOf("onlyoffice", "onlyoffice-jwt", "JWT_SECRET")).toEqual({ name: BUNDLE_SECRET, key: "onlyoffice.JWT_SECRET" });
    expect(held.ready).toBeInstanceOf(Promise);
    const own = new BundleSecrets({ key: "k", bound: "own" });
    expect(own.refOf("onlyoffice", "onlyoffice-jwt", "JWT_SECRET")).toEqual({ name: "onlyoffice-jwt", key: "JWT_SECRET" });
    expect(() => own.put({ a: "1" })).toThrow(/no shared Secret/);
  });

  it("refuses a key twice, a key Kubernetes refuses, a derived key it does not hold, and entries after registration", () => {
    const s = shared();
    s.put({ AWS_ACCESS_KEY_ID: "u" });
    expect(() => s.put({ AWS_ACCESS_KEY_ID: "v" })).toThrow(/added twice/);
    expect(() => s.put({ "a b": "v" })).toThrow(/not a Secret key/);
    expect(() => s.appSecret("hedgedoc", "r", { name: "h", namespace: "x", stringData: { a: "1" }, derived: { b: "p/b" } }, {})).toThrow(/derived key b/);
    const empty = shared();
    expect(empty.register({})).toBeUndefined(); // nothing added: no Secret
    expect(() => empty.put({ a: "1" })).toThrow(/after it was registered/);
  });

  it("derived bound values are the key's HMAC under their purpose, with no resource; own ones would be resources", async () => {
    const s = shared();
    const v = s.boundPassword("nextcloud/admin", "x-nextcloud-admin-password", {});
    expect(v.derived).toBe("nextcloud/admin");
    expect(await unwrap<string>(v.value)).toBe(createHmac("sha256", "k".repeat(64)).update("derived-secret:nextcloud/admin").digest("hex"));
    expect((await unwrap<string>(s.boundPassword("s3/backup", "n", {}, 40, 40).value)).length).toBe(40);
  });
});

/** Which derived values (purposes) each pod template of `slug` reads from `secret`, and which its annotation names. */
function readsAndAnnotations(plan: Plan, slug: string, secret: string): Array<{ who: string; reads: string[]; annotated: string[] }> {
  const rs = plan.resources.filter((r) => r.tenant === slug);
  const s = rs.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata.name === secret)!;
  const purposeOf = new Map<string, string>(
    String((s.inputs as any).metadata.annotations[DERIVED_ANNOTATION])
      .split(",")
      .map((kv) => kv.split("=") as [string, string]),
  );
  const purposes = (ann: Record<string, string> | undefined) => (ann?.[DERIVED_ANNOTATION] ? ann[DERIVED_ANNOTATION].split(",").map((kv) => kv.split("=")[1]) : []).sort();
  const keysRead = (x: unknown): string[] => {
    const out: string[] = [];
    const walk = (v: any) => {
      if (!v || typeof v !== "object") return;
      if (Array.isArray(v)) return v.forEach(walk);
      if (v.secretKeyRef?.name === secret) out.push(v.secretKeyRef.key);
      if (v.secret?.secretName === secret) for (const i of v.secret.items ?? []) out.push(i.key);
      for (const x2 of Object.values(v)) walk(x2);
    };
    walk(x);
    return out;
  };
  const out: Array<{ who: string; reads: string[]; annotated: string[] }> = [];
  // Each Deployment whether it is a resource or an entry of the objects release (kubernetesObjects: bundled).
  for (const d of objectsOfType(rs, "kubernetes:apps/v1:Deployment")) {
    const t = (d.inputs as any).spec.template;
    out.push({ who: d.name, reads: [...new Set(keysRead(t.spec).map((k) => purposeOf.get(k)).filter((p): p is string => !!p))].sort(), annotated: purposes(t.metadata.annotations) });
  }
  const nc = rs.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.inputs as any).chart === "nextcloud");
  if (nc) {
    const v = (nc.inputs as any).values;
    const keys = [...keysRead(v.nextcloud.extraEnv), ...(v.nextcloud.existingSecret.secretName === secret ? [v.nextcloud.existingSecret.usernameKey, v.nextcloud.existingSecret.passwordKey] : []), ...(v.nextcloud.objectStore.s3.existingSecret === secret ? Object.values(v.nextcloud.objectStore.s3.secretKeys as Record<string, string>) : [])];
    out.push({ who: nc.name, reads: [...new Set(keys.map((k) => purposeOf.get(k)).filter((p): p is string => !!p))].sort(), annotated: purposes(v.podAnnotations) });
  }
  return out;
}

describe("dev's demo (lean, five apps) against the same organisation migrated to lean (boundSecrets own)", () => {
  const demo = (c: any) => c.tenants.find((t: any) => t.slug === "demo");
  let lean: Plan;
  let kept: Plan;
  let migrating: Plan;
  let toKept: PlanDiff;
  let toDerived: PlanDiff;
  const of = (p: Plan, type: string) => p.resources.filter((r) => r.tenant === "demo" && r.type === type);
  const names = (rs: PlanResource[]) => rs.map((r) => ((r.inputs as any).metadata?.name as string) ?? r.name).sort();
  /** The dev plan after `mutate`, with the estate twin's verdict (as `npm run plan` attaches it). */
  const planWithTwin = async (mutate: (c: any) => void = () => {}) => {
    const plan = await devPlan(mutate);
    const config = devConfig();
    mutate(config);
    await attachTwin(plan, parseEstate(config));
    return plan;
  };
  beforeAll(async () => {
    lean = await planWithTwin();
    kept = await planWithTwin((c) => (demo(c).boundSecrets = "own"));
    migrating = await devPlan((c) => (demo(c).dataLayout = "migrating"));
    toKept = diffPlans(migrating, kept);
    toDerived = diffPlans(migrating, lean);
  }, 300_000);

  it("passes the policies and the twin (shared-secret-by-key, references, S3 permissions)", () => {
    for (const p of [lean, kept]) {
      expect(p.summary.mandatoryViolations).toBe(0);
      expect(p.summary.twin).toMatchObject({ errors: 0 });
      expect(p.twin!.filter((f) => f.level === "error")).toEqual([]);
    }
  });

  it("lean: one generated value (the bundle's key), no ConfigMap, and six Secrets — the shared one, Synapse's (its chart mounts it whole), the Helsinki one (Barman reads it through the API) and one per database role (CloudNativePG reads username/password)", () => {
    expect(of(lean, "random:index/randomPassword:RandomPassword").map((r) => r.name)).toEqual(["demo-derivation-key"]);
    expect(of(lean, "random:index/randomBytes:RandomBytes")).toEqual([]);
    expect(objectsOfType(lean.resources, "kubernetes:core/v1:ConfigMap", "demo")).toEqual([]);
    expect(names(of(lean, "kubernetes:core/v1:Secret"))).toEqual([BUNDLE_SECRET, "demo-pg-hedgedoc", "demo-pg-nextcloud", "demo-pg-synapse", "k8up-helsinki", "synapse-liiibre"]);
    const shared = of(lean, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.name === BUNDLE_SECRET)!.inputs as any;
    // The twin's S3 checks follow the annotation to the primary user whose keys it holds.
    expect(shared.metadata.annotations).toMatchObject({ "liiibre.org/s3-user": "demo-s3", "liiibre.org/shared-by-apps": "true" });
    // Every bound value is derived now: admin and Redis passwords, session secret, the S3 key.
    expect(shared.metadata.annotations[DERIVED_ANNOTATION].split(",")).toEqual(
      expect.arrayContaining(["nextcloud.nextcloud-password=nextcloud/admin", "nextcloud.redis-password=nextcloud/redis", "hedgedoc.CMD_SESSION_SECRET=hedgedoc/session", "AWS_SECRET_ACCESS_KEY=s3/primary"]),
    );
    const synapse = of(lean, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.name === "synapse-liiibre")!.inputs as any;
    expect(synapse.metadata.annotations[DERIVED_ANNOTATION]).toMatch(/macaroon=matrix\/macaroon.*signing\.key=matrix\/signing-key/);
  });

  it("Synapse's pods name every derived value of its Secret (it reads them at start only): a change of derivation restarts them", () => {
    for (const plan of [lean, kept, migrating]) {
      const secret = of(plan, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.name === "synapse-liiibre")!.inputs as any;
      const release = plan.resources.find((r) => r.tenant === "demo" && r.name === "demo-matrix-release")!.inputs as any;
      // matrix-stack puts synapse.annotations on its StatefulSets' pod templates (checked rendered by test/render-*.test.ts' chart renders).
      expect(release.values.synapse.annotations[DERIVED_ANNOTATION]).toBe(secret.metadata.annotations[DERIVED_ANNOTATION]);
    }
  });

  it("each reader is annotated with exactly the derived values it reads from the shared Secret: a change restarts those pods, no other", () => {
    const rows = readsAndAnnotations(lean, "demo", BUNDLE_SECRET);
    expect(rows.map((r) => r.who).sort()).toEqual(["collabora", "demo-nextcloud-release", "hedgedoc", "nextcloud-redis", "onlyoffice"]);
    for (const r of rows) expect(r.annotated, r.who).toEqual(r.reads);
    // What the Document Server reads is the JWT, nothing of Nextcloud's.
    expect(rows.find((r) => r.who === "onlyoffice")!.reads).toEqual(["onlyoffice/jwt"]);
    // The comparison notices a pod annotated with a value it does not read.
    const widened = structuredClone(lean);
    const oo = objectsOfType(widened.resources, "kubernetes:apps/v1:Deployment", "demo").find((o) => o.name === "onlyoffice")!.inputs as any;
    oo.spec.template.metadata.annotations[DERIVED_ANNOTATION] += ",x=nextcloud/admin";
    const bad = readsAndAnnotations(widened, "demo", BUNDLE_SECRET).find((r) => r.who === "onlyoffice")!;
    expect(bad.annotated).not.toEqual(bad.reads);
  });

  it("the org-admins script and the S3 provider's requirements are inline: the same text, nothing mounted", () => {
    const cron = objectsOfType(lean.resources, "kubernetes:batch/v1:CronJob", "demo")[0].inputs as any;
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].command).toEqual(["python3", "-c", ORG_ADMINS_SCRIPT]);
    expect(pod.volumes).toBeUndefined();
    const matrix = of(lean, "kubernetes:helm.sh/v3:Release").find((r) => /matrix-stack$/.test((r.inputs as any).chart))!.inputs as any;
    const init = matrix.values.synapse.extraInitContainers[0];
    expect(init.command.join(" ")).toMatch(/\| pip install .* -r \/dev\/stdin$/);
    expect(init.env).toEqual([{ name: "S3_PROVIDER_REQUIREMENTS", value: s3ProviderRequirements() }]);
    expect(matrix.values.synapse.extraVolumes.map((v: any) => v.name)).not.toContain("s3-storage-provider-requirements");
  });

  it("boundSecrets own keeps every generated value of the migrating organisation but the per-app clusters' Helsinki keys (their users go at the switch)", () => {
    const randoms = (p: Plan) => p.resources.filter((r) => r.tenant === "demo" && r.type.startsWith("random:")).map((r) => r.urn).sort();
    const before = randoms(migrating).filter((u) => !/-pg-backup-secret-key$/.test(u));
    expect(randoms(kept)).toEqual(before);
    expect(before.length).toBe(9); // key, 2 Nextcloud, macaroon + signing key, session, 2 S3 users, roles key
    // Its Secrets and ConfigMaps are the lean ones all the same.
    expect(names(of(kept, "kubernetes:core/v1:Secret"))).toEqual(names(of(lean, "kubernetes:core/v1:Secret")));
    expect(of(kept, "kubernetes:core/v1:ConfigMap")).toEqual([]);
  });

  it("--diff: migrating → lean with own bound secrets deletes no generated value but the per-app Helsinki keys; with derived ones each protected bound value is a danger line", () => {
    const randomDeletes = (d: PlanDiff) => d.changes.filter((c) => c.action === "delete" && c.type.startsWith("random:")).map((c) => c.name).sort();
    expect(randomDeletes(toKept)).toEqual(["demo-hedgedoc-pg-backup-secret-key", "demo-nextcloud-pg-backup-secret-key", "demo-synapse-pg-backup-secret-key"]);
    expect(toKept.dangerous.filter((d) => /random:/.test(d.what))).toEqual([]);
    const bound = ["demo-hedgedoc-session-secret", "demo-matrix-macaroon", "demo-matrix-signing-key", "demo-nextcloud-admin-password", "demo-nextcloud-redis-password"];
    const danger = toDerived.dangerous.filter((d) => /random:/.test(d.what)).map((d) => d.what.split(" ").pop()!).sort();
    expect(danger).toEqual(bound);
    for (const d of toDerived.dangerous.filter((x) => /random:/.test(x.what))) expect(d.why).toMatch(/protected/);
  });
});

describe("a dedicated Jitsi in a lean organisation (dev's demo with a sixth app, jitsi-dedicated)", () => {
  const withJitsi = (bound?: "own") => (c: any) => {
    const demo = c.tenants.find((t: any) => t.slug === "demo");
    demo.apps = ["nextcloud", "onlyoffice", "collabora", "matrix", "hedgedoc", "jitsi-dedicated"];
    if (bound) demo.boundSecrets = bound;
  };
  let derived: Plan;
  let own: Plan;
  beforeAll(async () => {
    derived = await devPlan(withJitsi());
    const config = devConfig();
    withJitsi()(config);
    await attachTwin(derived, parseEstate(config));
    own = await devPlan(withJitsi("own"));
  }, 300_000);
  const of = (p: Plan, type: string) => p.resources.filter((r) => r.tenant === "demo" && r.type === type);
  const secretNames = (p: Plan) => of(p, "kubernetes:core/v1:Secret").map((r) => (r.inputs as any).metadata.name as string).sort();
  const jitsiRelease = (p: Plan) => of(p, "kubernetes:helm.sh/v3:Release").find((r) => (r.inputs as any).chart === "jitsi-meet")!;

  it("derived: the JWT secret and the XMPP passwords are no RandomPasswords (derived from the bundle's key); the JWT and the adapter's OIDC secret are entries of the shared Secret; Jicofo's and the videobridge's Secrets stay", () => {
    expect(of(derived, "random:index/randomPassword:RandomPassword").map((r) => r.name)).toEqual(["demo-derivation-key"]);
    expect(secretNames(derived)).toEqual([BUNDLE_SECRET, "demo-pg-hedgedoc", "demo-pg-nextcloud", "demo-pg-synapse", "jitsi-jicofo", "jitsi-jvb", "k8up-helsinki", "synapse-liiibre"]);
    const annotation = (name: string) => String((of(derived, "kubernetes:core/v1:Secret").find((r) => (r.inputs as any).metadata.name === name)!.inputs as any).metadata.annotations[DERIVED_ANNOTATION]).split(",");
    expect(annotation(BUNDLE_SECRET)).toEqual(expect.arrayContaining([`jitsi-dedicated.JWT_APP_SECRET=${JITSI_PURPOSES.jwt}`, "jitsi-dedicated.OIDC_CLIENT_SECRET=oidc/jitsi-dedicated"]));
    expect(annotation("jitsi-jicofo")).toEqual([`JICOFO_AUTH_PASSWORD=${JITSI_PURPOSES.jicofo}`]);
    expect(annotation("jitsi-jvb")).toEqual([`JVB_AUTH_PASSWORD=${JITSI_PURPOSES.jvb}`]);
    // The adapter reads both from the shared Secret by key, and is annotated with exactly those.
    const adapter = readsAndAnnotations(derived, "demo", BUNDLE_SECRET).find((r) => r.who === "jitsi-keycloak-adapter")!;
    expect(adapter.reads).toEqual(["jitsi/jwt", "oidc/jitsi-dedicated"]);
    expect(adapter.annotated).toEqual(adapter.reads);
    expect(derived.summary.mandatoryViolations).toBe(0);
    expect(derived.summary.twin).toMatchObject({ errors: 0 });
  });

  it("own bound secrets (a migrated organisation) keep today's resources: three RandomPasswords (the JWT one of 48 characters) and four Secrets", () => {
    const jitsiRandoms = (p: Plan) => of(p, "random:index/randomPassword:RandomPassword").filter((r) => r.name.startsWith("demo-jitsi-"));
    expect(jitsiRandoms(own).map((r) => r.name).sort()).toEqual(["demo-jitsi-jicofo-password", "demo-jitsi-jvb-password", "demo-jitsi-jwt-secret"]);
    expect((jitsiRandoms(own).find((r) => r.name === "demo-jitsi-jwt-secret")!.inputs as any).length).toBe(48);
    expect(jitsiRandoms(derived)).toEqual([]);
    // Its Secrets: the derived organisation's, and the JWT and adapter OIDC ones.
    expect(secretNames(own)).toEqual([...secretNames(derived), "jitsi-dedicated-oidc", "jitsi-jwt"].sort());
    expect((jitsiRelease(own).inputs as any).values.prosody.jwt).toEqual({ existingSecretName: "jitsi-jwt" });
    expect((jitsiRelease(own).inputs as any).values.prosody.extraSecrets).toBeUndefined();
  });

  it("the values are hex, as docker-jitsi-meet writes them (gen-passwords.sh: `openssl rand -hex`), and 256 bits for the HS256 JWT", () => {
    for (const purpose of Object.values(JITSI_PURPOSES)) expect(deriveFormatted("k".repeat(64), purpose)).toMatch(/^[0-9a-f]{64}$/);
  });

  itWithHelm("rendered with the pinned chart: Prosody takes the JWT by key from the shared Secret (no envFrom of it), Jicofo and the videobridge their own Secrets whole; each pod is annotated with exactly the derived values it reads", async () => {
    const r = await renderPlan([jitsiRelease(derived)], { helm: HELM, programResources: false });
    expect(r.problems).toEqual([]);
    const purposes = new Map<string, Map<string, string>>();
    for (const s of of(derived, "kubernetes:core/v1:Secret")) {
      const ann = (s.inputs as any).metadata.annotations?.[DERIVED_ANNOTATION];
      purposes.set((s.inputs as any).metadata.name, new Map(ann ? String(ann).split(",").map((kv) => kv.split("=") as [string, string]) : []));
    }
    const pods = r.releases[0].objects.filter((o) => (o.object as any).spec?.template);
    const rows = pods.map((o) => {
      const t = (o.object as any).spec.template;
      const c = t.spec.containers[0];
      const whole: string[] = (c.envFrom ?? []).map((e: any) => e.secretRef?.name).filter(Boolean);
      const byKey: Array<{ name: string; key: string }> = (c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef).filter(Boolean);
      const reads = [...whole.flatMap((s) => [...(purposes.get(s)?.values() ?? [])]), ...byKey.map((k) => purposes.get(k.name)?.get(k.key)).filter((p): p is string => !!p)].sort();
      const annotated = String(t.metadata.annotations?.[DERIVED_ANNOTATION] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=")[1]).sort();
      return { who: `${o.kind}/${o.name}`, whole, byKey, reads, annotated };
    });
    const row = (component: string) => rows.find((x) => x.who.includes(`-${component}`))!;
    expect(row("prosody")).toMatchObject({ whole: ["jitsi-jicofo", "jitsi-jvb"], byKey: [{ name: BUNDLE_SECRET, key: "jitsi-dedicated.JWT_APP_SECRET" }], reads: ["jitsi/jicofo", "jitsi/jvb", "jitsi/jwt"] });
    expect(row("jicofo")).toMatchObject({ whole: ["jitsi-jicofo"], reads: ["jitsi/jicofo"] });
    expect(row("jvb")).toMatchObject({ whole: ["jitsi-jvb"], reads: ["jitsi/jvb"] });
    expect(row("web")).toMatchObject({ whole: [], reads: [] });
    for (const x of rows) {
      expect(x.whole, x.who).not.toContain(BUNDLE_SECRET);
      expect(x.annotated, x.who).toEqual(x.reads);
    }
    // The chart makes no Secret of its own (every one it would make is given by name).
    expect(r.releases[0].objects.filter((o) => o.kind === "Secret")).toEqual([]);
  });
});
