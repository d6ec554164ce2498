/**
 * No surprise replacement: evaluating the whole program (index.ts) on the prod stack, then
 * again (a) with the k0s version bumped
 * and (b) with a worker added (one cloud, one dedicated), changes neither the URNs nor the
 * inputs that make Hetzner replace an existing server (server type, image, location, user
 * data…). The version bump changes the k0sctl document, so k0sctl re-runs (rolling upgrade).
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Estate } from "../components/config";
import main from "../index";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation } from "../scripts/harness";

const pin = vi.hoisted(() => ({ override: undefined as string | undefined }));
vi.mock("../components/versions", async (importOriginal) => {
  const real = await importOriginal<typeof import("../components/versions")>();
  return {
    ...real,
    get K0S_VERSION() {
      return pin.override ?? real.K0S_VERSION;
    },
  };
});

/** Inputs of hcloud.Server whose change makes the provider replace the server. */
const REPLACING = ["name", "serverType", "image", "location", "datacenter", "userData", "sshKeys", "placementGroupId", "publicNets"] as const;
const NEXT_VERSION = "v1.34.1+k0s.0";

const prod = () => readStackConfig(stackConfigFile("prod"));

/** The real program. */
const program = (estate: Estate) => main(estate);
const servers = (ev: Evaluation) => new Map(ev.resources.filter((r) => r.type === "hcloud:index/server:Server").map((r) => [r.urn, r]));
const applyDoc = (ev: Evaluation) => parseYaml(ev.resources.find((r) => r.type === "command:local:Command" && r.name.endsWith("-apply"))!.inputs.stdin as string);
const hcloudByUrn = (ev: Evaluation) => new Map(ev.resources.filter((r) => r.type.startsWith("hcloud:")).map((r) => [r.urn, r]));

function expectServersUnchanged(before: Evaluation, after: Evaluation) {
  const a = servers(before);
  const b = servers(after);
  // prod: 3 controllers + 2 ingress + 5 media + 16 general + 3 monitoring nodes, and the Helsinki backup server.
  expect(a.size).toBe(30);
  for (const [urn, s] of a) {
    const t = b.get(urn);
    expect(t, `server ${urn} disappeared`).toBeDefined();
    for (const key of REPLACING) expect(t!.inputs[key], `${s.name}.${key}`).toEqual(s.inputs[key]);
    expect(t!.ignoreChanges).toEqual(s.ignoreChanges);
    expect(t!.protect).toBe(s.protect);
  }
}

describe("stability of existing servers", () => {
  let base: Evaluation;
  let bumped: Evaluation;
  let grown: Evaluation;

  beforeAll(async () => {
    base = await evaluate({ config: prod(), program });
    pin.override = NEXT_VERSION;
    bumped = await evaluate({ config: prod(), program });
    pin.override = undefined;
    const raw = prod();
    raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === "general" ? { ...p, cloud: { ...p.cloud, count: p.cloud.count + 1 } } : p));
    raw.dedicatedServers = [
      ...(raw.dedicatedServers as any[]),
      {
        name: "fsn-apps-10", pool: "apps", location: "fsn1", publicIpv4: "88.99.110.50", privateIpv4: "10.0.2.20",
        cores: 8, ramGB: 64, disks: [{ sizeGB: 512, kind: "nvme" }], monthlyPriceEUR: 39.5, auction: true,
      },
    ];
    grown = await evaluate({ config: raw, program });
  });

  it("a k0s version bump re-runs k0sctl with the new version", () => {
    expect(applyDoc(base).spec.k0s.version).not.toBe(NEXT_VERSION);
    expect(applyDoc(bumped).spec.k0s.version).toBe(NEXT_VERSION);
    // Only the version moved in the document: same hosts, same cluster config.
    const a = applyDoc(base);
    const b = applyDoc(bumped);
    b.spec.k0s.version = a.spec.k0s.version;
    expect(b).toEqual(a);
  });

  it("a k0s version bump keeps every URN and changes no Hetzner resource at all", () => {
    expect(bumped.resources.map((r) => r.urn).sort()).toEqual(base.resources.map((r) => r.urn).sort());
    const b = hcloudByUrn(bumped);
    for (const [urn, r] of hcloudByUrn(base)) expect(b.get(urn)!.inputs, urn).toEqual(r.inputs);
    expectServersUnchanged(base, bumped);
  });

  it("adding workers keeps every URN and leaves the replacement-triggering inputs of existing servers alone", () => {
    const after = new Set(grown.resources.map((r) => r.urn));
    for (const r of base.resources) expect(after.has(r.urn), r.urn).toBe(true);
    expectServersUnchanged(base, grown);
    const added = grown.resources.filter((r) => r.type === "hcloud:index/server:Server" && !servers(base).has(r.urn)).map((r) => r.name);
    expect(added).toEqual(["ada-lovelace-general-17"]);
  });

  it("adding workers only changes, among existing Hetzner resources, the firewalls listing node addresses", () => {
    const g = hcloudByUrn(grown);
    const changed = [...hcloudByUrn(base)].filter(([urn, r]) => JSON.stringify(g.get(urn)!.inputs) !== JSON.stringify(r.inputs)).map(([, r]) => r.name);
    // The controllers admit every node on the k0s ports; the Helsinki backup server admits every node on S3.
    expect(changed.sort()).toEqual(["estate-controllers", "storage-backup-firewall"]);
    const doc = applyDoc(grown);
    expect(doc.spec.hosts.map((h: { hostname: string }) => h.hostname)).toEqual(expect.arrayContaining(["ada-lovelace-general-17", "fsn-apps-10"]));
  });
});

