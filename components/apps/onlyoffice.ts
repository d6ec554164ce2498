/**
 * OnlyOffice Document Server (pinned image), editing OOXML files (docx/xlsx/pptx) from
 * Nextcloud through the `onlyoffice` Nextcloud app. Requests between Nextcloud and the
 * Document Server are signed with a JWT secret from @pulumi/random.
 */
import * as pulumi from "@pulumi/pulumi";
import { imageRef } from "../versions";
import { APPS_NODE_SELECTOR, appLabels, hostOf, opaqueSecret, password, replicasFor, webApp } from "./common";
import { HOST_PREFIXES } from "../config/hosts";
import { resourcesFor } from "./sizing";
import type { AppContext, AppInstance, AppModule } from "./types";

/** Secret (key `JWT_SECRET`) shared by the Document Server and Nextcloud's onlyoffice app. */
export const ONLYOFFICE_JWT_SECRET = "onlyoffice-jwt";

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
    const jwt = password(`${name}-jwt-secret`, { parent: this }, 48);
    const secret = opaqueSecret(`${name}-jwt`, { name: ONLYOFFICE_JWT_SECRET, namespace: ctx.namespace, labels, stringData: { JWT_SECRET: jwt.result } }, child);
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
            { name: "JWT_SECRET", valueFrom: { secretKeyRef: { name: ONLYOFFICE_JWT_SECRET, key: "JWT_SECRET" } } },
            { name: "WOPI_ENABLED", value: "false" },
          ],
          host: this.host,
          // Documents up to 100 MiB (as before the edge moved to Traefik). Long editing sessions
          // (websockets) need nothing: Traefik sets no upstream read timeout (docs/ingress.md).
          maxBodyBytes: 100 * 1024 ** 2,
          probePath: "/healthcheck",
          nodeSelector: APPS_NODE_SELECTOR,
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
