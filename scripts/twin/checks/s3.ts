/**
 * S3 permissions: each S3 consumer's calls (components/storage/s3-calls.ts), evaluated against
 * the IAM policies attached to the MinIO user it uses, with MinIO's action mapping, by
 * @cloud-copilot/iam-simulate (an AWS IAM policy evaluator: MinIO implements the same policy
 * language for identity policies). Calls into another tenant's buckets must be denied.
 */
import { anonymousPrincipal, runSimulation } from "@cloud-copilot/iam-simulate";
import { parse as parseYaml } from "yaml";
import { BUCKET_SUFFIXES, ORGANISATION_BUCKET_SUFFIX } from "../../../components/config/apps";
import { ANNOTATIONS } from "../../../components/conventions";
import { ANONYMOUS_CALLS, ANONYMOUS_REFUSED, BUCKET_CONSUMER, KEY_ROOTS, S3_ACTION, S3_CALLS, type S3CallSpec, type S3Consumer } from "../../../components/storage/s3-calls";
import { STORAGE_NAMESPACE as MINIO_NAMESPACE } from "../../../components/storage/settings";
import { indexByUrn } from "../normalise";
import type { KObject, MinioUser, TwinCheck, TwinEstate, TwinFinding } from "../model";
import { ref } from "../model";

const ACCOUNT = "123456789012";
/** The MinIO Operator's S3 Service (components/storage/primaryObjectStore.ts MINIO_SERVICE; not imported: that module loads the providers). */
const MINIO_SERVICE_NAME = "minio";

export interface S3Use {
  consumer: S3Consumer;
  /** What uses it (object ref). */
  by: string;
  user: MinioUser;
  bucket: string;
  /** Consumer's prefix inside the bucket (its keys begin with it: "", or usually ending with "/"). */
  prefix: string;
  tenant: string | null;
}

/** Decision of MinIO for one call of `user`: "Allowed" or the reason it is not. */
export async function decide(user: MinioUser, call: keyof typeof S3_ACTION, bucket: string, key = ""): Promise<string> {
  return simulate(user.policies.map((p) => ({ name: p.name, policy: p.document })), user.name, call, bucket, key);
}

/**
 * Memoised decisions. Tenants' users have the same policy shape with their slug in bucket names
 * and prefixes: the slugs of the tenants involved are replaced by markers (in the policies and
 * the request alike, so the simulated request is the same computation) and each shape is
 * simulated once. A call no Allow statement could match (by action and resource pattern) is
 * an implicit deny without simulation.
 */
export class S3Decider {
  private readonly memo = new Map<string, Promise<string>>();
  /** Per user and set of markers: the abstracted policies and their JSON text (the same for every call of that user). */
  private readonly shapes = new WeakMap<MinioUser, Map<string, { policies: Array<{ name: string; policy: Record<string, any> }>; json: string }>>();
  decide(user: MinioUser, call: keyof typeof S3_ACTION, bucket: string, key: string, slugs: string[]): Promise<string> {
    const m = S3_ACTION[call];
    const resource = m.on === "bucket" ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
    const couldAllow = user.policies.some((p) =>
      ((p.document.Statement ?? []) as any[]).some(
        (st) => st.Effect === "Allow" && [st.Action].flat().some((a: string) => glob(a, m.action)) && [st.Resource].flat().some((r: string) => glob(r, resource)),
      ),
    );
    if (!couldAllow) return Promise.resolve("ImplicitlyDenied");
    const marks = [...slugs].filter(Boolean).sort((a, b) => b.length - a.length);
    const abstract = (s: string) => marks.reduce((acc, slug, i) => acc.split(slug).join(`\u00a7${i}`), s);
    let byMarks = this.shapes.get(user);
    if (!byMarks) this.shapes.set(user, (byMarks = new Map()));
    const marksKey = JSON.stringify(marks);
    let shape = byMarks.get(marksKey);
    if (!shape) {
      const policies = user.policies.map((p) => ({ name: "p", policy: JSON.parse(abstract(JSON.stringify(p.document))) }));
      byMarks.set(marksKey, (shape = { policies, json: JSON.stringify(policies) }));
    }
    const policies = shape.policies;
    const args = [abstract(user.name), call, abstract(bucket), abstract(key)] as const;
    // = JSON.stringify([policies, args]), the policies' part serialised once per shape
    const k = `[${shape.json},${JSON.stringify(args)}]`;
    let d = this.memo.get(k);
    if (!d) {
      d = simulate(policies, ...args);
      this.memo.set(k, d);
    }
    return d;
  }
}

