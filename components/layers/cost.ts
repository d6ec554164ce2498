/**
 * Resources a stack will hold, estimated from the config before anything is registered, so
 * that a config that would put more than `liiibre:sharding.maxResourcesPerStack` resources in
 * one stack is refused (exit 2) instead of producing a stack too large to preview.
 *
 * The model is additive: a dedicated organisation costs a base (its Tenant, namespace, quota,
 * limits, 13 NetworkPolicies, TenantStorage with its k8up bucket and user, the members-only
 * login — 1 flow, 4 subflows, 6 executions, 2 configs, a role —, the organisation and its group)
 * plus a fixed cost per app (its Helm release or Deployment, Secrets, generated passwords, OIDC
 * client with its 3 mappers, PostgreSQL cluster with its backup user, buckets and their Helsinki
 * twins). The figures were counted app by app on the prod plan of 2026-12-01 (matrix 30 since
 * the matrix-stack 26.8.1 values): e.g. nextcloud+collabora = 86, the five default apps = 149, with a dedicated Jitsi = 166.
 * test/layers.test.ts checks the model against the evaluated program for several shapes (it must
 * never under-estimate an active organisation). Suspended and decommissioned organisations cost
 * a little less; the estimate keeps the active figure (an upper bound).
 */
import type { AppName } from "../config/apps";
import { stackLayout, type LayoutStack, type PlacementInput } from "./placement";

/** Resources of a dedicated organisation besides its apps (nextcloud-less figure). */
// Counted on the prod plan of 2026-12-01 after the ops, twin and edge merges.
export const TENANT_BASE_COST = 58;
/** Resources each app adds to a dedicated organisation. Apps not deployable yet cost nothing (config refuses them). */
export const APP_COST: Record<AppName, number> = {
  nextcloud: 29,
  // The edge (docs/ingress.md): a program-declared Ingress became a Gateway + HTTPRoute (+1 each;
  // OnlyOffice's route also has its body-limit Middleware, +2).
  onlyoffice: 8,
  collabora: 7,
  // 32 with `ha`'s HAProxy budget (issue 12; the estimate is the upper bound).
  matrix: 32,
  hedgedoc: 28,
  "jitsi-dedicated": 18,
  etherpad: 0,
  discourse: 0,
  mobilizon: 0,
  decidim: 0,
  grist: 0,
};
/** An own realm replaces the Organization with a Realm and adds DefaultGroups. */
export const DEDICATED_REALM_COST = 1;
/** An organisation of the shared instance: its Keycloak Organization, group and group roles. */
export const SHARED_MEMBER_COST = 3;
/**
 * The platform without any organisation: servers, cluster, add-ons, storage platform, Keycloak,
 * Jitsi and the shared instance's own bundle (prod: 29 servers, 537 resources before its 34
 * shared organisations' 102). A platform with many more servers is under-estimated: the plan
 * reports every stack's real count beside the estimate.
 */
// 608: counted on the prod plan of 2026-12-01 (platform stack 710 resources less its 34 shared
// organisations' 102) after the edge (Traefik, Gateway API CRDs, Teapot, the platform's
// Gateways/HTTPRoutes/Middlewares), ops (alerts, kured, budgets) and twin (default class) merges;
// 627 with the HA branch (+19: Grafana's release and CloudNativePG cluster with its backup user,
// the budgets of Teapot, the MinIO Operator, the shared instance's HAProxy and Synapse workers).
export const PLATFORM_BASE_COST = 627;
/** A shard's own resources: the StackReference and the four providers rebuilt from the contract. */
export const SHARD_OVERHEAD = 5;

export interface CostTenant {
  plan: "shared" | "dedicated";
  apps: readonly AppName[];
  dedicatedRealm?: boolean;
}

export function tenantCost(t: CostTenant): number {
  if (t.plan === "shared") return SHARED_MEMBER_COST;
  return TENANT_BASE_COST + t.apps.reduce((n, a) => n + APP_COST[a], 0) + (t.dedicatedRealm ? DEDICATED_REALM_COST : 0);
}

export interface StackEstimate extends LayoutStack {
  /** Estimated resources of the stack. */
  resources: number;
}

/** Every stack of the estate with its estimated resource count. */
export interface EstimateInput extends PlacementInput {
  tenants: ReadonlyArray<PlacementInput["tenants"][number] & CostTenant>;
}

export function estimateStacks(estate: string, e: EstimateInput): StackEstimate[] {
  const bySlug = new Map<string, CostTenant>(e.tenants.map((t) => [t.slug, t]));
  const sum = (slugs: string[]) => slugs.reduce((n, s) => n + tenantCost(bySlug.get(s)!), 0);
  return stackLayout(estate, e).map((s) => ({
    ...s,
    resources: s.layer === "shard" ? SHARD_OVERHEAD + sum(s.tenants) : PLATFORM_BASE_COST + sum(s.tenants),
  }));
}
