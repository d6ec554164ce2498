/**
 * Typed access to the pinned Hetzner catalogue (catalog.json): server types, where each is
 * sold and its monthly list price, plus Hetzner's documented limits. One data file, read by
 * config validation (components/config/rules.ts) and by cost estimates.
 */
import catalog from "./catalog.json";

export interface ServerTypeInfo {
  cores: number;
  ramGB: number;
  diskGB: number;
  cpu: "shared" | "dedicated";
  arch: "x86" | "arm";
  /** Monthly list price per location (EUR excl. VAT); a location is absent when the type is not sold there. */
  monthlyEUR: Record<string, number>;
}

export const CATALOG = catalog as unknown as {
  pricedAt: string;
  currency: "EUR";
  locations: Record<string, { city: string; country: string; networkZone: string }>;
  extras: { primaryIpv4MonthlyEUR: number; primaryIpv6MonthlyEUR: number; volumeGBMonthlyEUR: number; loadBalancerLb11MonthlyEUR: number };
  serverTypes: Record<string, ServerTypeInfo>;
};

/** Hetzner Cloud limits this project must respect (checked at config time, see rules.ts). */
export const HETZNER_LIMITS = {
  /** Servers in one `spread` placement group. */
  serversPerPlacementGroup: 10,
  /** Subnets in one network. */
  subnetsPerNetwork: 50,
  /** Servers attached to one network. */
  serversPerNetwork: 100,
} as const;

export const serverTypeInfo = (type: string): ServerTypeInfo | undefined => CATALOG.serverTypes[type];

/** Locations where a server type is sold, per the catalogue. */
export const locationsOf = (type: string): string[] => Object.keys(CATALOG.serverTypes[type]?.monthlyEUR ?? {});

/** Monthly price of a server type in a location, or undefined when not sold there. */
export const monthlyPrice = (type: string, location: string): number | undefined => CATALOG.serverTypes[type]?.monthlyEUR[location];
