/**
 * The render step's API (docs/render.md), for `npm run render`, `plan --render` and the
 * estate twin: `renderPlan(resources, options)` → `{ releases, problems, warnings, stats }`.
 */
export { renderPlan, problemLine, HELM_RELEASE_TYPE, SECRET_MASK, kubeVersionOf } from "./render";
export type { RenderOptions, RenderResult, RenderStats, ResourceLike } from "./render";
export type { RenderProblem, RenderedObject, RenderedRelease } from "./model";
export { ensureHelm, ToolError } from "./helm";
export { ChartError, chartRepoDir, locateChart } from "./charts";
export { ALLOWED_VALUES, type AllowedValue } from "./allow-list";
