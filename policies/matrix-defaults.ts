/**
 * `matrix-defaults` (mandatory): every Synapse homeserver (Helm release of `matrix-stack` or
 * `matrix-synapse`, or a ConfigMap holding homeserver.yaml) has end-to-end encryption off by
 * default (`encryption_enabled_by_default_for_room_type: off`, and, when the client well-known
 * is set, `io.element.e2ee.default: false`) and federation on (no empty
 * `federation_domain_whitelist`, no `send_federation: false`, no disabled federation listener).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, chartName, config, leaves, objects } from "./lib";

export interface MatrixDefaultsConfig {
  /** Require end-to-end encryption off by default. Default true. */
  requireE2eeOff: boolean;
  /** Require federation on. Default true. */
  requireFederation: boolean;
}
export const MATRIX_DEFAULTS: MatrixDefaultsConfig = { requireE2eeOff: true, requireFederation: true };

const CHARTS = /^(matrix-stack|matrix-synapse|synapse|element-server-suite)$/i;

export interface MatrixSettings {
  /** Values of encryption_enabled_by_default_for_room_type found. */
  e2eeByDefault: string[];
  /** Values of the client well-known io.element.e2ee.default found. */
  wellKnownE2ee: boolean[];
  federationProblems: string[];
}

export function matrixSettings(value: unknown): MatrixSettings {
  const s: MatrixSettings = { e2eeByDefault: [], wellKnownE2ee: [], federationProblems: [] };
  for (const { path, value: obj } of objects(value)) {
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (k === "encryption_enabled_by_default_for_room_type") s.e2eeByDefault.push(String(v));
      if (k === "io.element.e2ee" && v && typeof v === "object" && "default" in v) s.wellKnownE2ee.push(v.default === true || v.default === "true");
      if (k === "federation_domain_whitelist" && Array.isArray(v) && v.length === 0) s.federationProblems.push(`${[...path, k].join(".")} is empty (no server may federate)`);
      if (k === "send_federation" && (v === false || v === "false")) s.federationProblems.push(`${[...path, k].join(".")} is false`);
    }
    // matrix-stack: synapse.ingress / federation toggles are not values of the chart; a
    // homeserver without a federation listener is only visible in homeserver.yaml text.
  }
  for (const l of leaves(value)) {
    if (typeof l.value !== "string") continue;
    const text = l.value;
    for (const m of text.matchAll(/encryption_enabled_by_default_for_room_type\s*:\s*["']?([A-Za-z_]+)/g)) s.e2eeByDefault.push(m[1]);
    for (const m of text.matchAll(/"io\.element\.e2ee"\s*:\s*\{[^}]*"default"\s*:\s*(true|false)/g)) s.wellKnownE2ee.push(m[1] === "true");
    if (/federation_domain_whitelist\s*:\s*\[\s*\]/.test(text)) s.federationProblems.push(`federation_domain_whitelist is empty in ${l.path.join(".")}`);
    if (/send_federation\s*:\s*false/.test(text)) s.federationProblems.push(`send_federation: false in ${l.path.join(".")}`);
  }
  return s;
}

/** Is this resource a Synapse homeserver configuration? */
function isSynapse(type: string, props: any): boolean {
  if (type === TYPES.helmRelease) return CHARTS.test(chartName(props));
  if (type === TYPES.configMap) {
    const data = props.data;
    return !!data && typeof data === "object" && Object.keys(data).some((k) => /homeserver\.ya?ml$/.test(k));
  }
  return false;
}

export const matrixDefaults: ResourceValidationPolicy = {
  name: "matrix-defaults",
  description: "Matrix homeservers have end-to-end encryption off by default and federation on.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      requireE2eeOff: { type: "boolean", default: MATRIX_DEFAULTS.requireE2eeOff },
      requireFederation: { type: "boolean", default: MATRIX_DEFAULTS.requireFederation },
    },
  },
  validateResource: (args, report) => {
    if (!isSynapse(args.type, args.props)) return;
    const c = config(args, MATRIX_DEFAULTS);
    const s = matrixSettings(args.type === TYPES.helmRelease ? args.props.values : args.props.data);
    const problems: string[] = [];
    if (c.requireE2eeOff) {
      if (!s.e2eeByDefault.length) problems.push("encryption_enabled_by_default_for_room_type is not set: set it to off");
      for (const v of new Set(s.e2eeByDefault)) if (v !== "off") problems.push(`encryption_enabled_by_default_for_room_type is "${v}", expected "off"`);
      if (s.wellKnownE2ee.includes(true)) problems.push('the client well-known sets io.element.e2ee.default to true, expected false');
    }
    if (c.requireFederation) problems.push(...s.federationProblems.map((p) => `federation is off: ${p}`));
    if (problems.length) report(problems.join("; "));
  },
};
