/**
 * Which input changes make a provider REPLACE a resource instead of updating it in place, for
 * every resource type the estate registers. Data, not code: one entry per provider rule, each
 * with the upstream source it was read from (file and commit of the provider that the pinned
 * SDK bridges). `scripts/diff/diff.ts` applies them; docs/plan.md explains the semantics.
 *
 * Paths use Pulumi's property-path syntax on the resource's INPUTS (camelCase, as in the plan
 * JSON): `spec.selector`, `triggers[*]`, `metadata.labels["app"]`. A change at a listed path,
 * below it, or a change of a whole object containing it, forces the replacement — the same
 * "contains" test the engine applies to `replaceOnChanges` (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, applyReplaceOnChanges).
 */

export interface ReplaceRule {
  /** Resource type token; a trailing `*` matches any type with that prefix. */
  type: string;
  /** Input paths whose change forces a replacement. */
  paths: string[];
  /** `decrease`: only when the new number is smaller than the old one. Default: any change. */
  when?: "decrease";
  /** The rule does not apply when the resource's provider has this input set to true. */
  unlessProviderFlag?: string;
  reason: string;
  source: string;
}

const HCLOUD = "hetznercloud/terraform-provider-hcloud@f81c9af (bridged by @pulumi/hcloud 1.41)";
const K8S_DIFF = "pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (forceNew table)";
const MINIO = "aminueza/terraform-provider-minio@d732d7a (bridged by @pulumi/minio 0.17)";
const KEYCLOAK = "keycloak/terraform-provider-keycloak@05accfd (bridged by @pulumi/keycloak 6.13)";
const RANDOM = "hashicorp/terraform-provider-random@ad788e2 internal/provider (RequiresReplace plan modifiers)";

/** Kubernetes kinds' immutable fields as pulumi-kubernetes decides them (metadata.name/namespace for every kind). */
const k8s = (kind: string, paths: string[], reason: string, extra: Partial<ReplaceRule> = {}): ReplaceRule => ({
  type: kind,
  paths,
  reason,
  source: K8S_DIFF,
  ...extra,
});

