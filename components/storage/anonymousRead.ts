/**
 * The one anonymous read the estate allows: browsers fetching HedgeDoc's pad images.
 *
 * HedgeDoc 1.x's `minio` uploader (lib/web/imageRouter/minio.js, 1.10.3 to 1.10.8) puts each
 * image at `uploads/<uuid v4>.<ext>` in `CMD_S3_BUCKET` and hands browsers the direct URL
 * `https://<CMD_MINIO_ENDPOINT>/<bucket>/uploads/<uuid>.<ext>`; its MinIO guide says to add a
 * read-only policy on the `uploads` prefix (docs/content/guides/minio-image-upload.md). The
 * browser sends no credentials, so MinIO decides from the bucket policy alone.
 *
 * What it grants: `s3:GetObject` (GET and HEAD of the current version) to the anonymous
 * principal on `arn:aws:s3:::<bucket>/uploads/*` only — no listing (names stay unguessable:
 * 122 random bits each), no other prefix, no version reads, no write. Everything else in the
 * bucket, and every other bucket, stays private (policy `no-public-buckets` checks exactly this).
 */

/** Bucket suffixes (components/config/apps.ts `buckets`) whose prefix browsers read anonymously (relative to the suffix's own prefix in an organisation bucket, "" there for HedgeDoc). */
export const ANONYMOUS_READ_PREFIXES: Readonly<Record<string, string>> = { hedgedoc: "uploads/" };

/** The only action granted: GET/HEAD of an object's current version. */
export const ANONYMOUS_READ_ACTION = "s3:GetObject";

export interface BucketPolicyDocument {
  Version: "2012-10-17";
  Statement: Array<{ Sid: string; Effect: "Allow"; Principal: { AWS: string[] }; Action: string[]; Resource: string[] }>;
}

/** The bucket policy letting anyone GET the objects under `prefixes` (each ending with "/") of `bucket`. */
export function anonymousReadPolicy(bucket: string, prefixes: string | string[]): BucketPolicyDocument {
  const list = [prefixes].flat();
  for (const prefix of list)
    if (!prefix.endsWith("/") || prefix.length < 2 || /[*?]/.test(prefix)) throw new Error(`anonymousReadPolicy ${bucket}: prefix must be a literal folder ending with "/", got "${prefix}"`);
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "AnonymousReadOfPadImages", Effect: "Allow", Principal: { AWS: ["*"] }, Action: [ANONYMOUS_READ_ACTION], Resource: list.map((prefix) => `arn:aws:s3:::${bucket}/${prefix}*`) }],
  };
}
