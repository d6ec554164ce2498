/**
 * The S3 calls each S3 consumer of the estate makes (read by the estate twin, which evaluates
 * each call against the IAM policies of the MinIO user the consumer uses: docs/twin.md).
 * Declared from each client's documented behaviour; `prefix` is relative to the consumer's
 * own prefix in the bucket ("" for a whole bucket).
 *
 * - barman-cloud (CloudNativePG Barman Cloud plugin): `barman-cloud-check-wal-archive` and
 *   every upload first check the bucket (boto3 `head_bucket`), list the server's directory,
 *   upload WAL and base backups (multipart), read them back for restores, delete expired ones.
 * - restic (k8up): checks the bucket (minio-go `BucketExists` = HeadBucket), lists `keys/`,
 *   `snapshots/`, `data/`…, reads, writes and deletes objects (prune).
 * - Nextcloud primary object storage: HeadBucket at start (autocreate off), objects `urn:oid:*`,
 *   multipart uploads for large files.
 * - synapse-s3-storage-provider: put, get, head objects of the media store.
 * - HedgeDoc (minio uploader): put objects under `uploads/<uuid v4>.<ext>`; browsers then GET
 *   those URLs without credentials (ANONYMOUS_CALLS).
 * - in an organisation's one bucket (docs/storage.md#buckets) each app has its prefix
 *   (`nextcloud/`, `matrix-media/`; HedgeDoc's keys stay `uploads/…` at the root);
 * - the replication target user (`mc replicate add`, server-side replication into Helsinki):
 *   bucket versioning read, objects replicated (put, delete markers).
 */

/** An S3 API call; MinIO authorises it with the IAM action of S3_ACTION. */
export type S3Call =
  | "HeadBucket"
  | "GetBucketLocation"
  | "ListObjectsV2"
  | "GetObject"
  | "HeadObject"
  | "PutObject"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListMultipartUploads"
  | "ListParts"
  | "DeleteObject"
  | "GetBucketVersioning"
  | "ReplicateObject";

/**
 * MinIO's mapping of S3 calls to IAM actions (cmd/api-router.go and cmd/bucket-handlers.go of
 * minio/minio: HeadBucket and ListObjects are both authorised as s3:ListBucket; HeadBucket
 * carries no s3:prefix, ListObjects carries the request's prefix; multipart parts are
 * s3:PutObject).
 */
export const S3_ACTION: Record<S3Call, { action: string; on: "bucket" | "object"; withPrefix?: boolean }> = {
  HeadBucket: { action: "s3:ListBucket", on: "bucket" },
  GetBucketLocation: { action: "s3:GetBucketLocation", on: "bucket" },
  ListObjectsV2: { action: "s3:ListBucket", on: "bucket", withPrefix: true },
  GetObject: { action: "s3:GetObject", on: "object" },
  HeadObject: { action: "s3:GetObject", on: "object" },
  PutObject: { action: "s3:PutObject", on: "object" },
  CreateMultipartUpload: { action: "s3:PutObject", on: "object" },
  UploadPart: { action: "s3:PutObject", on: "object" },
  CompleteMultipartUpload: { action: "s3:PutObject", on: "object" },
  AbortMultipartUpload: { action: "s3:AbortMultipartUpload", on: "object" },
  ListMultipartUploads: { action: "s3:ListBucketMultipartUploads", on: "bucket" },
  ListParts: { action: "s3:ListMultipartUploadParts", on: "object" },
  DeleteObject: { action: "s3:DeleteObject", on: "object" },
  GetBucketVersioning: { action: "s3:GetBucketVersioning", on: "bucket" },
  ReplicateObject: { action: "s3:ReplicateObject", on: "object" },
};

export interface S3CallSpec {
  call: S3Call;
  /** Key (object calls) or listing prefix (ListObjectsV2), relative to the consumer's prefix. */
  key?: string;
}

export type S3Consumer = "barman" | "restic" | "nextcloud" | "synapse" | "hedgedoc" | "replication";

