/**
 * Services every organisation uses: Keycloak (one estate realm), the shared Jitsi Meet
 * (capped at the offer's resolution) and the shared instance for small organisations.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { coopHosts, type Estate } from "../config";
import { LABELS, PLATFORM } from "../conventions";
import { namespace } from "../kit";
import { JitsiMeet, adapterRedirectUris } from "../apps/jitsi";
import type { StorageContext } from "../storage/contracts";
import type { DnsRecord } from "../tenant/dns";
import { oidcClient, type PlatformIdentity } from "./identity";
import { Keycloak } from "./keycloak";
import { MembersOnly } from "./membership";
import { SharedInstance } from "./sharedInstance";
import { SHARED_REPLICAS } from "../ops/availability";
import { Grafana } from "./grafana";

export interface SharedServicesArgs {
  estate: Estate;
  /** The storage layer (StoragePlatform.context). */
  storage: StorageContext;
}

/**
 * The estate's services every active organisation of the estate realm may use, in the order of
 * `identity.estateServiceRoleIds` (tenant shards rebuild that list from the platform contract).
 */
export const ESTATE_SERVICES = ["jitsi"] as const;
export type EstateService = (typeof ESTATE_SERVICES)[number];

export class SharedServices extends pulumi.ComponentResource {
  public readonly identity: PlatformIdentity;
  /** Access role id of each estate service (ESTATE_SERVICES). */
  public readonly serviceRoleIds: Record<EstateService, pulumi.Output<string>>;
  public readonly keycloak: Keycloak;
  public readonly jitsi: JitsiMeet;
  public readonly sharedInstance: SharedInstance;
  /** Grafana on PostgreSQL, twice (components/shared/grafana.ts: here because its database needs the storage layer). */
  public readonly grafana: Grafana;

  constructor(name: string, args: SharedServicesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:shared:SharedServices", name, {}, opts);
    const { estate, storage } = args;
    const cfg = estate.sharedServices;
    const users = estate.tenants.reduce((n, t) => n + t.users, 0);
    this.keycloak = new Keycloak("keycloak", { estate, storage, users }, { parent: this });
    const kc = this.keycloak.identity;
    // The shared Jitsi admits the members of every active organisation of the estate realm.
    const jitsiMembers = new MembersOnly("jitsi-members", { realm: kc.estateRealm, bundle: "jitsi", provider: kc.provider, dependsOn: [kc.estateRealmResource] }, { parent: this });
    this.serviceRoleIds = { jitsi: jitsiMembers.role.id };
    this.identity = { ...kc, estateServiceRoleIds: ESTATE_SERVICES.map((s) => this.serviceRoleIds[s]) };

    const jitsiNs = namespace("jitsi-namespace", { name: PLATFORM.jitsiNamespace, labels: { [LABELS.layer]: "shared", [LABELS.stateful]: "false" } }, { parent: this, provider: storage.k8s });
    const jitsiHost = coopHosts(cfg).jitsi;
    const jitsiLabels = { [LABELS.layer]: "shared", "app.kubernetes.io/part-of": "liiibre" };
    // The Keycloak adapter's client in the estate realm: members of the estate's organisations may open a room.
    const jitsiClient = { clientId: "jitsi", secretName: "jitsi-oidc" };
    const { secret: jitsiClientSecret } = oidcClient(
      "jitsi-oidc",
      {
        realm: this.identity.estateRealm,
        clientId: jitsiClient.clientId,
        redirectUris: adapterRedirectUris(jitsiHost),
        rootUrl: `https://${jitsiHost}`,
        secret: { name: jitsiClient.secretName, namespace: PLATFORM.jitsiNamespace, labels: jitsiLabels },
        keycloakProvider: this.identity.provider,
        k8sProvider: storage.k8s,
        pkce: false,
        membersOnly: jitsiMembers,
        dependsOn: [jitsiNs, this.identity.estateRealmResource],
        clientScopes: this.identity.clientScopes,
      },
      this,
    );
    this.jitsi = new JitsiMeet(
      "jitsi",
      {
        namespace: PLATFORM.jitsiNamespace,
        host: jitsiHost,
        resolution: cfg.jitsi.resolution,
        maxBitratesVideo: cfg.jitsi.maxBitratesVideo,
        auth: {
          keycloakUrl: this.identity.url,
          keycloakInternalUrl: this.identity.internalUrl,
          realm: this.identity.estateRealm,
          clientId: jitsiClient.clientId,
          clientSecretName: jitsiClient.secretName,
        },
        labels: jitsiLabels,
        // Every organisation meets here: web front and login adapter twice, spread, with budgets;
        // two shards (Prosody, Jicofo, videobridge, web each) behind the shard router (issue 12).
        frontReplicas: SHARED_REPLICAS,
        shards: SHARED_REPLICAS,
        provider: storage.k8s,
        dependsOn: [jitsiNs, ...(jitsiClientSecret ? [jitsiClientSecret] : [])],
      },
      { parent: this },
    );
    this.grafana = new Grafana("grafana", { estate, storage }, { parent: this });
    this.sharedInstance = new SharedInstance(cfg.sharedInstance.slug, { estate, storage, identity: this.identity }, { parent: this });
    this.registerOutputs({ jitsi: this.jitsi.url, sharedInstance: this.sharedInstance.urls });
  }

  /** `tenants[slug]` outputs of the shared organisations: the shared instance's URLs, no DNS record to create. */
  sharedTenantOutputs(): Record<string, { urls: Record<string, string>; dnsRecords: DnsRecord[] }> {
    const out: Record<string, { urls: Record<string, string>; dnsRecords: DnsRecord[] }> = {};
    for (const g of this.sharedInstance.groups) out[g.slug] = { urls: { jitsi: this.jitsi.url, ...this.sharedInstance.urls }, dnsRecords: [] };
    return out;
  }
}
