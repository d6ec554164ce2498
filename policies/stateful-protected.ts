/**
 * `stateful-protected` (mandatory): what holds data survives a mistaken deletion. Volumes,
 * buckets, PostgreSQL clusters, PVCs, stateful namespaces, storage boxes and servers holding data
 * are `protect`ed (or `retainOnDelete`), and Hetzner's own delete protection (and rebuild
 * protection for servers) is on where it exists.
 *
 * The real analyzer (@pulumi/policy 1.21) does not show `retainOnDelete` to policies: a resource
 * only retained, not protected, is reported as advisory there ("cannot verify") and checked
 * exactly by the offline runner, which knows the option.
 *
 * A bundled object (an entry of an objects release's `values.objects`, policies/bundled.ts) is
 * Helm's, not Pulumi's: Helm deletes it with the release, or when it leaves `values.objects`,
 * whatever `protect` or `retainOnDelete` say of the release. So no object whose deletion loses
 * data may be bundled (`bundledDataHolder`): a PersistentVolumeClaim or PersistentVolume, a
 * CloudNativePG Cluster, a Namespace (it takes every object in it along), a StatefulSet with
 * volumeClaimTemplates, a CloudNativePG Database whose `databaseReclaimPolicy` is `delete`.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { HCLOUD_LABELS } from "../components/conventions";
import { TYPES, bundleOf, config, get, isObject, labels, LABELS, offlineFacts, type Props } from "./lib";
import { isObjectsRelease } from "../components/kit/objects";

export interface StatefulProtectedConfig {
  /** Values of the hcloud label `liiibre.org/role` marking servers that hold data (controllers hold etcd). */
  dataServerRoles: string[];
  /** Node pools (hcloud label `liiibre.org/pool`) whose servers hold data. */
  dataServerPools: string[];
}
export const STATEFUL_DEFAULTS: StatefulProtectedConfig = { dataServerRoles: ["backup", "storage", "controller"], dataServerPools: ["storage"] };

/** Hetzner protections each stateful hcloud type must have on. */
const HCLOUD_PROTECTION: Record<string, string[]> = {
  [TYPES.hcloudVolume]: ["deleteProtection"],
  [TYPES.hcloudServer]: ["deleteProtection", "rebuildProtection"],
  [TYPES.hcloudStorageBox]: ["deleteProtection"],
};

/**
 * Why deleting this Kubernetes object loses data (undefined when it does not): the objects that
 * may never be entries of an objects release.
 */
export function bundledDataHolder(type: string, props: Props): string | undefined {
  switch (type) {
    case TYPES.pvc:
      return "a PersistentVolumeClaim holds data (deleting it deletes its volume under the usual Delete reclaim policy)";
    case "kubernetes:core/v1:PersistentVolume":
      return "a PersistentVolume holds data";
    case TYPES.cnpgCluster:
      return "a PostgreSQL Cluster holds the databases";
    case TYPES.namespace:
      return "a Namespace takes every object in it along when deleted (volumes, databases, backups)";
    case "kubernetes:apps/v1:StatefulSet": {
      const templates = get(props, "spec", "volumeClaimTemplates");
      return Array.isArray(templates) && templates.length ? "a StatefulSet with volumeClaimTemplates owns volumes (and its templates cannot change in a Helm upgrade)" : undefined;
    }
    case "kubernetes:postgresql.cnpg.io/v1:Database":
      return get(props, "spec", "databaseReclaimPolicy") === "delete" ? "a CloudNativePG Database with databaseReclaimPolicy delete drops its database when deleted" : undefined;
  }
  return undefined;
}

export const statefulProtected: ResourceValidationPolicy = {
  name: "stateful-protected",
  description: "Volumes, buckets, databases, backup servers and servers holding data are protected (protect or retainOnDelete, plus Hetzner delete protection).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      dataServerRoles: { type: "array", items: { type: "string" }, default: STATEFUL_DEFAULTS.dataServerRoles },
      dataServerPools: { type: "array", items: { type: "string" }, default: STATEFUL_DEFAULTS.dataServerPools },
    },
  },
  validateResource: (args, report) => {
    const c = config(args, STATEFUL_DEFAULTS);
    const props = args.props;
    const bundle = bundleOf(args);
    if (bundle) {
      const why = bundledDataHolder(args.type, props);
      if (why) report(`${why}: as an entry of the objects release ${bundle.release.name} it is deleted by Helm with the release (or when it leaves values.objects), whatever protect or retainOnDelete say; declare it as a resource of its own, protected`);
      return;
    }
    // Helm's take-ownership skips its ownership check: the release would adopt objects Pulumi still
    // owns without retainOnDelete, and the same `up` would then delete them (docs/scaling.md#bundled-kubernetes-objects).
    if (args.type === TYPES.helmRelease && isObjectsRelease(args.type, props) && props.takeOwnership === true) {
      report("an objects release with takeOwnership adopts objects Pulumi still owns without retainOnDelete, and the same update then deletes them: hand them over with kubernetesObjects: adopting instead");
      return;
    }
    let stateful = false;
    let what = "";
    switch (args.type) {
      case TYPES.hcloudVolume:
      case TYPES.hcloudStorageBox:
      case TYPES.bucket:
      case TYPES.cnpgCluster:
      case TYPES.pvc:
        stateful = true;
        what = args.type.split(":").pop()!;
        break;
      case TYPES.hcloudServer: {
        const l = isObject(props.labels) ? props.labels : {};
        stateful = c.dataServerRoles.includes(l[HCLOUD_LABELS.role]) || c.dataServerPools.includes(l[HCLOUD_LABELS.pool]);
        what = `server (role ${l[HCLOUD_LABELS.role] ?? "?"}, pool ${l[HCLOUD_LABELS.pool] ?? "?"})`;
        break;
      }
      case TYPES.namespace:
        stateful = labels(props)[LABELS.stateful] === "true";
        what = "stateful namespace";
        break;
    }
    if (!stateful) return;
    const problems: string[] = [];
    for (const key of HCLOUD_PROTECTION[args.type] ?? []) {
      if (props[key] !== true) problems.push(`${key} is not true`);
    }
    const facts = offlineFacts(args);
    const engineProtected = args.opts.protect || facts?.retainOnDelete === true;
    if (!engineProtected && facts) problems.push("neither protect nor retainOnDelete is set");
    if (problems.length) report(`${what} holds data: ${problems.join("; ")}`);
    if (!engineProtected && !facts) {
      // Only the analyzer lands here: retainOnDelete is invisible to it.
      report({ message: `${what} holds data and is not protected; retainOnDelete cannot be verified here (the offline plan checks it)`, enforcementLevel: "advisory" } as never);
    }
  },
};