export const S3_CALLS: Record<S3Consumer, S3CallSpec[]> = {
  barman: [
    { call: "HeadBucket" },
    { call: "ListObjectsV2", key: "wals/" },
    { call: "PutObject", key: "wals/0000000100000000/000000010000000000000001.gz" },
    { call: "CreateMultipartUpload", key: "base/20260101T013000/data.tar.gz" },
    { call: "UploadPart", key: "base/20260101T013000/data.tar.gz" },
    { call: "GetObject", key: "base/20260101T013000/backup.info" },
    { call: "DeleteObject", key: "base/20250101T013000/data.tar.gz" },
  ],
  restic: [
    { call: "HeadBucket" },
    { call: "ListObjectsV2", key: "keys/" },
    { call: "GetObject", key: "config" },
    { call: "PutObject", key: "data/00/0000000000000000" },
    { call: "DeleteObject", key: "locks/0000000000000000" },
  ],
  nextcloud: [
    { call: "HeadBucket" },
    { call: "PutObject", key: "urn:oid:1" },
    { call: "GetObject", key: "urn:oid:1" },
    { call: "DeleteObject", key: "urn:oid:1" },
    { call: "CreateMultipartUpload", key: "urn:oid:2" },
    { call: "ListParts", key: "urn:oid:2" },
    { call: "AbortMultipartUpload", key: "urn:oid:2" },
  ],
  synapse: [
    { call: "PutObject", key: "local_content/ab/cd/efgh" },
    { call: "GetObject", key: "local_content/ab/cd/efgh" },
    { call: "HeadObject", key: "local_thumbnails/ab/cd/efgh/32-32-image-png-crop" },
  ],
  hedgedoc: [
    { call: "PutObject", key: "uploads/upload_0123.png" },
    { call: "GetObject", key: "uploads/upload_0123.png" },
  ],
  replication: [
    { call: "GetBucketVersioning" },
    { call: "PutObject", key: "file" },
    { call: "ReplicateObject", key: "file" },
  ],
};

/**
 * Where each consumer's keys start under its prefix (its key space is prefix + root): Nextcloud's
 * `urn:oid:<file id>` (its objectPrefix), HedgeDoc's `uploads/` (fixed), the others anywhere
 * below their prefix (Synapse's `local_content/`, `remote_thumbnail/`…, restic's repository,
 * barman's server directory). Two consumers of one bucket whose spaces nest write each other's keys.
 */
export const KEY_ROOTS: Record<S3Consumer, string> = { barman: "", restic: "", nextcloud: "urn:oid:", synapse: "", hedgedoc: "uploads/", replication: "" };

/** Which consumer uses an app's bucket (components/config/apps.ts `buckets`). */
export const BUCKET_CONSUMER: Record<string, S3Consumer> = { nextcloud: "nextcloud", "matrix-media": "synapse", hedgedoc: "hedgedoc" };

/**
 * What browsers do without credentials, per consumer whose bucket they read directly: HedgeDoc
 * 1.x's pad images are `<img src="https://<s3>/<bucket>/uploads/<uuid>.<ext>">` (GET, and HEAD
 * by caches). Allowed by the bucket's policy alone (components/storage/anonymousRead.ts).
 */
export const ANONYMOUS_CALLS: Partial<Record<S3Consumer, S3CallSpec[]>> = {
  hedgedoc: [
    { call: "GetObject", key: "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png" },
    { call: "HeadObject", key: "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png" },
  ],
};

/**
 * What an anonymous caller must be refused on EVERY bucket (a HedgeDoc bucket and an organisation
 * bucket included): listing (with and without a prefix: the image names stay unguessable),
 * writing, deleting, reading another prefix (another app's) or a neighbour of `uploads/`, reading
 * the bucket's versioning.
 */
export const ANONYMOUS_REFUSED: S3CallSpec[] = [
  { call: "HeadBucket" },
  { call: "ListObjectsV2" },
  { call: "ListObjectsV2", key: "uploads/" },
  { call: "PutObject", key: "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png" },
  { call: "DeleteObject", key: "uploads/0f8fad5b-d9cb-469f-a165-70867728950e.png" },
  { call: "CreateMultipartUpload", key: "uploads/big.png" },
  { call: "GetObject", key: "urn:oid:1" },
  // The other apps' prefixes in an organisation's one bucket, beside HedgeDoc's public uploads/.
  { call: "GetObject", key: "nextcloud/urn:oid:1" },
  { call: "GetObject", key: "matrix-media/local_content/ab/cd/efgh" },
  { call: "GetObject", key: "uploads-private/x.png" },
  { call: "GetBucketVersioning" },
];
