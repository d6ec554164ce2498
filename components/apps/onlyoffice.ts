/**
 * OnlyOffice Document Server (pinned image), editing OOXML files (docx/xlsx/pptx) from
 * Nextcloud through the `onlyoffice` Nextcloud app. Requests between Nextcloud and the
 * Document Server are signed with a JWT secret derived from the bundle's key (rotatable: both
 * ends read it from one Secret and restart when its derivation changes).
 */
import * as pulumi from "@pulumi/pulumi";
import { imageRef } from "../versions";
import { APPS_NODE_SELECTOR, appLabels, hostOf, replicasFor, webApp } from "./common";
import { HOST_PREFIXES } from "../config/hosts";
import { DERIVED_ANNOTATION, derivedAnnotation, derivedSecret } from "../kit";
import { resourcesFor } from "./sizing";
import { objectsOf, secretsOf, type AppContext, type AppInstance, type AppModule } from "./types";

/** Secret (key `JWT_SECRET`) shared by the Document Server and Nextcloud's onlyoffice app. */
export const ONLYOFFICE_JWT_SECRET = "onlyoffice-jwt";
/** Purpose label of the JWT secret (derived from the bundle's key). */
export const ONLYOFFICE_JWT_PURPOSE = "onlyoffice/jwt";
/** What the pods reading the JWT secret are annotated with (the Document Server's and Nextcloud's). */
export const ONLYOFFICE_JWT_DERIVATION = { JWT_SECRET: ONLYOFFICE_JWT_PURPOSE };

export class OnlyOffice extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly host: string;

  constructor(name: string, args: { ctx: AppContext }, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:OnlyOffice", name, {}, opts);
    const { ctx } = args;
    const child = { parent: this, provider: ctx.provider };
    const labels = appLabels(ctx.slug, "onlyoffice");
    this.host = hostOf(HOST_PREFIXES.onlyoffice, ctx.domain);
    this.url = `https://${this.host}`;
    // Its own Secret, or (lean) its entry in the bundle's shared one (components/kit/bundleSecrets.ts).
    const held = secretsOf(ctx).appSecret(
      "onlyoffice",
      `${name}-jwt`,
      { name: ONLYOFFICE_JWT_SECRET, namespace: ctx.namespace, labels, stringData: { JWT_SECRET: derivedSecret(ctx.secretKey, ONLYOFFICE_JWT_PURPOSE) }, derived: ONLYOFFICE_JWT_DERIVATION },
      child,
    );
    const secret = held.ready;
    if (ctx.state !== "decommissioned") {
      webApp(
        name,
        {
          name: "onlyoffice",
          namespace: ctx.namespace,
          labels,
          image: imageRef("onlyoffice", ctx.channel),
          containerPort: 80,
          replicas: replicasFor(ctx.state),
          resources: resourcesFor("onlyoffice", ctx.users),
          env: [
            { name: "JWT_ENABLED", value: "true" },
            { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: held.name, key: held.key("JWT_SECRET") } } },
            { name: "WOPI_ENABLED", value: "false" },
          ],
          host: this.host,
          // Documents up to 100 MiB (as before the edge moved to Traefik). Long editing sessions
          // (websockets) need nothing: Traefik sets no upstream read timeout (docs/ingress.md).
          maxBodyBytes: 100 * 1024 ** 2,
          probePath: "/healthcheck",
          nodeSelector: APPS_NODE_SELECTOR,
          gateways: ctx.gateways,
          objects: objectsOf(ctx),
          podAnnotations: { [DERIVED_ANNOTATION]: derivedAnnotation(ONLYOFFICE_JWT_DERIVATION) },
        },
        { ...child, dependsOn: [secret] },
      );
    }
    this.registerOutputs({ url: this.url });
  }
}

export const onlyofficeModule: AppModule = {
  app: "onlyoffice",
  workloads: ["onlyoffice"],
  databases: [],
  oidc: false,
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const o = new OnlyOffice(`${ctx.slug}-onlyoffice`, { ctx }, { parent });
    return { urls: { onlyoffice: o.url }, hosts: [o.host] };
  },
};
