/**
 * What makes a replacement or deletion DANGEROUS (docs/plan.md, "Danger first"): besides
 * anything `protect`ed or `retainOnDelete`, the resource types that hold data or identity,
 * with why. Data, read by scripts/diff/diff.ts.
 */
import { HCLOUD_LABELS } from "../../components/conventions";
import type { PlanResource } from "../plan-model";

export interface DataHolder {
  type: string;
  /** Only resources whose name matches (default: every resource of the type). */
  name?: RegExp;
  why: string;
}

export const DATA_HOLDERS: DataHolder[] = [
  { type: "hcloud:index/volume:Volume", why: "a Hetzner volume: its files are lost with it" },
  { type: "hcloud:index/primaryIp:PrimaryIp", why: "a public address: replacing it changes the IP that DNS records and firewalls point at" },
  { type: "hcloud:index/network:Network", why: "the private network every node and the vSwitch are attached to" },
  { type: "minio:index/s3Bucket:S3Bucket", why: "an object-storage bucket: the organisation's files" },
  { type: "kubernetes:postgresql.cnpg.io/v1:Cluster", why: "a PostgreSQL database" },
  { type: "kubernetes:minio.min.io/v2:Tenant", why: "the MinIO object store itself" },
  { type: "kubernetes:core/v1:PersistentVolumeClaim", why: "a persistent volume claim (the volume goes with it)" },
  { type: "kubernetes:core/v1:Namespace", why: "a namespace: deleting it deletes every object and volume claim in it" },
  { type: "keycloak:index/realm:Realm", why: "a Keycloak realm: every account, credential and session in it" },
  { type: "keycloak:index/organization:Organization", why: "a Keycloak organization: its memberships and domains" },
  { type: "random:index/randomPassword:RandomPassword", name: /repo-password|encryption|restic/, why: "the password of a backup repository: existing backups become unreadable" },
  { type: "random:index/randomBytes:RandomBytes", name: /signing-key|encryption/, why: "a signing or encryption key: what it signed or encrypted no longer verifies" },
  { type: "command:local:Command", name: /-apply$/, why: "the k0sctl apply of the cluster (replacing it re-runs it from scratch)" },
];

/** Why a resource holds data (or null). Servers hold data when a volume sits beside them, or when they run etcd. */
export function holdsData(r: PlanResource, siblings: (r: PlanResource) => PlanResource[]): string | null {
  if (r.type === "hcloud:index/server:Server") {
    const labels = (r.inputs.labels ?? {}) as Record<string, string>;
    if (siblings(r).some((s) => s.type === "hcloud:index/volume:Volume")) return "a server with an attached volume";
    if (labels[HCLOUD_LABELS.role] === "controller") return "a controller: it holds the cluster's etcd";
    return null;
  }
  const h = DATA_HOLDERS.find((d) => d.type === r.type && (!d.name || d.name.test(r.name)));
  return h?.why ?? null;
}
