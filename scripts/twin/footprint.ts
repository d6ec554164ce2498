/**
 * Footprint and cost of the estate (docs/footprint.md has the method, the figures and their
 * sources): machines by kind and location, the monthly cost estimate of the Hetzner catalogue
 * (components/hetzner/cost.ts), per-user figures, and a greenhouse-gas estimate per month split
 * into embodied emissions (manufacturing, amortised) and use-phase emissions (electricity ×
 * the grid intensity of the machine's country, location-based).
 */
import { estimateMonthlyCost } from "../../components/hetzner/cost";
import { CATALOG, serverTypeInfo } from "../../components/hetzner/catalog";
import type { TwinEstate } from "./model";

/** Assumptions (docs/footprint.md gives the source of each). */
export const FOOTPRINT_ASSUMPTIONS = {
  hoursPerMonth: 730,
  /** Power usage effectiveness of Hetzner's data centres. */
  pue: 1.2,
  /** Cloud Carbon Footprint coefficients: W per vCPU at min and max load, W per GB of memory. */
  wattsPerVcpuMin: 0.74,
  wattsPerVcpuMax: 3.5,
  wattsPerGBMemory: 0.392,
  /** Average CPU load assumed. */
  cpuLoad: 0.5,
  /** A dedicated server: chassis, board, fans, PSU losses (W), per physical core (W), per disk (W). */
  dedicatedBaseWatts: 30,
  dedicatedWattsPerCore: 5,
  wattsPerHdd: 6,
  wattsPerSsd: 3,
  /** Location-based grid intensity, gCO2e/kWh, per country of the catalogue's locations. */
  gridGCO2ePerKWh: { DE: 381, FI: 79 } as Record<string, number>,
  /** Manufacturing of one server (kgCO2e) and its amortisation period (months). */
  serverEmbodiedKg: 1200,
  amortisationMonths: 48,
  /** vCPUs of the host a cloud server is a share of. */
  hostVcpus: 48,
} as const;

export interface FootprintMachine {
  name: string;
  kind: "cloud" | "dedicated";
  location: string;
  country: string;
  /** Dedicated servers: bought on the server auction (second-hand). */
  secondHand: boolean;
  watts: number;
  useKgPerMonth: number;
  embodiedKgPerMonth: number;
}

export interface Footprint {
  machines: { total: number; byKindAndLocation: Array<{ kind: string; location: string; count: number; secondHand: number }> };
  monthlyEUR: number;
  pricedAt: string;
  users: number;
  eurPerUserMonth: number;
  machinesPer1000Users: number;
  kgCO2ePerMonth: { embodied: number; use: number; total: number; useByLocation: Record<string, number> };
  kgCO2ePerUserYear: number;
  perMachine: FootprintMachine[];
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export function footprint(e: TwinEstate): Footprint {
  const a = FOOTPRINT_ASSUMPTIONS;
  const grid = (country: string) => a.gridGCO2ePerKWh[country] ?? 400;
  const vcpuWatts = a.wattsPerVcpuMin + a.cpuLoad * (a.wattsPerVcpuMax - a.wattsPerVcpuMin);
  const use = (watts: number, country: string) => (watts * a.pue * a.hoursPerMonth * grid(country)) / 1e6;
  const machines: FootprintMachine[] = [];
  for (const n of e.nodes.filter((x) => !x.reset)) {
    if (n.kind === "cloud") {
      const watts = n.cores * vcpuWatts + n.ramGB * a.wattsPerGBMemory;
      machines.push({ name: n.name, kind: "cloud", location: n.location, country: n.country, secondHand: false, watts: r2(watts), useKgPerMonth: use(watts, n.country), embodiedKgPerMonth: ((a.serverEmbodiedKg / a.amortisationMonths) * n.cores) / a.hostVcpus });
    } else {
      const d = e.input.estate.dedicatedServers.find((x) => x.name === n.name)!;
      const watts = a.dedicatedBaseWatts + a.dedicatedWattsPerCore * n.cores + n.ramGB * a.wattsPerGBMemory + d.disks.reduce((s, k) => s + (k.kind === "hdd" ? a.wattsPerHdd : a.wattsPerSsd), 0);
      // Second-hand servers: their manufacturing is counted as amortised by their first owner (cut-off rule).
      machines.push({ name: n.name, kind: "dedicated", location: n.location, country: n.country, secondHand: n.secondHand, watts: r2(watts), useKgPerMonth: use(watts, n.country), embodiedKgPerMonth: n.secondHand ? 0 : a.serverEmbodiedKg / a.amortisationMonths });
    }
  }
  const backup = e.input.estate.backup.server;
  if (e.backupServer && backup.kind === "cloud") {
    const info = serverTypeInfo(backup.serverType);
    const cores = info?.cores ?? 2;
    const watts = cores * vcpuWatts + (info?.ramGB ?? 2) * a.wattsPerGBMemory;
    machines.push({ name: e.backupServer.name, kind: "cloud", location: e.backupServer.location, country: e.backupServer.country, secondHand: false, watts: r2(watts), useKgPerMonth: use(watts, e.backupServer.country), embodiedKgPerMonth: ((a.serverEmbodiedKg / a.amortisationMonths) * cores) / a.hostVcpus });
  }
  const groups = new Map<string, { kind: string; location: string; count: number; secondHand: number }>();
  for (const m of machines) {
    const k = `${m.kind}/${m.location}`;
    const g = groups.get(k) ?? { kind: m.kind, location: m.location, count: 0, secondHand: 0 };
    g.count++;
    if (m.secondHand) g.secondHand++;
    groups.set(k, g);
  }
  const cost = estimateMonthlyCost(e.input.estate);
  const users = e.input.estate.tenants.reduce((s, t) => s + (t.state === "decommissioned" ? 0 : t.users), 0);
  const embodied = machines.reduce((s, m) => s + m.embodiedKgPerMonth, 0);
  const usePhase = machines.reduce((s, m) => s + m.useKgPerMonth, 0);
  const useByLocation: Record<string, number> = {};
  for (const m of machines) useByLocation[m.location] = r2((useByLocation[m.location] ?? 0) + m.useKgPerMonth);
  return {
    machines: { total: machines.length, byKindAndLocation: [...groups.values()].sort((x, y) => x.kind.localeCompare(y.kind) || x.location.localeCompare(y.location)) },
    monthlyEUR: cost.totalEUR,
    pricedAt: cost.pricedAt,
    users,
    eurPerUserMonth: users ? Math.round((cost.totalEUR / users) * 1000) / 1000 : 0,
    machinesPer1000Users: users ? r2((machines.length / users) * 1000) : 0,
    kgCO2ePerMonth: { embodied: r2(embodied), use: r2(usePhase), total: r2(embodied + usePhase), useByLocation },
    kgCO2ePerUserYear: users ? r2(((embodied + usePhase) * 12) / users) : 0,
    perMachine: machines.map((m) => ({ ...m, useKgPerMonth: r2(m.useKgPerMonth), embodiedKgPerMonth: r2(m.embodiedKgPerMonth) })),
  };
}

export { CATALOG };
