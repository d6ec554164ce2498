/**
 * References: what the kubelet, the operators and the ingress controller look up by name.
 * Secrets and ConfigMaps (env `secretKeyRef`/`configMapKeyRef`, `envFrom`, volumes, custom
 * resources' secret references, `existingSecret`-style chart values) must exist in the same
 * namespace with the key; service accounts and image pull secrets must exist; every Service
 * selects pods; every Ingress backend is a Service with that port; every backend server of an
 * HAProxy config names an existing Service and port; every Ingress host is a
 * co-op host or one the organisation points at the cluster (its DNS records).
 */
import { HAPROXY_CONFIG_KEY, haproxyServerTargets, type HaproxyTarget } from "../../../components/kit/haproxy";
import { matchesSelector, selectsPodsOf } from "../kube";
import type { KObject, TwinCheck, TwinEstate, TwinFinding, Workload } from "../model";
import { ref } from "../model";
import { ANNOTATIONS } from "../../../components/conventions";
import { routeBackends } from "../routes";

const keysOf = (o: KObject): string[] | null => {
  const d = o.object.data;
  const sd = o.object.stringData;
  if (typeof d === "string" || typeof sd === "string") return null; // redacted whole: keys unknown
  return [...Object.keys(d ?? {}), ...Object.keys(sd ?? {}), ...Object.keys(o.object.binaryData ?? {})];
};

/** A namespace whose chart objects are not all known (a release there was not rendered): absence proves nothing. */
function unknownNamespaces(e: TwinEstate): Set<string> {
  const rendered = new Set((e.input.rendered ?? []).filter((r) => r.objects.length).map((r) => r.urn));
  return new Set(e.releases.filter((r) => !rendered.has(r.urn) && !r.bundle).map((r) => r.namespace)); // a bundle's objects are known from its values
}

interface Ref {
  kind: "Secret" | "ConfigMap" | "ServiceAccount";
  namespace: string;
  name: string;
  key?: string;
  optional?: boolean;
  from: string;
  where: string;
}

function podRefs(w: Workload): Ref[] {
  const out: Ref[] = [];
  const add = (r: Omit<Ref, "namespace" | "from">) => out.push({ ...r, namespace: w.namespace, from: w.id });
  const containers = [...(w.spec.initContainers ?? []), ...(w.spec.containers ?? [])] as any[];
  for (const c of containers) {
    for (const env of c.env ?? []) {
      const s = env.valueFrom?.secretKeyRef;
      if (s) add({ kind: "Secret", name: s.name, key: s.key, optional: s.optional, where: `container ${c.name} env ${env.name}` });
      const m = env.valueFrom?.configMapKeyRef;
      if (m) add({ kind: "ConfigMap", name: m.name, key: m.key, optional: m.optional, where: `container ${c.name} env ${env.name}` });
    }
    for (const ef of c.envFrom ?? []) {
      if (ef.secretRef) add({ kind: "Secret", name: ef.secretRef.name, optional: ef.secretRef.optional, where: `container ${c.name} envFrom` });
      if (ef.configMapRef) add({ kind: "ConfigMap", name: ef.configMapRef.name, optional: ef.configMapRef.optional, where: `container ${c.name} envFrom` });
    }
  }
  // The kubelet sets up only the volumes some container mounts (volumeMounts or volumeDevices);
  // a declared but unused volume is ignored ("Volume is not used in the pod"), missing or not.
  const used = new Set(containers.flatMap((c) => [...(c.volumeMounts ?? []), ...(c.volumeDevices ?? [])].map((m: any) => m.name)));
  for (const v of (w.spec.volumes ?? []).filter((x: any) => used.has(x.name))) {
    if (v.secret) {
      const items = (v.secret.items ?? []) as any[];
      if (items.length) for (const i of items) add({ kind: "Secret", name: v.secret.secretName, key: i.key, optional: v.secret.optional, where: `volume ${v.name}` });
      else add({ kind: "Secret", name: v.secret.secretName, optional: v.secret.optional, where: `volume ${v.name}` });
    }
    if (v.configMap) {
      const items = (v.configMap.items ?? []) as any[];
      if (items.length) for (const i of items) add({ kind: "ConfigMap", name: v.configMap.name, key: i.key, optional: v.configMap.optional, where: `volume ${v.name}` });
      else add({ kind: "ConfigMap", name: v.configMap.name, optional: v.configMap.optional, where: `volume ${v.name}` });
    }
    for (const src of v.projected?.sources ?? []) {
      if (src.secret) add({ kind: "Secret", name: src.secret.name, optional: src.secret.optional, where: `volume ${v.name}` });
      if (src.configMap) add({ kind: "ConfigMap", name: src.configMap.name, optional: src.configMap.optional, where: `volume ${v.name}` });
    }
  }
  if (w.spec.serviceAccountName && w.spec.serviceAccountName !== "default") add({ kind: "ServiceAccount", name: w.spec.serviceAccountName, where: "serviceAccountName" });
  for (const s of w.spec.imagePullSecrets ?? []) add({ kind: "Secret", name: s.name, where: "imagePullSecrets" });
  return out;
}

