/**
 * CRD schemas from the offline chart cache, for tests that validate the program's own custom
 * resources: the render step's readers (scripts/render: the cache folder `LIIIBRE_CHARTS` /
 * `../shared/charts`, chart packages, the CRD registry with its structural-schema rules) on a
 * chosen list of packages. Without the cache, the tests using `itWithCharts` are skipped with a
 * notice (never in CI: tools.ts).
 */
import { chartRepoDir, findInRepo, readChart } from "../../scripts/render/charts";
import { parseManifests } from "../../scripts/render/render";
import { CrdRegistry } from "../../scripts/render/validate";
import { itNeeding } from "./tools";

/** The cached package files of `refs`, or undefined when the cache lacks one of them. */
function packages(refs: Array<{ chart: string; version: string }>): string[] | undefined {
  const dir = chartRepoDir();
  if (!dir) return undefined;
  const files = refs.map((r) => findInRepo(dir, { chart: r.chart, version: r.version }));
  return files.every((f): f is string => !!f) ? files : undefined;
}

/** A CRD registry holding the CRDs (`crds/` folders, subcharts included) of these cached charts. */
export function cachedCrds(refs: Array<{ chart: string; version: string }>): CrdRegistry | undefined {
  const files = packages(refs);
  if (!files) return undefined;
  const registry = new CrdRegistry();
  for (const f of files) {
    for (const text of readChart(f).parts.flatMap((p) => p.crds)) for (const o of parseManifests(text)) if (o.kind === "CustomResourceDefinition") registry.add(o, f);
  }
  return registry;
}

/** `it` for tests needing these charts in the cache. */
export const itWithCharts = (refs: Array<{ chart: string; version: string }>): ReturnType<typeof itNeeding> =>
  itNeeding(
    refs.map((r) => `${r.chart}-${r.version}.tgz`).join(", "),
    packages(refs) !== undefined,
    "set LIIIBRE_CHARTS to a Helm repository folder holding them (docs/render.md)",
    "the chart cache lacks them",
  );
