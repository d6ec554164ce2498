/**
 * Storage binding: every claim (PersistentVolumeClaim, StatefulSet claim template,
 * CloudNativePG instance volume, MinIO pool volume) resolves to a StorageClass that exists or
 * to the single default class; claims of a no-provisioner class (local volumes) only bind where
 * a node offers a free disk under /mnt/disks; WaitForFirstConsumer claims whose consumer never
 * runs stay Pending (and make `helm --wait`/atomic releases fail).
 */
import { onePerNode, quantity, GiB, unfitReason } from "../kube";
import { indexByUrn } from "../normalise";
import type { KObject, TwinCheck, TwinEstate, TwinFinding, Workload } from "../model";
import { ref } from "../model";

const DEFAULT_KEYS = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];
const isDefault = (sc: KObject) => DEFAULT_KEYS.some((k) => sc.object.metadata?.annotations?.[k] === "true");

export interface Claim {
  id: string;
  namespace: string;
  storageClassName: string | null | undefined;
  sizeGiB: number;
  /** Pods that mount it, and how many run. */
  consumer?: Workload;
  /** The object declaring it. */
  owner: KObject;
}

export function claimsOf(e: TwinEstate): Claim[] {
  const out: Claim[] = [];
  for (const w of e.workloads)
    for (const c of w.claims) out.push({ id: `${w.id} claim ${c.name}`, namespace: w.namespace, storageClassName: c.storageClassName, sizeGiB: c.sizeGiB, consumer: w, owner: w.owner });
  for (const pvc of e.byKind.get("PersistentVolumeClaim") ?? []) {
    const ns = pvc.namespace ?? "default";
    const consumer = e.workloads.find((w) => w.namespace === ns && ((w.spec.volumes ?? []) as any[]).some((v) => v.persistentVolumeClaim?.claimName === pvc.name));
    out.push({ id: ref(pvc), namespace: ns, storageClassName: pvc.object.spec?.storageClassName, sizeGiB: quantity(pvc.object.spec?.resources?.requests?.storage) / GiB, consumer, owner: pvc });
  }
  return out;
}

function classes(e: TwinEstate) {
  const all = e.byKind.get("StorageClass") ?? [];
  return { all, byName: new Map(all.map((s) => [s.name, s])), defaults: all.filter(isDefault) };
}

const classExists: TwinCheck = {
  name: "storage-class-exists",
  family: "storage",
  models: "the PersistentVolume controller: a claim binds only through an existing StorageClass, or the default one when it names none",
  run(e) {
    const { byName, defaults } = classes(e);
    const out: TwinFinding[] = [];
    for (const c of claimsOf(e)) {
      const name = c.storageClassName;
      if (name === "") continue; // static binding to a pre-created PV, no class involved
      if (name) {
        if (!byName.has(name)) out.push({ check: this.name, level: "error", objects: [c.id], message: `names StorageClass "${name}", which nothing creates: the claim stays Pending and its pods never start` });
      } else if (defaults.length === 0) {
        out.push({ check: this.name, level: "error", objects: [c.id], message: `names no StorageClass and no class is marked default (storageclass.kubernetes.io/is-default-class): the claim stays Pending and its pods never start` });
      }
    }
    return out;
  },
};

const singleDefault: TwinCheck = {
  name: "storage-default-class",
  family: "storage",
  models: "the DefaultStorageClass admission plugin: with several default classes, a claim without a class gets the newest one",
  run(e) {
    const { defaults } = classes(e);
    if (defaults.length <= 1) return [];
    return [{ check: this.name, level: "warning", objects: defaults.map(ref), message: `${defaults.length} StorageClasses are marked default: claims naming none get whichever was created last` }];
  },
};

