/**
 * Builds the twin's view of the estate (model.ts TwinEstate) from plain data: the program's
 * Kubernetes objects and cloud resources from the plan, the rendered chart objects (or, without
 * them, the chart facts implied by values), the node inventory from the configuration and the
 * addresses from the k0sctl document.
 */
import { parse as parseYaml } from "yaml";
import { HCLOUD_LABELS } from "../../components/conventions";
import { NODE_LABELS, cloudNodes, dedicatedNodes } from "../../components/hetzner/nodes";
import { CATALOG, serverTypeInfo } from "../../components/hetzner/catalog";
import { GATEWAY_API_CRDS, K8UP_CRDS_URL } from "../../components/versions";
import { bundledObjectUrn, bundledObjects, isObjectsRelease, pulumiTypeOf } from "../../components/kit/objects";
import { chartFacts } from "./chart-facts";
import { quantity, GiB } from "./kube";
import type { HelmRelease, KObject, MinioUser, TwinEstate, TwinFirewall, TwinInput, TwinNode, Workload } from "./model";
import type { RenderedRelease } from "../render/model";
import { ref } from "./model";

const CLUSTER_SCOPED = new Set([
  "Namespace", "StorageClass", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer", "PersistentVolume",
  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "PriorityClass", "IngressClass", "Node", "CSIDriver", "APIService",
]);

const NOT_OBJECTS = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup", "pulumi:providers:kubernetes"]);

function programObjects(input: TwinInput): KObject[] {
  const out: KObject[] = [];
  for (const r of input.resources) {
    if (!r.custom || !r.type.startsWith("kubernetes:") || NOT_OBJECTS.has(r.type)) continue;
    // Objects are read, never written, by the checks: only Secrets (their keys filled in) are copied.
    const o = (r.type === "kubernetes:core/v1:Secret" ? { ...r.inputs } : r.inputs) as Record<string, any>;
    const kind = o.kind ?? r.type.split(":").pop()!;
    const apiVersion = o.apiVersion ?? r.type.split(":")[1].replace(/^core\//, "");
    const name = o.metadata?.name ?? r.name;
    const namespace = CLUSTER_SCOPED.has(kind) ? null : (o.metadata?.namespace ?? "default");
    if (kind === "Secret") {
      const keys = input.secretKeys?.[r.urn];
      if (keys && typeof o.stringData === "string") o.stringData = Object.fromEntries(keys.map((k) => [k, "[secret]"]));
    }
    out.push({ apiVersion, kind, name, namespace, object: o, source: r.urn, dependsOn: effectiveDeps(input, r.urn), origin: "program", tenant: r.tenant ?? null });
  }
  return out;
}

/** Explicit dependencies of a resource and of its ancestors (a child is registered after its parent, which waits for its own dependsOn). */
const depsCache = new WeakMap<TwinInput, Map<string, string[]>>();
function effectiveDeps(input: TwinInput, urn: string): string[] {
  let cache = depsCache.get(input);
  if (!cache) {
    cache = new Map();
    depsCache.set(input, cache);
  }
  const byUrn = indexByUrn(input);
  const walk = (u: string): string[] => {
    const known = cache!.get(u);
    if (known) return known;
    const r = byUrn.get(u);
    if (!r) return [];
    const out = [...new Set([...r.dependsOn, ...(r.parent ? walk(r.parent) : [])])];
    cache!.set(u, out);
    return out;
  };
  return walk(urn);
}

const urnIndex = new WeakMap<TwinInput, Map<string, TwinInput["resources"][number]>>();
export function indexByUrn(input: TwinInput): Map<string, TwinInput["resources"][number]> {
  let m = urnIndex.get(input);
  if (!m) {
    m = new Map(input.resources.map((r) => [r.urn, r]));
    urnIndex.set(input, m);
  }
  return m;
}

function helmReleases(input: TwinInput): HelmRelease[] {
  return input.resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => ({
      urn: r.urn,
      name: String(r.inputs.name ?? r.name),
      namespace: String(r.inputs.namespace ?? "default"),
      chart: String(r.inputs.chart ?? ""),
      version: String(r.inputs.version ?? ""),
      values: (r.inputs.values ?? {}) as Record<string, any>,
      dependsOn: effectiveDeps(input, r.urn),
      ...(isObjectsRelease(r.type, r.inputs) ? { bundle: true } : {}),
    }));
}

