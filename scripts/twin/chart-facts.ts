/**
 * What the twin knows of a chart without rendering it: the objects a release installs that
 * other objects depend on (StorageClasses, CRDs, admission webhooks), derived from the chart's
 * documented values. Used only for releases with no rendered objects (`--render` not given,
 * or a release the renderer could not render); rendered objects always win.
 *
 * Sources: each chart's values.yaml at the pinned version (`/work/shared/charts`, read, not
 * copied): local-static-provisioner `classes[].storageClass.isDefaultClass`; hcloud-csi
 * `storageClasses[].defaultStorageClass` (volumeBindingMode WaitForFirstConsumer);
 * cloudnative-pg, plugin-barman-cloud, cert-manager (`crds.enabled`), minio operator,
 * kube-prometheus-stack install their CRDs and webhooks; traefik its `traefik.io` CRDs (the chart's
 * `crds/`, which Helm installs first).
 */
import type { HelmRelease, KObject } from "./model";

const DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

function storageClass(r: HelmRelease, name: string, provisioner: string, isDefault: boolean, extra: Record<string, unknown> = {}): KObject {
  return obj(r, "storage.k8s.io/v1", "StorageClass", name, null, {
    metadata: { name, annotations: isDefault ? { [DEFAULT_ANNOTATION]: "true" } : {} },
    provisioner,
    volumeBindingMode: "WaitForFirstConsumer",
    ...extra,
  });
}

function crd(r: HelmRelease, group: string, kinds: string[]): KObject[] {
  return kinds.map((kind) => {
    const plural = `${kind.toLowerCase()}s`;
    return obj(r, "apiextensions.k8s.io/v1", "CustomResourceDefinition", `${plural}.${group}`, null, {
      metadata: { name: `${plural}.${group}` },
      spec: { group, names: { kind, plural } },
    });
  });
}

function webhook(r: HelmRelease, name: string, rules: Array<{ apiGroups: string[]; resources: string[] }>, kind = "ValidatingWebhookConfiguration"): KObject {
  return obj(r, "admissionregistration.k8s.io/v1", kind, name, null, { metadata: { name }, webhooks: [{ name: `${name}.liiibre.twin`, rules }] });
}

function obj(r: HelmRelease, apiVersion: string, kind: string, name: string, namespace: string | null, body: Record<string, unknown>): KObject {
  return { apiVersion, kind, name, namespace, object: { apiVersion, kind, ...body }, source: `release:${r.namespace}/${r.name}`, release: r.urn, dependsOn: [r.urn], origin: "values" };
}

type Facts = (r: HelmRelease) => KObject[];

/** Chart name → the objects its values imply. */
export const CHART_FACTS: Record<string, Facts> = {
  "local-static-provisioner": (r) =>
    ((r.values.classes ?? []) as any[]).map((c) => storageClass(r, c.name, "kubernetes.io/no-provisioner", c.storageClass?.isDefaultClass === true, { reclaimPolicy: c.storageClass?.reclaimPolicy ?? "Delete" })),
  "hcloud-csi": (r) =>
    ((r.values.storageClasses ?? [{ name: "hcloud-volumes", defaultStorageClass: true }]) as any[]).map((c) =>
      storageClass(r, c.name, "csi.hetzner.cloud", c.defaultStorageClass !== false, { reclaimPolicy: c.reclaimPolicy ?? "Delete", allowedTopologies: undefined }),
    ),
  "cloudnative-pg": (r) => [
    ...crd(r, "postgresql.cnpg.io", ["Cluster", "ScheduledBackup", "Backup", "Pooler", "Database", "Publication", "Subscription", "ImageCatalog", "ClusterImageCatalog"]),
    webhook(r, "cnpg-validating-webhook-configuration", [{ apiGroups: ["postgresql.cnpg.io"], resources: ["clusters", "scheduledbackups", "backups", "poolers"] }]),
    webhook(r, "cnpg-mutating-webhook-configuration", [{ apiGroups: ["postgresql.cnpg.io"], resources: ["clusters", "scheduledbackups", "backups"] }], "MutatingWebhookConfiguration"),
  ],
  "plugin-barman-cloud": (r) => crd(r, "barmancloud.cnpg.io", ["ObjectStore"]),
  "cert-manager": (r) => [
    ...(r.values.crds?.enabled || r.values.installCRDs ? crd(r, "cert-manager.io", ["Certificate", "CertificateRequest", "Issuer", "ClusterIssuer"]) : []),
    webhook(r, "cert-manager-webhook", [{ apiGroups: ["cert-manager.io", "acme.cert-manager.io"], resources: ["*/*"] }]),
  ],
  operator: (r) => crd(r, "minio.min.io", ["Tenant"]),
  "kube-prometheus-stack": (r) => crd(r, "monitoring.coreos.com", ["ServiceMonitor", "PodMonitor", "PrometheusRule", "Prometheus", "Alertmanager"]),
  traefik: (r) =>
    crd(r, "traefik.io", ["Middleware", "MiddlewareTCP", "IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "TLSOption", "TLSStore", "TraefikService", "ServersTransport", "ServersTransportTCP"]),
  k8up: () => [],
};

export function chartFacts(r: HelmRelease): KObject[] {
  return CHART_FACTS[r.chart]?.(r) ?? [];
}
