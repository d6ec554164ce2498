/**
 * `pinned-versions` (mandatory): every Helm chart has an exact version and no image uses
 * `latest`, no tag, or a floating tag (a moving name such as `stable`, or a partial version such
 * as `16` or `1.2`). Images pinned by digest are fine.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, WORKLOAD_TYPES, config, containers, get, isObject, objects, type Props } from "./lib";

export interface PinnedVersionsConfig {
  /** Tags that move and are therefore refused. */
  floatingTags: string[];
  /**
   * Images (last path segment of the repository) whose upstream releases have two-part versions,
   * so that `major.minor` is an exact release (PostgreSQL 17.5). Default postgres, postgresql.
   */
  twoPartVersionImages: string[];
}
export const PINNED_DEFAULTS: PinnedVersionsConfig = {
  floatingTags: ["latest", "stable", "edge", "main", "master", "nightly", "dev", "develop", "unstable", "rolling", "current", "lts"],
  twoPartVersionImages: ["postgres", "postgresql"],
};

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Why a chart version is not exact, or undefined when it is. */
export function chartVersionProblem(version: unknown): string | undefined {
  if (version === undefined || version === null || version === "") return "no version: Helm installs the newest chart";
  const v = String(version).trim();
  if (!EXACT_SEMVER.test(v)) return `version "${v}" is not an exact version (ranges, wildcards and partial versions float)`;
  return undefined;
}

/** Why an image reference floats, or undefined when it is pinned. `tag` may come separately (chart values). */
export function imageProblem(image: string, tag: string | undefined, floating: string[], twoPart: string[] = PINNED_DEFAULTS.twoPartVersionImages): string | undefined {
  if (image.includes("@sha256:")) return undefined;
  let t = tag;
  if (t === undefined) {
    const lastSlash = image.lastIndexOf("/");
    const colon = image.indexOf(":", lastSlash + 1);
    t = colon >= 0 ? image.slice(colon + 1) : undefined;
  }
  if (t === undefined || t === "") return `image "${image}" has no tag (means latest)`;
  if (t.startsWith("sha256:")) return undefined;
  if (floating.includes(t.toLowerCase())) return `image "${image}${tag !== undefined ? `:${tag}` : ""}" uses the floating tag "${t}"`;
  // A bare major, or major.minor where releases have three parts (optionally with a suffix like
  // -alpine), moves with every release.
  const repo = (tag !== undefined ? image : image.slice(0, image.length - t.length - 1)).split("/").pop() ?? "";
  // (A long number is a date or build stamp, e.g. v20260206: an exact release, not a major.)
  const partial = twoPart.includes(repo) ? /^v?\d{1,3}(-[a-z]+[0-9.]*)?$/i : /^v?\d{1,3}(\.\d+)?(-[a-z]+[0-9.]*)?$/i;
  if (partial.test(t)) return `image "${image}${tag !== undefined ? `:${tag}` : ""}" uses the partial version tag "${t}" (it moves with each release)`;
  return undefined;
}

/** Image settings inside Helm values: `image: "repo:tag"` or `image: { repository, tag, digest }`. */
function valueImages(values: unknown): Array<{ path: string; image: string; tag: string | undefined; explicitTag: boolean }> {
  const out: Array<{ path: string; image: string; tag: string | undefined; explicitTag: boolean }> = [];
  for (const { path, value } of objects(values)) {
    for (const key of Object.keys(value)) {
      if (!/^(image|imageName)$/i.test(key)) continue;
      const img = value[key];
      const p = [...path, key].join(".");
      if (typeof img === "string" && img) out.push({ path: p, image: img, tag: undefined, explicitTag: img.includes(":") || img.includes("@") });
      else if (isObject(img)) {
        const repo = typeof img.repository === "string" ? img.repository : typeof img.name === "string" ? img.name : "";
        if (typeof img.digest === "string" && img.digest) continue;
        if (img.tag !== undefined && img.tag !== null && img.tag !== "") out.push({ path: p, image: repo, tag: String(img.tag), explicitTag: true });
      }
    }
  }
  return out;
}

export const pinnedVersions: ResourceValidationPolicy = {
  name: "pinned-versions",
  description: "Charts and images are pinned: exact chart versions, no latest/floating/partial image tags.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      floatingTags: { type: "array", items: { type: "string" }, default: PINNED_DEFAULTS.floatingTags },
      twoPartVersionImages: { type: "array", items: { type: "string" }, default: PINNED_DEFAULTS.twoPartVersionImages },
    },
  },
  validateResource: (args, report) => {
    const { floatingTags, twoPartVersionImages } = config(args, PINNED_DEFAULTS);
    const props = args.props as Props;
    if (args.type === TYPES.helmRelease) {
      const chartProblem = chartVersionProblem(props.version);
      if (chartProblem) report(`chart ${props.chart}: ${chartProblem}`);
      for (const img of valueImages(props.values)) {
        // An image object without a tag takes the chart's default, which the chart version pins.
        if (!img.explicitTag) continue;
        const problem = imageProblem(img.image, img.tag, floatingTags, twoPartVersionImages);
        if (problem) report(`values.${img.path}: ${problem}`);
      }
      return;
    }
    if (WORKLOAD_TYPES.includes(args.type)) {
      for (const c of containers(props)) {
        if (typeof c.image !== "string") {
          report(`container ${c.name ?? "?"} has no image`);
          continue;
        }
        const problem = imageProblem(c.image, undefined, floatingTags, twoPartVersionImages);
        if (problem) report(`container ${c.name ?? "?"}: ${problem}`);
      }
      return;
    }
    if (args.type === TYPES.cnpgCluster) {
      const img = get(props, "spec", "imageName");
      if (typeof img === "string") {
        const problem = imageProblem(img, undefined, floatingTags, twoPartVersionImages);
        if (problem) report(`spec.imageName: ${problem}`);
      }
    }
  },
};