/**
 * The CRDs that the manifests the program applies by URL install (components/versions.ts pins
 * the URLs): k8up's release file and Gateway API's standard channel (the ten CRDs of
 * standard-install.yaml, the same as the cache's gateway-api-crds chart).
 */
const MANIFEST_CRDS: ReadonlyArray<{ url: string; group: string; kinds: readonly string[] }> = [
  { url: K8UP_CRDS_URL, group: "k8up.io", kinds: ["Schedule", "Backup", "Check", "Prune", "Restore", "Archive", "PreBackupPod", "Snapshot"] },
  {
    url: GATEWAY_API_CRDS.url,
    group: "gateway.networking.k8s.io",
    kinds: ["GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant", "BackendTLSPolicy", "ListenerSet", "TCPRoute", "TLSRoute", "UDPRoute"],
  },
];

/** The resource (plural) name of a kind, as CRDs spell it: `gatewayclasses`, `backendtlspolicies`. */
const plural = (kind: string): string => {
  const k = kind.toLowerCase();
  return k.endsWith("y") ? `${k.slice(0, -1)}ies` : k.endsWith("s") ? `${k}es` : `${k}s`;
};

/**
 * A bundle's objects release (components/kit/objects.ts): its objects are known from its values,
 * exactly as Kubernetes receives them (test/bundle-objects-chart.test.ts), so no chart facts
 * are needed; under `--render` the rendered ones (the renderer's `bundle-altered` check says
 * when they differ). Either way: applied by the release (its source and its dependencies,
 * Helm applying them together), attributed to the release's organisation.
 */
function bundleObjects(input: TwinInput, rel: HelmRelease, rendered: RenderedRelease | undefined): KObject[] {
  const res = indexByUrn(input).get(rel.urn)!;
  const common = { source: `release:${rel.namespace}/${rel.name}`, release: rel.urn, dependsOn: [rel.urn, ...rel.dependsOn], tenant: res.tenant ?? null };
  if (rendered?.objects.length)
    return rendered.objects.map((o) => ({
      apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace, object: o.object, ...common, origin: "rendered",
      bundle: bundledObjectUrn(rel.urn, { type: pulumiTypeOf(o.apiVersion, o.kind), namespace: o.namespace ?? undefined, name: o.name }),
    }));
  return bundledObjects(res.type, res.inputs).map((b) => ({
    apiVersion: b.apiVersion, kind: b.kind, name: b.name, namespace: CLUSTER_SCOPED.has(b.kind) ? null : (b.namespace ?? rel.namespace), object: b.props, ...common, origin: "bundled",
    bundle: bundledObjectUrn(rel.urn, b),
  }));
}

function chartObjects(input: TwinInput, releases: HelmRelease[]): KObject[] {
  const rendered = new Map((input.rendered ?? []).map((r) => [r.urn, r]));
  const out: KObject[] = [];
  for (const rel of releases) {
    const r = rendered.get(rel.urn);
    if (rel.bundle) out.push(...bundleObjects(input, rel, r));
    else if (r && r.objects.length) {
      for (const o of r.objects)
        out.push({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace, object: o.object, source: `release:${rel.namespace}/${rel.name}`, release: rel.urn, dependsOn: [rel.urn, ...rel.dependsOn], origin: "rendered" });
    } else out.push(...chartFacts(rel).map((o) => ({ ...o, dependsOn: [rel.urn, ...rel.dependsOn] })));
  }
  // CRDs applied from a manifest by the program (kubernetes:yaml/v2:ConfigFile): known by URL.
  for (const r of input.resources.filter((x) => x.type === "kubernetes:yaml/v2:ConfigFile")) {
    const manifest = MANIFEST_CRDS.find((m) => m.url === String(r.inputs.file ?? ""));
    for (const kind of manifest?.kinds ?? [])
      out.push({
        apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: `${plural(kind)}.${manifest!.group}`, namespace: null,
        object: { spec: { group: manifest!.group, names: { kind } } }, source: r.urn, release: r.urn, dependsOn: [r.urn], origin: "values",
      });
  }
  return out;
}

