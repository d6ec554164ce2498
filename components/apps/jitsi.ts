/**
 * Jitsi Meet (jitsi-contrib `jitsi-meet` chart, pinned): the shared release and every
 * dedicated one go through this one component, so the offer's 720p cap and bitrate caps
 * cannot differ between them.
 *
 * - Resolution: `RESOLUTION`/`RESOLUTION_MIN`/`RESOLUTION_WIDTH`/`RESOLUTION_WIDTH_MIN` (docker-jitsi-meet
 *   turns them into `config.resolution` and `config.constraints.video`).
 * - Bitrates: `config.videoQuality.maxBitratesVideo` in the custom config.js.
 * - Media: the videobridge listens on UDP 10000 as a hostPort of the `media` nodes (the
 *   compute layer opens UDP 10000 in their firewall), advertising the node's address.
 * - Authentication: JWT (`AUTH_TYPE=jwt`); tokens are minted after a Keycloak login by the
 *   Keycloak adapter at `TOKEN_AUTH_URL`; guests may join a room once an authenticated user
 *   opened it. The JWT secret comes from @pulumi/random, reaches Prosody through a Secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS } from "../versions";
import { LABELS, PLATFORM } from "../conventions";
import { appLabels, helmRelease, hostOf, ingressAnnotations, opaqueSecret, password, tlsSecretName } from "./common";
import { resourcesFor } from "./sizing";
import type { AppContext, AppInstance, AppModule } from "./types";

export interface JitsiArgs {
  /** Namespace of the release (exists: pass it in dependsOn). */
  namespace: string;
  /** Public host, e.g. `meet.liiibre.coop`. */
  host: string;
  /** Maximum video height (≤ 720 in this offer). */
  resolution: number;
  /** Simulcast layer caps, bits per second. */
  maxBitratesVideo: { low: number; standard: number; high: number };
  /** Keycloak realm URL the adapter logs users in with, e.g. `https://auth…/realms/liiibre`. */
  realmUrl: string;
  /** Labels of the Secrets (tenant label for a dedicated release). */
  labels: Record<string, string>;
  provider: k8s.Provider;
  /** Default true; false scales nothing but removes the release (decommissioned tenant). */
  enabled?: boolean;
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Width matching a 16:9 height, rounded to an even number (720 → 1280). */
export const widthFor = (height: number): number => Math.round((height * 16) / 9 / 2) * 2;

/** Lowest simulcast height (docker-jitsi-meet default 180). */
export const RESOLUTION_MIN = 180;

/** The custom `config.js` lines: bitrate caps per simulcast layer. */
export function jitsiCustomConfig(caps: JitsiArgs["maxBitratesVideo"]): string {
  return [
    "config.videoQuality = config.videoQuality || {};",
    `config.videoQuality.maxBitratesVideo = ${JSON.stringify({ low: caps.low, standard: caps.standard, high: caps.high })};`,
    "config.disableDeepLinking = false;",
  ].join("\n");
}

export class JitsiMeet extends pulumi.ComponentResource {
  public readonly url: string;
  public readonly release?: k8s.helm.v3.Release;