export const REPLACE_RULES: ReplaceRule[] = [
  // --- Hetzner Cloud (terraform ForceNew / RequiresReplace arguments) -------------------------
  {
    type: "hcloud:index/server:Server",
    paths: ["image", "location", "userData", "sshKeys"],
    reason: "a server's image, location, user data and SSH keys are fixed at creation (serverType is resized in place)",
    source: `${HCLOUD} internal/server/resource.go`,
  },
  {
    type: "hcloud:index/serverNetwork:ServerNetwork",
    paths: ["serverId", "networkId", "subnetId", "ip"],
    reason: "a server's attachment to a network is recreated to move it",
    source: `${HCLOUD} internal/server/resource_network.go`,
  },
  {
    type: "hcloud:index/primaryIp:PrimaryIp",
    paths: ["type", "location"],
    reason: "a primary IP's family and location are fixed (the address changes)",
    source: `${HCLOUD} internal/primaryip/resource.go`,
  },
  {
    type: "hcloud:index/rdns:Rdns",
    paths: ["serverId", "primaryIpId", "floatingIpId", "loadBalancerId", "ipAddress"],
    reason: "a reverse DNS entry belongs to one address",
    source: `${HCLOUD} internal/rdns/resource.go`,
  },
  {
    type: "hcloud:index/network:Network",
    paths: ["ipRange"],
    reason: "a network's IP range is fixed at creation",
    source: `${HCLOUD} internal/network/resource.go`,
  },
  {
    type: "hcloud:index/networkSubnet:NetworkSubnet",
    paths: ["networkId", "type", "networkZone", "ipRange", "vswitchId"],
    reason: "a subnet's network, type, zone, range and vSwitch are fixed at creation",
    source: `${HCLOUD} internal/network/resource_subnet.go`,
  },
  {
    type: "hcloud:index/sshKey:SshKey",
    paths: ["publicKey"],
    reason: "an SSH key's public key is fixed (its name is updated in place)",
    source: `${HCLOUD} internal/sshkey/resource.go`,
  },
  {
    type: "hcloud:index/volume:Volume",
    paths: ["location"],
    reason: "a volume cannot move between locations (size grows in place; Hetzner refuses to shrink one)",
    source: `${HCLOUD} internal/volume/resource.go`,
  },
  {
    type: "hcloud:index/volumeAttachment:VolumeAttachment",
    paths: ["volumeId", "serverId"],
    reason: "an attachment is recreated to move a volume",
    source: `${HCLOUD} internal/volume/resource_attachment.go`,
  },
  {
    type: "hcloud:index/loadBalancer:LoadBalancer",
    paths: ["location", "networkZone"],
    reason: "a load balancer's location and network zone are fixed",
    source: `${HCLOUD} internal/loadbalancer/resource.go`,
  },
  // hcloud Firewall and PlacementGroup have no ForceNew argument (same source): always in place.

  // --- Kubernetes (pulumi-kubernetes' forceNew table; Helm releases) ---------------------------
  k8s("kubernetes:*", ["metadata.name", "metadata.namespace"], "a Kubernetes object's name and namespace identify it"),
  k8s("kubernetes:apps/v1:Deployment", ["spec.selector"], "a Deployment's selector is immutable"),
  k8s("kubernetes:apps/v1:DaemonSet", ["spec.selector"], "a DaemonSet's selector is immutable"),
  k8s(
    "kubernetes:apps/v1:StatefulSet",
    ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy", "spec.revisionHistoryLimit"],
    "a StatefulSet's selector, service name, claim templates and pod management policy are immutable",
  ),
  k8s("kubernetes:batch/v1:Job", ["spec.template", "spec.selector", "spec.completions", "spec.parallelism"], "a Job's pod template and selector are immutable"),
  k8s(
    "kubernetes:core/v1:PersistentVolumeClaim",
    ["spec"],
    "pulumi-kubernetes replaces a claim on any spec change (class, access modes, size, selector, volume name)",
  ),
  k8s("kubernetes:core/v1:Service", ["spec.clusterIP"], "a Service's cluster IP is immutable"),
  k8s("kubernetes:core/v1:ResourceQuota", ["spec.scopes"], "a quota's scopes are immutable"),
  k8s("kubernetes:core/v1:ConfigMap", ["data", "binaryData"], "ConfigMaps are replaced, not edited (unless the provider enables mutable ConfigMaps)", {
    unlessProviderFlag: "enableConfigMapMutable",
  }),
  k8s("kubernetes:core/v1:Secret", ["type", "data", "stringData"], "Secrets are replaced, not edited (unless the provider enables mutable Secrets)", {
    unlessProviderFlag: "enableSecretMutable",
  }),
  k8s("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", ["roleRef"], "a binding's role is immutable"),
  k8s("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", ["roleRef"], "a binding's role is immutable"),
  k8s("kubernetes:storage.k8s.io/v1:StorageClass", ["parameters", "provisioner"], "a storage class's provisioner and parameters are immutable"),
  {
    type: "kubernetes:helm.sh/v3:Release",
    paths: ["name", "namespace"],
    reason: "a Helm release is identified by its name and namespace (chart, version and values upgrade in place)",
    source: "pulumi/pulumi-kubernetes provider/pkg/provider/helm_release.go (Diff: forceNewFields .name, .namespace)",
  },

  // --- MinIO ------------------------------------------------------------------------------------
  {
    type: "minio:index/s3Bucket:S3Bucket",
    paths: ["bucket", "bucketPrefix"],
    reason: "a bucket's name is fixed (its quota, ACL and flags are updated in place)",
    source: `${MINIO} minio/resource_minio_s3_bucket.go`,
  },
  { type: "minio:index/s3BucketVersioning:S3BucketVersioning", paths: ["bucket"], reason: "versioning belongs to one bucket", source: `${MINIO} minio/resource_minio_s3_bucket_versioning.go` },
  { type: "minio:index/ilmPolicy:IlmPolicy", paths: ["bucket"], reason: "a lifecycle policy belongs to one bucket", source: `${MINIO} minio/resource_minio_ilm_policy.go` },
  { type: "minio:index/iamUser:IamUser", paths: ["name"], reason: "a user's access key (name) is fixed", source: `${MINIO} minio/resource_minio_iam_user.go` },
  { type: "minio:index/iamPolicy:IamPolicy", paths: ["name", "namePrefix"], reason: "a policy's name is fixed", source: `${MINIO} minio/resource_minio_iam_policy.go` },
  {
    type: "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
    paths: ["policyName", "userName"],
    reason: "an attachment links one user to one policy",
    source: `${MINIO} minio/resource_minio_iam_user_policy_attachment.go`,
  },

  // --- Keycloak ---------------------------------------------------------------------------------
  { type: "keycloak:index/realm:Realm", paths: ["realm"], reason: "a realm's name is its id (displayName updates in place)", source: `${KEYCLOAK} provider/resource_keycloak_realm.go` },
  {
    type: "keycloak:index/organization:Organization",
    paths: ["name", "realm"],
    reason: "an organization's name and realm are fixed at creation",
    source: `${KEYCLOAK} provider/resource_keycloak_organization.go`,
  },
  {
    type: "keycloak:index/group:Group",
    paths: ["realmId", "parentId", "organizationId"],
    reason: "a group cannot move between realms, parents or organizations",
    source: `${KEYCLOAK} provider/resource_keycloak_group.go`,
  },
  {
    type: "keycloak:openid/client:Client",
    paths: ["realmId", "import"],
    reason: "a client cannot move between realms (clientId is updated in place)",
    source: `${KEYCLOAK} provider/resource_keycloak_openid_client.go`,
  },
  {
    type: "keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper",
    paths: ["name", "realmId", "clientId", "clientScopeId"],
    reason: "a protocol mapper belongs to one client or scope",
    source: `${KEYCLOAK} provider/resource_keycloak_openid_group_membership_protocol_mapper.go`,
  },

  // --- random: any argument change generates a NEW value ------------------------------------------
  {
    type: "random:index/randomPassword:RandomPassword",
    paths: ["keepers", "length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"],
    reason: "a password is generated once: changing its keepers or character rules generates a new one (every consumer gets the new secret)",
    source: `${RANDOM}/resource_password.go`,
  },
  {
    type: "random:index/randomString:RandomString",
    paths: ["keepers", "length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"],
    reason: "a random string is generated once: changing its keepers or rules generates a new one",
    source: `${RANDOM}/resource_string.go`,
  },
  {
    type: "random:index/randomBytes:RandomBytes",
    paths: ["keepers", "length"],
    reason: "random bytes are generated once: changing keepers or length generates new ones",
    source: `${RANDOM}/resource_bytes.go`,
  },

  // --- command: triggers ------------------------------------------------------------------------
  // The SDK itself adds `replaceOnChanges: ["triggers[*]"]` (@pulumi/command local/command.js,
  // remote/command.js), which the harness records; this entry keeps plans written before the
  // harness recorded `replaceOnChanges` right. `create`/`update`/`stdin` changes re-run in place.
  {
    type: "command:*",
    paths: ["triggers"],
    reason: "a command whose triggers change is replaced (its create command runs again)",
    source: "pulumi/pulumi-command provider/pkg/provider/common/inputs.go (Triggers: provider:\"replaceOnChanges\")",
  },
];

