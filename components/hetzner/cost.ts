/**
 * Monthly cost estimate of the compute estate from the pinned catalogue (catalog.json) and
 * the invoiced prices of the dedicated servers: list prices, EUR excluding VAT. A planning aid
 * (sobriety: see what a pool costs before adding one), not an invoice.
 */
import type { Estate } from "../config";
import { CATALOG, monthlyPrice } from "./catalog";
import { cloudNodes } from "./nodes";

export interface CostLine {
  item: string;
  quantity: number;
  unitEUR: number;
  monthlyEUR: number;
}

export interface CostEstimate {
  pricedAt: string;
  lines: CostLine[];
  totalEUR: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function estimateMonthlyCost(estate: Estate): CostEstimate {
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, unitEUR: number) => {
    if (quantity > 0) lines.push({ item, quantity, unitEUR, monthlyEUR: round(quantity * unitEUR) });
  };
  const nodes = cloudNodes(estate);
  for (const pool of estate.nodePools) {
    const servers = nodes.filter((n) => n.pool === pool.name);
    if (!servers.length) continue;
    const { serverType, location } = servers[0];
    add(`cloud ${pool.name}: ${serverType} in ${location}`, servers.length, monthlyPrice(serverType, location) ?? NaN);
    if (pool.cloud?.volumeGB) add(`cloud ${pool.name}: volumes of ${pool.cloud.volumeGB} GB`, servers.length, round(pool.cloud.volumeGB * CATALOG.extras.volumeGBMonthlyEUR));
  }
  add("primary IPv4 addresses", nodes.length, CATALOG.extras.primaryIpv4MonthlyEUR);
  for (const d of estate.dedicatedServers) add(`dedicated ${d.name} (${d.auction ? "auction" : "new"})`, 1, d.monthlyPriceEUR);
  const backup = estate.backup.server;
  if (backup.kind === "cloud") {
    add(`backup server: ${backup.serverType} in ${estate.hetzner.locations.backup}`, 1, monthlyPrice(backup.serverType, estate.hetzner.locations.backup) ?? NaN);
    add("backup server: primary IPv4", 1, CATALOG.extras.primaryIpv4MonthlyEUR);
    const gb = backup.volumesGB.reduce((a, b) => a + b, 0);
    add(`backup server: volumes (${gb} GB)`, 1, round(gb * CATALOG.extras.volumeGBMonthlyEUR));
  }
  if (estate.cluster.ingressMode === "loadBalancer") add("ingress load balancer lb11", 1, CATALOG.extras.loadBalancerLb11MonthlyEUR);
  return { pricedAt: CATALOG.pricedAt, lines, totalEUR: round(lines.reduce((s, l) => s + l.monthlyEUR, 0)) };
}
