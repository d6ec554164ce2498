/** The storage layer: primary MinIO, Helsinki backups, per-tenant storage, databases. */
export * from "./contracts";
export { StoragePlatform, type StoragePlatformArgs } from "./platform";
export { TenantStorage, S3_CREDENTIALS_SECRET } from "./tenantStorage";
export { PostgresCluster } from "./postgres";
export { VolumeBackup } from "./volumeBackup";
export { settingsFromEstate, STORAGE_NAMESPACE } from "./settings";