/**
 * Providers as resources (`pulumi:providers:<pkg>`): the engine asks the NEW provider's
 * DiffConfig whether a config change replaces it; if so every resource it manages is replaced
 * (pulumi/pulumi step_generator.go providerChanged → ReplaceKeys ["provider"]).
 */
export interface ProviderRule {
  type: string;
  /** Config inputs whose change replaces the provider (and everything under it). */
  paths: string[];
  /** When this input is set, only its change replaces the provider. */
  identifier?: string;
  reason: string;
  source: string;
}

export const PROVIDER_RULES: ProviderRule[] = [
  {
    type: "pulumi:providers:kubernetes",
    paths: ["kubeconfig", "context", "cluster", "renderYamlToDirectory"],
    identifier: "clusterIdentifier",
    reason:
      "pulumi-kubernetes replaces its provider when the kubeconfig changes at all (or is unknown during preview) unless `clusterIdentifier` is set; every Kubernetes object under it is then replaced",
    source: "pulumi/pulumi-kubernetes provider/pkg/provider/testdata/diffconfig/change-kubeconfig, computed-kubeconfig, change-kubeconfig-with-identifier",
  },
];

// ---------------------------------------------------------------------------------------
// Path matching (Pulumi property paths)
// ---------------------------------------------------------------------------------------

export type PathSegment = string | number;

/** Parses `a.b[0]["x.y"][*]` into segments; `*` matches any key or index. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  let cur = "";
  const flush = () => {
    if (cur) out.push(cur);
    cur = "";
  };
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      flush();
      i++;
    } else if (c === "[") {
      flush();
      const end = path.indexOf("]", i);
      const inner = path.slice(i + 1, end < 0 ? undefined : end);
      if (inner.startsWith('"')) out.push(JSON.parse(inner));
      else if (inner === "*") out.push("*");
      else out.push(Number(inner));
      i = end < 0 ? path.length : end + 1;
    } else {
      cur += c;
      i++;
    }
  }
  flush();
  return out;
}

/** Formats segments the way `pulumi preview --diff` prints them. */
export function formatPath(segs: PathSegment[]): string {
  let s = "";
  for (const seg of segs) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

const segEq = (rule: PathSegment, seg: PathSegment) => rule === "*" || rule === seg || String(rule) === String(seg);

/** True when `rule` is a prefix of `changed` (the change is at or under the rule's path). */
export function covers(rule: PathSegment[], changed: PathSegment[]): boolean {
  if (rule.length > changed.length) return false;
  return rule.every((r, i) => segEq(r, changed[i]));
}

/** The engine's "contains" both ways: a change under the path, or a change of an object holding it. */
export function touches(rule: PathSegment[], changed: PathSegment[]): boolean {
  return covers(rule, changed) || covers(changed, rule);
}

export const typeMatches = (pattern: string, type: string) => (pattern.endsWith("*") ? type.startsWith(pattern.slice(0, -1)) : pattern === type);

export const rulesFor = (type: string): ReplaceRule[] => REPLACE_RULES.filter((r) => typeMatches(r.type, type));
export const providerRuleFor = (type: string): ProviderRule | undefined => PROVIDER_RULES.find((r) => typeMatches(r.type, type));
