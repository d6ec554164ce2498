/**
 * The Helsinki copy of a tenant's buckets: one twin bucket per primary bucket (same name,
 * versioning on, noncurrent versions kept `backup.noncurrentVersionDays` days) and MinIO
 * server-side bucket replication from the primary to the twin.
 *
 * Mechanism (docs/storage.md#off-site-copies-bucket-replication): `@pulumi/minio` has no replication resource,
 * so the stack's one CronJob (pinned `mc` image, offsiteReplication.ts) runs `mc replicate add`
 * for each bucket that has no rule towards Helsinki yet, every REPLICATION_SCHEDULE: the buckets
 * are added to the stack's ReplicationSet here (StorageContext.replication).
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
import * as minio from "@pulumi/minio";
import type { StorageContext } from "./contracts";
import { settingsOf } from "./settings";

export interface OffsiteCopyArgs {
  /** Primary bucket names (their twins get the same names in Helsinki). */
  buckets: string[];
  /** The primary buckets and their versioning (replication needs it): the stack's replication CronJob waits for them. */
  primaryResources: pulumi.Resource[];
  context: StorageContext;
}

/** The ID prefix of the lifecycle rule of a twin bucket. */
export const NONCURRENT_RULE_ID = "keep-noncurrent-versions";
/** What a replication rule replicates (mc replicate add --replicate). */
export const REPLICATE_FLAGS = "delete-marker,existing-objects";

/**
 * The replication CronJob's shell script (components/storage/offsiteReplication.ts; POSIX sh, no
 * other tool than mc: the mc image is minimal): for each bucket, add a replication rule towards
 * the twin unless one already targets it (`mc replicate export` lists the rules; their
 * destination ARN ends with the remote bucket name). A bucket that fails does not stop the
 * others (one run covers a whole stack); the run then fails, naming every bucket left out.
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
failed=""
for b in $BUCKETS; do
  rules=$(mc replicate export "primary/$b" 2>/dev/null || true)
  case "$rules" in
    *"arn:minio:replication:"*":$b\\""*)
      echo "$b: already replicated to $TARGET_HOST" ;;
    *)
      if mc replicate add "primary/$b" --remote-bucket "helsinki/$b" --replicate "$REPLICATE" --priority 1; then
        echo "$b: replication to $TARGET_HOST added"
      else
        echo "$b: replication to $TARGET_HOST FAILED" >&2
        failed="$failed $b"
      fi ;;
  esac
done
if [ -n "$failed" ]; then
  echo "not replicated:$failed" >&2
  exit 1
fi
`;

/** Where mc looks for extra CA certificates (`$MC_CONFIG_DIR/certs/CAs`). */
export const MC_CONFIG_DIR = "/tmp/.mc";

export class OffsiteCopy extends pulumi.ComponentResource {
  /** Twin bucket names in Helsinki. */
  public readonly buckets: pulumi.Output<string>[];

  constructor(name: string, args: OffsiteCopyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:OffsiteCopy", name, {}, opts);
    const { context } = args;
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

    // Replicated by the stack's one CronJob (offsiteReplication.ts), once the buckets and twins exist.
    context.replication.add(args.buckets, [...args.primaryResources, ...twinsReady]);
    this.registerOutputs({ buckets: this.buckets });
  }
}
