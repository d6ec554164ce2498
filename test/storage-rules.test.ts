/**
 * The storage platform's config rules (components/storage/rules.ts): MinIO spreads one server
 * per storage node, so `storage.minio.servers` is checked against the storage nodes that exist.
 */
import { describe, expect, it } from "vitest";
import { configProblems } from "../components/estate";
import { readStackConfig, stackConfigFile } from "../scripts/harness";

/** dev (one pool `workers` of cpx41, all storage-labelled) with MinIO spread across nodes. */
function dev(servers: number, cloud: { count: number; reset?: number[]; retired?: number[] }): any {
  const c: any = structuredClone(readStackConfig(stackConfigFile("dev")));
  c.storage.minio.servers = servers;
  c.storage.minio.spreadAcrossNodes = true;
  const pool = c.nodePools.find((p: any) => p.name === "workers");
  Object.assign(pool.cloud, cloud);
  return c;
}
const tooMany = (nodes: number) => expect.stringMatching(new RegExp(`^liiibre:storage\\.minio\\.servers: expected at most the number of storage nodes \\(${nodes}: nodes of pools labelled liiibre\\.org/storage: "true", workers\\) while storage\\.minio\\.spreadAcrossNodes is true, got \\d+$`));

describe("storage rules: MinIO servers against the storage nodes", () => {
  it("as many servers as storage nodes is accepted, one more is refused", () => {
    // MinIO's minimum is 4 servers (the schema's); dev's pool grown to 4 nodes.
    expect(configProblems(dev(4, { count: 4 }))).toEqual([]);
    expect(configProblems(dev(5, { count: 4 }))).toEqual([tooMany(4)]);
  });

  it("a retired slot is no node: 5 slots with slot 2 retired are 4 storage nodes", () => {
    // Slot 2's server was deleted (cloud.retired): MinIO cannot put a server there.
    expect(configProblems(dev(5, { count: 5, retired: [2] }))).toEqual([tooMany(4)]);
    expect(configProblems(dev(4, { count: 5, retired: [2] }))).toEqual([]);
    expect(configProblems(dev(4, { count: 5, retired: [2, 5] }))).toEqual([tooMany(3)]);
  });

  it("a slot being reset still exists (its server runs until it is retired)", () => {
    expect(configProblems(dev(4, { count: 4, reset: [4] }))).toEqual([]);
  });

  it("without spreading, servers may outnumber nodes", () => {
    const c = dev(5, { count: 4, retired: [3] });
    c.storage.minio.spreadAcrossNodes = false;
    expect(configProblems(c)).toEqual([]);
  });
});
