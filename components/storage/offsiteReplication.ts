/**
 * The replication of a stack's buckets into Helsinki: ONE CronJob per stack (in STORAGE_NAMESPACE)
 * that runs REPLICATION_SCRIPT (components/storage/offsiteCopy.ts) over every primary bucket the
 * stack's organisations have, every REPLICATION_SCHEDULE — instead of one Job per organisation.
 *
 * - Each OffsiteCopy adds its buckets and what they wait for (the buckets, their versioning,
 *   the twins and their lifecycle) to the stack's `ReplicationSet` (StorageContext.replication);
 *   the program registers the set once, after its organisations (programs/).
 * - The script is idempotent: a bucket with a rule towards Helsinki is skipped. Run every
 *   REPLICATION_SCHEDULE, it also puts back a rule lost or removed by hand (the per-organisation
 *   Job ran once, when its spec changed); a new organisation's buckets are replicated at the
 *   next run (their existing objects too: REPLICATE_FLAGS has `existing-objects`).
 * - BUCKETS is sorted: the CronJob's spec depends on which buckets the stack holds, never on the
 *   order of its organisations; adding one updates it in place (a CronJob's spec is mutable).
 * - Its Kubernetes name carries the stack's scope (`platform`, or `shard-<name>`): every stack
 *   puts its CronJob in the same namespace.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { IMAGES } from "../versions";
import type { StorageContext } from "./contracts";
import { MC_CONFIG_DIR, REPLICATE_FLAGS, REPLICATION_SCRIPT } from "./offsiteCopy";
import { MINIO_INTERNAL_URL } from "./primaryObjectStore";
import { REPLICATION_SECRET, STORAGE_NAMESPACE } from "./settings";

/** How often the replication CronJob checks every bucket of its stack (cron, UTC). */
export const REPLICATION_SCHEDULE = "*/15 * * * *";
/** The scope of the platform stack's (or the one stack's) CronJob. */
export const PLATFORM_REPLICATION_SCOPE = "platform";
/** A shard stack's scope: `shard-<name>` (a shard may be named `platform`: the two never share a name). */
export const shardReplicationScope = (shard: string): string => `shard-${shard}`;
/**
 * Longest a run may take (seconds): a hung `mc` call would otherwise hold every later run back
 * (`concurrencyPolicy: Forbid`). A stack of 2,000 resources has some 300 buckets: two mc calls each.
 */
export const REPLICATION_DEADLINE_SECONDS = 3000;
/** Name of a stack's replication CronJob (in STORAGE_NAMESPACE): `replicate-platform`, `replicate-shard-<name>`. */
export const replicationCronJobName = (scope: string): string => `replicate-${scope}`;

/** The buckets of a stack's organisations, gathered for its one replication CronJob. */
export class ReplicationSet {
  private readonly buckets = new Set<string>();
  private readonly ready: pulumi.Resource[] = [];
  private registered = false;

  /** Adds primary buckets (each with a Helsinki twin of the same name) and what they wait for. */
  add(buckets: readonly string[], ready: readonly pulumi.Resource[]): void {
    if (this.registered) throw new Error(`ReplicationSet: buckets ${buckets.join(", ")} added after the CronJob was registered`);
    for (const b of buckets) this.buckets.add(b);
    this.ready.push(...ready);
  }

  /** The stack's CronJob, over every bucket added (none: no CronJob). */
  register(scope: string, context: StorageContext, opts: pulumi.ComponentResourceOptions = {}): OffsiteReplication | undefined {
    this.registered = true;
    if (!this.buckets.size) return undefined;
    return new OffsiteReplication("offsite-replication", { scope, buckets: [...this.buckets].sort(), ready: this.ready, context }, opts);
  }
}

export interface OffsiteReplicationArgs {
  /** `platform`, or `shard-<name>`: the CronJob's name is `replicate-<scope>`. */
  scope: string;
  /** Every primary bucket of the stack (each has its Helsinki twin). */
  buckets: string[];
  /** The buckets, their versioning, the twins and their lifecycle: created before the CronJob. */
  ready: pulumi.Resource[];
  context: StorageContext;
}

export class OffsiteReplication extends pulumi.ComponentResource {
  constructor(name: string, args: OffsiteReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:OffsiteReplication", name, {}, opts);
    const { context } = args;
    const backup = new URL(context.backup.url);
    const primary = new URL(MINIO_INTERNAL_URL);
    const env = (name: string, value: pulumi.Input<string>) => ({ name, value });
    const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: REPLICATION_SECRET, key } } });
    const labels = { "app.kubernetes.io/name": "minio-replication", "app.kubernetes.io/instance": args.scope };
    new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: replicationCronJobName(args.scope), namespace: STORAGE_NAMESPACE, labels },
        spec: {
          schedule: REPLICATION_SCHEDULE,
          timeZone: "Etc/UTC",
          // One run at a time; a run missed by more than 10 minutes waits for the next one.
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 600,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels },
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: REPLICATION_DEADLINE_SECONDS,
              template: {
                metadata: { labels },
                spec: {
                  restartPolicy: "OnFailure",
                  securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                  containers: [
                    {
                      name: "mc",
                      image: `${IMAGES.mc.repository}:${IMAGES.mc.tag}`,
                      command: ["/bin/sh", "-c", REPLICATION_SCRIPT],
                      env: [
                        env("MC_CONFIG_DIR", MC_CONFIG_DIR),
                        env("PRIMARY_SCHEME", primary.protocol.replace(":", "")),
                        env("PRIMARY_HOST", primary.host),
                        fromSecret("PRIMARY_ACCESS_KEY", "PRIMARY_ACCESS_KEY"),
                        fromSecret("PRIMARY_SECRET_KEY", "PRIMARY_SECRET_KEY"),
                        env("TARGET_SCHEME", backup.protocol.replace(":", "")),
                        env("TARGET_HOST", backup.host),
                        fromSecret("TARGET_ACCESS_KEY", "TARGET_ACCESS_KEY"),
                        fromSecret("TARGET_SECRET_KEY", "TARGET_SECRET_KEY"),
                        env("BUCKETS", args.buckets.join(" ")),
                        env("REPLICATE", REPLICATE_FLAGS),
                      ],
                      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                      volumeMounts: [
                        { name: "tmp", mountPath: "/tmp" },
                        // The operator's certificate of the in-cluster endpoint is signed by the cluster CA.
                        { name: "cluster-ca", mountPath: `${MC_CONFIG_DIR}/certs/CAs`, readOnly: true },
                      ],
                    },
                  ],
                  volumes: [
                    { name: "tmp", emptyDir: {} },
                    { name: "cluster-ca", configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "cluster-ca.crt" }] } },
                  ],
                },
              },
            },
          },
        },
      },
      { parent: this, provider: context.k8s, dependsOn: args.ready },
    );
    this.registerOutputs({});
  }
}
