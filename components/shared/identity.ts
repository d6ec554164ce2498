/**
 * Identity: how bundles and shared services use the estate's Keycloak.
 *
 * One estate realm holds every organisation as a Keycloak Organization (and, for the shared
 * instance, a group named after its slug, which Nextcloud maps to the organisation's group
 * and group quota). A tenant with `dedicatedRealm: true` gets its own realm instead; keep
 * those few: Keycloak's admin degrades past ~300 realms (keycloak#31956).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import { opaqueSecret, password } from "../kit";
import { OIDC_SECRET_KEY } from "../apps/types";
import { ACCESS_CLAIM, NEXTCLOUD_GROUPS_ATTRIBUTE, NEXTCLOUD_GROUPS_CLAIM } from "./membership";

/** What Keycloak hands to the bundles. */
export interface IdentityContext {
  /** Provider of the estate's Keycloak (admin credentials, secret). */
  provider: keycloak.Provider;
  /** Public base URL, e.g. `https://auth.liiibre.coop`. */
  url: string;
  /** In-cluster base URL (plain HTTP to the Keycloak Service), for back-channel calls. */
  internalUrl: string;
  /** Name of the estate realm (the realm resource's id is its name). */
  estateRealm: string;
  /**
   * The estate realm resource (bundles' Keycloak objects depend on it). Absent in a tenant-shard
   * stack: the realm belongs to the platform stack, which the shard's StackReference follows.
   */
  estateRealmResource?: pulumi.Resource;
  /**
   * Access roles (ids) of estate-realm services every active organisation of the estate realm
   * may use (the shared Jitsi); SharedServices fills it. Default none.
   */
  estateServiceRoleIds?: pulumi.Input<string>[];
}

/** The identity as the platform stack holds it: with the estate realm resource. */
export type PlatformIdentity = IdentityContext & { estateRealmResource: pulumi.Resource };

/** OIDC issuer of a realm. */
export const issuerOf = (url: string, realm: string): string => `${url}/realms/${realm}`;

export interface OidcClientArgs {
  /** Realm name (= realm id for @pulumi/keycloak). */
  realm: pulumi.Input<string>;
  clientId: string;
  redirectUris: string[];
  /** Origin of the app (web origins). */
  rootUrl: string;
  /**
   * The Secret receiving the client secret (key `OIDC_CLIENT_SECRET`). Defaults to none: the
   * caller puts `clientSecret` in a Secret of its own.
   */
  secret?: { name: string; namespace: string; labels: Record<string, string> };
  /**
   * The client secret. Defaults to a RandomPassword `<name>-secret` (48 characters); a bundle
   * passes one derived from its key (purpose `oidc/<app>`, rotatable: Keycloak and the app's
   * Secret change together).
   */
  clientSecret?: pulumi.Output<string>;
  /** Purpose label of a derived `clientSecret` (annotated on the Secret, components/kit/secrets.ts). Defaults to none. */
  derivedPurpose?: string;
  keycloakProvider: keycloak.Provider;
  k8sProvider: k8s.Provider;
  /** Require PKCE (S256). Default true; false for clients that send no code challenge (the Jitsi adapter). */
  pkce?: boolean;
  /** The bundle's members-only flow (components/shared/membership.ts): bound as the client's browser flow. */
  membersOnly: { flowId: pulumi.Input<string> };
  /** Also map the `nextcloud_groups` claim (the organisation groups' attribute). Default false. */
  nextcloudGroups?: boolean;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A confidential OIDC client with a random secret, a `groups` claim (group names, not
 * paths) and the Secret the app reads the client secret from.
 */
export function oidcClient(name: string, a: OidcClientArgs, parent: pulumi.Resource): { client: keycloak.openid.Client; secret?: k8s.core.v1.Secret } {
  const secretValue = { result: a.clientSecret ?? password(`${name}-secret`, { parent }, 48).result };
  const client = new keycloak.openid.Client(
    name,
    {
      realmId: a.realm,
      clientId: a.clientId,
      name: a.clientId,
      accessType: "CONFIDENTIAL",
      clientSecret: secretValue.result,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      implicitFlowEnabled: false,
      validRedirectUris: a.redirectUris,
      validPostLogoutRedirectUris: ["+"],
      rootUrl: a.rootUrl,
      webOrigins: ["+"],
      pkceCodeChallengeMethod: a.pkce === false ? undefined : "S256",
      // Members only: the bundle's flow denies users without its access role.
      authenticationFlowBindingOverrides: { browserId: a.membersOnly.flowId },
    },
    { parent, provider: a.keycloakProvider, dependsOn: a.dependsOn },
  );
  new keycloak.openid.GroupMembershipProtocolMapper(
    `${name}-groups`,
    { realmId: a.realm, clientId: client.id, name: "groups", claimName: "groups", fullPath: false, addToIdToken: true, addToAccessToken: true, addToUserinfo: true },
    { parent, provider: a.keycloakProvider },
  );
  // The user's realm roles (the apps check their bundle's access role in it: defence in depth).
  new keycloak.openid.UserRealmRoleProtocolMapper(
    `${name}-access`,
    { realmId: a.realm, clientId: client.id, name: ACCESS_CLAIM, claimName: ACCESS_CLAIM, multivalued: true, addToIdToken: true, addToAccessToken: true, addToUserinfo: true },
    { parent, provider: a.keycloakProvider },
  );
  if (a.nextcloudGroups) {
    new keycloak.openid.UserAttributeProtocolMapper(
      `${name}-nextcloud-groups`,
      {
        realmId: a.realm,
        clientId: client.id,
        name: NEXTCLOUD_GROUPS_CLAIM,
        claimName: NEXTCLOUD_GROUPS_CLAIM,
        userAttribute: NEXTCLOUD_GROUPS_ATTRIBUTE,
        multivalued: true,
        aggregateAttributes: true,
        addToIdToken: true,
        addToAccessToken: true,
        addToUserinfo: true,
      },
      { parent, provider: a.keycloakProvider },
    );
  }
  const secret = a.secret
    ? opaqueSecret(
        `${name}-k8s-secret`,
        {
          name: a.secret.name,
          namespace: a.secret.namespace,
          labels: a.secret.labels,
          stringData: { [OIDC_SECRET_KEY]: secretValue.result },
          ...(a.derivedPurpose ? { derived: { [OIDC_SECRET_KEY]: a.derivedPurpose } } : {}),
        },
        { parent, provider: a.k8sProvider, dependsOn: a.dependsOn },
      )
    : undefined;
  return { client, secret };
}

/** An organisation in the estate realm (alias = slug, its domain attached). */
export function organization(
  name: string,
  a: { realm: string; slug: string; displayName: string; domain: string; provider: keycloak.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
  parent: pulumi.Resource,
): keycloak.Organization {
  return new keycloak.Organization(
    name,
    { realm: a.realm, name: a.displayName, alias: a.slug, enabled: true, domains: [{ name: a.domain, verified: false }], attributes: { "liiibre-slug": a.slug } },
    // Memberships live in it: removing the tenant from config must not drop them.
    { parent, provider: a.provider, retainOnDelete: true, dependsOn: a.dependsOn },
  );
}
