/**
 * Footprint and cost (docs/footprint.md): figures follow from the documented method, on prod's
 * configuration (no evaluation: the twin's input is plain data).
 */
import { describe, expect, it } from "vitest";
import { parseEstate } from "../components/estate";
import { estimateMonthlyCost } from "../components/hetzner/cost";
import { cloudNodes } from "../components/hetzner/nodes";
import { readStackConfig, stackConfigFile } from "../scripts/harness";
import { FOOTPRINT_ASSUMPTIONS as A, footprint } from "../scripts/twin/footprint";
import { normalise } from "../scripts/twin/normalise";
import { res } from "./helpers/twin";

const raw = readStackConfig(stackConfigFile("prod")) as Record<string, any>;
const prodFootprint = (edit?: (r: Record<string, any>) => void) => {
  const r = structuredClone(raw);
  edit?.(r);
  const estate = parseEstate(r);
  const backup = res("hcloud:index/server:Server", "backup", { name: "ada-lovelace-backup-hel1", location: "hel1", serverType: "cpx31", labels: { "liiibre.org/role": "backup" } });
  return { estate, f: footprint(normalise({ stack: "prod", estate, resources: [backup], tenants: [] })) };
};

describe("footprint", () => {
  const { estate, f } = prodFootprint();
  it("counts every machine: cloud nodes, dedicated servers and the backup server, by kind and location", () => {
    expect(f.machines.total).toBe(cloudNodes(estate).length + estate.dedicatedServers.length + 1);
    const dedicated = f.machines.byKindAndLocation.find((g) => g.kind === "dedicated" && g.location === "fsn1")!;
    expect(dedicated.count).toBe(estate.dedicatedServers.length);
    expect(dedicated.secondHand).toBe(estate.dedicatedServers.filter((d) => d.auction).length);
  });
  it("prints the catalogue's cost estimate, per user and machines per 1,000 users", () => {
    const users = estate.tenants.filter((t) => t.state !== "decommissioned").reduce((s, t) => s + t.users, 0);
    expect(f.monthlyEUR).toBe(estimateMonthlyCost(estate).totalEUR);
    expect(f.eurPerUserMonth).toBeCloseTo(f.monthlyEUR / users, 3);
    expect(f.machinesPer1000Users).toBeCloseTo((f.machines.total / users) * 1000, 2);
  });
  it("second-hand servers carry no embodied emissions; a new one carries 1/48 of a server's per month", () => {
    expect(f.perMachine.filter((m) => m.kind === "dedicated").every((m) => m.embodiedKgPerMonth === 0)).toBe(true);
    const { f: g } = prodFootprint((r) => (r.dedicatedServers[0].auction = false));
    expect(g.perMachine.find((m) => m.name === r0())!.embodiedKgPerMonth).toBe(A.serverEmbodiedKg / A.amortisationMonths);
    expect(g.kgCO2ePerMonth.embodied).toBeCloseTo(f.kgCO2ePerMonth.embodied + A.serverEmbodiedKg / A.amortisationMonths, 1);
  });
  it("use-phase emissions follow the grid of the machine's country: the same server type in Helsinki emits 79/381 of Falkenstein's", () => {
    const fsn = f.perMachine.find((m) => m.name === "ada-lovelace-controllers-01")!; // cpx31 in fsn1
    const hel = f.perMachine.find((m) => m.location === "hel1")!; // the backup server, cpx31 in hel1
    expect(fsn.watts).toBe(hel.watts);
    expect(hel.useKgPerMonth / fsn.useKgPerMonth).toBeCloseTo(A.gridGCO2ePerKWh.FI / A.gridGCO2ePerKWh.DE, 2);
    // 4 vCPU × 2.12 W + 8 GB × 0.392 W = 11.616 W; × 1.2 × 730 h × 381 g/kWh
    expect(fsn.useKgPerMonth).toBeCloseTo((11.616 * 1.2 * 730 * 381) / 1e6, 2);
    expect(f.kgCO2ePerMonth.total).toBeCloseTo(f.kgCO2ePerMonth.embodied + f.kgCO2ePerMonth.use, 1);
  });
});

const r0 = () => raw.dedicatedServers[0].name as string;
