/**
 * The Helsinki copy of a tenant's buckets: one twin bucket per primary bucket (same name,
 * versioning on, noncurrent versions kept `backup.noncurrentVersionDays` days) and MinIO
 * server-side bucket replication from the primary to the twin.
 *
 * Mechanism (docs/storage.md#off-site-copies-bucket-replication): `@pulumi/minio` has no replication resource,
 * so a Kubernetes Job (pinned `mc` image) runs `mc replicate add` for each bucket that has no
 * rule towards Helsinki yet. It is idempotent (a bucket already replicated is skipped) and the
 * Job is replaced (delete, then create) whenever its spec changes: a new bucket, another
 * endpoint, another mc release.
 *
 * What is replicated: new and existing objects and delete markers, NOT versioned deletes
 * (the permanent removal of a version): deleting a file in Falkenstein leaves its versions in
 * Helsinki, where the lifecycle rule keeps them for the configured days.
 *
 * Every resource whose URN has this component's type in its chain lives in Helsinki: the
 * policy pack tells twins from primary buckets by that (twins carry no quota: they hold
 * versions beyond the pool and must never refuse a replica).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import { LABELS } from "../conventions";
import { IMAGES } from "../versions";
import type { StorageContext } from "./contracts";
import { REPLICATION_SECRET, STORAGE_NAMESPACE, settingsOf } from "./settings";
import { MINIO_INTERNAL_URL } from "./primaryObjectStore";

export interface OffsiteCopyArgs {
  slug: string;
  /** Primary bucket names (their twins get the same names in Helsinki). */
  buckets: string[];
  /** The primary buckets and their versioning (replication needs it): the Job waits for them. */
  primaryResources: pulumi.Resource[];
  context: StorageContext;
}

/** The ID prefix of the lifecycle rule of a twin bucket. */
export const NONCURRENT_RULE_ID = "keep-noncurrent-versions";
/** What a replication rule replicates (mc replicate add --replicate). */
export const REPLICATE_FLAGS = "delete-marker,existing-objects";

/** Name of the replication Job of a tenant (in STORAGE_NAMESPACE). */
export const replicationJobName = (slug: string): string => `replicate-${slug}`;

/**
 * The Job's shell script (POSIX sh, no other tool than mc: the mc image is minimal): for each
 * bucket, add a replication rule towards the twin unless one already targets it
 * (`mc replicate export` lists the rules; their destination ARN ends with the remote bucket name).
 *
 * No credential on a command line (any process lister on the node would see it): both aliases
 * come from `MC_HOST_<alias>` environment variables set by the shell's `export` builtin, and
 * `--remote-bucket` names the Helsinki alias (`helsinki/<bucket>`, mc >= 2024-03), not a
 * `https://KEY:SECRET@host` URL. The primary is reached in-cluster (its admin API is not served
 * to the nodes' addresses), its certificate checked against the cluster CA.
 */
export const REPLICATION_SCRIPT = `set -eu
export MC_HOST_primary="$PRIMARY_SCHEME://$PRIMARY_ACCESS_KEY:$PRIMARY_SECRET_KEY@$PRIMARY_HOST"
export MC_HOST_helsinki="$TARGET_SCHEME://$TARGET_ACCESS_KEY:$TARGET_SECRET_KEY@$TARGET_HOST"
for b in $BUCKETS; do
  rules=$(mc replicate export "primary/$b" 2>/dev/null || true)
  case "$rules" in
    *"arn:minio:replication:"*":$b\\""*)
      echo "$b: already replicated to $TARGET_HOST" ;;
    *)
      mc replicate add "primary/$b" --remote-bucket "helsinki/$b" --replicate "$REPLICATE" --priority 1
      echo "$b: replication to $TARGET_HOST added" ;;
  esac
done
`;

/** Where mc looks for extra CA certificates (`$MC_CONFIG_DIR/certs/CAs`). */
export const MC_CONFIG_DIR = "/tmp/.mc";

export class OffsiteCopy extends pulumi.ComponentResource {
  /** Twin bucket names in Helsinki. */
  public readonly buckets: pulumi.Output<string>[];

  constructor(name: string, args: OffsiteCopyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:OffsiteCopy", name, {}, opts);
    const { slug, context } = args;
    const settings = settingsOf(context);
    const twinsReady: pulumi.Resource[] = [];
    this.buckets = args.buckets.map((b) => {
      const twin = new minio.S3Bucket(
        `${b}-offsite`,
        { bucket: b, acl: "private", forceDestroy: false },
        { parent: this, provider: context.backupMinio, protect: true, retainOnDelete: true },
      );
      const versioning = new minio.S3BucketVersioning(
        `${b}-offsite-versioning`,
        { bucket: twin.bucket, versioningConfiguration: { status: "Enabled" } },
        { parent: this, provider: context.backupMinio, retainOnDelete: true },
      );
      const ilm = new minio.IlmPolicy(
        `${b}-offsite-lifecycle`,
        {
          bucket: twin.bucket,
          rules: [{ id: NONCURRENT_RULE_ID, status: "Enabled", noncurrentVersionExpirationDays: settings.backupNoncurrentVersionDays }],
        },
        { parent: this, provider: context.backupMinio, retainOnDelete: true },
      );
      twinsReady.push(versioning, ilm);
      return twin.bucket;
    });

    const backup = new URL(context.backup.url);
    const primary = new URL(MINIO_INTERNAL_URL);
    const env = (name: string, value: pulumi.Input<string>) => ({ name, value });
    const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: REPLICATION_SECRET, key } } });
    const labels = { [LABELS.tenant]: slug, "app.kubernetes.io/name": "minio-replication" };
    new k8s.batch.v1.Job(
      `${slug}-replication`,
      {
        metadata: { name: replicationJobName(slug), namespace: STORAGE_NAMESPACE, labels },
        spec: {
          backoffLimit: 6,
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
      {
        parent: this,
        provider: context.k8s,
        dependsOn: [...args.primaryResources, ...twinsReady],
        // A Job's template is immutable: a changed spec replaces the Job, under the same name.
        deleteBeforeReplace: true,
      },
    );
    this.registerOutputs({ buckets: this.buckets });
  }
}
