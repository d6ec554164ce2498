/**
 * Shared by the storage and backup tests: a StorageContext built from the estate without the
 * rest of the program (its own providers), and small lookups over harness records.
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import type { Estate } from "../components/config";
import type { StorageContext } from "../components/storage/contracts";
import { S3_REGION, settingsFromEstate } from "../components/storage/settings";
import type { RecordedResource } from "../scripts/harness";

export function testContext(estate: Estate): StorageContext {
  return {
    k8s: new k8s.Provider("test-k8s", { kubeconfig: "{}" }),
    primaryMinio: new minio.Provider("test-primary-minio", { minioServer: `${estate.storage.s3Domain}:443`, minioUser: "root", minioPassword: pulumi.secret("MOCKSECRET-root"), minioSsl: true }),
    backupMinio: new minio.Provider("test-backup-minio", { minioServer: `${estate.backup.s3Domain}:443`, minioUser: "root", minioPassword: pulumi.secret("MOCKSECRET-root"), minioSsl: true }),
    primary: { host: estate.storage.s3Domain, url: `https://${estate.storage.s3Domain}`, region: S3_REGION },
    backup: { host: estate.backup.s3Domain, url: `https://${estate.backup.s3Domain}`, region: S3_REGION },
    settings: settingsFromEstate(estate),
  };
}

export const ofType = (rs: RecordedResource[], type: string) => rs.filter((r) => r.type === type);
export const byUrn = (rs: RecordedResource[]) => new Map(rs.map((r) => [r.urn, r]));
/** The chain of ancestors (parent first) of a record. */
export function ancestors(rs: RecordedResource[], r: RecordedResource): RecordedResource[] {
  const m = byUrn(rs);
  const out: RecordedResource[] = [];
  let p = r.parent ? m.get(r.parent) : undefined;
  while (p) {
    out.push(p);
    p = p.parent ? m.get(p.parent) : undefined;
  }
  return out;
}
/** The recorded provider of a record, by URN. */
export const providerOf = (rs: RecordedResource[], r: RecordedResource) => (r.provider ? rs.find((x) => r.provider!.startsWith(x.urn)) : undefined);