function k0sctlDoc(input: TwinInput): TwinEstate["k0sctl"] {
  const apply = input.resources.find((r) => r.type === "command:local:Command" && typeof r.inputs.stdin === "string" && /kind: Cluster/.test(String(r.inputs.stdin)) && /k0sctl apply/.test(String(r.inputs.create ?? "")));
  if (!apply) return null;
  const doc = parseYaml(String(apply.inputs.stdin)) as { spec?: { hosts?: any[] } };
  return { hosts: doc?.spec?.hosts ?? [] };
}

/** Labels every kubelet sets on its node (well-known labels: kubernetes.io/os, kubernetes.io/arch). */
const KUBELET_LABELS = { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" };

function nodesOf(input: TwinInput, k0s: TwinEstate["k0sctl"]): TwinNode[] {
  const { estate } = input;
  const byHost = new Map((k0s?.hosts ?? []).map((h) => [h.hostname, h]));
  const country = (loc: string) => CATALOG.locations[loc]?.country ?? "??";
  const out: TwinNode[] = [];
  for (const n of cloudNodes(estate)) {
    const info = serverTypeInfo(n.serverType);
    const h = byHost.get(n.name);
    out.push({
      name: n.name, pool: n.pool, kind: "cloud", role: n.role, location: n.location, country: country(n.location), serverType: n.serverType,
      cores: info?.cores ?? 0, ramGB: info?.ramGB ?? 0, publicIpv4: h?.ssh?.address ?? "", privateIpv4: h?.privateAddress ?? "",
      // The kubelet's own labels, and the hcloud CCM's topology and instance-type labels.
      labels: { ...KUBELET_LABELS, ...n.labels, "kubernetes.io/hostname": n.name, "node.kubernetes.io/instance-type": n.serverType, "topology.kubernetes.io/region": n.location },
      taints: n.taints, localDisksGB: n.volumeGB ? [n.volumeGB] : [],
      secondHand: false, kubelet: n.role !== "controller", reset: n.reset,
    });
  }
  for (const d of dedicatedNodes(estate)) {
    const h = byHost.get(d.name);
    out.push({
      name: d.name, pool: d.pool, kind: "dedicated", role: d.role, location: d.location, country: country(d.location),
      cores: d.server.cores, ramGB: d.server.ramGB, publicIpv4: h?.ssh?.address ?? d.server.publicIpv4, privateIpv4: h?.privateAddress ?? d.server.privateIpv4,
      labels: { ...KUBELET_LABELS, ...d.labels, "kubernetes.io/hostname": d.name },
      taints: d.taints,
      // The first disk is the OS disk (docs/compute.md): the others are mounted under /mnt/disks.
      localDisksGB: d.server.disks.slice(1).map((x) => x.sizeGB),
      secondHand: d.server.auction === true, kubelet: d.role !== "controller", reset: d.reset,
    });
  }
  return out;
}

function parseLabelSelector(s: string): (labels: Record<string, string>) => boolean {
  const parts = s.split(/,(?![^()]*\))/).map((p) => p.trim()).filter(Boolean);
  return (labels) =>
    parts.every((p) => {
      const inM = /^(\S+)\s+in\s+\(([^)]*)\)$/.exec(p);
      if (inM) return inM[2].split(",").map((x) => x.trim()).includes(labels[inM[1]]);
      const [k, v] = p.split("=");
      return labels[k] === v;
    });
}

