/**
 * `stateful-protected` (mandatory): what holds data survives a mistaken deletion. Volumes,
 * buckets, PostgreSQL clusters, PVCs, stateful namespaces, storage boxes and servers holding data
 * are `protect`ed (or `retainOnDelete`), and Hetzner's own delete protection (and rebuild
 * protection for servers) is on where it exists.
 *
 * The real analyzer (@pulumi/policy 1.21) does not show `retainOnDelete` to policies: a resource
 * only retained, not protected, is reported as advisory there ("cannot verify") and checked
 * exactly by the offline runner, which knows the option.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { HCLOUD_LABELS } from "../components/conventions";
import { TYPES, config, isObject, labels, LABELS, offlineFacts } from "./lib";

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
