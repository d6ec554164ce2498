/**
 * Every pinned version of the estate, in one place: k0s, Helm charts, container images.
 * No `latest`, no ranges: bump a version here, read the preview diff, apply.
 * (The `pinned-versions` policy rejects anything floating, wherever it comes from.)
 */

/** k0s release deployed by k0sctl (bumping it re-runs `k0sctl apply`: a rolling upgrade, no server replaced). */
export const K0S_VERSION = "v1.33.4+k0s.0";

/** Helm charts: repository URL, chart name and exact version. */
export interface ChartPin {
  repo: string;
  chart: string;
  version: string;
}

export const CHARTS = {
  // compute / platform add-ons (components/platform)
  // storage and backups (components/storage)
  // apps and shared services (components/apps, components/shared)
} satisfies Record<string, ChartPin>;

/** Container images: repository and exact tag. */
export const IMAGES = {
  // name: { repository: "…", tag: "…" },
} satisfies Record<string, { repository: string; tag: string }>;
