/**
 * Collabora Online (CODE, pinned image), editing ODF files (odt/ods/odp) from Nextcloud
 * through the `richdocuments` app. Only the bundle's Nextcloud may use it (WOPI alias
 * group); TLS ends at the ingress.
 */
import * as pulumi from "@pulumi/pulumi";
import { imageRef } from "../versions";
import { APPS_NODE_SELECTOR, appLabels, hostOf, replicasFor, webApp } from "./common";
import { HOST_PREFIXES } from "../config/hosts";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedSecret } from "../kit";
import { resourcesFor } from "./sizing";
import { secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";

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
    if (ctx.state !== "decommissioned") {
      webApp(
        name,
        {
          name: "collabora",
          namespace: ctx.namespace,
          labels,
          image: imageRef("collabora", ctx.channel),
          containerPort: 9980,
          replicas: replicasFor(ctx.state),
          resources: resourcesFor("collabora", ctx.users),
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
          podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation(derived) },
        },
        { ...child, dependsOn: [secret] },
      );
    }
    this.registerOutputs({ url: this.url });
  }
}

export const collaboraModule: AppModule = {
  app: "collabora",
  workloads: ["collabora"],
  databases: [],
  oidc: false,
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const c = new Collabora(`${ctx.slug}-collabora`, { ctx }, { parent });
    return { urls: { collabora: c.url }, hosts: [c.host] };
  },
};
