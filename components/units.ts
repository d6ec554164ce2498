/**
 * The storage unit, decided once for the whole estate.
 *
 * The offer says "10 GB per account". Nextcloud, which enforces per-user and group quotas,
 * reads "10 GB" as 10 × 1024³ bytes (its `computerFileSize` uses binary multiples). So the
 * estate's "GB" is Nextcloud's: **1 GB = 1024³ = 1,073,741,824 bytes** (a GiB). Bucket hard
 * quotas in MinIO (bytes), Nextcloud quotas ("<n> GB") and every report use this unit, so
 * the numbers agree byte for byte. See docs/storage.md.
 */
export const BYTES_PER_GB = 1024 ** 3;

/** `n` GB (binary) in bytes. */
export const gbToBytes = (gb: number): number => gb * BYTES_PER_GB;

/** The Nextcloud quota string for `gb` GB, e.g. "10 GB". */
export const nextcloudQuota = (gb: number): string => `${gb} GB`;

/** An organisation's pooled storage: users × per-user quota, in GB. */
export const storagePoolGB = (t: { users: number; quotaPerUserGB: number }): number => t.users * t.quotaPerUserGB;