function firewallsOf(input: TwinInput): TwinFirewall[] {
  const servers = input.resources.filter((r) => r.type === "hcloud:index/server:Server");
  return input.resources
    .filter((r) => r.type === "hcloud:index/firewall:Firewall")
    .map((r) => {
      const applyTos = (r.inputs.applyTos ?? []) as Array<{ labelSelector?: string; server?: unknown }>;
      const labels = (r.inputs.labels ?? {}) as Record<string, string>;
      const appliesTo = servers
        .filter((s) => {
          const sl = (s.inputs.labels ?? {}) as Record<string, string>;
          if (applyTos.length) return applyTos.some((a) => a.labelSelector && parseLabelSelector(a.labelSelector)(sl));
          // Attached through the server's firewallIds: the firewall carries the server's labels.
          return Array.isArray(s.inputs.firewallIds) && Object.entries(labels).every(([k, v]) => sl[k] === v);
        })
        .map((s) => String(s.inputs.name ?? s.name));
      return { name: String(r.inputs.name ?? r.name), rules: ((r.inputs.rules ?? []) as any[]).map((x) => ({ direction: x.direction, protocol: x.protocol, port: x.port, sourceIps: x.sourceIps ?? [] })), appliesTo };
    });
}

const minioServer = (provider: string | null): "primary" | "backup" => (provider && /backup/.test(provider.split("::").pop() ?? "") ? "backup" : "primary");

function minioOf(input: TwinInput): { users: MinioUser[]; buckets: TwinEstate["buckets"]; bucketPolicies: TwinEstate["bucketPolicies"] } {
  const users = input.resources.filter((r) => r.type === "minio:index/iamUser:IamUser");
  const policies = input.resources.filter((r) => r.type === "minio:index/iamPolicy:IamPolicy");
  const attachments = input.resources.filter((r) => r.type === "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment");
  const group = <T>(items: T[], key: (t: T) => string) => {
    const m = new Map<string, T[]>();
    for (const i of items) {
      const k = key(i);
      const l = m.get(k);
      if (l) l.push(i);
      else m.set(k, [i]);
    }
    return m;
  };
  const attachedBy = group(attachments, (a) => `${minioServer(a.provider)}/${a.inputs.userName}`);
  const policyBy = group(policies, (p) => `${minioServer(p.provider)}/${p.inputs.name}`);
  const out: MinioUser[] = users.map((u) => {
    const server = minioServer(u.provider);
    const name = String(u.inputs.name);
    const attached = (attachedBy.get(`${server}/${name}`) ?? []).map((a) => String(a.inputs.policyName));
    return {
      server, name, urn: u.urn, tenant: u.tenant ?? null,
      policies: attached
        .flatMap((pn) => policyBy.get(`${server}/${pn}`) ?? [])
        .map((p) => ({ name: String(p.inputs.name), document: typeof p.inputs.policy === "string" ? JSON.parse(p.inputs.policy) : (p.inputs.policy as Record<string, any>) })),
    };
  });
  const buckets = input.resources
    .filter((r) => r.type === "minio:index/s3Bucket:S3Bucket")
    .map((r) => ({ server: minioServer(r.provider), name: String(r.inputs.bucket), urn: r.urn, tenant: r.tenant ?? null }));
  const bucketPolicies = input.resources
    .filter((r) => r.type === "minio:index/s3BucketPolicy:S3BucketPolicy")
    .map((r) => ({ server: minioServer(r.provider), bucket: String(r.inputs.bucket), urn: r.urn, document: typeof r.inputs.policy === "string" ? JSON.parse(r.inputs.policy) : (r.inputs.policy as Record<string, any>) }));
  return { users: out, buckets, bucketPolicies };
}