/** IAM wildcard match (`*` any run, `?` one character). */
export function glob(pattern: string, value: string): boolean {
  let re = globs.get(pattern);
  if (!re) globs.set(pattern, (re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)));
  return re.test(value);
}
/** Compiled patterns (a few dozen distinct ones in an estate, matched hundreds of thousands of times). */
const globs = new Map<string, RegExp>();

async function simulate(policies: Array<{ name: string; policy: Record<string, any> }>, userName: string, call: keyof typeof S3_ACTION, bucket: string, key: string): Promise<string> {
  const m = S3_ACTION[call];
  const resource = m.on === "bucket" ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
  const contextVariables: Record<string, string> = {};
  // MinIO puts the request's query parameters in the condition values: a listing without a
  // prefix parameter (key "") carries no s3:prefix at all, like HeadBucket.
  if (m.withPrefix && key !== "") contextVariables["s3:prefix"] = key;
  const res = await runSimulation(
    {
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { principal: `arn:aws:iam::${ACCOUNT}:user/${userName}`, action: m.action, resource: { resource, accountId: ACCOUNT }, contextVariables },
    } as any,
    {},
  );
  if (res.resultType === "error") return `simulation error: ${JSON.stringify((res as any).errors).slice(0, 200)}`;
  return (res as any).overallResult as string;
}

/** The MinIO user whose credentials a Secret holds (S3User puts both under one parent). */
function userOfSecret(e: TwinEstate, secret: KObject | undefined, server: "primary" | "backup"): MinioUser | undefined {
  if (!secret || secret.origin !== "program") return undefined;
  // A Secret holding another component's user's credentials names it (a lean bundle's shared Secret).
  const named = secret.object.metadata?.annotations?.[ANNOTATIONS.s3User];
  if (typeof named === "string") return e.minioUsers.find((u) => u.server === server && u.name === named);
  const byUrn = indexByUrn(e.input);
  const parent = byUrn.get(secret.source)?.parent;
  let byParent = usersByParent.get(e);
  if (!byParent) {
    // The first user of each server and parent, in the estate's order (indexed once, not scanned per Secret).
    byParent = new Map();
    for (const u of e.minioUsers) {
      const k = `${u.server}\u0000${byUrn.get(u.urn)?.parent}`;
      if (!byParent.has(k)) byParent.set(k, u);
    }
    usersByParent.set(e, byParent);
  }
  return byParent.get(`${server}\u0000${parent}`);
}
const usersByParent = new WeakMap<TwinEstate, Map<string, MinioUser>>();

const secretIn = (e: TwinEstate, ns: string, name: string) => e.byRef.get(`Secret/${ns}/${name}`);

const SUFFIXES = [...BUCKET_SUFFIXES].sort((a, b) => b.length - a.length);
/** The bundle a bucket `<slug>-<suffix>` belongs to. */
const bundleOf = (bucket: string): string | null => {
  const s = SUFFIXES.find((x) => bucket.endsWith(`-${x}`));
  return s ? bucket.slice(0, -(s.length + 1)) : null;
};

/** Nextcloud's prefix in its bucket from its objectPrefix (nextcloudObjectPrefix's inverse; S3_CALLS name its keys from `urn:oid:`). */
const nextcloudPrefixOf = (objectPrefix: unknown): string => String(objectPrefix ?? "").replace(/urn:oid:$/, "");