/** Secret references of custom resources (operators read them) and of chart values (`existingSecret`, `secretKeyRef`). */
function otherRefs(e: TwinEstate): Ref[] {
  const out: Ref[] = [];
  for (const o of e.byKind.get("ObjectStore") ?? []) {
    const c = o.object.spec?.configuration?.s3Credentials ?? {};
    for (const [field, r] of Object.entries(c) as Array<[string, any]>) if (r?.name) out.push({ kind: "Secret", namespace: o.namespace!, name: r.name, key: r.key, from: ref(o), where: `s3Credentials.${field}` });
  }
  for (const o of e.byKind.get("Schedule") ?? []) {
    const b = o.object.spec?.backend ?? {};
    for (const [field, r] of [["repoPasswordSecretRef", b.repoPasswordSecretRef], ["s3.accessKeyIDSecretRef", b.s3?.accessKeyIDSecretRef], ["s3.secretAccessKeySecretRef", b.s3?.secretAccessKeySecretRef]] as Array<[string, any]>)
      if (r?.name) out.push({ kind: "Secret", namespace: o.namespace!, name: r.name, key: r.key, from: ref(o), where: `backend.${field}` });
  }
  for (const o of e.byKind.get("Tenant") ?? []) {
    const c = o.object.spec?.configuration?.name;
    if (c) out.push({ kind: "Secret", namespace: o.namespace!, name: c, key: "config.env", from: ref(o), where: "spec.configuration" });
  }
  for (const r of e.releases) {
    if (r.bundle) continue; // a bundle's objects are objects of the estate: their references are read as such
    const walk = (v: any, path: string) => {
      if (!v || typeof v !== "object") return;
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
      if (v.secretKeyRef?.name && typeof v.secretKeyRef.name === "string") out.push({ kind: "Secret", namespace: r.namespace, name: v.secretKeyRef.name, key: v.secretKeyRef.key, optional: v.secretKeyRef.optional, from: `Release/${r.namespace}/${r.name}`, where: `values ${path}` });
      for (const [k, x] of Object.entries(v)) {
        if (/^existingSecret$/.test(k)) {
          // A name alone (its keys, when given, are in secretKeys beside it: below).
          if (typeof x === "string" && x && !(v.secretKeys && typeof v.secretKeys === "object")) out.push({ kind: "Secret", namespace: r.namespace, name: x, from: `Release/${r.namespace}/${r.name}`, where: `values ${path}.${k}` });
          else if (x && typeof x === "object" && (x as any).secretName && (x as any).enabled !== false) {
            const es = x as Record<string, any>;
            const keys = Object.entries(es).filter(([kk, vv]) => /Key$/.test(kk) && typeof vv === "string").map(([, vv]) => vv as string);
            if (keys.length) for (const key of keys) out.push({ kind: "Secret", namespace: r.namespace, name: es.secretName, key, from: `Release/${r.namespace}/${r.name}`, where: `values ${path}.${k}` });
            else out.push({ kind: "Secret", namespace: r.namespace, name: es.secretName, from: `Release/${r.namespace}/${r.name}`, where: `values ${path}.${k}` });
          }
          // existingSecret: "<name>" beside secretKeys: { accessKey, secretKey } (Nextcloud's objectStore.s3)
          if (typeof x === "string" && x && v.secretKeys && typeof v.secretKeys === "object")
            for (const key of Object.values(v.secretKeys as Record<string, string>)) out.push({ kind: "Secret", namespace: r.namespace, name: x, key, from: `Release/${r.namespace}/${r.name}`, where: `values ${path}.secretKeys` });
        }
        walk(x, path ? `${path}.${k}` : k);
      }
    };
    walk(r.values, "");
  }
  return out;
}

