/**
 * The estate twin (docs/twin.md): a model of what the cluster, MinIO, the Hetzner firewalls and
 * k0sctl would do with the declared estate. `runTwin` normalises the input (normalise.ts), runs
 * every check of TWIN_CHECKS in order and computes the capacity and footprint tables.
 */
import { normalise } from "./normalise";
import type { TwinCheck, TwinEstate, TwinFinding, TwinInput } from "./model";
import { STORAGE_CHECKS } from "./checks/storage";
import { S3_CHECKS } from "./checks/s3";
import { REFERENCE_CHECKS } from "./checks/references";
import { UNIQUENESS_CHECKS } from "./checks/uniqueness";
import { NETWORK_CHECKS } from "./checks/network";
import { CAPACITY_CHECKS } from "./checks/capacity";
import { ORDERING_CHECKS } from "./checks/ordering";
import { SCHEDULING_CHECKS } from "./checks/scheduling";
import { HOST_PORT_CHECKS } from "./checks/host-ports";
import { AVAILABILITY_CHECKS } from "./checks/availability";
import { LOGIN_CHECKS } from "./checks/login";

export type { TwinFinding, TwinInput } from "./model";

/** Every check, family by family (one file each under checks/). */
export const TWIN_CHECKS: TwinCheck[] = [...STORAGE_CHECKS, ...SCHEDULING_CHECKS, ...S3_CHECKS, ...REFERENCE_CHECKS, ...UNIQUENESS_CHECKS, ...HOST_PORT_CHECKS, ...NETWORK_CHECKS, ...CAPACITY_CHECKS, ...ORDERING_CHECKS, ...AVAILABILITY_CHECKS, ...LOGIN_CHECKS];

export interface TwinReport {
  findings: TwinFinding[];
  errors: number;
  warnings: number;
  /** Milliseconds per phase (normalise, then each check). */
  timings: Record<string, number>;
}

export async function runTwin(input: TwinInput, checks: TwinCheck[] = TWIN_CHECKS): Promise<TwinReport> {
  const t0 = performance.now();
  const estate = normalise(input);
  const report = await runTwinOn(estate, checks);
  return { ...report, timings: { normalise: Math.round(performance.now() - t0 - Object.values(report.timings).reduce((a, b) => a + b, 0)), ...report.timings } };
}

/** Runs the checks on an already normalised estate. */
export async function runTwinOn(estate: TwinEstate, checks: TwinCheck[] = TWIN_CHECKS): Promise<TwinReport> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const findings: TwinFinding[] = [];
  for (const c of checks) {
    findings.push(...(await c.run(estate)));
    lap(c.name);
  }
  return { findings, errors: findings.filter((f) => f.level === "error").length, warnings: findings.filter((f) => f.level === "warning").length, timings };
}
