/**
 * Values keys that the "read by the chart" check (values-read.ts) cannot see being read, but
 * which are: free-form maps whose keys are the chart's data (it iterates or `toYaml`s the
 * parent in a way the model misses), or keys read by the application rather than the
 * templates. Data, one entry per chart and key pattern, each with the reason it is safe.
 *
 * `path`: dot-separated key path; `*` matches one key. An entry covers the path and
 * everything below it. Keep this list short: an entry here is a key the check no longer
 * guards. docs/render.md says when to add one.
 */
export interface AllowedValue {
  /** Chart name (as in its Chart.yaml). */
  chart: string;
  /** Key path, `*` for any one key. */
  path: string;
  /** Why the chart does read it (or why it does not matter). */
  reason: string;
}

export const ALLOWED_VALUES: readonly AllowedValue[] = [];