// --- workloads --------------------------------------------------------------------------

const sizeGiB = (q: unknown) => quantity(q) / GiB;

function templateOf(o: KObject): { spec: any; labels: Record<string, string>; replicas: number } | null {
  const s = o.object.spec ?? {};
  switch (o.kind) {
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
      return { spec: s.template?.spec ?? {}, labels: s.template?.metadata?.labels ?? {}, replicas: s.replicas ?? 1 };
    case "DaemonSet":
      return { spec: s.template?.spec ?? {}, labels: s.template?.metadata?.labels ?? {}, replicas: -1 };
    case "Job":
      return { spec: s.template?.spec ?? {}, labels: s.template?.metadata?.labels ?? {}, replicas: s.parallelism ?? 1 };
    case "CronJob":
      return { spec: s.jobTemplate?.spec?.template?.spec ?? {}, labels: s.jobTemplate?.spec?.template?.metadata?.labels ?? {}, replicas: 1 };
    default:
      return null;
  }
}

export function workloadsOf(objects: KObject[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    const ns = o.namespace ?? "default";
    const t = templateOf(o);
    if (t) {
      const claims = o.kind === "StatefulSet"
        ? ((o.object.spec?.volumeClaimTemplates ?? []) as any[]).map((c) => ({ name: c.metadata?.name ?? "data", storageClassName: c.spec?.storageClassName ?? null, sizeGiB: sizeGiB(c.spec?.resources?.requests?.storage) }))
        : [];
      out.push({ id: ref(o), kind: o.kind, namespace: ns, name: o.name, replicas: t.replicas, labels: t.labels, spec: t.spec, claims, owner: o });
      continue;
    }
    if (o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/")) {
      // CloudNativePG instance pods: labels cnpg.io/cluster, postgres on 5432, status on 8000; one PVC each.
      const s = o.object.spec ?? {};
      const aff = s.affinity ?? {};
      out.push({
        id: ref(o), kind: "Cluster", namespace: ns, name: o.name, replicas: s.instances ?? 1,
        labels: { "cnpg.io/cluster": o.name, "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "primary", ...(s.inheritedMetadata?.labels ?? {}) },
        spec: {
          serviceAccountName: o.name,
          nodeSelector: aff.nodeSelector,
          tolerations: aff.tolerations,
          affinity: aff.additionalPodAffinity || aff.nodeAffinity ? { nodeAffinity: aff.nodeAffinity } : undefined,
          containers: [{ name: "postgres", resources: s.resources ?? {}, ports: [{ name: "postgresql", containerPort: 5432 }, { name: "status", containerPort: 8000 }] }],
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        },
        claims: [{ name: "pgdata", storageClassName: s.storage?.storageClass ?? null, sizeGiB: sizeGiB(s.storage?.size) }],
        owner: o,
      });
      continue;
    }
    if (o.kind === "Tenant" && o.apiVersion.startsWith("minio.min.io/")) {
      for (const p of (o.object.spec?.pools ?? []) as any[]) {
        const vct = p.volumeClaimTemplate?.spec ?? {};
        out.push({
          id: `${ref(o)}/${p.name}`, kind: "TenantPool", namespace: ns, name: `${o.name}-${p.name}`, replicas: p.servers ?? 1,
          labels: { "v1.min.io/tenant": o.name, "v1.min.io/pool": p.name },
          spec: {
            nodeSelector: p.nodeSelector, tolerations: p.tolerations, affinity: p.affinity,
            containers: [{ name: "minio", resources: p.resources ?? {}, ports: [{ name: "https-minio", containerPort: 9000 }] }],
            securityContext: p.securityContext,
          },
          claims: Array.from({ length: p.volumesPerServer ?? 1 }, (_, i) => ({ name: `data${i}`, storageClassName: vct.storageClassName ?? null, sizeGiB: sizeGiB(vct.resources?.requests?.storage) })),
          owner: o,
        });
      }
    }
  }
  return out;
}

// --- objects operators create --------------------------------------------------------

/**
 * Objects the operators create from the program's custom resources, which other objects refer
 * to: CloudNativePG's `<cluster>-app` Secret, `-rw`/`-ro`/`-r` Services and ServiceAccount
 * (cnpg docs "Connecting from an application", "Service management"); the MinIO Operator's
 * `minio` and `<tenant>-hl` Services.
 */
export function operatorObjects(objects: KObject[]): KObject[] {
  const out: KObject[] = [];
  const mk = (o: KObject, apiVersion: string, kind: string, name: string, body: Record<string, unknown>): KObject => ({
    apiVersion, kind, name, namespace: o.namespace, object: { apiVersion, kind, metadata: { name, namespace: o.namespace }, ...body }, source: o.source, dependsOn: [o.source, ...o.dependsOn], origin: "values",
  });
  for (const o of objects) {
    if (o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/")) {
      const keys = ["username", "password", "host", "port", "dbname", "user", "uri", "jdbc-uri", "pgpass", "fqdn-uri", "fqdn-jdbc-uri"];
      out.push(mk(o, "v1", "Secret", `${o.name}-app`, { type: "kubernetes.io/basic-auth", data: Object.fromEntries(keys.map((k) => [k, "[operator]"])) }));
      for (const [suffix, role] of [["rw", "primary"], ["ro", "replica"], ["r", undefined]] as const)
        out.push(mk(o, "v1", "Service", `${o.name}-${suffix}`, { spec: { selector: { "cnpg.io/cluster": o.name, ...(role ? { "cnpg.io/instanceRole": role } : {}) }, ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }] } }));
      out.push(mk(o, "v1", "ServiceAccount", o.name, {}));
    }
    // cert-manager issues each Certificate into its secretName (tls.crt, tls.key, ca.crt).
    if (o.kind === "Certificate" && o.apiVersion.startsWith("cert-manager.io/") && o.object.spec?.secretName)
      out.push(mk(o, "v1", "Secret", o.object.spec.secretName, { type: "kubernetes.io/tls", data: { "tls.crt": "[operator]", "tls.key": "[operator]", "ca.crt": "[operator]" } }));
    // kube-webhook-certgen (ingress-nginx's admission hook Job) creates the Secret named by --secret-name.
    if (o.kind === "Job")
      for (const c of (o.object.spec?.template?.spec?.containers ?? []) as any[])
        for (const a of [...(c.args ?? []), ...(c.command ?? [])] as string[]) {
          const m = /^--secret-name=(.+)$/.exec(String(a));
          if (m && /certgen/.test(String(c.image ?? ""))) out.push(mk(o, "v1", "Secret", m[1], { data: { cert: "[operator]", key: "[operator]", ca: "[operator]" } }));
        }
    // prometheus-operator: one StatefulSet per Prometheus / Alertmanager, pods labelled as its Services select them.
    if ((o.kind === "Prometheus" || o.kind === "Alertmanager") && o.apiVersion.startsWith("monitoring.coreos.com/")) {
      const sp = o.object.spec ?? {};
      const app = o.kind.toLowerCase();
      const labels = { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": o.name, "app.kubernetes.io/managed-by": "prometheus-operator", [app]: o.name, ...(o.kind === "Prometheus" ? { "operator.prometheus.io/name": o.name, "operator.prometheus.io/shard": "0" } : {}), ...(sp.podMetadata?.labels ?? {}) };
      const port = o.kind === "Prometheus" ? 9090 : 9093;
      const claim = sp.storage?.volumeClaimTemplate;
      out.push(mk(o, "apps/v1", "StatefulSet", `${app}-${o.name}`, {
        spec: {
          replicas: sp.replicas ?? 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { nodeSelector: sp.nodeSelector, tolerations: sp.tolerations, affinity: sp.affinity, securityContext: sp.securityContext, containers: [{ name: app, resources: sp.resources ?? {}, ports: [{ name: o.kind === "Prometheus" ? "http-web" : "http-web", containerPort: port }] }] } },
          volumeClaimTemplates: claim ? [{ metadata: { name: "data" }, spec: claim.spec ?? {} }] : [],
        },
      }));
    }
    if (o.kind === "Tenant" && o.apiVersion.startsWith("minio.min.io/")) {
      const selector = { "v1.min.io/tenant": o.name };
      out.push(mk(o, "v1", "Service", "minio", { spec: { selector, ports: [{ name: "https-minio", port: 443, targetPort: 9000, protocol: "TCP" }] } }));
      out.push(mk(o, "v1", "Service", `${o.name}-hl`, { spec: { selector, clusterIP: "None", ports: [{ name: "https-minio", port: 9000, targetPort: 9000, protocol: "TCP" }] } }));
    }
  }
  return out;
}