/** The Secret Synapse's boto3 reads its S3 keys from (the chart's extraEnv, extraVolumes and extraVolumeMounts). */
function synapseCredentialsSecret(syn: Record<string, any>): string | undefined {
  const env = (syn.extraEnv ?? []) as any[];
  const byRef = env.find((x) => x.name === "AWS_ACCESS_KEY_ID")?.valueFrom?.secretKeyRef?.name;
  if (byRef) return byRef;
  const file = env.find((x) => x.name === "AWS_SHARED_CREDENTIALS_FILE")?.value;
  if (typeof file !== "string") return undefined;
  const mount = ((syn.extraVolumeMounts ?? []) as any[]).find((m) => typeof m.mountPath === "string" && file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
  return ((syn.extraVolumes ?? []) as any[]).find((v) => v.name === mount?.name)?.secret?.secretName;
}

const usesCache = new WeakMap<TwinEstate, { uses: S3Use[]; unresolved: TwinFinding[] }>();
/** Every S3 use of the estate, discovered from the objects and the catalogue. */
export function s3Uses(e: TwinEstate): { uses: S3Use[]; unresolved: TwinFinding[] } {
  const known = usesCache.get(e);
  if (known) return known;
  const found = findUses(e);
  usesCache.set(e, found);
  return found;
}

function findUses(e: TwinEstate): { uses: S3Use[]; unresolved: TwinFinding[] } {
  const uses: S3Use[] = [];
  const unresolved: TwinFinding[] = [];
  const add = (u: Omit<S3Use, "user">, user: MinioUser | undefined, via: string) => {
    if (user) uses.push({ ...u, user });
    else unresolved.push({ check: "s3-permissions", level: "error", objects: [u.by], message: `uses the S3 credentials of ${via}, which belong to no MinIO user the program creates: every ${u.consumer} call is refused (InvalidAccessKeyId)` });
  };
  // barman (CloudNativePG WAL and base backups): ObjectStore destinationPath + the Cluster's serverName.
  for (const store of e.byKind.get("ObjectStore") ?? []) {
    const cfg = store.object.spec?.configuration ?? {};
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(String(cfg.destinationPath ?? ""));
    if (!m) continue;
    const ns = store.namespace ?? "default";
    const cluster = (e.byKind.get("Cluster") ?? []).find((c) => c.namespace === ns && ((c.object.spec?.plugins ?? []) as any[]).some((p) => p.parameters?.barmanObjectName === store.name));
    const server = ((cluster?.object.spec?.plugins ?? []) as any[]).find((p) => p.parameters?.barmanObjectName === store.name)?.parameters?.serverName ?? cluster?.name ?? store.name;
    const secretName = cfg.s3Credentials?.accessKeyId?.name;
    add({ consumer: "barman", by: ref(store), bucket: m[1], prefix: `${m[2] ? `${m[2].replace(/\/$/, "")}/` : ""}${server}/`, tenant: ns }, userOfSecret(e, secretIn(e, ns, secretName), "backup"), `Secret ${ns}/${secretName}`);
  }
  // restic (k8up Schedules).
  for (const s of e.byKind.get("Schedule") ?? []) {
    const b = s.object.spec?.backend?.s3;
    if (!b?.bucket) continue;
    const ns = s.namespace ?? "default";
    const secretName = b.accessKeyIDSecretRef?.name;
    add({ consumer: "restic", by: ref(s), bucket: b.bucket, prefix: "", tenant: ns }, userOfSecret(e, secretIn(e, ns, secretName), "backup"), `Secret ${ns}/${secretName}`);
  }
  // Apps, from what they are configured with: the bucket and the credentials Secret they reference.
  const seen = new Set<string>();
  const app = (consumer: S3Consumer, by: string, ns: string, bucketName: string | undefined, secretName: string | undefined, prefix = "") => {
    if (!bucketName) return;
    if (!secretName) {
      // Configured for a bucket with credentials the twin cannot trace: never skipped silently.
      unresolved.push({ check: "s3-permissions", level: "error", objects: [by], message: `${consumer} is configured for bucket ${bucketName} but names no credentials Secret the twin can follow: its calls cannot be checked (and MinIO refuses unsigned ones)` });
      return;
    }
    seen.add(`${ns}/${bucketName}/${consumer}`);
    add({ consumer, by, bucket: bucketName, prefix, tenant: ns }, userOfSecret(e, secretIn(e, ns, secretName), "primary"), `Secret ${ns}/${secretName}`);
  };
  for (const r of e.releases) {
    const rel = `Release/${r.namespace}/${r.name}`;
    if (r.chart === "nextcloud") {
      // Nextcloud's keys are `<objectPrefix><file id>`, objectPrefix `urn:oid:` unless the chart's `prefix` replaces it (S3_CALLS name them from `urn:oid:`).
      const s3 = r.values.nextcloud?.objectStore?.s3;
      if (s3?.enabled) app("nextcloud", rel, r.namespace, s3.bucket, s3.existingSecret, nextcloudPrefixOf(s3.prefix));
    }
    if (/matrix-stack$/.test(r.chart)) {
      // synapse-s3-storage-provider: its bucket and prefix in the Synapse config the chart merges
      // (`synapse.additional.*.config`), its credentials boto3's: the shared credentials file
      // (AWS_SHARED_CREDENTIALS_FILE) of the Secret volume mounted there, or AWS_ACCESS_KEY_ID's secretKeyRef.
      const syn = r.values.synapse ?? {};
      for (const part of Object.values((syn.additional ?? {}) as Record<string, { config?: string }>)) {
        let cfg: any;
        try {
          cfg = typeof part?.config === "string" ? parseYaml(part.config) : undefined;
        } catch (err) {
          unresolved.push({ check: "s3-permissions", level: "error", objects: [rel], message: `a Synapse config part is not YAML (${String(err).slice(0, 120)}): Synapse does not start, and its S3 use cannot be checked` });
          continue;
        }
        for (const p of (cfg?.media_storage_providers ?? []) as any[]) {
          if (!/S3StorageProviderBackend$/.test(String(p?.module)) || !p.config?.bucket) continue;
          // The provider's keys are `prefix + path` verbatim (s3_storage_provider.py): no separator added.
          app("synapse", rel, r.namespace, String(p.config.bucket), synapseCredentialsSecret(syn), String(p.config.prefix ?? ""));
        }
      }
    }
  }
  for (const w of e.workloads) {
    const env = ((w.spec.containers ?? []) as any[]).flatMap((c) => c.env ?? []) as any[];
    // A stateless Nextcloud's own Deployment: the same settings as the chart's, as its environment.
    const ncBucket = env.find((x) => x.name === "OBJECTSTORE_S3_BUCKET")?.value;
    if (ncBucket && !seen.has(`${w.namespace}/${ncBucket}/nextcloud`))
      app("nextcloud", w.id, w.namespace, ncBucket, env.find((x) => x.name === "OBJECTSTORE_S3_KEY")?.valueFrom?.secretKeyRef?.name, nextcloudPrefixOf(env.find((x) => x.name === "OBJECTSTORE_S3_OBJECT_PREFIX")?.value));
    const bucketName = env.find((x) => x.name === "CMD_S3_BUCKET")?.value;
    const secretName = env.find((x) => x.name === "CMD_MINIO_ACCESS_KEY")?.valueFrom?.secretKeyRef?.name;
    if (bucketName) app("hedgedoc", w.id, w.namespace, bucketName, secretName);
  }
  // Any other app bucket of a bundle (catalogue suffixes), e.g. a chart not configured as expected: the bundle's `s3-credentials`.
  for (const secret of (e.byKind.get("Secret") ?? []).filter((x) => x.name === "s3-credentials" && x.origin === "program")) {
    const ns = secret.namespace!;
    const user = userOfSecret(e, secret, "primary");
    for (const b of e.buckets.filter((x) => x.server === "primary" && x.name.startsWith(`${ns}-`))) {
      const consumer = BUCKET_CONSUMER[b.name.slice(ns.length + 1)];
      if (consumer && !seen.has(`${ns}/${b.name}/${consumer}`)) add({ consumer, by: `${consumer} of ${ns} (bucket ${b.name})`, bucket: b.name, prefix: "", tenant: ns }, user, `Secret ${ns}/s3-credentials`);
    }
  }
  // Server-side replication into Helsinki: the target user replicates every bucket Helsinki mirrors.
  const target = e.minioUsers.find((u) => u.server === "backup" && u.name === "replication");
  if (target)
    for (const b of e.buckets.filter((x) => x.server === "backup" && e.buckets.some((p) => p.server === "primary" && p.name === x.name)))
      uses.push({ consumer: "replication", by: `replication of ${b.name}`, user: target, bucket: b.name, prefix: "", tenant: b.tenant ?? bundleOf(b.name) });
  return { uses, unresolved };
}

const permissions: TwinCheck = {
  name: "s3-permissions",
  family: "s3",
  models: "MinIO's IAM authorisation of each call a consumer makes (HeadBucket and ListObjects as s3:ListBucket, with s3:prefix only for listings)",
  async run(e) {
    const { uses, unresolved } = s3Uses(e);
    const out: TwinFinding[] = [...unresolved];
    const decider = new S3Decider();
    for (const u of uses) {
      const refused: string[] = [];
      for (const c of S3_CALLS[u.consumer]) {
        const key = `${u.prefix}${c.key ?? ""}`;
        const d = await decider.decide(u.user, c.call, u.bucket, key, [u.tenant ?? ""]);
        if (d !== "Allowed") refused.push(`${c.call}${S3_ACTION[c.call].on === "object" || S3_ACTION[c.call].withPrefix ? ` ${u.bucket}/${key}` : ` ${u.bucket}`} (${S3_ACTION[c.call].action}: ${d})`);
      }
      if (refused.length)
        out.push({ check: this.name, level: "error", objects: [u.by, `MinIO user ${u.user.server}/${u.user.name}`], message: `${u.consumer} is refused ${refused.join("; ")}` });
    }
    return out;
  },
};

const crossTenant: TwinCheck = {
  name: "s3-cross-tenant",
  family: "s3",
  models: "tenant isolation in MinIO: a tenant's users can read, write or list no other tenant's bucket or prefix",
  async run(e) {
    const { uses } = s3Uses(e);
    const out: TwinFinding[] = [];
    const decider = new S3Decider();
    const tenantUses = uses.filter((u) => u.tenant && u.consumer !== "replication");
    // Per server: the tenant uses in order, and by `bucket/prefix` (indexed once, not per use).
    const onServer = new Map<string, S3Use[]>();
    const byPlace = new Map<string, S3Use[]>();
    const place = (o: S3Use) => `${o.bucket}/${o.prefix}`;
    for (const o of tenantUses) {
      if (!onServer.has(o.user.server)) onServer.set(o.user.server, []);
      onServer.get(o.user.server)!.push(o);
      const k = `${o.user.server}\u0000${place(o)}`;
      if (!byPlace.has(k)) byPlace.set(k, []);
      byPlace.get(k)!.push(o);
    }
    for (const u of tenantUses) {
      // Every other tenant's use on the same server: its bucket and prefix. The sample is the
      // first 4 distinct places in order, each with the last other-tenant use of that place.
      const places: string[] = [];
      for (const o of onServer.get(u.user.server)!) {
        if (o.tenant === u.tenant || places.includes(place(o))) continue;
        places.push(place(o));
        if (places.length === 4) break;
      }
      const sample = places.map((pl) => {
        const at = byPlace.get(`${u.user.server}\u0000${pl}`)!;
        for (let i = at.length - 1; ; i--) if (at[i].tenant !== u.tenant) return at[i];
      });
      for (const o of sample)
        for (const call of ["GetObject", "PutObject", "ListObjectsV2", "DeleteObject"] as const) {
          const d = await decider.decide(u.user, call, o.bucket, `${o.prefix}x`, [u.tenant!, o.tenant!]);
          if (d === "Allowed")
            out.push({ check: this.name, level: "error", objects: [`MinIO user ${u.user.server}/${u.user.name}`, o.by], message: `${u.tenant}'s user may ${call} in ${o.tenant}'s ${o.bucket}/${o.prefix}: another tenant's data is reachable` });
        }
    }
    return out;
  },
};

const disjoint: TwinCheck = {
  name: "s3-prefixes-disjoint",
  family: "s3",
  models: "keys in a shared bucket: each consumer writes under its prefix and key root (Nextcloud's objectPrefix, Synapse's prefix, HedgeDoc's uploads/); two whose key spaces nest write, list, expire and restore each other's objects",
  async run(e) {
    const out: TwinFinding[] = [];
    const byBucket = new Map<string, Array<{ use: S3Use; space: string }>>();
    for (const u of s3Uses(e).uses) {
      if (u.consumer === "replication") continue;
      const k = `${u.user.server}/${u.bucket}`;
      if (!byBucket.has(k)) byBucket.set(k, []);
      byBucket.get(k)!.push({ use: u, space: `${u.prefix}${KEY_ROOTS[u.consumer]}` });
    }
    for (const [bucket, uses] of byBucket) {
      uses.sort((a, b) => (a.space < b.space ? -1 : a.space > b.space ? 1 : 0));
      // Sorted, the spaces nested in one follow it contiguously (every key between them shares its prefix).
      for (let i = 0; i < uses.length; i++)
        for (let j = i + 1; j < uses.length && uses[j].space.startsWith(uses[i].space); j++) {
          const [a, b] = [uses[i], uses[j]];
          if (a.use.by === b.use.by) continue;
          out.push({
            check: this.name,
            level: "error",
            objects: [a.use.by, b.use.by],
            message: `${a.use.consumer} and ${b.use.consumer} write the same keys of ${bucket} ("${a.space}…" holds "${b.space}…"): one's deletions, lifecycle and restores reach the other's objects; give each its own prefix`,
          });
        }
    }
    return out;
  },
};

/**
 * MinIO's decision for an unsigned request: the bucket policy alone (no identity policy; no
 * bucket policy = denied). Memoised per policy shape, the bucket's name abstracted.
 */
export class AnonymousDecider {
  private readonly memo = new Map<string, Promise<string>>();
  decide(policy: Record<string, any> | undefined, call: keyof typeof S3_ACTION, bucket: string, key = ""): Promise<string> {
    if (!policy) return Promise.resolve("ImplicitlyDenied");
    const abstract = (x: string) => x.split(bucket).join("\u00a7b");
    const doc = abstract(JSON.stringify(policy));
    const k = JSON.stringify([doc, call, abstract(key)]);
    let d = this.memo.get(k);
    if (!d) {
      d = simulateAnonymous(JSON.parse(doc), call, "\u00a7b", abstract(key));
      this.memo.set(k, d);
    }
    return d;
  }
}

async function simulateAnonymous(policy: Record<string, any>, call: keyof typeof S3_ACTION, bucket: string, key: string): Promise<string> {
  const m = S3_ACTION[call];
  const resource = m.on === "bucket" ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
  const contextVariables: Record<string, string> = {};
  if (m.withPrefix && key !== "") contextVariables["s3:prefix"] = key;
  const res = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policy,
      request: { principal: anonymousPrincipal, action: m.action, resource: { resource, accountId: ACCOUNT }, contextVariables },
    } as any,
    {},
  );
  if (res.resultType === "error") return `simulation error: ${JSON.stringify((res as any).errors).slice(0, 200)}`;
  return (res as any).overallResult as string;
}

