/**
 * Each twin check on small estates (test/helpers/twin.ts): one where the check fails for the
 * reason it models, one where it holds. The expected outcomes follow from upstream behaviour
 * (named in each check's docs: scripts/twin/checks/*.ts, docs/twin.md), not from the code.
 */
import { describe, expect, it } from "vitest";
import { postgresBackupPolicy } from "../components/storage/postgres";
import { bucketsReadWritePolicy } from "../components/storage/settings";
import { KUBERNETES_API_PORT, networkPolicies } from "../components/tenant/networkPolicies";
import { firewallPlan } from "../components/hetzner/firewall-rules";
import { fakeIpv4 } from "../scripts/mock-outputs";
import { createHash } from "node:crypto";
import { AnonymousDecider, decide } from "../scripts/twin/checks/s3";
import { ANONYMOUS_READ_PREFIXES, anonymousReadPolicy } from "../components/storage/anonymousRead";
import { bucket, deployment, devEstate, findings, input, k0sctl, k8s, namespace, prodEstate, res, s3User } from "./helpers/twin";

const estate = devEstate();
const W = "dev-workers-01";
const sc = (name: string, opts: { default?: boolean; provisioner?: string; mode?: string } = {}) =>
  k8s("storage.k8s.io/v1", "StorageClass", null, name, {
    metadata: { annotations: opts.default ? { "storageclass.kubernetes.io/is-default-class": "true" } : {} },
    provisioner: opts.provisioner ?? "csi.hetzner.cloud",
    volumeBindingMode: opts.mode ?? "WaitForFirstConsumer",
  });
const pvc = (ns: string, name: string, cls?: string, size = "10Gi") => k8s("v1", "PersistentVolumeClaim", ns, name, { spec: { ...(cls ? { storageClassName: cls } : {}), accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } });
const withClaim = (claim: string) => ({ containers: [{ name: "c", image: "x" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }] });

describe("storage", () => {
  it("storage-class-exists: a claim naming a missing class, or none without a default, stays Pending", async () => {
    expect(await findings(input(estate, [pvc("a", "data", "fast"), deployment("a", "app", withClaim("data"))]), "storage-class-exists")).toHaveLength(1);
    expect(await findings(input(estate, [pvc("a", "data"), deployment("a", "app", withClaim("data"))]), "storage-class-exists")).toHaveLength(1);
    expect(await findings(input(estate, [sc("fast"), pvc("a", "data", "fast")]), "storage-class-exists")).toEqual([]);
    expect(await findings(input(estate, [sc("std", { default: true }), pvc("a", "data")]), "storage-class-exists")).toEqual([]);
  });
  it("storage-class-exists: the hcloud-csi release's values declare its class (no render needed)", async () => {
    const csi = (def: boolean) => res("kubernetes:helm.sh/v3:Release", "hcloud-csi", { name: "hcloud-csi", namespace: "kube-system", chart: "hcloud-csi", values: { storageClasses: [{ name: "hcloud-volumes", defaultStorageClass: def }] } });
    expect(await findings(input(estate, [csi(false), pvc("a", "data")]), "storage-class-exists")).toHaveLength(1);
    expect(await findings(input(estate, [csi(true), pvc("a", "data")]), "storage-class-exists")).toEqual([]);
  });
  it("rendered objects replace what the values imply: a chart rendering no default class leaves the claim Pending", async () => {
    const csi = res("kubernetes:helm.sh/v3:Release", "hcloud-csi", { name: "hcloud-csi", namespace: "kube-system", chart: "hcloud-csi", values: { storageClasses: [{ name: "hcloud-volumes", defaultStorageClass: true }] } });
    const rendered = (isDefault: string) => [{
      urn: csi.urn, release: "hcloud-csi", namespace: "kube-system", chart: "hcloud-csi", version: "2.19.0",
      objects: [{ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", name: "hcloud-volumes", namespace: null, object: { metadata: { name: "hcloud-volumes", annotations: { "storageclass.kubernetes.io/is-default-class": isDefault } }, provisioner: "csi.hetzner.cloud", volumeBindingMode: "WaitForFirstConsumer" } }],
    }];
    expect(await findings(input(estate, [csi, pvc("a", "data")], { rendered: rendered("true") }), "storage-class-exists")).toEqual([]);
    expect(await findings(input(estate, [csi, pvc("a", "data")], { rendered: rendered("false") }), "storage-class-exists")).toHaveLength(1);
  });
  it("storage-default-class: two default classes are flagged", async () => {
    expect(await findings(input(estate, [sc("a", { default: true }), sc("b", { default: true })]), "storage-default-class")).toMatchObject([{ level: "warning" }]);
    expect(await findings(input(estate, [sc("a", { default: true }), sc("b")]), "storage-default-class")).toEqual([]);
  });
  it("storage-local-disks: local PVs exist only where a node has a disk under /mnt/disks (dev workers: one 100 GB volume each)", async () => {
    const local = sc("local-storage", { provisioner: "kubernetes.io/no-provisioner" });
    const sts = (replicas: number, size: string) =>
      k8s("apps/v1", "StatefulSet", "a", "db", { spec: { replicas, selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "c" }] } }, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { storageClassName: "local-storage", resources: { requests: { storage: size } } } }] } });
    expect(await findings(input(estate, [local, sts(2, "50Gi")]), "storage-local-disks")).toEqual([]);
    expect(await findings(input(estate, [local, sts(3, "50Gi")]), "storage-local-disks")).toHaveLength(1); // two disks for three claims
    expect(await findings(input(estate, [local, sts(1, "200Gi")]), "storage-local-disks")).toHaveLength(1); // no disk that large
  });
  it("storage-wffc-consumer: a WaitForFirstConsumer claim whose only consumer runs 0 replicas stays Pending", async () => {
    const cls = sc("hcloud-volumes", { default: true });
    expect(await findings(input(estate, [cls, pvc("a", "data"), deployment("a", "app", withClaim("data"), 0)]), "storage-wffc-consumer")).toHaveLength(1);
    expect(await findings(input(estate, [cls, pvc("a", "data"), deployment("a", "app", withClaim("data"), 1)]), "storage-wffc-consumer")).toEqual([]);
    expect(await findings(input(estate, [sc("now", { default: true, mode: "Immediate" }), pvc("a", "data"), deployment("a", "app", withClaim("data"), 0)]), "storage-wffc-consumer")).toEqual([]);
  });
});