/**
 * What k0s itself runs (not in the plan): CoreDNS (k8s-app=kube-dns, the `kube-dns` Service),
 * kube-router and kube-proxy on every node, konnectivity agents, metrics-server.
 */
export function k0sSystemObjects(): KObject[] {
  const ns = "kube-system";
  const mk = (kind: string, name: string, body: Record<string, unknown>): KObject => ({
    apiVersion: kind === "Service" ? "v1" : "apps/v1", kind, name, namespace: ns, object: { metadata: { name, namespace: ns }, ...body }, source: "k0s", dependsOn: [], origin: "values",
  });
  const dnsLabels = { "k8s-app": "kube-dns" };
  return [
    mk("Deployment", "coredns", { spec: { replicas: 2, template: { metadata: { labels: dnsLabels }, spec: { containers: [{ name: "coredns", resources: { requests: { cpu: "100m", memory: "70Mi" } }, ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }, { name: "dns-tcp", containerPort: 53, protocol: "TCP" }, { name: "metrics", containerPort: 9153 }] }] } } } }),
    mk("Service", "kube-dns", { spec: { selector: dnsLabels, ports: [{ name: "dns", port: 53, protocol: "UDP" }, { name: "dns-tcp", port: 53, protocol: "TCP" }] } }),
    mk("Deployment", "metrics-server", { spec: { replicas: 1, template: { metadata: { labels: { "k8s-app": "metrics-server" } }, spec: { containers: [{ name: "metrics-server", resources: { requests: { cpu: "10m", memory: "30M" } } }] } } } }),
    mk("DaemonSet", "kube-router", { spec: { template: { metadata: { labels: { "k8s-app": "kube-router" } }, spec: { hostNetwork: true, tolerations: [{ operator: "Exists" }], containers: [{ name: "kube-router", resources: { requests: { cpu: "250m", memory: "16Mi" } } }] } } } }),
    mk("DaemonSet", "kube-proxy", { spec: { template: { metadata: { labels: { "k8s-app": "kube-proxy" } }, spec: { hostNetwork: true, tolerations: [{ operator: "Exists" }], containers: [{ name: "kube-proxy" }] } } } }),
    mk("DaemonSet", "konnectivity-agent", { spec: { template: { metadata: { labels: { "k8s-app": "konnectivity-agent" } }, spec: { tolerations: [{ operator: "Exists" }], containers: [{ name: "konnectivity-agent" }] } } } }),
  ];
}