const localDisks: TwinCheck = {
  name: "storage-local-disks",
  family: "storage",
  models: "static local PersistentVolumes (kubernetes.io/no-provisioner): one per filesystem under /mnt/disks, bound once, only on the node that has the disk",
  run(e) {
    const { byName, defaults } = classes(e);
    const isLocal = (c: Claim) => {
      const sc = c.storageClassName ? byName.get(c.storageClassName) : defaults[0];
      return sc?.object.provisioner === "kubernetes.io/no-provisioner";
    };
    // Remaining disks per node (sizes, GiB), consumed greedily, workload by workload.
    const free = new Map(e.nodes.map((n) => [n.name, [...n.localDisksGB].sort((a, b) => a - b)]));
    const out: TwinFinding[] = [];
    const byWorkload = new Map<string, Claim[]>();
    for (const c of claimsOf(e).filter(isLocal)) {
      if (!c.consumer) continue;
      byWorkload.set(c.consumer.id, [...(byWorkload.get(c.consumer.id) ?? []), c]);
    }
    for (const [id, claims] of [...byWorkload.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const w = claims[0].consumer!;
      const pods = w.replicas < 0 ? e.nodes.filter((n) => !unfitReason(w.spec, n, w.volumeTopology)).length : w.replicas;
      const eligible = e.nodes.filter((n) => !unfitReason(w.spec, n, w.volumeTopology));
      const sizes = claims.map((c) => c.sizeGiB).sort((a, b) => b - a);
      const used = new Set<string>();
      let placed = 0;
      for (let i = 0; i < pods; i++) {
        const node = eligible.find((n) => {
          if (onePerNode(w.spec) && used.has(n.name)) return false;
          const disks = [...free.get(n.name)!];
          return sizes.every((s) => {
            const j = disks.findIndex((d) => d >= s);
            if (j < 0) return false;
            disks.splice(j, 1);
            return true;
          });
        });
        if (!node) break;
        const disks = free.get(node.name)!;
        for (const s of sizes) disks.splice(disks.findIndex((d) => d >= s), 1);
        used.add(node.name);
        placed++;
      }
      if (placed < pods)
        out.push({
          check: this.name,
          level: "error",
          objects: [id],
          message: `${pods} pod(s) each need ${sizes.length} local disk(s) of ${sizes.map((s) => `${s} GiB`).join(", ")} on a node they may run on (${eligible.map((n) => n.name).join(", ") || "none"}); only ${placed} can get them: the other claims stay Pending`,
        });
    }
    return out;
  },
};

const waitForConsumer: TwinCheck = {
  name: "storage-wffc-consumer",
  family: "storage",
  models: "volumeBindingMode WaitForFirstConsumer: a claim binds only once a pod using it is scheduled; Helm's --wait (atomic releases) waits for claims to be Bound",
  run(e) {
    const { byName, defaults } = classes(e);
    const atomic = new Set(e.releases.filter((r) => {
      const res = indexByUrn(e.input).get(r.urn);
      return res?.inputs.atomic === true || res?.inputs.waitForJobs === true;
    }).map((r) => r.urn));
    const out: TwinFinding[] = [];
    for (const c of claimsOf(e)) {
      const sc = c.storageClassName ? byName.get(c.storageClassName) : defaults[0];
      if (!sc || sc.object.volumeBindingMode !== "WaitForFirstConsumer") continue;
      if (c.consumer && c.consumer.replicas !== 0) continue;
      if (c.consumer === undefined && c.owner.kind !== "PersistentVolumeClaim") continue;
      const inAtomic = c.owner.release && atomic.has(c.owner.release);
      // A warning: a claim bound before the workload was scaled to zero stays Bound; only a first install hangs.
      out.push({
        check: this.name,
        level: "warning",
        objects: [c.id],
        message: `${c.consumer ? `its only consumer ${c.consumer.id} runs 0 replicas` : "no pod mounts it"}: the claim stays Pending (class ${sc.name} waits for a first consumer)${inAtomic ? "; on a first install the atomic Helm release waiting for it times out and rolls back" : ""}`,
      });
    }
    return out;
  },
};

export const STORAGE_CHECKS: TwinCheck[] = [classExists, singleDefault, localDisks, waitForConsumer];
