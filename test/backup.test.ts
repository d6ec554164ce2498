/**
 * The storage platform as the real program (index.ts) declares it: the primary MinIO Tenant,
 * the Helsinki backup server (cloud-init checked by Debian's `cloud-init schema`), its
 * firewall and protection, the estate-wide Helsinki buckets, the replication user, the k0s
 * backup timer and the operators' pinned charts. Plus the config rule on MinIO servers.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Namespace, Secret } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../components/config";
import { APPS, APP_NAMES } from "../components/config/apps";
import { BackupServer } from "../components/storage/backupServer";
import { k0sBackupInstallScript, k0sBackupScript } from "../components/storage/k0sBackup";
import { CHARTS, IMAGES, MINIO_RELEASE } from "../components/versions";
import { MOCK_SECRET_MARKER, evaluate, evaluateStack, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile, type RecordedResource } from "../scripts/harness";
import { fakeIpv4 } from "../scripts/mock-outputs";
import { UPSTREAM_FIELDS, fieldPaths, ofType, providerOf } from "./storage-fixtures";
import { itWithCloudInit } from "./helpers/tools";

describe("storage platform of the prod stack", async () => {
const prod = await evaluateStack({ stack: "prod" });
const rs = prod.resources;
const estate = prod.estate;
const one = (type: string, pred: (r: RecordedResource) => boolean = () => true) => {
  const found = ofType(rs, type).filter(pred);
  expect(found, type).toHaveLength(1);
  return found[0];
};
const nameIs = (n: string) => (r: RecordedResource) => (r.inputs as any).metadata?.name === n;
const sh = (script: string) => execFileSync("/bin/sh", ["-n", "-c", script], { stdio: "pipe" });

describe("primary MinIO (prod)", () => {
  const tenant = one("kubernetes:minio.min.io/v2:Tenant");
  const spec = (tenant.inputs as any).spec;

  it("is a Tenant on the storage nodes, erasure-coded across servers sized from config", () => {
    const m = estate.storage.minio;
    const pool = spec.pools[0];
    expect(spec.pools).toHaveLength(1);
    expect(pool.servers).toBe(m.servers);
    expect(pool.servers).toBeGreaterThanOrEqual(4);
    expect(pool.volumesPerServer).toBe(m.drivesPerServer);
    expect(pool.volumeClaimTemplate.spec.resources.requests.storage).toBe(`${m.driveSizeGB}Gi`);
    expect(pool.volumeClaimTemplate.spec.storageClassName).toBe(m.storageClass);
    expect(pool.nodeSelector).toEqual({ "liiibre.org/storage": "true" });
    // The storage pool's taint (prod: liiibre.org/storage=true:NoSchedule) is tolerated.
    expect(pool.tolerations).toEqual([{ key: "liiibre.org/storage", operator: "Equal", value: "true", effect: "NoSchedule" }]);
    // One server per node, so that losing a node loses one erasure-set member only.
    const term = pool.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.topologyKey).toBe("kubernetes.io/hostname");
    expect(term.labelSelector.matchLabels).toEqual({ "v1.min.io/tenant": (tenant.inputs as any).metadata.name });
    expect(spec.requestAutoCert).toBe(true);
    expect(spec.env).toContainEqual({ name: "MINIO_PROMETHEUS_AUTH_TYPE", value: "public" });
    expect(spec.image).toBe(`${IMAGES.minio.repository}:${IMAGES.minio.tag}`);
    expect(IMAGES.minio.tag).toBe(MINIO_RELEASE); // same release on both sides of replication
    expect(tenant.protect && tenant.retainOnDelete).toBe(true);
  });

  it("uses only fields of the upstream CRDs", () => {
    const check = (kind: string, r: RecordedResource) => {
      const unknown = fieldPaths((r.inputs as any).spec).filter((p) => !UPSTREAM_FIELDS[kind].includes(p));
      expect(unknown, `${kind} fields not in the upstream CRD list`).toEqual([]);
    };
    check("Tenant", tenant);
  });

  it("reads root credentials from a random password in config.env, never in clear", () => {
    const secret = one("kubernetes:core/v1:Secret", nameIs(spec.configuration.name));
    expect(JSON.stringify(secret.inputs)).not.toContain(MOCK_SECRET_MARKER);
    const raw = secretAwareInputs(secret).stringData;
    expect(isSecretMarker(raw)).toBe(true);
    const env = (raw as { value: Record<string, string> }).value["config.env"];
    expect(env).toMatch(/^export MINIO_ROOT_USER="[a-z-]+"\nexport MINIO_ROOT_PASSWORD="MOCKSECRET-password-[^"]+"\n$/);
    expect(() => new Secret({ metadata: (secret.inputs as any).metadata, type: "Opaque", stringData: { "config.env": env } }).validate()).not.toThrow();
  });

  it("is published at storage.s3Domain over TLS and the @pulumi/minio provider points there with secret credentials", () => {
    // A Gateway API route (test/edge.test.ts validates it against the CRDs): the host's HTTPS
    // listener with a cert-manager certificate, MinIO's TLS port as the backend.
    const gateway = one("kubernetes:gateway.networking.k8s.io/v1:Gateway", nameIs("s3"));
    const listener = (gateway.inputs as any).spec.listeners[0];
    expect(listener).toMatchObject({ protocol: "HTTPS", port: 443, hostname: estate.storage.s3Domain });
    expect((gateway.inputs as any).metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
    const route = one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", nameIs("s3"));
    expect((route.inputs as any).spec.hostnames).toEqual([estate.storage.s3Domain]);
    expect((route.inputs as any).spec.rules[0].backendRefs[0]).toMatchObject({ name: "minio", port: 443 });
    const providers = ofType(rs, "pulumi:providers:minio");
    const primary = providers.find((p) => p.inputs.minioServer === `${estate.storage.s3Domain}:443`)!;
    expect(String(primary.inputs.minioSsl)).toBe("true"); // provider config is sent as strings
    expect(primary.inputs.minioPassword).toBe("[secret]");
    const ns = one("kubernetes:core/v1:Namespace", nameIs("minio"));
    expect(() => new Namespace(ns.inputs as any).validate()).not.toThrow();
    expect(ns.protect && ns.retainOnDelete).toBe(true);
  });
});

describe("Helsinki backup server (prod, kind cloud)", () => {
  const server = one("hcloud:index/server:Server", (r) => r.urn.includes("liiibre:storage:BackupServer"));
  const hel = estate.hetzner.locations.backup;

  it("is a protected server in the backup location, with protected volumes sized from config", () => {
    expect(server.inputs.location).toBe(hel);
    expect(server.inputs.serverType).toBe((estate.backup.server as { serverType: string }).serverType);
    expect(server.inputs.deleteProtection).toBe(true);
    expect(server.inputs.rebuildProtection).toBe(true);
    expect(server.protect).toBe(true);
    expect(server.ignoreChanges).toContain("userData"); // never replaced by a cloud-init edit
    expect(server.ignoreChanges).toContain("sshKeys"); // nor by a key rotation
    // The estate's hcloud SSH keys, by id (what HetznerCompute created), not by a guessed name.
    expect(server.inputs.sshKeys).toHaveLength(estate.hetzner.sshKeys.length);
    for (const k of server.inputs.sshKeys as string[]) expect(k).toMatch(/^\d+$/);
    const volumes = ofType(rs, "hcloud:index/volume:Volume").filter((r) => r.urn.includes("liiibre:storage:BackupServer"));
    expect(volumes.map((v) => v.inputs.size)).toEqual([10240, 10240]);
    for (const v of volumes) {
      expect(v.inputs.location).toBe(hel);
      expect(v.inputs.deleteProtection).toBe(true);
      expect(v.protect && v.retainOnDelete).toBe(true);
    }
    const attachments = ofType(rs, "hcloud:index/volumeAttachment:VolumeAttachment").filter((r) => r.urn.includes("liiibre:storage:BackupServer"));
    expect(attachments).toHaveLength(2);
    // URNs the state holds: a rename here would orphan protected resources.
    expect(server.urn).toBe("urn:pulumi:prod::liiibre::liiibre:storage:StoragePlatform$liiibre:storage:BackupServer$hcloud:index/server:Server::storage-backup-server");
  });

  it("has its own firewall: S3 only from the nodes and admins, SSH only from admins", () => {
    const fw = one("hcloud:index/firewall:Firewall", (r) => r.urn.includes("liiibre:storage:BackupServer"));
    const rules = (fw.inputs as any).rules as Array<{ port: string; sourceIps: string[] }>;
    const s3 = rules.find((r) => r.port === "443")!;
    const ssh = rules.find((r) => r.port === "22")!;
    expect(ssh.sourceIps.sort()).toEqual([...estate.hetzner.adminCidrs].sort());
    // Exactly: admins, every dedicated server, every cloud node's public IPv4 (its primary IP,
    // mock address), nothing else.
    const cloudIps = ofType(rs, "hcloud:index/primaryIp:PrimaryIp").filter((r) => r.inputs.type === "ipv4");
    const cloudNodes = ofType(rs, "hcloud:index/server:Server").filter((r) => !r.urn.includes("liiibre:storage:BackupServer"));
    expect(cloudIps.length).toBe(cloudNodes.length);
    const expected = new Set([...estate.hetzner.adminCidrs, ...estate.dedicatedServers.map((d) => `${d.publicIpv4}/32`), ...cloudIps.map((n) => `${fakeIpv4(n.name)}/32`)]);
    expect(new Set(s3.sourceIps)).toEqual(expected);
    expect(s3.sourceIps.length).toBe(new Set(s3.sourceIps).size);
    for (const r of rules.filter((x) => x.port !== "80")) {
      expect(r.sourceIps).not.toContain("0.0.0.0/0");
      expect(r.sourceIps).not.toContain("::/0");
    }
    expect(rules.map((r) => r.port).sort()).toEqual(["22", "443", "80"]);
    expect((server.inputs as any).firewallIds).toHaveLength(1);
  });

  itWithCloudInit("boots a pinned standalone MinIO under systemd with a cloud-config Debian's cloud-init accepts", () => {
    expect(server.inputs.userData).toBe("[secret]"); // it holds the root password
    const raw = secretAwareInputs(server).userData;
    const userData = String(isSecretMarker(raw) ? raw.value : raw);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ud-"));
    const file = path.join(dir, "user-data.yaml");
    fs.writeFileSync(file, userData);
    const out = execFileSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" });
    expect(out).toMatch(/Valid schema|Valid cloud-config/);
    const doc = parseYaml(userData) as { write_files: Array<{ path: string; content: string; permissions: string }>; runcmd: unknown[] };
    const files = Object.fromEntries(doc.write_files.map((f) => [f.path, f]));
    expect(files["/etc/default/minio"].permissions).toBe("0600");
    expect(files["/etc/default/minio"].content).toContain('MINIO_VOLUMES="/srv/minio/disk{1...2}"');
    expect(files["/etc/default/minio"].content).toContain("MINIO_ROOT_PASSWORD=MOCKSECRET-password-storage-backup-root-password");
    expect(files["/etc/systemd/system/minio.service"].content).toContain("ConditionPathExists=/etc/minio/certs/public.crt");
    const setup = files["/usr/local/sbin/liiibre-backup-setup"].content;
    expect(setup).toContain(`archive/minio.${MINIO_RELEASE}`);
    expect(setup).toContain("sha256sum -c");
    // Devices are the attached volumes' (from the provider), not guesses.
    expect(setup).toMatch(/for dev in \/dev\/disk\/by-id\/scsi-0HC_Volume_\d+ \/dev\/disk\/by-id\/scsi-0HC_Volume_\d+; do/);
    for (const p of ["/usr/local/sbin/liiibre-backup-setup", "/usr/local/sbin/liiibre-minio-certs"]) expect(() => sh(files[p].content)).not.toThrow();
    expect(doc.runcmd).toEqual([["/usr/local/sbin/liiibre-backup-setup"]]);
    // Patched: daily unattended upgrades; no kured outside the cluster, so it reboots itself,
    // after the backup (01:00-05:00) and prune (04:00-07:00) windows.
    expect((doc as unknown as { packages: string[] }).packages).toContain("unattended-upgrades");
    expect(files["/etc/apt/apt.conf.d/20auto-upgrades"].content).toContain('APT::Periodic::Unattended-Upgrade "1";');
    const reboot = files["/etc/apt/apt.conf.d/52liiibre-unattended-upgrades"].content;
    expect(reboot).toContain('Unattended-Upgrade::Automatic-Reboot "true";');
    expect(reboot).toMatch(/Automatic-Reboot-Time "0[7-9]:\d\d"/);
  });

  it("has its own @pulumi/minio provider with secret credentials", () => {
    const p = ofType(rs, "pulumi:providers:minio").find((x) => x.inputs.minioServer === `${estate.backup.s3Domain}:443`)!;
    expect(p.inputs.minioPassword).toBe("[secret]");
    const pw = ofType(rs, "random:index/randomPassword:RandomPassword").find((r) => r.name === "storage-backup-root-password")!;
    expect(pw.protect).toBe(true); // a new password would lock Pulumi out (userData changes are ignored)
  });
});

describe("Helsinki buckets and users of the estate (prod)", () => {
  const backupProvider = (r: RecordedResource) => providerOf(rs, r)?.inputs.minioServer === `${estate.backup.s3Domain}:443`;

  it("keeps PostgreSQL and k0s backups in protected, versioned buckets", () => {
    for (const name of ["liiibre-postgres", "liiibre-k0s"]) {
      const b = one("minio:index/s3Bucket:S3Bucket", (r) => r.inputs.bucket === name);
      expect(backupProvider(b)).toBe(true);
      expect(b.protect && b.retainOnDelete).toBe(true);
      const v = one("minio:index/s3BucketVersioning:S3BucketVersioning", (r) => r.inputs.bucket === name);
      expect((v.inputs as any).versioningConfiguration.status).toBe("Enabled");
      const ilm = one("minio:index/ilmPolicy:IlmPolicy", (r) => r.inputs.bucket === name);
      expect((ilm.inputs as any).rules[0].noncurrentVersionExpirationDays).toBeGreaterThanOrEqual(30);
    }
  });

  it("lets the replication user write tenant twins only, never backups", () => {
    const policy = one("minio:index/iamPolicy:IamPolicy", (r) => r.inputs.name === "replication");
    expect(backupProvider(policy)).toBe(true);
    const arns: string[] = JSON.parse(String(policy.inputs.policy)).Statement.flatMap((s: { Resource: string[] }) => s.Resource);
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const reaches = (bucket: string) => arns.some((a) => glob(a).test(`arn:aws:s3:::${bucket}`) || glob(a).test(`arn:aws:s3:::${bucket}/x`));
    for (const b of ["acme-k8up", "liiibre-postgres", "liiibre-k0s"]) expect(reaches(b), b).toBe(false);
    for (const s of new Set(APP_NAMES.flatMap((a) => APPS[a].buckets))) expect(reaches(`acme-${s}`), s).toBe(true);
    // Its keys and the primary's root keys reach the replication CronJobs through one Secret in the minio namespace.
    const secret = one("kubernetes:core/v1:Secret", nameIs("replication-credentials"));
    expect((secret.inputs as any).metadata.namespace).toBe("minio");
    const keys = Object.keys((secretAwareInputs(secret).stringData as { value: object }).value).sort();
    expect(keys).toEqual(["PRIMARY_ACCESS_KEY", "PRIMARY_SECRET_KEY", "TARGET_ACCESS_KEY", "TARGET_SECRET_KEY"]);
  });

  it("installs a daily k0s backup on every controller, with a write-only user", () => {
    const controllers = prod.estate.nodePools.filter((p) => p.role !== "worker").reduce((n, p) => n + (p.cloud?.count ?? 0), 0);
    const cmds = ofType(rs, "command:remote:Command").filter((r) => r.urn.includes("liiibre:storage:K0sBackup"));
    expect(cmds).toHaveLength(controllers);
    for (const c of cmds) {
      expect(c.inputs.stdin).toBe("[secret]");
      expect(String(c.inputs.create)).toContain("systemctl enable --now liiibre-k0s-backup.timer");
      expect(JSON.stringify(c.inputs)).not.toContain(MOCK_SECRET_MARKER);
    }
    expect(() => sh(k0sBackupInstallScript(estate.backup.s3Domain))).not.toThrow();
    expect(() => sh(k0sBackupScript(estate.backup.s3Domain))).not.toThrow();
    expect(k0sBackupScript(estate.backup.s3Domain)).toContain(`https://${estate.backup.s3Domain}/liiibre-k0s/`);
    const policy = one("minio:index/iamPolicy:IamPolicy", (r) => r.inputs.name === "k0s-backup");
    const actions = JSON.parse(String(policy.inputs.policy)).Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.sort()).toEqual(["s3:GetBucketLocation", "s3:PutObject"]);
  });
});

describe("every tenant of the real program (prod)", () => {
  const primaryServer = `${estate.storage.s3Domain}:443`;
  const backupServer = `${estate.backup.s3Domain}:443`;
  const on = (server: string) => (r: RecordedResource) => providerOf(rs, r)?.inputs.minioServer === server;
  const namespaces = ofType(rs, "kubernetes:core/v1:Namespace").map((n) => (n.inputs as any).metadata);
  const tenantNamespaces = namespaces.filter((m) => m.annotations?.["liiibre.org/users"] !== undefined);

  it("gives every primary bucket the pool declared on its namespace (users × GB × 1024³), a twin, and a replication CronJob naming it", () => {
    const buckets = ofType(rs, "minio:index/s3Bucket:S3Bucket").filter(on(primaryServer));
    expect(buckets.length).toBeGreaterThan(0);
    // The stack's replication CronJobs (one per stack: prod's platform and its shards, planned as one here).
    const jobs = ofType(rs, "kubernetes:batch/v1:CronJob").filter((j) => (j.inputs as any).metadata.namespace === "minio");
    expect(jobs.length).toBeGreaterThan(0);
    const replicated = new Map<string, string>(); // bucket → target host
    for (const j of jobs) {
      const env = Object.fromEntries(((j.inputs as any).spec.jobTemplate.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]));
      for (const b of String(env.BUCKETS).split(" ")) replicated.set(b, String(env.TARGET_HOST));
    }
    for (const b of buckets) {
      const name = String(b.inputs.bucket);
      const ns = tenantNamespaces.find((m) => name.startsWith(`${m.name}-`));
      expect(ns, `namespace of ${name}`).toBeDefined();
      const pool = Number(ns.annotations["liiibre.org/users"]) * Number(ns.annotations["liiibre.org/quota-per-user-gb"]) * 1_073_741_824;
      expect(b.inputs.quota, name).toBe(pool);
      expect(b.protect && b.retainOnDelete, name).toBe(true);
      const twin = ofType(rs, "minio:index/s3Bucket:S3Bucket").filter(on(backupServer)).find((x) => x.inputs.bucket === name);
      expect(twin, `twin of ${name}`).toBeDefined();
      expect(replicated.get(name), `replication of ${name}`).toBe(estate.backup.s3Domain);
    }
  });

  it("gives every stateful namespace a k8up Schedule whose backend is the Helsinki endpoint", () => {
    const stateful = namespaces.filter((m) => m.labels?.["liiibre.org/stateful"] === "true");
    expect(stateful.length).toBeGreaterThanOrEqual(tenantNamespaces.length);
    const schedules = ofType(rs, "kubernetes:k8up.io/v1:Schedule");
    for (const m of stateful) {
      const s = schedules.filter((x) => (x.inputs as any).metadata.namespace === m.name);
      expect(s.length, `Schedule in ${m.name}`).toBeGreaterThan(0);
      for (const x of s) expect((x.inputs as any).spec.backend.s3.endpoint).toBe(`https://${estate.backup.s3Domain}`);
    }
  });

  it("backs every CloudNativePG cluster up to Helsinki", () => {
    const clusters = ofType(rs, "kubernetes:postgresql.cnpg.io/v1:Cluster");
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of clusters) {
      const m = (c.inputs as any).metadata;
      const plugin = (c.inputs as any).spec.plugins.find((p: { name: string; isWALArchiver?: boolean }) => p.name === "barman-cloud.cloudnative-pg.io" && p.isWALArchiver);
      expect(plugin, `archiver of ${m.name}`).toBeDefined();
      const store = ofType(rs, "kubernetes:barmancloud.cnpg.io/v1:ObjectStore").find((s) => (s.inputs as any).metadata.namespace === m.namespace && (s.inputs as any).metadata.name === plugin.parameters.barmanObjectName);
      expect((store?.inputs as any)?.spec.configuration.endpointURL, m.name).toBe(`https://${estate.backup.s3Domain}`);
      expect(c.protect && c.retainOnDelete, m.name).toBe(true);
    }
  });
});

describe("removing a dedicated tenant from the real program's config (dev)", () => {
  it("would drop only that tenant's resources, and every data holder among them is protected and retained", async () => {
    const cfg = readStackConfig(stackConfigFile("dev"));
    const before = await evaluate({ config: cfg, stack: "dev" });
    const after = await evaluate({ config: { ...cfg, tenants: (cfg.tenants as Array<{ slug: string }>).filter((t) => t.slug !== "demo") }, stack: "dev" });
    const kept = new Set(after.resources.map((r) => r.urn));
    const dropped = before.resources.filter((r) => !kept.has(r.urn));
    expect(dropped.length).toBeGreaterThan(0);
    const holders = dropped.filter((r) =>
      ["minio:index/s3Bucket:S3Bucket", "kubernetes:postgresql.cnpg.io/v1:Cluster", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolumeClaim"].includes(r.type),
    );
    expect(holders.map((r) => r.type)).toContain("minio:index/s3Bucket:S3Bucket");
    expect(holders.map((r) => r.type)).toContain("kubernetes:postgresql.cnpg.io/v1:Cluster");
    for (const r of holders) {
      expect(r.urn).toContain("demo");
      expect(r.protect, `${r.name} protect`).toBe(true);
      expect(r.retainOnDelete, `${r.name} retainOnDelete`).toBe(true);
    }
  });
});

describe("operators", () => {
  it("are Helm releases pinned to exact chart versions", () => {
    const releases = ofType(rs, "kubernetes:helm.sh/v3:Release").filter((r) => r.urn.includes("liiibre:storage:StorageOperators"));
    const pins = [CHARTS.minioOperator, CHARTS.k8up, CHARTS.cloudnativePg, CHARTS.barmanCloudPlugin];
    expect(releases.map((r) => r.inputs.chart).sort()).toEqual(pins.map((p) => p.chart).sort());
    for (const r of releases) {
      const pin = pins.find((p) => p.chart === r.inputs.chart)!;
      expect(r.inputs.version).toBe(pin.version);
      expect(r.inputs.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect((r.inputs as any).repositoryOpts.repo).toBe(pin.repo);
    }
    // The Barman Cloud plugin lives with the CloudNativePG operator, as it requires.
    const ns = (chart: string) => releases.find((r) => r.inputs.chart === chart)!.inputs.namespace;
    expect(ns("plugin-barman-cloud")).toBe(ns("cloudnative-pg"));
  });
});

describe("config rules and variants", () => {
  it("rejects more MinIO servers than storage nodes when they must spread", async () => {
    const cfg = readStackConfig(stackConfigFile("prod"));
    const storageNodes = (cfg.dedicatedServers as Array<{ pool: string }>).filter((d) => d.pool === "storage").length;
    const storage = { ...(cfg.storage as object), minio: { ...(cfg.storage as any).minio, servers: storageNodes + 1 } };
    const err = await evaluate({ config: { ...cfg, storage }, program: () => ({}) }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err.message)).toContain(`liiibre:storage.minio.servers: expected at most the number of storage nodes (${storageNodes}`);
    // Allowed on a small cluster that opts out of spreading (the dev stack: 4 servers, 2 nodes).
    const dev = readStackConfig(stackConfigFile("dev"));
    await expect(evaluate({ config: dev, stack: "dev", program: () => ({}) })).resolves.toBeDefined();
  });

  it("with a declared dedicated box creates no server, but the same provider", async () => {
    const cfg = readStackConfig(stackConfigFile("prod"));
    const box = (cfg.dedicatedServers as Array<{ name: string }>)[0];
    const ev = await evaluate({
      config: cfg,
      program: (e) => {
        const estate = { ...e, hetzner: { ...e.hetzner, locations: { ...e.hetzner.locations } }, backup: { ...e.backup, server: { kind: "dedicated" as const, name: box.name } } };
        return { ip: new BackupServer("hel", { estate, nodeCidrs: [] }).ipv4 };
      },
    });
    expect(ev.resources.filter((r) => r.type.startsWith("hcloud:"))).toEqual([]);
    const p = ofType(ev.resources, "pulumi:providers:minio");
    expect(p).toHaveLength(1);
    expect(p[0].inputs.minioServer).toBe(`${ev.estate.backup.s3Domain}:443`);
    expect(ev.outputs.ip).toBe((box as unknown as { publicIpv4: string }).publicIpv4);
  });
});
});