/** What the controller manager puts in every namespace: the `kube-root-ca.crt` ConfigMap (key `ca.crt`) and the `default` ServiceAccount. */
export function perNamespaceObjects(objects: KObject[]): KObject[] {
  const names = new Set(["default", "kube-system", ...objects.filter((o) => o.kind === "Namespace").map((o) => o.name), ...objects.map((o) => o.namespace).filter((n): n is string => !!n)]);
  return [...names].flatMap((ns): KObject[] => [
    { apiVersion: "v1", kind: "ConfigMap", name: "kube-root-ca.crt", namespace: ns, object: { data: { "ca.crt": "[controller]" } }, source: "kube-controller-manager", dependsOn: [], origin: "values" },
    { apiVersion: "v1", kind: "ServiceAccount", name: "default", namespace: ns, object: {}, source: "kube-controller-manager", dependsOn: [], origin: "values" },
  ]);
}

/**
 * Provisioners whose volumes attach to some nodes only: hcloud-csi's node plugin runs on cloud
 * nodes only (components/platform/hcloud.ts), so the scheduler (VolumeBinding, CSI topology)
 * places their consumers on cloud nodes.
 */
const PROVISIONER_TOPOLOGY: Record<string, Record<string, string>> = { "csi.hetzner.cloud": { [NODE_LABELS.kind]: "cloud" } };

