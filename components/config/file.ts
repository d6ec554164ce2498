/**
 * Reading a `Pulumi.<stack>.yaml` file's `liiibre:*` keys (keys without the prefix). Values
 * marked `secure:` cannot be decrypted without the CLI: they are left out (the offline harness
 * provides fakes; a tenant-shard stack needs none of them).
 *
 * Used by the offline harness and by tenant-shard stacks, which read their estate's file
 * (`liiibre:estate`, docs/scaling.md).
 */
import * as fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE } from "./errors";

export function readConfigFile(file: string): Record<string, unknown> {
  const doc = parseYaml(fs.readFileSync(file, "utf8")) ?? {};
  const config = (doc as { config?: Record<string, unknown> }).config ?? {};
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    if (value && typeof value === "object" && "secure" in (value as object)) continue;
    raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return raw;
}
