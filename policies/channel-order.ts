/**
 * `channel-order` (mandatory): upgrades go canary first. For every Helm chart and container
 * image that runs in both waves, no organisation on the `stable` channel may run a version newer
 * than one on `canary` (a stable pin ahead of canary's skipped the canary wave). The wave of a
 * resource is the `liiibre.org/channel` label of its namespace; unlabelled namespaces are ignored.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { LABELS, TYPES, WORKLOAD_TYPES, chartName, config, containers, eachResource, labels, metadata, namespaceOf } from "./lib";

export interface ChannelOrderConfig {
  /** Namespace label naming the wave (`canary` | `stable`). Default `liiibre.org/channel`. */
  channelLabel: string;
}
export const CHANNEL_DEFAULTS: ChannelOrderConfig = { channelLabel: LABELS.channel };

/** Compares two versions part by part (numbers numerically, the rest as text): <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => v.replace(/^v/i, "").split(/[.\-+_]/);
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** `repo:tag` → [repo, tag] (digests and untagged images are not compared). */
function splitImage(image: string): [string, string] | undefined {
  if (image.includes("@")) return undefined;
  const slash = image.lastIndexOf("/");
  const colon = image.indexOf(":", slash + 1);
  if (colon < 0) return undefined;
  return [image.slice(0, colon), image.slice(colon + 1)];
}

export const channelOrder: StackValidationPolicy = {
  name: "channel-order",
  description: "No stable organisation runs a chart or image newer than the canary organisations (upgrades go canary first).",
  enforcementLevel: "mandatory",
  configSchema: { properties: { channelLabel: { type: "string", default: CHANNEL_DEFAULTS.channelLabel } } },
  validateStack: (args, report) => {
    const c = config(args, CHANNEL_DEFAULTS);
    const wave = new Map<string, string>();
    for (const r of args.resources) {
      if (r.type !== TYPES.namespace) continue;
      const ch = labels(r.props)[c.channelLabel];
      if (ch === "canary" || ch === "stable") wave.set(String(metadata(r.props).name ?? r.name), ch);
    }
    // thing (chart:<name> | image:<repo>) → wave → [{version, urn, ns}]
    const seen = new Map<string, Record<string, Array<{ version: string; urn: string; ns: string }>>>();
    const note = (thing: string, ch: string, version: string, urn: string, ns: string) => {
      const m = seen.get(thing) ?? {};
      (m[ch] ??= []).push({ version, urn, ns });
      seen.set(thing, m);
    };
    eachResource(report, args.resources, (r) => {
      const ns = namespaceOf(r.type, r.props);
      const ch = wave.get(ns);
      if (!ch) return;
      if (r.type === TYPES.helmRelease && r.props.version) note(`chart ${chartName(r.props)}`, ch, String(r.props.version), r.urn, ns);
      if (WORKLOAD_TYPES.includes(r.type)) {
        for (const c of containers(r.props)) {
          const img = typeof c.image === "string" ? splitImage(c.image) : undefined;
          if (img) note(`image ${img[0]}`, ch, img[1], r.urn, ns);
        }
      }
    });
    for (const [thing, m] of seen) {
      const canary = m.canary ?? [];
      if (!canary.length) continue;
      const oldestCanary = canary.reduce((a, b) => (compareVersions(a.version, b.version) <= 0 ? a : b));
      for (const s of m.stable ?? []) {
        if (compareVersions(s.version, oldestCanary.version) > 0) {
          report(`${thing} ${s.version} in stable namespace ${s.ns} is newer than canary's ${oldestCanary.version} (${oldestCanary.ns}): bump canary first (docs/operations.md#upgrades-in-waves)`, s.urn);
        }
      }
    }
  },
};