describe("scheduling and admission", () => {
  it("pod-fits-pool: a nodeSelector no pool offers, or a taint not tolerated, leaves pods Pending", async () => {
    expect(await findings(input(estate, [deployment("a", "x", { nodeSelector: { "liiibre.org/gpu": "true" }, containers: [{ name: "c" }] })]), "pod-fits-pool")).toHaveLength(1);
    expect(await findings(input(estate, [deployment("a", "x", { nodeSelector: { "liiibre.org/apps": "true" }, containers: [{ name: "c" }] })]), "pod-fits-pool")).toEqual([]);
    const tainted = devEstate((raw) => (raw.nodePools[1].taints = [{ key: "dedicated", value: "db", effect: "NoSchedule" }]));
    const pod = (tol: boolean) => deployment("a", "x", { containers: [{ name: "c" }], ...(tol ? { tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }] } : {}) });
    // (k0s's own CoreDNS and metrics-server tolerate no taint either: only the test's pod is looked at)
    const own = (f: Array<{ objects: string[] }>) => f.filter((x) => x.objects[0] === "Deployment/a/x");
    expect(own(await findings(input(tainted, [pod(false)]), "pod-fits-pool"))).toHaveLength(1); // the controller runs no kubelet
    expect(own(await findings(input(tainted, [pod(true)]), "pod-fits-pool"))).toEqual([]);
  });
  it("pod-fits-pool: a pod whose claim is an hcloud volume only runs on cloud nodes (CSI topology), never on a dedicated server", async () => {
    const prod = prodEstate();
    const cls = sc("hcloud-volumes", { default: true });
    const pod = (pool: string, claim: boolean) => deployment("a", "x", { nodeSelector: { "liiibre.org/pool": pool }, ...(claim ? withClaim("data") : { containers: [{ name: "c" }] }) });
    expect(await findings(input(prod, [cls, pvc("a", "data"), pod("apps", true)]), "pod-fits-pool")).toMatchObject([{ message: expect.stringMatching(/its volumes attach only to nodes with liiibre.org\/node-kind=cloud/) }]);
    expect(await findings(input(prod, [cls, pvc("a", "data"), pod("general", true)]), "pod-fits-pool")).toEqual([]);
    expect(await findings(input(prod, [cls, pod("apps", false)]), "pod-fits-pool")).toEqual([]);
  });
  it("pod-security: baseline refuses host ports and privileged containers; restricted also wants non-root, no escalation, dropped capabilities, RuntimeDefault seccomp", async () => {
    const ns = (level: string) => namespace("a", { "pod-security.kubernetes.io/enforce": level });
    const hostPort = deployment("a", "x", { containers: [{ name: "c", ports: [{ containerPort: 10000, hostPort: 10000, protocol: "UDP" }] }] });
    expect(await findings(input(estate, [ns("baseline"), hostPort]), "pod-security")).toHaveLength(1);
    expect(await findings(input(estate, [ns("privileged"), hostPort]), "pod-security")).toEqual([]);
    const plain = deployment("a", "x", { containers: [{ name: "c" }] });
    expect(await findings(input(estate, [ns("baseline"), plain]), "pod-security")).toEqual([]);
    expect(await findings(input(estate, [ns("restricted"), plain]), "pod-security")).toHaveLength(1);
    const hardened = deployment("a", "x", {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{ name: "c", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
    });
    expect(await findings(input(estate, [ns("restricted"), hardened]), "pod-security")).toEqual([]);
  });
  it("quota-fits: pods beyond the ResourceQuota's hard requests, or a limit over the LimitRange max, are refused", async () => {
    const quota = k8s("v1", "ResourceQuota", "a", "bundle", { spec: { hard: { "requests.cpu": "1", "requests.memory": "1Gi" } } });
    const app = (replicas: number) => deployment("a", "x", { containers: [{ name: "c", resources: { requests: { cpu: "400m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } }] }, replicas);
    expect(await findings(input(estate, [quota, app(2)]), "quota-fits")).toEqual([]);
    expect(await findings(input(estate, [quota, app(3)]), "quota-fits")).toHaveLength(1); // 1200m > 1
    const lr = k8s("v1", "LimitRange", "a", "bundle", { spec: { limits: [{ type: "Container", max: { cpu: "500m" } }] } });
    expect(await findings(input(estate, [lr, app(1)]), "quota-fits")).toHaveLength(1);
  });
});

describe("capacity", () => {
  // dev workers: cpx31, 4 cores / 8 GB; allocatable 4000m − 80m reserved = 3920m each.
  const app = (replicas: number, cpu: string) => deployment("a", "x", { containers: [{ name: "c", resources: { requests: { cpu, memory: "256Mi" } } }] }, replicas);
  it("pool-capacity: N+1 — two 1.5-core pods fit one surviving worker, two 2-core pods do not", async () => {
    expect(await findings(input(estate, [app(2, "1500m")]), "pool-capacity")).toEqual([]);
    const f = await findings(input(estate, [app(2, "2000m")]), "pool-capacity");
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/N\+1 for pool workers/);
  });
  it("pool-capacity: a pod larger than any node is Pending even with every node up", async () => {
    const f = await findings(input(estate, [app(1, "3950m")]), "pool-capacity");
    expect(f.some((x) => /with every node up/.test(x.message))).toBe(true);
  });
});

describe("S3 permissions (iam-simulate, MinIO action mapping)", () => {
  const store = (ns: string, cluster: string, path: string) => [
    k8s("barmancloud.cnpg.io/v1", "ObjectStore", ns, `${cluster}-helsinki`, { spec: { configuration: { destinationPath: `s3://liiibre-postgres/${path}`, s3Credentials: { accessKeyId: { name: `${cluster}-helsinki`, key: "ACCESS_KEY_ID" } } } } }),
    k8s("postgresql.cnpg.io/v1", "Cluster", ns, cluster, { spec: { instances: 1, plugins: [{ name: "barman-cloud.cloudnative-pg.io", parameters: { barmanObjectName: `${cluster}-helsinki`, serverName: cluster } }] } }),
  ];
  const barman = (policy: object) => {
    const u = s3User("backup", "acme-nextcloud-pg-wal", policy, { namespace: "acme", name: "acme-nextcloud-pg-helsinki", keys: ["ACCESS_KEY_ID", "ACCESS_SECRET_KEY", "REGION"] });
    return input(estate, [...u.resources, ...store("acme", "acme-nextcloud-pg", "acme/nextcloud")], { secretKeys: u.secretKeys });
  };
  it("s3-permissions: barman's HeadBucket is refused when ListBucket is granted only under an s3:prefix condition", async () => {
    const old = postgresBackupPolicy("acme/nextcloud");
    old.Statement = old.Statement.filter((s) => s.Sid !== "HeadBucket");
    const f = await findings(barman(old), "s3-permissions");
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/HeadBucket liiibre-postgres \(s3:ListBucket/);
    expect(await findings(barman(postgresBackupPolicy("acme/nextcloud")), "s3-permissions")).toEqual([]);
  });
  it("MinIO's mapping through iam-simulate: the database user's HeadBucket is allowed, listing another cluster's prefix or the whole bucket is not", async () => {
    const user = { server: "backup" as const, name: "acme-nextcloud-pg-wal", urn: "u", tenant: "acme", policies: [{ name: "p", document: postgresBackupPolicy("acme/nextcloud") }] };
    expect(await decide(user, "HeadBucket", "liiibre-postgres")).toBe("Allowed");
    expect(await decide(user, "ListObjectsV2", "liiibre-postgres", "acme/nextcloud/acme-nextcloud-pg/wals/")).toBe("Allowed");
    expect(await decide(user, "ListObjectsV2", "liiibre-postgres", "bravo/nextcloud/")).not.toBe("Allowed");
    // MinIO cannot tell a listing without a prefix parameter from HeadBucket (both s3:ListBucket,
    // no s3:prefix): the user may list the bucket's object names — no content. A known, documented exposure.
    expect(await decide(user, "ListObjectsV2", "liiibre-postgres", "")).toBe("Allowed");
    expect(await decide(user, "GetObject", "liiibre-postgres", "bravo/nextcloud/x")).not.toBe("Allowed");
    expect(await decide(user, "PutObject", "liiibre-postgres", "acme/nextcloud/acme-nextcloud-pg/wals/1")).toBe("Allowed");
  });
  it("s3-permissions: credentials that belong to no MinIO user refuse every call", async () => {
    const i = input(estate, [...store("acme", "acme-nextcloud-pg", "acme/nextcloud"), k8s("v1", "Secret", "acme", "acme-nextcloud-pg-helsinki", { stringData: { ACCESS_KEY_ID: "x" } })]);
    expect(await findings(i, "s3-permissions")).toHaveLength(1);
  });
  it("s3-permissions: Nextcloud is judged on the bucket and credentials its release is configured with", async () => {
    const u = s3User("primary", "acme-s3", bucketsReadWritePolicy(["acme-nextcloud"]), { namespace: "acme", name: "s3-credentials", keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] });
    const nc = (bucketName: string) =>
      res("kubernetes:helm.sh/v3:Release", "nextcloud", { name: "nextcloud", namespace: "acme", chart: "nextcloud", values: { nextcloud: { objectStore: { s3: { enabled: true, bucket: bucketName, existingSecret: "s3-credentials" } } } } });
    expect(await findings(input(estate, [...u.resources, nc("acme-nextcloud")], { secretKeys: u.secretKeys }), "s3-permissions")).toEqual([]);
    const f = await findings(input(estate, [...u.resources, nc("acme-files")], { secretKeys: u.secretKeys }), "s3-permissions");
    expect(f).toMatchObject([{ objects: ["Release/acme/nextcloud", "MinIO user primary/acme-s3"], message: expect.stringMatching(/nextcloud is refused HeadBucket acme-files/) }]);
  });
  const k8up = (slug: string, policy: object) => {
    const u = s3User("backup", `${slug}-k8up`, policy, { namespace: slug, name: "k8up-helsinki", keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "RESTIC_PASSWORD"] });
    const schedule = k8s("k8up.io/v1", "Schedule", slug, "helsinki", { spec: { backend: { s3: { bucket: `${slug}-k8up`, accessKeyIDSecretRef: { name: "k8up-helsinki", key: "AWS_ACCESS_KEY_ID" } } } } });
    return { resources: [...u.resources, schedule, bucket("backup", `${slug}-k8up`)], secretKeys: u.secretKeys };
  };
  it("s3-cross-tenant: a user whose policy reaches another tenant's bucket is an error; per-bucket policies hold", async () => {
    const a = k8up("acme", bucketsReadWritePolicy(["acme-k8up"]));
    const b = k8up("bravo", bucketsReadWritePolicy(["bravo-k8up"]));
    const ok = input(estate, [...a.resources, ...b.resources], { secretKeys: { ...a.secretKeys, ...b.secretKeys } });
    expect(await findings(ok, "s3-cross-tenant")).toEqual([]);
    expect(await findings(ok, "s3-permissions")).toEqual([]);
    const wide = k8up("acme", bucketsReadWritePolicy(["*-k8up"]));
    const bad = input(estate, [...wide.resources, ...b.resources], { secretKeys: { ...wide.secretKeys, ...b.secretKeys } });
    const f = await findings(bad, "s3-cross-tenant");
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => /acme's user may .* in bravo's bravo-k8up/.test(x.message))).toBe(true);
  });
});