/**
 * Why a path of the public S3 host would not reach MinIO from the Internet ("" when it does): the
 * HTTPRoutes for `storage.s3Domain`, Gateway API's longest PathPrefix match (by path elements),
 * the matched rule's backend the MinIO Service and no ExtensionRef filter (the admin allow-list).
 * Only judged when the input holds the primary object store (a platform or single-stack plan).
 */
function publicS3Path(e: TwinEstate): (path: string) => string {
  if (!e.input.resources.some((r) => r.type === "liiibre:storage:PrimaryObjectStore")) return () => "";
  const host = e.input.estate.storage.s3Domain;
  const rules = (e.byKind.get("HTTPRoute") ?? [])
    .filter((r) => ((r.object.spec as any)?.hostnames ?? []).includes(host))
    .flatMap((r) => (((r.object.spec as any)?.rules ?? []) as any[]).flatMap((rule) => ((rule.matches ?? [{}]) as any[]).map((m) => ({ route: r, rule, prefix: String(m.path?.value ?? "/") }))));
  return (path) => {
    const under = (prefix: string) => prefix === "/" || path === prefix || path.startsWith(`${prefix.replace(/\/$/, "")}/`);
    const hit = rules.filter((x) => under(x.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
    if (!hit) return `no HTTPRoute for ${host} matches ${path}`;
    const backends = (hit.rule.backendRefs ?? []) as any[];
    if (!backends.some((b) => (b.kind ?? "Service") === "Service" && b.name === MINIO_SERVICE_NAME && (b.namespace ?? hit.route.namespace) === MINIO_NAMESPACE))
      return `the rule of ${ref(hit.route)} for ${hit.prefix} does not lead to Service ${MINIO_NAMESPACE}/${MINIO_SERVICE_NAME}`;
    if (((hit.rule.filters ?? []) as any[]).some((f) => f.type === "ExtensionRef")) return `the rule of ${ref(hit.route)} for ${hit.prefix} is behind a middleware (${JSON.stringify((hit.rule.filters as any[]).map((f) => f.extensionRef?.name))})`;
    return "";
  };
}

const callText = (c: S3CallSpec, bucket: string) =>
  `${c.call} ${S3_ACTION[c.call].on === "object" || (S3_ACTION[c.call].withPrefix && c.key) ? `${bucket}/${c.key ?? ""}` : bucket} (${S3_ACTION[c.call].action})`;

const anonymous: TwinCheck = {
  name: "s3-anonymous",
  family: "s3",
  models: "MinIO's decision for unsigned requests (the bucket policy alone): browsers GET HedgeDoc's uploads/ images; no bucket can be listed, written or read elsewhere anonymously",
  async run(e) {
    const out: TwinFinding[] = [];
    const decider = new AnonymousDecider();
    const policyOf = new Map<string, { document: Record<string, any>; urn: string }>();
    for (const p of e.bucketPolicies) policyOf.set(`${p.server}/${p.bucket}`, p);
    // Buckets browsers must read: every HedgeDoc the estate runs, on the bucket it uploads to.
    const mustRead = new Map<string, S3Use>();
    for (const u of s3Uses(e).uses) if (ANONYMOUS_CALLS[u.consumer] && u.user.server === "primary") mustRead.set(u.bucket, u);
    const unrouted = publicS3Path(e);
    for (const [bucket, u] of mustRead) {
      const why = unrouted(`/${bucket}/${ANONYMOUS_CALLS[u.consumer]![0].key ?? ""}`);
      if (why) out.push({ check: this.name, level: "error", objects: [u.by, `bucket primary/${bucket}`], message: `browsers cannot reach ${u.consumer}'s images at https://${e.input.estate.storage.s3Domain}/${bucket}/…: ${why}` });
      const policy = policyOf.get(`primary/${bucket}`)?.document;
      for (const c of ANONYMOUS_CALLS[u.consumer]!) {
        const d = await decider.decide(policy, c.call, bucket, c.key);
        if (d !== "Allowed")
          out.push({ check: this.name, level: "error", objects: [u.by, `bucket primary/${bucket}`], message: `browsers are refused ${callText(c, bucket)}: ${d}${policy ? "" : " (the bucket has no policy)"}; ${u.consumer}'s images do not display` });
      }
    }
    const places = new Map<string, { server: "primary" | "backup"; bucket: string }>();
    for (const b of e.buckets) places.set(`${b.server}/${b.name}`, { server: b.server, bucket: b.name });
    for (const p of e.bucketPolicies) places.set(`${p.server}/${p.bucket}`, { server: p.server, bucket: p.bucket });
    for (const [k, { server, bucket }] of places) {
      const policy = policyOf.get(k);
      if (!policy) continue; // no bucket policy: MinIO refuses every unsigned request
      // A catalogue bucket browsers read (HedgeDoc's, even while its app is decommissioned) may serve
      // those calls, and so may an organisation's one bucket (HedgeDoc's keys at its root); no other may.
      const suffix = SUFFIXES.find((x) => bucket.endsWith(`-${x}`));
      const consumer = suffix === ORGANISATION_BUCKET_SUFFIX ? "hedgedoc" : suffix ? BUCKET_CONSUMER[suffix] : undefined;
      const readable = server === "primary" && consumer && ANONYMOUS_CALLS[consumer] ? [] : Object.values(ANONYMOUS_CALLS).flat();
      for (const c of [...ANONYMOUS_REFUSED, ...readable]) {
        const d = await decider.decide(policy.document, c.call, bucket, c.key);
        if (d === "Allowed")
          out.push({ check: this.name, level: "error", objects: [`bucket ${server}/${bucket}`, policy.urn], message: `anyone on the Internet may ${callText(c, bucket)}: the bucket policy grants the anonymous principal more than pad images` });
      }
    }
    return out;
  },
};

export const S3_CHECKS: TwinCheck[] = [permissions, crossTenant, disjoint, anonymous];
