/**
 * `no-public-buckets` (mandatory): no MinIO bucket is readable or writable anonymously, through
 * its canned ACL or a bucket policy granting the `*` principal — except exactly anonymous
 * `s3:GetObject` on `uploads/*` of a bucket HedgeDoc writes to (`<slug>-hedgedoc`, or an
 * organisation's one bucket `<slug>-apps`, where HedgeDoc's keys are at the root and every other
 * app is under its own prefix), where HedgeDoc 1.x points browsers for pad images. Listing, another prefix, a wider resource, another action
 * (wildcards judged by what they reach), NotAction/NotResource/NotPrincipal or another bucket
 * are violations; `allowedPublicBuckets` lists explicit exceptions.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, config } from "./lib";

export interface NoPublicBucketsConfig {
  /** Bucket names allowed to be public (none by default). */
  allowedPublicBuckets: string[];
}
export const NO_PUBLIC_BUCKETS_DEFAULTS: NoPublicBucketsConfig = { allowedPublicBuckets: [] };

const PUBLIC_ACLS = ["public", "public-read", "public-read-write", "public-write"];

/**
 * The one anonymous grant that is not a violation: `s3:GetObject` on the `uploads/` prefix of a
 * bucket HedgeDoc writes to — its own (`<slug>-hedgedoc`) or its organisation's one bucket
 * (`<slug>-apps`, docs/storage.md#buckets: HedgeDoc 1.x cannot be given a prefix, the other apps
 * are under `nextcloud/`, `matrix-media/`…) — HedgeDoc 1.x hands browsers direct URLs of its
 * uploads (docs/apps.md#hedgedoc-images). Written here, not read from the program's builder: the
 * policy judges what a document means, whoever wrote it.
 */
export const ANONYMOUS_READ_EXCEPTION = { bucketSuffixes: ["-hedgedoc", "-apps"], prefix: "uploads/", action: "s3:GetObject" } as const;

/**
 * MinIO's S3 actions (minio/pkg policy action.go), to judge what a wildcard action reaches:
 * `s3:Get*` reaches GetObjectVersion, GetBucketPolicy… and is not "GetObject only".
 */
export const MINIO_S3_ACTIONS = [
  "s3:AbortMultipartUpload", "s3:BypassGovernanceRetention", "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketCors",
  "s3:DeleteBucketPolicy", "s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging",
  "s3:ForceDeleteBucket", "s3:GetBucketCors", "s3:GetBucketEncryption", "s3:GetBucketLocation", "s3:GetBucketNotification",
  "s3:GetBucketObjectLockConfiguration", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketTagging", "s3:GetBucketVersioning",
  "s3:GetLifecycleConfiguration", "s3:GetObject", "s3:GetObjectAttributes", "s3:GetObjectLegalHold", "s3:GetObjectRetention",
  "s3:GetObjectTagging", "s3:GetObjectVersion", "s3:GetObjectVersionAttributes", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging",
  "s3:GetReplicationConfiguration", "s3:HeadBucket", "s3:ListAllMyBuckets", "s3:ListBucket", "s3:ListBucketMultipartUploads",
  "s3:ListBucketVersions", "s3:ListMultipartUploadParts", "s3:ListenBucketNotification", "s3:ListenNotification", "s3:PutBucketCors",
  "s3:PutBucketEncryption", "s3:PutBucketNotification", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:PutBucketTagging",
  "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutObject", "s3:PutObjectFanOut", "s3:PutObjectLegalHold",
  "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:PutReplicationConfiguration", "s3:ReplicateDelete",
  "s3:ReplicateObject", "s3:ReplicateTags", "s3:ResetBucketReplicationState", "s3:RestoreObject",
];

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** IAM wildcard pattern (`*` any run, `?` one character) as a regular expression. */
const wildcard = (pattern: string, flags = "") => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, flags);

/** Whether a statement's principal reaches the anonymous caller: `*`, `{AWS: "*"}`, or any `NotPrincipal` (everyone but…). */
function reachesAnonymous(s: Record<string, unknown>): boolean {
  if (s.NotPrincipal !== undefined) return true;
  const p = s.Principal;
  if (p === "*") return true;
  if (p && typeof p === "object") return Object.values(p as Record<string, unknown>).some((v) => list(v).includes("*"));
  return false;
}

