/**
 * Which program a stack runs (docs/scaling.md):
 * - the estate's own stack `<estate>` (its `Pulumi.<estate>.yaml` holds the estate): the
 *   platform program, holding every organisation when `liiibre:sharding.enabled` is false;
 * - a tenant-shard stack `<estate>-<shard>`: its `Pulumi.<estate>-<shard>.yaml` holds only
 *   `liiibre:estate: <estate>`; the program reads `Pulumi.<estate>.yaml` itself and builds the
 *   shard's organisations.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, EXIT_INVALID_CONFIG, loadEstateOrExit, parseEstate, reportConfigError, type Estate } from "../components/estate";
import { readConfigFile } from "../components/config/file";
import { stackRole } from "../components/layers/placement";
import { platformProgram } from "./platform";
import { shardProgram } from "./shard";

/** What a program run builds. `single`: everything (the one-stack layout, and the default of tests). */
export type ProgramRole = { layer: "single" } | { layer: "platform" } | { layer: "shard"; estateName: string; shard: string };

export function runProgram(estate: Estate, role: ProgramRole = { layer: "single" }) {
  switch (role.layer) {
    case "single":
      return platformProgram(estate, { withTenants: true });
    case "platform":
      return platformProgram(estate, { withTenants: false });
    case "shard":
      return shardProgram(estate, { estateName: role.estateName, shard: role.shard });
  }
}

/** Config key of a shard stack naming its estate. */
export const ESTATE_KEY = "estate";

function fail(lines: string[]): never {
  reportConfigError(new ConfigError(lines.map((l) => ({ path: `${CONFIG_NAMESPACE}:${ESTATE_KEY}`, message: l }))));
  process.exit(EXIT_INVALID_CONFIG);
}

/** The estate and role of the running stack (real CLI): exit 2 with one line per problem. */
export function currentTarget(dir = process.cwd()): { estate: Estate; role: ProgramRole } {
  const estateName = new pulumi.Config(CONFIG_NAMESPACE).get(ESTATE_KEY);
  if (estateName === undefined) {
    const estate = loadEstateOrExit();
    return { estate, role: { layer: estate.sharding.enabled ? "platform" : "single" } };
  }
  const file = path.join(dir, `Pulumi.${estateName}.yaml`);
  let estate: Estate;
  try {
    estate = parseEstate(readConfigFile(file));
  } catch (err) {
    if (err instanceof ConfigError) {
      reportConfigError(err);
      process.exit(EXIT_INVALID_CONFIG);
    }
    fail([`expected the name of an estate whose file Pulumi.${estateName}.yaml is readable, got "${estateName}" (${(err as Error).message.split("\n")[0]})`]);
  }
  const stack = pulumi.getStack();
  const r = stackRole(estateName, stack, estate);
  if (!r || r.layer !== "shard") {
    fail([`stack "${stack}" is not a shard of estate "${estateName}": expected ${estateName}-<shard> with <shard> one of liiibre:sharding.shards of Pulumi.${estateName}.yaml (sharding ${estate.sharding.enabled ? "enabled" : "disabled"})`]);
  }
  return { estate, role: { layer: "shard", estateName, shard: r.shard! } };
}
