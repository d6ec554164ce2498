/**
 * The estate's validation: the schema (components/config, a leaf) and every domain's
 * cross-field rules, assembled here, the one module that knows them all.
 *
 * `parseEstate` is pure (used by the program, the offline plan and the tests);
 * `loadEstateOrExit` reads the Pulumi config of the running stack and, on bad input, prints
 * one line per problem and exits with code 2 before any resource is registered.
 *
 * Everything of components/config is re-exported, so that a caller needs one import.
 */
import { configProblemsWith, parseEstateOrExit, parseEstateWith, readPulumiConfig, type Estate, type RawConfig, type Rule } from "./config";
import { bucketRules, storageRules } from "./storage/rules";
import { bundleRules, hostRules, tenantRules } from "./tenant/rules";
import { hetznerRules } from "./hetzner/limits";
import { locationRules, nodeRules } from "./hetzner/rules";
import { operationsRules } from "./ops/rules";
import { sharedInstanceRules, videoRules } from "./shared/rules";
import { clusterNetworkRules } from "./k0s/rules";
import { shardingRules } from "./layers/rules";
import { edgeRules } from "./platform/rules";

export * from "./config";

/** Every cross-field rule of the estate, run in this order (the order of the problems printed). */
export const ESTATE_RULES: readonly Rule[] = [
  tenantRules,
  sharedInstanceRules,
  locationRules,
  nodeRules,
  hetznerRules,
  storageRules,
  bundleRules,
  clusterNetworkRules,
  videoRules,
  hostRules,
  bucketRules,
  operationsRules,
  shardingRules,
  edgeRules,
];

/** Validates raw config. Returns the estate, or throws `ConfigError` with every problem. */
export const parseEstate = (raw: RawConfig): Estate => parseEstateWith(raw, ESTATE_RULES);

/** Every problem of a raw config, formatted `liiibre:<path>: <message>`; [] when it is valid. */
export const configProblems = (raw: RawConfig): string[] => configProblemsWith(raw, ESTATE_RULES);

/** The program's entry: validated estate, or exit 2 with the problems (never a stack trace). */
export const loadEstateOrExit = (raw: RawConfig = readPulumiConfig()): Estate => parseEstateOrExit(raw, ESTATE_RULES);