/**
 * Why an Allow statement reaching the anonymous caller is more than GetObject under the uploads
 * prefix of this HedgeDoc bucket ("" when it is exactly that or narrower).
 */
function beyondException(bucket: string, s: Record<string, unknown>): string {
  const { bucketSuffixes, prefix, action } = ANONYMOUS_READ_EXCEPTION;
  if (typeof bucket !== "string" || !bucketSuffixes.some((x) => bucket.endsWith(x) && bucket.length > x.length)) return "on a bucket HedgeDoc does not write to";
  if (s.NotAction !== undefined) return "with NotAction (every action but…)";
  if (s.NotResource !== undefined) return "with NotResource (every resource but…)";
  const actions = list(s.Action);
  if (!actions.length) return "without an Action";
  for (const a of actions) {
    if (typeof a !== "string") return `with the action ${JSON.stringify(a)}`;
    const re = wildcard(a, "i"); // action names are case-insensitive
    if (!re.test(action)) return `with the action "${a}" (only ${action} may be anonymous)`;
    const more = MINIO_S3_ACTIONS.filter((x) => x !== action && re.test(x));
    if (more.length || /^\*$|^s3:\*$/i.test(a)) return `with the action "${a}", which also grants ${more.slice(0, 3).join(", ") || "every action"}${more.length > 3 ? "…" : ""}`;
  }
  const resources = list(s.Resource);
  if (!resources.length) return "without a Resource";
  const base = `arn:aws:s3:::${bucket}/${prefix}`;
  for (const r of resources) {
    if (typeof r !== "string") return `on the resource ${JSON.stringify(r)}`;
    // The literal part before the first wildcard must already be inside `<bucket>/uploads/`.
    const literal = r.split(/[*?]/)[0];
    if (!literal.startsWith(base)) return `on "${r}" (only ${base}* may be anonymous)`;
  }
  return "";
}

/** Violations of one bucket policy document (parsed), for the bucket it is attached to. */
export function bucketPolicyProblems(bucket: string, doc: unknown): string[] {
  const out: string[] = [];
  const statements = list((doc as { Statement?: unknown } | null)?.Statement);
  statements.forEach((raw, i) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (String(s.Effect).toLowerCase() !== "allow" || !reachesAnonymous(s)) return;
    const why = beyondException(bucket, s);
    if (why) out.push(`Statement[${i}] of the policy of bucket ${bucket} allows the anonymous principal ${why}: only ${ANONYMOUS_READ_EXCEPTION.action} on ${ANONYMOUS_READ_EXCEPTION.prefix}* of a bucket HedgeDoc writes to may be public`);
  });
  return out;
}

export const noPublicBuckets: ResourceValidationPolicy = {
  name: "no-public-buckets",
  description: "No bucket is public: no public canned ACL, no bucket policy allowing the anonymous principal, except GetObject on uploads/* of a bucket HedgeDoc writes to.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { allowedPublicBuckets: { type: "array", items: { type: "string" }, default: [] } },
  },
  validateResource: (args, report) => {
    const { allowedPublicBuckets } = config(args, NO_PUBLIC_BUCKETS_DEFAULTS);
    if (args.type === TYPES.bucket) {
      const acl = args.props.acl;
      if (typeof acl === "string" && PUBLIC_ACLS.includes(acl) && !allowedPublicBuckets.includes(args.props.bucket)) {
        report(`bucket ${args.props.bucket ?? args.name} has the public ACL "${acl}"; use "private"`);
      }
    } else if (args.type === TYPES.bucketPolicy) {
      if (allowedPublicBuckets.includes(args.props.bucket)) return;
      const raw = args.props.policy;
      let doc: any;
      try {
        doc = typeof raw === "string" ? JSON.parse(raw) : raw;
      } catch {
        report(`the policy of bucket ${args.props.bucket} is not valid JSON`);
        return;
      }
      for (const m of bucketPolicyProblems(args.props.bucket, doc)) report(m);
    }
  },
};