const resolves: TwinCheck = {
  name: "references-resolve",
  family: "references",
  models: "the kubelet and operators looking up Secrets, ConfigMaps and ServiceAccounts by name in the pod's namespace (a missing one: CreateContainerConfigError, or the operator's reconcile fails)",
  run(e) {
    const out: TwinFinding[] = [];
    const unknown = unknownNamespaces(e);
    const refs = [...e.workloads.flatMap(podRefs), ...otherRefs(e)];
    const seen = new Set<string>();
    for (const r of refs) {
      if (r.optional) continue;
      const target = e.byRef.get(`${r.kind}/${r.namespace}/${r.name}`);
      const id = `${r.from}|${r.kind}/${r.namespace}/${r.name}|${r.key ?? ""}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (!target) {
        if (unknown.has(r.namespace)) continue; // a chart there may create it
        out.push({ check: this.name, level: "error", objects: [r.from, `${r.kind}/${r.namespace}/${r.name}`], message: `${r.where} refers to ${r.kind} ${r.name}, which does not exist in namespace ${r.namespace}: the pod never starts (CreateContainerConfigError) or the operator cannot reconcile` });
        continue;
      }
      if (r.key && r.kind !== "ServiceAccount") {
        const keys = keysOf(target);
        if (keys && !keys.includes(r.key))
          out.push({ check: this.name, level: "error", objects: [r.from, ref(target)], message: `${r.where} reads key "${r.key}" of ${r.kind} ${r.name}, which has only ${keys.map((k) => `"${k}"`).join(", ") || "no key"}: the pod never starts (CreateContainerConfigError)` });
      }
    }
    return out;
  },
};

/** Pod labels controllers set at run time, absent from templates: MinIO Operator's leader, CloudNativePG's instance role. */
export const RUNTIME_LABELS = new Set(["operator", "cnpg.io/instanceRole", "role"]);

const servicesSelect: TwinCheck = {
  name: "service-selects-pods",
  family: "references",
  models: "the endpoints controller: a Service whose selector matches no pod has no endpoints (connections are refused)",
  run(e) {
    const out: TwinFinding[] = [];
    const unknown = unknownNamespaces(e);
    for (const s of e.byKind.get("Service") ?? []) {
      const sel = s.object.spec?.selector as Record<string, string> | undefined;
      if (s.origin === "values" || !sel || !Object.keys(sel).length || s.object.spec?.type === "ExternalName") continue;
      const ns = s.namespace!;
      const static_ = Object.fromEntries(Object.entries(sel).filter(([k]) => !RUNTIME_LABELS.has(k)));
      const pods = e.workloads.filter((w) => w.namespace === ns && selectsPodsOf(static_, w));
      if (!pods.length && !unknown.has(ns))
        out.push({ check: this.name, level: "error", objects: [ref(s)], message: `selector ${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(",")} matches no pod template in ${ns}: the Service has no endpoints` });
    }
    return out;
  },
};

const ingressBackends: TwinCheck = {
  name: "ingress-backend",
  family: "references",
  models: "the ingress controller resolving each backend to a Service port (a missing Service or port answers 503)",
  run(e) {
    const out: TwinFinding[] = [];
    const unknown = unknownNamespaces(e);
    const seen = new Set<string>();
    for (const rb of routeBackends(e)) {
      const key = `${ref(rb.route)} ${rb.namespace}/${rb.service}:${rb.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const svc = e.byRef.get(`Service/${rb.namespace}/${rb.service}`);
      if (!svc) {
        if (!unknown.has(rb.namespace)) out.push({ check: this.name, level: "error", objects: [ref(rb.route)], message: `backend Service ${rb.service} does not exist in ${rb.namespace}: requests get 503` });
        continue;
      }
      const ports = (svc.object.spec?.ports ?? []) as any[];
      if (!ports.some((p) => (typeof rb.port === "string" ? p.name === rb.port : p.port === rb.port)))
        out.push({ check: this.name, level: "error", objects: [ref(rb.route), ref(svc)], message: `backend port ${rb.port} is not a port of Service ${svc.name} (${ports.map((p) => p.name ?? p.port).join(", ")}): requests get 503` });
    }
    return out;
  },
};

/** HAProxy configs of the estate (components/kit/haproxy.ts): each ConfigMap key `haproxy.cfg`. */
export function haproxyConfigs(e: TwinEstate): Array<{ cm: KObject; targets: HaproxyTarget[] }> {
  return (e.byKind.get("ConfigMap") ?? []).flatMap((cm) => {
    const cfg = cm.object.data?.[HAPROXY_CONFIG_KEY];
    return typeof cfg === "string" ? [{ cm, targets: haproxyServerTargets(cfg) }] : [];
  });
}

const haproxyBackends: TwinCheck = {
  name: "haproxy-backend",
  family: "references",
  models: "HAProxy resolving each backend server's Service name (an unknown name leaves the server without address: its requests get 503) and the Service's port",
  run(e) {
    const out: TwinFinding[] = [];
    const unknown = unknownNamespaces(e);
    for (const { cm, targets } of haproxyConfigs(e))
      for (const t of targets) {
        const svc = e.byRef.get(`Service/${t.namespace}/${t.service}`);
        if (!svc) {
          if (!unknown.has(t.namespace)) out.push({ check: this.name, level: "error", objects: [ref(cm)], message: `server ${t.server} of backend ${t.backend} names Service ${t.namespace}/${t.service}, which does not exist: HAProxy never resolves it and that server gets no traffic` });
          continue;
        }
        const ports = (svc.object.spec?.ports ?? []) as any[];
        if (!ports.some((p) => p.port === t.port))
          out.push({ check: this.name, level: "error", objects: [ref(cm), ref(svc)], message: `server ${t.server} of backend ${t.backend} uses port ${t.port}, not a port of Service ${svc.name} (${ports.map((p) => p.port).join(", ")}): connections are refused` });
      }
    return out;
  },
};

const ingressHosts: TwinCheck = {
  name: "ingress-host-dns",
  family: "references",
  models: "ACME HTTP-01 and the users' browsers: a host nobody points at the cluster never gets a certificate (error when the Ingress asks for one) nor a visitor (warning otherwise)",
  run(e) {
    const base = e.input.estate.sharedServices.baseDomain;
    const coop = [base, e.input.estate.storage.s3Domain, e.input.estate.backup.s3Domain, e.input.estate.cluster.apiDomain].filter(Boolean);
    const dns = new Set(e.input.tenants.flatMap((t) => t.dnsRecords.map((d) => d.name.replace(/\.$/, "").toLowerCase())));
    const out: TwinFinding[] = [];
    for (const ing of e.byKind.get("Ingress") ?? []) {
      // Hosts it asks a certificate for: its tls section (cert-manager's ingress-shim issues one per tls entry).
      const tlsHosts = new Set(((ing.object.spec?.tls ?? []) as any[]).flatMap((t) => (t.hosts ?? []) as string[]).map((h) => h.toLowerCase()));
      for (const r of (ing.object.spec?.rules ?? []) as any[]) {
        const host = String(r.host ?? "").toLowerCase();
        if (!host) continue;
        if (coop.some((d) => host === d || host.endsWith(`.${d}`))) continue;
        if (dns.has(host)) continue;
        if (tlsHosts.has(host))
          out.push({ check: this.name, level: "error", objects: [ref(ing)], message: `host ${host} is neither under the co-op's domains (${coop.join(", ")}) nor in any organisation's DNS records: its certificate's HTTP-01 challenge fails and nobody reaches it` });
        else
          out.push({ check: this.name, level: "warning", objects: [ref(ing)], message: `host ${host} is in no organisation's DNS records: this rule (plain HTTP, no certificate asked) serves nobody unless the organisation points ${host} at the cluster` });
      }
    }
    return out;
  },
};

/**
 * A Secret several apps share (a lean bundle's, annotated `liiibre.org/shared-by-apps`) is read by
 * key only: a pod that mounts it without `items`, takes it with `envFrom` or as a projected
 * source, a chart value naming it without keys, or an operator reading it through the API for a
 * pod (Barman's ObjectStore: the plugin grants the PostgreSQL pods `get` on the Secrets it
 * names) would see every app's values.
 */
const sharedSecretByKey: TwinCheck = {
  name: "shared-secret-by-key",
  family: "references",
  models: "the kubelet projecting a whole Secret into a pod (a volume without items, envFrom, a projected source) and the API server answering a `get` with every key: such a reader of a Secret shared by several apps would see all their values",
  run(e) {
    const out: TwinFinding[] = [];
    const shared = (r: Ref) => r.kind === "Secret" && e.byRef.get(`Secret/${r.namespace}/${r.name}`)?.object.metadata?.annotations?.[ANNOTATIONS.sharedSecret] === "true";
    const seen = new Set<string>();
    for (const r of [...e.workloads.flatMap(podRefs), ...otherRefs(e)]) {
      const whole = r.key === undefined || r.where.startsWith("s3Credentials.");
      const id = `${r.from}|${r.namespace}/${r.name}`;
      if (!whole || !shared(r) || seen.has(id)) continue;
      seen.add(id);
      out.push({ check: this.name, level: "error", objects: [r.from, `Secret/${r.namespace}/${r.name}`], message: `${r.where} reads Secret ${r.name}, which several apps share, whole: it would see every app's values (read single keys: secretKeyRef, a volume with items)` });
    }
    return out;
  },
};

export const REFERENCE_CHECKS: TwinCheck[] = [resolves, servicesSelect, ingressBackends, haproxyBackends, ingressHosts, sharedSecretByKey];
export { podRefs };