describe("S3 anonymous access (iam-simulate, unsigned requests: the bucket policy alone)", () => {
  const minioProvider = "urn:pulumi:test::liiibre::pulumi:providers:minio::storage-primary-minio";
  const bucketPolicy = (name: string, policy: object) => res("minio:index/s3BucketPolicy:S3BucketPolicy", `${name}-anonymous-read`, { bucket: name, policy: JSON.stringify(policy) }, { provider: minioProvider });
  // A HedgeDoc as the program declares it: its bucket and the bundle's credentials.
  const pad = (slug: string) => {
    const u = s3User("primary", `${slug}-s3`, bucketsReadWritePolicy([`${slug}-hedgedoc`, `${slug}-nextcloud`]), { namespace: slug, name: "s3-credentials", keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] });
    const env = [{ name: "CMD_S3_BUCKET", value: `${slug}-hedgedoc` }, { name: "CMD_MINIO_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "s3-credentials", key: "AWS_ACCESS_KEY_ID" } } }];
    return { resources: [...u.resources, deployment(slug, "hedgedoc", { containers: [{ name: "hedgedoc", env }] }), bucket("primary", `${slug}-hedgedoc`), bucket("primary", `${slug}-nextcloud`), bucket("backup", `${slug}-hedgedoc`)], secretKeys: u.secretKeys };
  };
  const run = (resources: ReturnType<typeof res>[], secretKeys: Record<string, string[]>) => findings(input(estate, resources, { secretKeys }), "s3-anonymous");
  it("the program's policy: browsers GET and HEAD an uploaded image; listing, writing, other prefixes and other buckets stay refused", async () => {
    const p = pad("acme");
    expect(await run([...p.resources, bucketPolicy("acme-hedgedoc", anonymousReadPolicy("acme-hedgedoc", ANONYMOUS_READ_PREFIXES.hedgedoc))], p.secretKeys)).toEqual([]);
    // The decisions themselves, through the evaluator.
    const d = new AnonymousDecider();
    const doc = anonymousReadPolicy("acme-hedgedoc", "uploads/");
    expect(await d.decide(doc, "GetObject", "acme-hedgedoc", "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png")).toBe("Allowed");
    expect(await d.decide(doc, "ListObjectsV2", "acme-hedgedoc", "uploads/")).toBe("ImplicitlyDenied");
    expect(await d.decide(doc, "PutObject", "acme-hedgedoc", "uploads/x.png")).toBe("ImplicitlyDenied");
    expect(await d.decide(doc, "GetObject", "acme-hedgedoc", "notes/x.png")).toBe("ImplicitlyDenied");
    expect(await d.decide(doc, "GetObject", "bravo-hedgedoc", "uploads/x.png")).toBe("ImplicitlyDenied");
    expect(await d.decide(undefined, "GetObject", "acme-nextcloud", "urn:oid:1")).toBe("ImplicitlyDenied");
    // The builder takes a literal folder only: a wildcard or the whole bucket is refused before any resource exists.
    for (const bad of ["*", "", "uploads", "up*/"]) expect(() => anonymousReadPolicy("acme-hedgedoc", bad)).toThrow(/prefix must be a literal folder ending with "\/"/);
  });
  it("fails: a HedgeDoc bucket without the policy (images do not display)", async () => {
    const p = pad("acme");
    const f = await run(p.resources, p.secretKeys);
    expect(f).toHaveLength(2); // GET and HEAD
    expect(f[0]).toMatchObject({ level: "error", objects: ["Deployment/acme/hedgedoc", "bucket primary/acme-hedgedoc"] });
    expect(f[0].message).toMatch(/browsers are refused GetObject acme-hedgedoc\/uploads\/.*ImplicitlyDenied \(the bucket has no policy\); hedgedoc's images do not display/);
  });
  it("fails: a policy granting listing, the whole bucket or another bucket's objects to anyone", async () => {
    const p = pad("acme");
    const wide = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:aws:s3:::acme-hedgedoc", "arn:aws:s3:::acme-hedgedoc/*"] }] };
    const f = await run([...p.resources, bucketPolicy("acme-hedgedoc", wide)], p.secretKeys);
    const said = f.map((x) => x.message).join("\n");
    expect(said).toMatch(/may HeadBucket acme-hedgedoc \(s3:ListBucket\)/);
    expect(said).toMatch(/may ListObjectsV2 acme-hedgedoc\/uploads\/ \(s3:ListBucket\)/);
    expect(said).toMatch(/may GetObject acme-hedgedoc\/urn:oid:1/);
    expect(said).not.toMatch(/PutObject/);
    // The exact HedgeDoc grant on the organisation's Nextcloud bucket: its files' names are not in uploads/, but anything put there would be public.
    const g = await run([...p.resources, bucketPolicy("acme-hedgedoc", anonymousReadPolicy("acme-hedgedoc", "uploads/")), bucketPolicy("acme-nextcloud", anonymousReadPolicy("acme-nextcloud", "uploads/"))], p.secretKeys);
    expect(g.map((x) => x.objects[0])).toEqual(["bucket primary/acme-nextcloud", "bucket primary/acme-nextcloud"]);
    expect(g[0].message).toMatch(/may GetObject acme-nextcloud\/uploads\//);
  });
});

describe("references", () => {
  const secret = (keys: string[]) => {
    const s = k8s("v1", "Secret", "a", "creds", { stringData: "[secret]" });
    return { s, keys: { [s.urn]: keys } };
  };
  const app = deployment("a", "x", { containers: [{ name: "c", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } }] }] });
  it("references-resolve: a secretKeyRef to a missing Secret or key never starts; the right key does", async () => {
    expect(await findings(input(estate, [app]), "references-resolve")).toHaveLength(1);
    const wrong = secret(["username"]);
    expect(await findings(input(estate, [wrong.s, app], { secretKeys: wrong.keys }), "references-resolve")).toMatchObject([{ message: expect.stringMatching(/key "password"/) }]);
    const right = secret(["username", "password"]);
    expect(await findings(input(estate, [right.s, app], { secretKeys: right.keys }), "references-resolve")).toEqual([]);
  });
  it("references-resolve: a volume no container mounts is not set up by the kubelet, so its absence is harmless", async () => {
    const pod = (mounted: boolean) => deployment("a", "x", { volumes: [{ name: "extra", configMap: { name: "nowhere" } }], containers: [{ name: "c", volumeMounts: mounted ? [{ name: "extra", mountPath: "/x" }] : [] }] });
    expect(await findings(input(estate, [pod(false)]), "references-resolve")).toEqual([]);
    expect(await findings(input(estate, [pod(true)]), "references-resolve")).toHaveLength(1);
  });
  it("references-resolve: existingSecret chart values must name a Secret with those keys", async () => {
    const rel = (key: string) => res("kubernetes:helm.sh/v3:Release", "nc", { name: "nc", namespace: "a", chart: "nextcloud", values: { externalDatabase: { existingSecret: { enabled: true, secretName: "creds", usernameKey: "username", passwordKey: key } } } });
    const s = secret(["username", "password"]);
    // The release is not rendered, so absent objects of its namespace are unknown; its values' references are checked all the same.
    expect(await findings(input(estate, [s.s, rel("password")], { secretKeys: s.keys }), "references-resolve")).toEqual([]);
    expect(await findings(input(estate, [s.s, rel("pass")], { secretKeys: s.keys }), "references-resolve")).toHaveLength(1);
  });
  it("shared-secret-by-key: a Secret several apps share is read by key only; a whole mount, envFrom or an ObjectStore would see every app's values", async () => {
    const bundle = (sharedFlag: boolean) => k8s("v1", "Secret", "a", "bundle-liiibre", { metadata: { annotations: sharedFlag ? { "liiibre.org/shared-by-apps": "true" } : {} }, stringData: "[secret]" });
    const keys = (s: ReturnType<typeof bundle>) => ({ [s.urn]: ["nextcloud.redis-password", "credentials"] });
    const byKey = deployment("a", "x", {
      volumes: [{ name: "s3", secret: { secretName: "bundle-liiibre", items: [{ key: "credentials", path: "credentials" }] } }],
      containers: [{ name: "c", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "bundle-liiibre", key: "nextcloud.redis-password" } } }], volumeMounts: [{ name: "s3", mountPath: "/s3" }] }],
    });
    const whole = deployment("a", "y", { volumes: [{ name: "all", secret: { secretName: "bundle-liiibre" } }], containers: [{ name: "c", volumeMounts: [{ name: "all", mountPath: "/all" }] }] });
    const envFrom = deployment("a", "z", { containers: [{ name: "c", envFrom: [{ secretRef: { name: "bundle-liiibre" } }] }] });
    const store = k8s("barmancloud.cnpg.io/v1", "ObjectStore", "a", "pg-helsinki", { spec: { configuration: { s3Credentials: { accessKeyId: { name: "bundle-liiibre", key: "credentials" } } } } });
    const s = bundle(true);
    expect(await findings(input(estate, [s, byKey], { secretKeys: keys(s) }), "shared-secret-by-key")).toEqual([]);
    for (const reader of [whole, envFrom, store]) expect(await findings(input(estate, [s, reader], { secretKeys: keys(s) }), "shared-secret-by-key"), JSON.stringify(reader.name)).toHaveLength(1);
    // An app's own Secret may be mounted whole (Synapse's is).
    const own = bundle(false);
    expect(await findings(input(estate, [own, whole], { secretKeys: keys(own) }), "shared-secret-by-key")).toEqual([]);
  });
  it("service-selects-pods: a selector matching no pod template leaves the Service without endpoints", async () => {
    const svc = (sel: Record<string, string>) => k8s("v1", "Service", "a", "web", { spec: { selector: sel, ports: [{ name: "http", port: 80, targetPort: "http" }] } });
    const web = deployment("a", "web", { containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] });
    expect(await findings(input(estate, [web, svc({ app: "web" })]), "service-selects-pods")).toEqual([]);
    expect(await findings(input(estate, [web, svc({ app: "website" })]), "service-selects-pods")).toHaveLength(1);
  });
  const ingress = (host: string, port: { name?: string; number?: number }, tls = true) =>
    k8s("networking.k8s.io/v1", "Ingress", "a", "web", { spec: { ingressClassName: "nginx", ...(tls ? { tls: [{ hosts: [host], secretName: "web-tls" }] } : {}), rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port } } }] } }] } });
  const svc = k8s("v1", "Service", "a", "web", { spec: { ports: [{ name: "http", port: 80 }] } });
  it("ingress-backend: a backend port the Service does not have answers 503", async () => {
    expect(await findings(input(estate, [svc, ingress("pad.dev.liiibre.coop", { name: "http" })]), "ingress-backend")).toEqual([]);
    expect(await findings(input(estate, [svc, ingress("pad.dev.liiibre.coop", { number: 8080 })]), "ingress-backend")).toHaveLength(1);
    expect(await findings(input(estate, [ingress("pad.dev.liiibre.coop", { name: "http" })]), "ingress-backend")).toHaveLength(1);
  });
  // The program's own routes are Gateway API HTTPRoutes (components/routes.ts): the same check follows their backendRefs.
  const httpRoute = (port: number, namespace?: string) =>
    k8s("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "web", { spec: { parentRefs: [{ name: "edge", namespace: "traefik" }], hostnames: ["pad.dev.liiibre.coop"], rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "web", port, ...(namespace ? { namespace } : {}) }] }] } });
  it("ingress-backend: an HTTPRoute backendRef to a missing Service or port answers 503 too", async () => {
    expect(await findings(input(estate, [svc, httpRoute(80)]), "ingress-backend")).toEqual([]);
    expect(await findings(input(estate, [svc, httpRoute(8080)]), "ingress-backend")).toHaveLength(1);
    expect(await findings(input(estate, [svc, httpRoute(80, "b")]), "ingress-backend")).toHaveLength(1);
  });
  it("ingress-host-dns: a host neither the co-op's nor in an organisation's DNS records never gets a certificate", async () => {
    expect(await findings(input(estate, [svc, ingress("pad.dev.liiibre.coop", { name: "http" })]), "ingress-host-dns")).toEqual([]);
    expect(await findings(input(estate, [svc, ingress("cloud.acme.org", { name: "http" })]), "ingress-host-dns")).toMatchObject([{ level: "error" }]);
    // Without a certificate asked (the Matrix well-known rule on an organisation's apex): a warning.
    expect(await findings(input(estate, [svc, ingress("acme.org", { name: "http" }, false)]), "ingress-host-dns")).toMatchObject([{ level: "warning" }]);
    const tenants = [{ slug: "acme", dnsRecords: [{ name: "cloud.acme.org", type: "CNAME", value: "x" }] }] as any;
    expect(await findings(input(estate, [svc, ingress("cloud.acme.org", { name: "http" })], { tenants }), "ingress-host-dns")).toEqual([]);
  });
});

describe("HAProxy configs and StatefulSet pods", () => {
  // A router like the shared Jitsi's (components/apps/jitsiRouter.ts): a StatefulSet mounting a
  // ConfigMap whose backends name the shards' web Services.
  const cfg = (backend: string, port = 80) => `frontend f\n  bind :8080\n  default_backend rooms\n\nbackend rooms\n  server shard-1 ${backend}.jitsi.svc.cluster.local:${port} id 1\n`;
  const configMap = (text: string) => k8s("v1", "ConfigMap", "jitsi", "router", { data: { "haproxy.cfg": text } });
  const router = k8s("apps/v1", "StatefulSet", "jitsi", "router", {
    spec: { replicas: 2, serviceName: "router", selector: { matchLabels: { app: "router" } }, template: { metadata: { labels: { app: "router" } }, spec: { volumes: [{ name: "config", configMap: { name: "router" } }], containers: [{ name: "haproxy", volumeMounts: [{ name: "config", mountPath: "/usr/local/etc/haproxy" }] }] } } },
  });
  const web = deployment("jitsi", "web", { containers: [{ name: "nginx", ports: [{ name: "http", containerPort: 80 }] }] }, 2, { app: "web" });
  const webSvc = k8s("v1", "Service", "jitsi", "web", { spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } });

  it("haproxy-backend: every server names an existing Service and one of its ports", async () => {
    expect(await findings(input(estate, [router, configMap(cfg("web")), web, webSvc]), "haproxy-backend")).toEqual([]);
    expect(await findings(input(estate, [router, configMap(cfg("webb")), web, webSvc]), "haproxy-backend")).toMatchObject([{ objects: ["ConfigMap/jitsi/router"], message: expect.stringMatching(/names Service jitsi\/webb, which does not exist/) }]);
    expect(await findings(input(estate, [router, configMap(cfg("web", 8080)), web, webSvc]), "haproxy-backend")).toMatchObject([{ message: expect.stringMatching(/port 8080, not a port of Service web/) }]);
  });

  it("network-required: the pods mounting a config reach its backends, unless a policy drops it", async () => {
    const base = [namespace("jitsi"), router, configMap(cfg("web")), web, webSvc];
    expect(await findings(input(estate, base), "network-required")).toEqual([]);
    const deny = k8s("networking.k8s.io/v1", "NetworkPolicy", "jitsi", "web-from-edge-only", { spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } }] }] } });
    const f = await findings(input(estate, [...base, deny]), "network-required");
    expect(f).toHaveLength(1); // the web pods (one template), from the router
    expect(f[0]).toMatchObject({ objects: ["StatefulSet/jitsi/router"], message: expect.stringMatching(/HAProxy forwards to this backend: connection to Service\/jitsi\/web \(server shard-1 of HAProxy backend rooms\) is dropped \(no ingress rule/) });
  });

  it("service-selects-pods: a per-pod Service selects a StatefulSet's pod by its pod-name label, within its replicas", async () => {
    const peer = (pod: string) => k8s("v1", "Service", "jitsi", pod, { spec: { selector: { "statefulset.kubernetes.io/pod-name": pod }, ports: [{ name: "peers", port: 10000 }] } });
    expect(await findings(input(estate, [router, peer("router-0"), peer("router-1")]), "service-selects-pods")).toEqual([]);
    expect(await findings(input(estate, [router, peer("router-2")]), "service-selects-pods")).toHaveLength(1);
    expect(await findings(input(estate, [web, peer("web-0")]), "service-selects-pods")).toHaveLength(1); // a Deployment's pods carry no such label
  });
});

describe("uniqueness", () => {
  it("unique-node-address: k0sctl refuses two hosts with one address", async () => {
    const i = input(estate, []);
    expect(await findings(i, "unique-node-address")).toEqual([]);
    i.resources[0] = k0sctl(estate, { "dev-workers-01": "198.51.100.7", "dev-workers-02": "198.51.100.7" });
    expect(await findings(i, "unique-node-address")).toMatchObject([{ objects: ["dev-workers-01", "dev-workers-02"] }]);
  });
  it("the harness's fake addresses are unique, even for names whose hashes collide modulo 254", () => {
    const byte = (s: string) => createHash("sha256").update(s).digest()[0] % 254;
    const names = Array.from({ length: 400 }, (_, i) => `twin-collision-${i}`);
    const a = names[0];
    const b = names.find((x) => x !== a && byte(x) === byte(a))!;
    expect(b).toBeDefined(); // the old scheme gave these two the same address
    expect(fakeIpv4(a)).not.toBe(fakeIpv4(b));
    expect(fakeIpv4(a)).toBe(fakeIpv4(a)); // stable per name
  });
  it("unique-host-port: three pods binding UDP 10000 on two nodes leave one Pending", async () => {
    const jvb = (name: string) => deployment("a", name, { containers: [{ name: "c", ports: [{ containerPort: 10000, hostPort: 10000, protocol: "UDP" }] }] });
    expect(await findings(input(estate, [jvb("j1"), jvb("j2")]), "unique-host-port")).toEqual([]);
    expect(await findings(input(estate, [jvb("j1"), jvb("j2"), jvb("j3")]), "unique-host-port")).toHaveLength(1);
  });
  it("unique-ingress-path: two Ingresses for one host and path are refused by the admission webhook", async () => {
    const ing = (ns: string) => k8s("networking.k8s.io/v1", "Ingress", ns, "web", { spec: { ingressClassName: "nginx", rules: [{ host: "x.dev.liiibre.coop", http: { paths: [{ path: "/" }] } }] } });
    expect(await findings(input(estate, [ing("a")]), "unique-ingress-path")).toEqual([]);
    expect(await findings(input(estate, [ing("a"), ing("b")]), "unique-ingress-path")).toHaveLength(1);
  });
  it("unique-bucket and unique-keycloak-client", async () => {
    expect(await findings(input(estate, [bucket("primary", "acme-nextcloud"), bucket("backup", "acme-nextcloud")]), "unique-bucket")).toEqual([]);
    expect(await findings(input(estate, [bucket("primary", "acme-nextcloud"), bucket("primary", "acme-nextcloud")]), "unique-bucket")).toHaveLength(1);
    const client = (id: string) => res("keycloak:openid/client:Client", id, { realmId: "liiibre", clientId: id });
    expect(await findings(input(estate, [client("acme-nextcloud"), client("acme-matrix")]), "unique-keycloak-client")).toEqual([]);
    expect(await findings(input(estate, [client("acme-nextcloud"), client("acme-nextcloud")]), "unique-keycloak-client")).toHaveLength(1);
  });
});

describe("network paths", () => {
  const policies = (ns: string, apiRules: boolean) =>
    networkPolicies({ podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12", nodeCIDR: "10.0.0.0/16", jitsi: false })
      // Without the API rules: the egress rules to 6443 taken out of the merged objects.
      .map((p) => (apiRules ? p : { ...p, spec: { ...p.spec, egress: (p.spec.egress as any[] | undefined)?.filter((r) => !r.ports?.some((x: any) => x.port === KUBERNETES_API_PORT)) } }))
      .map((p) => k8s("networking.k8s.io/v1", "NetworkPolicy", ns, p.name, { spec: p.spec }));
  const tenantNs = (slug: string) => namespace(slug, { "liiibre.org/layer": "tenant", "liiibre.org/tenant": slug });
  const cluster = (ns: string) => k8s("postgresql.cnpg.io/v1", "Cluster", ns, `${ns}-nextcloud-pg`, { spec: { instances: 1, bootstrap: { initdb: { database: "nextcloud" } } } });
  it("network-required: CloudNativePG instances reach the API on the controllers' addresses:6443 only with the API egress rule (post-DNAT)", async () => {
    const without = await findings(input(estate, [tenantNs("acme"), ...policies("acme", false), cluster("acme")]), "network-required");
    expect(without.map((f) => f.message)).toEqual([expect.stringMatching(/Kubernetes API \(10\.0\.1\.10:6443 after DNAT\) is dropped \(no egress rule/)]);
    expect(await findings(input(estate, [tenantNs("acme"), ...policies("acme", true), cluster("acme")]), "network-required")).toEqual([]);
  });
  it("network-forbidden: the bundle policies isolate tenants; a policy open to every namespace does not", async () => {
    const redis = (ns: string) => deployment(ns, "redis", { containers: [{ name: "r", ports: [{ name: "redis", containerPort: 6379 }] }] });
    const base = [tenantNs("acme"), tenantNs("bravo"), ...policies("acme", true), ...policies("bravo", true), redis("acme"), redis("bravo"), cluster("acme"), cluster("bravo")];
    expect(await findings(input(estate, base), "network-forbidden")).toEqual([]);
    const open = k8s("networking.k8s.io/v1", "NetworkPolicy", "bravo", "oops", { spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] } });
    const egressOpen = k8s("networking.k8s.io/v1", "NetworkPolicy", "acme", "oops", { spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }] }] } });
    const f = await findings(input(estate, [...base, open, egressOpen]), "network-forbidden");
    expect(f.map((x) => x.objects[1]).sort()).toEqual(["Cluster/bravo/bravo-nextcloud-pg", "Deployment/bravo/redis"]);
  });
  it("network-forbidden: a leak open to some pods only (the database's) is found from those pods", async () => {
    const redis = deployment("bravo", "redis", { containers: [{ name: "r", ports: [{ name: "redis", containerPort: 6379 }] }] });
    const open = k8s("networking.k8s.io/v1", "NetworkPolicy", "bravo", "oops", { spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] } });
    const dbLeak = k8s("networking.k8s.io/v1", "NetworkPolicy", "acme", "db-anywhere", { spec: { podSelector: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }] }, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }] }] } });
    const base = [tenantNs("acme"), tenantNs("bravo"), ...policies("acme", true), ...policies("bravo", true), redis, cluster("acme"), open];
    expect(await findings(input(estate, base), "network-forbidden")).toEqual([]); // acme's own egress still refuses
    const f = await findings(input(estate, [...base, dbLeak]), "network-forbidden");
    expect(f).toMatchObject([{ objects: ["Namespace/acme", "Deployment/bravo/redis"], message: expect.stringMatching(/\(acme-nextcloud-pg\)/) }]);
  });
  it("network-forbidden: with many tenants, a rule aimed at one other tenant is tested on that pair (beyond the sampled neighbours)", async () => {
    const slugs = Array.from({ length: 15 }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
    const base = slugs.flatMap((t) => [tenantNs(t), ...policies(t, true), deployment(t, "redis", { containers: [{ name: "r", ports: [{ containerPort: 6379 }] }] })]);
    const byName = (n: string) => ({ matchLabels: { "kubernetes.io/metadata.name": n } });
    const aimed = [
      k8s("networking.k8s.io/v1", "NetworkPolicy", "t15", "from-t01", { spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: byName("t01") }] }] } }),
      k8s("networking.k8s.io/v1", "NetworkPolicy", "t01", "to-t15", { spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: byName("t15") }] }] } }),
    ];
    expect(await findings(input(estate, base), "network-forbidden")).toEqual([]);
    expect(await findings(input(estate, [...base, ...aimed]), "network-forbidden")).toMatchObject([{ objects: ["Namespace/t01", "Deployment/t15/redis"] }]);
  }, 60_000);
  it("network-required: Prometheus must reach what a ServiceMonitor selects (allow-from-monitoring)", async () => {
    const app = deployment("acme", "web", { containers: [{ name: "c", ports: [{ name: "metrics", containerPort: 9100 }] }] });
    const svc = k8s("v1", "Service", "acme", "web", { metadata: { labels: { app: "web" } }, spec: { selector: { app: "web" }, ports: [{ name: "metrics", port: 9100, targetPort: "metrics" }] } });
    const sm = k8s("monitoring.coreos.com/v1", "ServiceMonitor", "acme", "web", { spec: { selector: { matchLabels: { app: "web" } }, endpoints: [{ port: "metrics" }] } });
    const base = [tenantNs("acme"), app, svc, sm];
    expect(await findings(input(estate, [...base, ...policies("acme", true)]), "network-required")).toEqual([]);
    // The monitoring namespace taken out of the bundle policy's ingress peers.
    const noMonitoring = policies("acme", true).map((p) => {
      const spec = p.inputs.spec as any;
      if (!spec.ingress) return p;
      const ingress = spec.ingress.map((r: any) => ({ ...r, from: r.from?.filter((f: any) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] !== "monitoring") }));
      return { ...p, inputs: { ...p.inputs, spec: { ...spec, ingress } } };
    });
    expect(JSON.stringify(noMonitoring)).not.toContain('"monitoring"');
    expect(await findings(input(estate, [...base, ...noMonitoring]), "network-required")).toMatchObject([{ objects: ["ServiceMonitor/acme/web"], message: expect.stringMatching(/Service\/acme\/web port metrics \(scraped\) is dropped \(no ingress rule/) }]);
  });
  it("firewall-legs: workers must reach the controllers' join ports, the Internet must not reach SSH", async () => {
    const addrs = ["198.51.100.10", "198.51.100.11", "198.51.100.12"];
    const fw = (nodes: string[], admin = ["203.0.113.16/28"]) => {
      const plan = firewallPlan(admin, nodes.map((a) => `${a}/32`));
      const server = (name: string, pool: string) => res("hcloud:index/server:Server", name, { name, labels: { "liiibre.org/cluster": "dev", "liiibre.org/pool": pool } });
      return [
        server("dev-controllers-01", "controllers"), server("dev-workers-01", "workers"), server("dev-workers-02", "workers"),
        res("hcloud:index/firewall:Firewall", "base", { name: "base", applyTos: [{ labelSelector: "liiibre.org/cluster=dev" }], rules: plan.base }),
        res("hcloud:index/firewall:Firewall", "controllers", { name: "controllers", applyTos: [{ labelSelector: "liiibre.org/cluster=dev,liiibre.org/pool in (controllers)" }], rules: plan.controllers }),
        // dev's workers carry liiibre.org/ingress: they serve HTTP(S)
        res("hcloud:index/firewall:Firewall", "ingress", { name: "ingress", applyTos: [{ labelSelector: "liiibre.org/cluster=dev,liiibre.org/pool in (workers)" }], rules: plan.ingress }),
      ];
    };
    expect(await findings(input(estate, fw(addrs)), "firewall-legs")).toEqual([]);
    const missing = await findings(input(estate, fw(addrs.slice(0, 2))), "firewall-legs");
    expect(missing.length).toBe(3); // dev-workers-02 cannot reach 6443, 8132, 9443
    expect(missing.every((f) => f.objects.includes("dev-workers-02"))).toBe(true);
    const ssh = await findings(input(estate, fw(addrs, ["0.0.0.0/0"])), "firewall-legs");
    expect(ssh.some((f) => /administration port 22/.test(f.message))).toBe(true);
  });
});

describe("ordering", () => {
  const operator = res("kubernetes:helm.sh/v3:Release", "cnpg", { name: "cnpg", namespace: "cnpg-system", chart: "cloudnative-pg", values: {} });
  const cr = (deps: string[]) => k8s("postgresql.cnpg.io/v1", "Cluster", "a", "db", { spec: {} }, { dependsOn: deps });
  it("crd-before-cr: a Cluster not waiting for the CloudNativePG release is refused on a fresh cluster", async () => {
    const f = await findings(input(estate, [operator, cr([])]), "crd-before-cr");
    expect(f).toHaveLength(1);
    expect(await findings(input(estate, [operator, cr([operator.urn])]), "crd-before-cr")).toEqual([]);
    expect(await findings(input(estate, [cr([])]), "crd-before-cr")).toMatchObject([{ message: expect.stringMatching(/no release or manifest/) }]);
  });
  it("crd-before-cr: waiting through an ancestor component's dependsOn counts", async () => {
    const comp = res("liiibre:tenant:Tenant", "acme", {}, { custom: false, dependsOn: [operator.urn] });
    const child = k8s("postgresql.cnpg.io/v1", "Cluster", "a", "db", { spec: {} }, { parent: comp.urn });
    expect(await findings(input(estate, [operator, comp, child]), "crd-before-cr")).toEqual([]);
  });
  it("crd-before-cr: a shard's Cluster comes after the platform stack that installs its CRD (platform applied first)", async () => {
    const op = res("kubernetes:helm.sh/v3:Release", "cnpg", { name: "cnpg", namespace: "cnpg-system", chart: "cloudnative-pg", values: {} }, { urn: "urn:pulumi:prod::liiibre::kubernetes:helm.sh/v3:Release::cnpg", stack: "prod" });
    const c = k8s("postgresql.cnpg.io/v1", "Cluster", "a", "db", { spec: {} }, { urn: "urn:pulumi:prod-a::liiibre::kubernetes:postgresql.cnpg.io/v1:Cluster::db", stack: "prod-a" });
    const stacks = [{ name: "prod", layer: "platform" }, { name: "prod-a", layer: "shard" }];
    expect(await findings(input(estate, [op, c], { stacks }), "crd-before-cr")).toEqual([]);
    expect(await findings(input(estate, [op, c], { stacks: [{ name: "prod", layer: "shard" }, { name: "prod-a", layer: "platform" }] }), "crd-before-cr")).toHaveLength(1);
  });
  it("webhook-before-object: a CloudNativePG Cluster not waiting for the operator (its admission webhooks) is refused", async () => {
    const op = res("kubernetes:helm.sh/v3:Release", "cnpg", { name: "cnpg", namespace: "cnpg-system", chart: "cloudnative-pg", values: {} });
    const db = (deps: string[]) => k8s("postgresql.cnpg.io/v1", "Cluster", "a", "db", { spec: {} }, { dependsOn: deps });
    expect(await findings(input(estate, [op, db([])]), "webhook-before-object")).toHaveLength(2);
    expect(await findings(input(estate, [op, db([op.urn])]), "webhook-before-object")).toEqual([]);
  });
});
