/**
 * `no-public-buckets` (mandatory): no MinIO bucket is readable or writable anonymously, through
 * its canned ACL or a bucket policy granting the `*` principal.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, config } from "./lib";

export interface NoPublicBucketsConfig {
  /** Bucket names allowed to be public (none by default). */
  allowedPublicBuckets: string[];
}
export const NO_PUBLIC_BUCKETS_DEFAULTS: NoPublicBucketsConfig = { allowedPublicBuckets: [] };

const PUBLIC_ACLS = ["public", "public-read", "public-read-write", "public-write"];

function grantsEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  if (principal && typeof principal === "object") {
    for (const v of Object.values(principal as Record<string, unknown>)) {
      if (v === "*" || (Array.isArray(v) && v.includes("*"))) return true;
    }
  }
  return false;
}

export const noPublicBuckets: ResourceValidationPolicy = {
  name: "no-public-buckets",
  description: "No bucket is public: no public canned ACL, no bucket policy allowing the anonymous principal.",
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
      const statements = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
      statements.forEach((s: any, i: number) => {
        if (s?.Effect === "Allow" && grantsEveryone(s.Principal)) report(`Statement[${i}] of the policy of bucket ${args.props.bucket} allows the anonymous principal "*"`);
      });
    }
  },
};
