/**
 * Collabora Online (CODE, pinned image), editing ODF files (odt/ods/odp) from Nextcloud
 * through the `richdocuments` app. Only the bundle's Nextcloud may use it (WOPI alias
 * group); TLS ends at the ingress.
 *
 * With `ha` (`ctx.instances` 2): two pods, each sized for half the accounts, spread over nodes
 * with a budget, reached only through the hashing proxy (components/apps/collabora-proxy.ts) that
 * sends every request of a document to one pod; without it, one pod behind the edge.
 */
import * as pulumi from "@pulumi/pulumi";
import { imageRef } from "../versions";
import { APPS_NODE_SELECTOR, appLabels, hostOf, replicasFor, webApp } from "./common";
import { HOST_PREFIXES } from "../config/hosts";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedSecret } from "../kit";
import { replicaPlan, resourcesFor } from "./sizing";
import { CollaboraProxy } from "./collabora-proxy";
import { podDisruptionBudget, spreadOverNodes } from "../ops/availability";
import { objectsOf, secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";

/** Purpose label of the admin console's password (derived from the bundle's key). */
export const COLLABORA_ADMIN_PURPOSE = "collabora/admin";

export class Collabora extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly host: string;

  constructor(name: string, args: { ctx: AppContext }, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:Collabora", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "collabora");
    this.host = hostOf(HOST_PREFIXES.collabora, ctx.domain);
    this.url = `https://${this.host}`;
    // The admin console's password: rotatable (nothing stores it; the pods restart on a new derivation).
    const derived = { password: COLLABORA_ADMIN_PURPOSE };
    // Its own Secret, or (lean) its entries in the bundle's shared one (components/kit/bundleSecrets.ts).
    const held = secretsOf(ctx).appSecret(
      "collabora",
      `${name}-admin`,
      { name: "collabora-admin", namespace: ctx.namespace, labels, stringData: { username: "admin", password: derivedSecret(ctx.secretKey, COLLABORA_ADMIN_PURPOSE) }, derived },
      child,
    );
    const secret = held.ready;
    const nextcloudHost = hostOf(HOST_PREFIXES.nextcloud, ctx.domain);
    // With `ha`: two pods sized for half the accounts each, spread over nodes with a budget, behind
    // the hashing proxy (components/apps/collabora-proxy.ts); without it, one pod routed directly.
    const instances = ctx.instances ?? 1;
    const plan = replicaPlan(collaboraModule.replicated?.collabora, ctx.users, instances);
    const proxyPlan = replicaPlan(collaboraModule.replicated?.["collabora-haproxy"], ctx.users, instances);
    const selector = { "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"], "app.kubernetes.io/name": "collabora" };
    if (ctx.state !== "decommissioned") {
      const proxied = proxyPlan.replicas > 0 && ctx.state === "active";
      const proxy = proxied
        ? new CollaboraProxy(
            `${name}-proxy`,
            { namespace: ctx.namespace, labels, collaboraSelector: selector, collaboraReplicas: plan.replicas, replicas: proxyPlan.replicas, users: proxyPlan.users, provider: ctx.provider, objects: objectsOf(ctx) },
            { parent: this },
          )
        : undefined;
      if (ctx.state === "active") podDisruptionBudget(`${name}-pdb`, { name: "collabora", namespace: ctx.namespace, replicas: plan.replicas, matchLabels: selector, labels }, child, objectsOf(ctx));
      webApp(
        name,
        {
          name: "collabora",
          namespace: ctx.namespace,
          labels,
          image: imageRef("collabora", ctx.channel),
          containerPort: 9980,
          replicas: replicasFor(ctx.state, plan.replicas),
          resources: resourcesFor("collabora", plan.users),
          ...(plan.replicas >= 2 ? { topologySpreadConstraints: spreadOverNodes(selector) } : {}),
          // On SIGTERM coolwsd tells its clients ("close: recycling"), saves every modified document and stops (wsd/DocumentBroker.cpp).
          terminationGracePeriodSeconds: 120,
          ...(proxy ? { routeService: proxy.serviceName } : {}),
          env: [
            { name: "aliasgroup1", value: `https://${nextcloudHost.replace(/\./g, "\\.")}:443` },
            { name: "server_name", value: this.host },
            { name: "extra_params", value: "--o:ssl.enable=false --o:ssl.termination=true --o:welcome.enable=false" },
            { name: "username", valueFrom: { secretKeyRef: { name: held.name, key: held.key("username") } } },
            { name: "password", valueFrom: { secretKeyRef: { name: held.name, key: held.key("password") } } },
          ],
          host: this.host,
          // No body limit and no upstream read timeout at the edge (Traefik's defaults, docs/ingress.md).
          probePath: "/hosting/discovery",
          nodeSelector: APPS_NODE_SELECTOR,
          gateways: ctx.gateways,
          objects: objectsOf(ctx),
          podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation(derived) },
        },
        { ...child, dependsOn: [secret, ...(proxy ? [proxy] : [])] },
      );
    }
    this.registerOutputs({ url: this.url });
  }
}

export const collaboraModule: AppModule = {
  app: "collabora",
  workloads: ["collabora", "collabora-haproxy"],
  // With `ha`: two Collabora pods sharing the documents (hashed by the proxy), and the proxy twice.
  replicated: { collabora: "split", "collabora-haproxy": "ha-only" },
  databases: [],
  oidc: false,
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const c = new Collabora(`${ctx.slug}-collabora`, { ctx }, { parent });
    return { urls: { collabora: c.url }, hosts: [c.host] };
  },
};
