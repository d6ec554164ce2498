export { Tenant, type TenantArgs, type TenantOutputs } from "./tenant";
export { deployBundle, type BundleArgs } from "./bundle";
export { dnsRecords, appHosts, matrixDelegation, type DnsRecord, type IngressTarget } from "./dns";
export { networkPolicies } from "./networkPolicies";
export { resourceQuotaSpec, limitRangeSpec } from "./quota";
