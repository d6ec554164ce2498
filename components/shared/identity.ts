/**
 * Identity: how bundles and shared services use the estate's Keycloak.
 *
 * One estate realm holds every organisation as a group `org-<slug>` (components/shared/membership.ts)
 * and, outside the `lean` layout, a Keycloak Organization. A tenant with `dedicatedRealm: true`
 * gets its own realm instead; keep those few: Keycloak's admin degrades past ~300 realms
 * (keycloak#31956).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as keycloak from "@pulumi/keycloak";
import { opaqueSecret, password } from "../kit";
import { OIDC_SECRET_KEY } from "../apps/types";
import { clientDefaultScopes } from "./membership";

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
  /**
   * The estate realm's membership client scopes (components/shared/membership.ts), which the
   * bundles' clients list. Absent in a tenant-shard stack (the platform stack holds them, by name).
   */
  clientScopes?: pulumi.Resource[];
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
  /**
   * The bundle's members-only flow (components/shared/membership.ts): bound as the client's
   * browser flow. The client waits for the whole component (its gate's condition and deny
   * configurations too): a role condition without its configuration matches nobody, which
   * disables the gate (keycloak ConditionalRoleAuthenticator), so no client may bind the flow
   * before the configuration exists.
   */
  membersOnly: { flowId: pulumi.Input<string> } & pulumi.Resource;
  /** Also list the `nextcloud_groups` scope (the organisation groups' attribute). Default false. */
  nextcloudGroups?: boolean;
  /**
   * The client's membership scopes come from its realm's default client scopes
   * (`MembershipScopes` with `realmDefaults`, linked by Keycloak at the client's creation): no
   * `ClientDefaultScopes` of its own. Only for clients created after the realm's defaults (the
   * `lean` layout's, docs/scaling.md#leaner-tenants-keycloak). Default false.
   */
  scopesFromRealmDefaults?: boolean;
  /** The realm's membership scopes (`MembershipScopes.ready`) the client waits for. Defaults to none (they exist: another stack holds them). */
  clientScopes?: pulumi.Input<pulumi.Resource>[];
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A confidential OIDC client with a random (or given) secret, the realm's membership scopes as its
 * default scopes (`groups` claim with group names, not paths; `liiibre_access`; `nextcloud_groups`
 * for Nextcloud) and, when asked, the Secret the app reads the client secret from.
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
    // After the realm's scopes: a client created from realm defaults gets them at creation.
    { parent, provider: a.keycloakProvider, dependsOn: [...(a.dependsOn ?? []), a.membersOnly, ...(a.scopesFromRealmDefaults ? (a.clientScopes ?? []) : [])] },
  );
  // Claims from the realm's membership scopes (components/shared/membership.ts), not per-client mappers.
  if (!a.scopesFromRealmDefaults) {
    new keycloak.openid.ClientDefaultScopes(
      `${name}-scopes`,
      { realmId: a.realm, clientId: client.id, defaultScopes: clientDefaultScopes(a.nextcloudGroups ?? false) },
      // Retained: deleting it detaches every listed scope from the client (provider
      // resource_keycloak_openid_client_default_scopes.go, Delete), Keycloak's own included; an
      // organisation moving to the lean layout drops it and its client keeps its scopes.
      { parent, provider: a.keycloakProvider, dependsOn: [client, ...(a.clientScopes ?? [])], retainOnDelete: true },
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

/**
 * An organisation in the estate realm (name and alias = slug, its domain attached, the display
 * name as its description). Keycloak's `name` is ForceNew in the provider
 * (terraform-provider-keycloak resource_keycloak_organization.go) and the memberships live in
 * the organization, so the name is set once at creation and then ignored: a display-name rename
 * only updates the description, and organizations created before this rule (named after their
 * display name) keep their name instead of being replaced.
 */
export function organization(
  name: string,
  a: { realm: string; slug: string; displayName: string; domain: string; provider: keycloak.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
  parent: pulumi.Resource,
): keycloak.Organization {
  return new keycloak.Organization(
    name,
    { realm: a.realm, name: a.slug, alias: a.slug, description: a.displayName, enabled: true, domains: [{ name: a.domain, verified: false }], attributes: { "liiibre-slug": a.slug } },
    // Memberships live in it: removing the tenant from config must not drop them, nor may a rename.
    { parent, provider: a.provider, retainOnDelete: true, ignoreChanges: ["name"], dependsOn: a.dependsOn },
  );
}
