/**
 * Loading the estate configuration: raw `liiibre:*` keys → validated, defaulted `Estate`.
 *
 * This folder is a leaf: the schema, the errors and what a rule is, nothing of any domain.
 * `parseEstateWith(raw, rules)` is pure; the estate's rules (each domain's, assembled) and the
 * entry points that use them (`parseEstate`, `configProblems`, `loadEstateOrExit`) are in
 * components/estate.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, formatProblem, problemsFromZod, type ConfigProblem } from "./errors";
import type { ParsedEstate, Rule } from "./rules";
import { DEFAULT_DATA_LAYOUT, EstateSchema, SECRET_KEYS, defaultBoundSecrets, defaultKubernetesObjects, defaultBucketLayout, type Estate } from "./schema";

export * from "./apps";
export * from "./hosts";
export * from "./errors";
export * from "./schema";
export * from "./rules";

/** Raw config: keys without the `liiibre:` prefix, values as found (objects already parsed). */
export type RawConfig = Record<string, unknown>;

/**
 * Validates raw config against the schema, then runs `rules` (components/estate.ts assembles
 * the estate's). Returns the estate, or throws `ConfigError` with every problem.
 */
export function parseEstateWith(raw: RawConfig, rules: readonly Rule[]): Estate {
  const input: RawConfig = {};
  for (const [k, v] of Object.entries(raw)) if (!(SECRET_KEYS as readonly string[]).includes(k)) input[k] = v;
  const result = EstateSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ConfigError(problemsFromZod(result.error.issues, EstateSchema));
  const parsed = result.data as ParsedEstate;
  const problems: ConfigProblem[] = rules.flatMap((rule) => rule(parsed));
  if (problems.length) throw new ConfigError(problems);
  return {
    ...parsed,
    tenants: parsed.tenants.map((t) => {
      const dataLayout = t.dataLayout ?? DEFAULT_DATA_LAYOUT;
      return {
        ...t,
        quotaPerUserGB: t.quotaPerUserGB ?? parsed.offer.quotaPerUserGB,
        ha: t.ha ?? t.users > parsed.operations.haAboveUsers,
        dataLayout,
        boundSecrets: t.boundSecrets ?? defaultBoundSecrets(dataLayout),
        kubernetesObjects: t.kubernetesObjects ?? defaultKubernetesObjects(dataLayout),
        buckets: t.buckets ?? defaultBucketLayout(dataLayout),
      };
    }),
  };
}

/** Every problem of a raw config under `rules`, formatted `liiibre:<path>: <message>`; [] when it is valid. */
export function configProblemsWith(raw: RawConfig, rules: readonly Rule[]): string[] {
  try {
    parseEstateWith(raw, rules);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
}

/**
 * Reads every `liiibre:*` key of the running Pulumi program. Structured values arrive as
 * JSON strings from the CLI; scalars as plain strings.
 */
export function readPulumiConfig(): RawConfig {
  const raw: RawConfig = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = decodeConfigValue(value);
  }
  return raw;
}

/** Pulumi hands structured config over as JSON text; plain strings stay strings. */
export function decodeConfigValue(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[") || /^-?\d+(\.\d+)?$/.test(t) || t === "true" || t === "false") {
    try {
      return JSON.parse(t);
    } catch {
      return value;
    }
  }
  return value;
}

/** Prints the problems (one per line) on stderr. */
export function reportConfigError(err: ConfigError, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  write(`error: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}):\n`);
  for (const p of err.problems) write(`  ${formatProblem(p)}\n`);
}

/** Exit code for invalid configuration, shared by the program and every command. */
export const EXIT_INVALID_CONFIG = 2;

/** Validated estate under `rules`, or exit 2 with the problems on stderr (never a stack trace). */
export function parseEstateOrExit(raw: RawConfig, rules: readonly Rule[]): Estate {
  try {
    return parseEstateWith(raw, rules);
  } catch (err) {
    if (err instanceof ConfigError) {
      reportConfigError(err);
      process.exit(EXIT_INVALID_CONFIG);
    }
    throw err;
  }
}

/** The SSH private key k0sctl uses: secret config `liiibre:sshPrivateKey`. */
export function sshPrivateKey(): pulumi.Output<string> {
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecret("sshPrivateKey");
}