  constructor(name: string, args: JitsiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("liiibre:apps:JitsiMeet", name, {}, opts);
    if (args.resolution > 720) throw new Error(`${name}: Jitsi resolution ${args.resolution} exceeds the offer's 720p cap`);
    const child = { parent: this, provider: args.provider };
    this.url = `https://${args.host}`;
    const jwt = password(`${name}-jwt-secret`, { parent: this }, 48);
    const jicofo = password(`${name}-jicofo-password`, { parent: this });
    const jvb = password(`${name}-jvb-password`, { parent: this });
    const secrets = [
      opaqueSecret(`${name}-jwt`, { name: "jitsi-jwt", namespace: args.namespace, labels: args.labels, stringData: { JWT_APP_SECRET: jwt.result } }, { ...child, dependsOn: args.dependsOn }),
      opaqueSecret(`${name}-jicofo`, { name: "jitsi-jicofo", namespace: args.namespace, labels: args.labels, stringData: { JICOFO_AUTH_PASSWORD: jicofo.result } }, { ...child, dependsOn: args.dependsOn }),
      opaqueSecret(
        `${name}-jvb`,
        { name: "jitsi-jvb", namespace: args.namespace, labels: args.labels, stringData: { JVB_AUTH_USER: "jvb", JVB_AUTH_PASSWORD: jvb.result } },
        { ...child, dependsOn: args.dependsOn },
      ),
    ];
    if (args.enabled === false) {
      this.registerOutputs({ url: this.url });
      return;
    }
    const media = { [LABELS.nodeMedia]: "true" };
    const mediaToleration = [{ key: LABELS.nodeMedia, operator: "Equal", value: "true", effect: "NoSchedule" }];
    const values = {
      publicURL: this.url,
      enableAuth: true,
      enableGuests: true,
      websockets: { colibri: { enabled: true }, xmpp: { enabled: true } },
      extraCommonEnvs: {
        AUTH_TYPE: "jwt",
        JWT_APP_ID: "liiibre",
        JWT_ACCEPTED_ISSUERS: "liiibre",
        JWT_ACCEPTED_AUDIENCES: "liiibre",
        TOKEN_AUTH_URL: `https://${args.host}/oidc/auth?state={state}`,
      },
      web: {
        extraEnvs: {
          RESOLUTION: String(args.resolution),
          RESOLUTION_MIN: String(Math.min(RESOLUTION_MIN, args.resolution)),
          RESOLUTION_WIDTH: String(widthFor(args.resolution)),
          RESOLUTION_WIDTH_MIN: String(widthFor(Math.min(RESOLUTION_MIN, args.resolution))),
        },
        custom: { configs: { _custom_config_js: jitsiCustomConfig(args.maxBitratesVideo) } },
        ingress: {
          enabled: true,
          ingressClassName: PLATFORM.ingressClass,
          annotations: ingressAnnotations(),
          hosts: [{ host: args.host, paths: ["/"] }],
          tls: [{ secretName: tlsSecretName(args.host), hosts: [args.host] }],
        },
        resources: resourcesFor("jitsi-web", 0),
      },
      prosody: {
        extraEnvFrom: [{ secretRef: { name: "jitsi-jwt" } }],
        resources: resourcesFor("jitsi-prosody", 0),
      },
      jicofo: { xmpp: { existingSecretName: "jitsi-jicofo" }, resources: resourcesFor("jitsi-jicofo", 0) },
      jvb: {
        xmpp: { existingSecretName: "jitsi-jvb" },
        UDPPort: 10000,
        useHostPort: true,
        useNodeIP: true,
        service: { enabled: false },
        nodeSelector: media,
        tolerations: mediaToleration,
        resources: resourcesFor("jitsi-jvb", 0),
      },
    };
    this.release = helmRelease(`${name}-release`, CHARTS.jitsiMeet, { releaseName: "jitsi", namespace: args.namespace, values }, { ...child, dependsOn: secrets });
    this.registerOutputs({ url: this.url, realmUrl: args.realmUrl });
  }
}

export const jitsiDedicatedModule: AppModule = {
  app: "jitsi-dedicated",
  workloads: ["jitsi-web", "jitsi-prosody", "jitsi-jicofo", "jitsi-jvb"],
  databases: [],
  oidc: false,
  deploy(ctx: AppContext, parent: pulumi.ComponentResource): AppInstance {
    const host = hostOf("meet", ctx.domain);
    const j = new JitsiMeet(
      `${ctx.slug}-jitsi`,
      {
        namespace: ctx.namespace,
        host,
        resolution: ctx.jitsi.resolution,
        maxBitratesVideo: ctx.jitsi.maxBitratesVideo,
        realmUrl: ctx.jitsi.realmUrl,
        labels: appLabels(ctx.slug, "jitsi"),
        provider: ctx.provider,
        enabled: ctx.state !== "decommissioned",
      },
      { parent },
    );
    return { urls: { jitsi: j.url }, hosts: [host] };
  },
};
