/**
 * `video-max-720p` (mandatory): every Jitsi Meet deployment (the shared one and any dedicated
 * one; Helm release of jitsi-meet or a Deployment running the jitsi/web image) caps video:
 * resolution and maximum height at most 720 and a bitrate cap (`maxBitratesVideo`).
 *
 * Settings are recognised whatever the mechanism: the docker-jitsi-meet `RESOLUTION` variable
 * (which sets `config.resolution` and the height constraint), `config.resolution` /
 * `constraints.video.height.max` in custom config.js text, or the same keys as structured values.
 * A value not set explicitly is a violation: Jitsi's own defaults are not the offer's cap.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, WORKLOAD_TYPES, chartName, config, containers, leaves, objects, type Props } from "./lib";

export interface VideoMax720pConfig {
  /** Maximum video height in pixels. Default 720. */
  maxHeight: number;
  /** Require a bitrate cap (`maxBitratesVideo`). Default true. */
  requireBitrateCap: boolean;
}
export const VIDEO_DEFAULTS: VideoMax720pConfig = { maxHeight: 720, requireBitrateCap: true };

export interface VideoSettings {
  resolution: number[];
  maxHeight: number[];
  bitrateCap: boolean;
}

/** Collects every resolution/height/bitrate setting in a value, whatever its form. */
export function videoSettings(value: unknown): VideoSettings {
  const s: VideoSettings = { resolution: [], maxHeight: [], bitrateCap: false };
  const env = (name: unknown, v: unknown) => {
    if (name === "RESOLUTION" && v !== undefined && v !== null && v !== "") {
      const n = Number(v);
      s.resolution.push(n);
      s.maxHeight.push(n);
    }
  };
  for (const { value: obj } of objects(value)) {
    // Kubernetes env list items ({ name, value }).
    if (typeof obj.name === "string" && "value" in obj) env(obj.name, obj.value);
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      env(k, v); // env maps: web.extraEnvs.RESOLUTION
      if (k === "resolution" && (typeof v === "number" || typeof v === "string")) s.resolution.push(Number(v));
      if (k === "height" && v && typeof v === "object" && "max" in v) s.maxHeight.push(Number(v.max));
      if (k === "maxBitratesVideo" && v && typeof v === "object") s.bitrateCap = true;
    }
  }
  for (const l of leaves(value)) {
    if (typeof l.value !== "string") continue;
    const text = l.value;
    for (const m of text.matchAll(/\bresolution\s*[:=]\s*['"]?(\d+)/g)) s.resolution.push(Number(m[1]));
    for (const m of text.matchAll(/\bheight\s*[:=]\s*\{[^}]*?\bmax\s*:\s*(\d+)/g)) s.maxHeight.push(Number(m[1]));
    for (const m of text.matchAll(/\bRESOLUTION\s*[=:]\s*['"]?(\d+)/g)) {
      s.resolution.push(Number(m[1]));
      s.maxHeight.push(Number(m[1]));
    }
    if (/\bmaxBitratesVideo\b/.test(text)) s.bitrateCap = true;
  }
  return s;
}

/** Is this resource a Jitsi Meet web front end? */
export function isJitsi(type: string, props: Props): boolean {
  if (type === TYPES.helmRelease) return /jitsi/i.test(chartName(props));
  if (WORKLOAD_TYPES.includes(type)) return containers(props).some((c) => typeof c.image === "string" && /jitsi\/web[:@]|jitsi\/web$/.test(c.image));
  return false;
}

export const videoMax720p: ResourceValidationPolicy = {
  name: "video-max-720p",
  description: "Every Jitsi deployment caps video at 720p (resolution and max height) and caps bitrates.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxHeight: { type: "integer", minimum: 1, default: VIDEO_DEFAULTS.maxHeight },
      requireBitrateCap: { type: "boolean", default: VIDEO_DEFAULTS.requireBitrateCap },
    },
  },
  validateResource: (args, report) => {
    if (!isJitsi(args.type, args.props)) return;
    const { maxHeight, requireBitrateCap } = config(args, VIDEO_DEFAULTS);
    const where = args.type === TYPES.helmRelease ? args.props.values : args.props;
    const s = videoSettings(where);
    const problems: string[] = [];
    if (!s.resolution.length) problems.push(`no resolution set (RESOLUTION or config.resolution): set it to ${maxHeight} at most`);
    for (const r of new Set(s.resolution)) if (!(r <= maxHeight)) problems.push(`resolution ${r} exceeds ${maxHeight}p`);
    if (!s.maxHeight.length) problems.push(`no maximum video height set (constraints.video.height.max or RESOLUTION): set it to ${maxHeight} at most`);
    for (const h of new Set(s.maxHeight)) if (!(h <= maxHeight)) problems.push(`maximum video height ${h} exceeds ${maxHeight}p`);
    if (requireBitrateCap && !s.bitrateCap) problems.push("no bitrate cap (videoQuality.maxBitratesVideo)");
    // One violation per deployment, listing every problem.
    if (problems.length) report(problems.join("; "));
  },
};