function volumeTopology(workloads: Workload[], byKind: Map<string, KObject[]>, byRef: Map<string, KObject>): void {
  const classes = byKind.get("StorageClass") ?? [];
  const def = classes.find((c) => c.object.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
  const topologyOf = (cls: string | null | undefined) => {
    const sc = cls ? classes.find((c) => c.name === cls) : cls === "" ? undefined : def;
    return sc ? PROVISIONER_TOPOLOGY[String(sc.object.provisioner)] : undefined;
  };
  for (const w of workloads) {
    const names = [
      ...w.claims.map((c) => c.storageClassName),
      ...((w.spec.volumes ?? []) as any[]).filter((v) => v.persistentVolumeClaim).map((v) => byRef.get(`PersistentVolumeClaim/${w.namespace}/${v.persistentVolumeClaim.claimName}`)?.object.spec?.storageClassName),
    ];
    if (names.length === 0) continue;
    const t = Object.assign({}, ...names.map(topologyOf).filter(Boolean));
    if (Object.keys(t).length) w.volumeTopology = t;
  }
}

// --- the estate -------------------------------------------------------------------------

export function normalise(input: TwinInput): TwinEstate {
  const releases = helmReleases(input);
  const own = [...programObjects(input), ...chartObjects(input, releases)];
  const objects = [...own, ...operatorObjects(own), ...k0sSystemObjects(), ...perNamespaceObjects(own)];
  const byKind = new Map<string, KObject[]>();
  const byRef = new Map<string, KObject>();
  for (const o of objects) {
    const list = byKind.get(o.kind);
    if (list) list.push(o);
    else byKind.set(o.kind, [o]);
    byRef.set(ref(o), o);
  }
  const k0sctl = k0sctlDoc(input);
  const { users, buckets, bucketPolicies } = minioOf(input);
  const backup = input.resources.find((r) => r.type === "hcloud:index/server:Server" && (r.inputs.labels as Record<string, string> | undefined)?.[HCLOUD_LABELS.role] === "backup");
  const backupIp = input.resources.find((r) => r.type === "hcloud:index/primaryIp:PrimaryIp" && /backup/.test(r.name) && r.inputs.type !== "ipv6");
  const workloads = workloadsOf(objects);
  volumeTopology(workloads, byKind, byRef);
  return {
    input,
    objects,
    byKind,
    byRef,
    workloads,
    nodes: nodesOf(input, k0sctl),
    firewalls: firewallsOf(input),
    backupServer: backup
      ? { name: String(backup.inputs.name), publicIpv4: backupIp ? `backup:${backupIp.name}` : "backup", location: String(backup.inputs.location), country: CATALOG.locations[String(backup.inputs.location)]?.country ?? "??" }
      : null,
    minioUsers: users,
    buckets,
    bucketPolicies,
    releases,
    k0sctl,
    keycloakClients: input.resources
      .filter((r) => r.type === "keycloak:openid/client:Client")
      .map((r) => ({ realm: String(r.inputs.realmId ?? ""), clientId: String(r.inputs.clientId ?? ""), urn: r.urn })),
  };
}
