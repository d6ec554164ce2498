/**
 * `ingress-class-served` (mandatory): every Ingress and every Gateway API route of the stack
 * lands on a class that a controller of the stack serves. Otherwise nobody routes it: its host
 * answers the catch-all 404 (or, during a migration, the old controller keeps it), and a
 * certificate whose HTTP-01 challenge goes through it is never issued.
 *
 * Served classes:
 * - IngressClass and GatewayClass objects the stack declares;
 * - the classes a controller chart creates, read from its release values: Traefik (IngressClass
 *   `ingressClass.name`, default the release's full name, unless `ingressClass.enabled: false`;
 *   GatewayClass `gatewayClass.name`, default `traefik`, only with
 *   `providers.kubernetesGateway.enabled`, and its own Gateway `gateway.*` likewise; with
 *   `providers.kubernetesIngressNGINX.enabled`, also `ingressClass` of that provider, default `nginx`);
 *   ingress-nginx (`controller.ingressClassResource.name`, default `nginx`). Envoy Gateway's
 *   chart creates no GatewayClass: declare one;
 * - classes served outside the stack, listed in the config (`externalIngressClasses`,
 *   `externalGatewayClasses`);
 * - in a stack that runs no controller at all (a tenant shard of a sharded estate: the platform
 *   stack runs the edge, docs/scaling.md), the estate's own edge classes (`PLATFORM.ingressClass`,
 *   default, and `PLATFORM.gatewayClass`, components/conventions.ts), which the platform stack's
 *   run of this policy checks its controller serves. Any other class is still refused there.
 *
 * Checked, by meaning:
 * - Ingress objects: `spec.ingressClassName` (or the legacy `kubernetes.io/ingress.class`
 *   annotation); without either, the stack must have a default IngressClass;
 * - chart values: every `ingress` section that is not disabled and names a class
 *   (`className`, `ingressClassName` or `class`), wherever it sits in the values;
 * - cert-manager Issuers/ClusterIssuers: HTTP-01 `ingress` solvers name a served IngressClass,
 *   `gatewayHTTPRoute` solvers attach to existing Gateways;
 * - Gateways name a served GatewayClass; HTTPRoutes, GRPCRoutes, TLSRoutes and TCPRoutes attach
 *   (`parentRefs` of kind Gateway) to a Gateway the stack has, whose class is served.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { PLATFORM } from "../components/conventions";
import { TYPES, annotations, chartName, config, eachResource, get, isObject, metadata, namespaceOf, objects, type Props } from "./lib";

export interface IngressClassServedConfig {
  /** IngressClasses served by controllers the stack does not declare. Default none. */
  externalIngressClasses: string[];
  /** GatewayClasses served by controllers the stack does not declare. Default none. */
  externalGatewayClasses: string[];
}
export const INGRESS_CLASS_SERVED_DEFAULTS: IngressClassServedConfig = { externalIngressClasses: [], externalGatewayClasses: [] };

const GW = "kubernetes:gateway.networking.k8s.io/v1:";
const ROUTES = ["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"];
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass";
const ISSUERS = ["kubernetes:cert-manager.io/v1:ClusterIssuer", "kubernetes:cert-manager.io/v1:Issuer"];
const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const off = (v: unknown) => v === false || v === "false";

/** Helm's `<release>-<chart>` full name (the chart's name alone when the release name contains it). */
const fullName = (release: string, chart: string) => (release.includes(chart) ? release : `${release}-${chart}`).slice(0, 63).replace(/-$/, "");

interface Served {
  /** The stack runs a controller (an IngressClass/GatewayClass object or a controller chart). */
  controller: boolean;
  ingressClasses: Set<string>;
  defaultIngressClass: boolean;
  gatewayClasses: Set<string>;
  /** `namespace/name` → class of every Gateway the stack has (declared or made by a controller chart). */
  gateways: Map<string, string>;
}

/** What a controller chart release serves, from its values (the chart's defaults where unset). */
function controllerClasses(props: Props, served: Served): void {
  const chart = chartName(props);
  const values = isObject(props.values) ? props.values : {};
  const release = str(props.name) ?? chart;
  if (chart === "traefik" || chart === "ingress-nginx") served.controller = true;
  if (chart === "traefik") {
    const ic = isObject(values.ingressClass) ? values.ingressClass : {};
    if (!off(ic.enabled) && !off(get(values, "providers", "kubernetesIngress", "enabled"))) {
      served.ingressClasses.add(str(ic.name) ?? fullName(release, chart));
      if (!off(ic.isDefaultClass)) served.defaultIngressClass = true;
    }
    if (get(values, "providers", "kubernetesGateway", "enabled") === true) {
      const gc = isObject(values.gatewayClass) ? values.gatewayClass : {};
      const cls = str(gc.name) ?? "traefik";
      if (!off(gc.enabled)) served.gatewayClasses.add(cls);
      const gw = isObject(values.gateway) ? values.gateway : {};
      if (!off(gw.enabled)) served.gateways.set(`${str(gw.namespace) ?? namespaceOf(TYPES.helmRelease, props)}/${str(gw.name) ?? "traefik-gateway"}`, cls);
    }
    // Its ingress-nginx compatibility provider serves the nginx class (the IngressClass object must exist).
    const nginx = get(values, "providers", "kubernetesIngressNGINX");
    if (isObject(nginx) && nginx.enabled === true) served.ingressClasses.add(str(nginx.ingressClass) ?? "nginx");
  }
  if (chart === "ingress-nginx") {
    const icr = get(values, "controller", "ingressClassResource");
    const r = isObject(icr) ? icr : {};
    if (!off(r.enabled)) {
      served.ingressClasses.add(str(r.name) ?? "nginx");
      if (r.default === true) served.defaultIngressClass = true;
    }
  }
}

/** The `ingress` sections of chart values that name a class: `[path, class]`. */
export function chartIngressClasses(values: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const { path, value } of objects(values)) {
    const key = path[path.length - 1];
    if (typeof key !== "string" || !/ingress$/i.test(key) || off(value.enabled)) continue;
    for (const field of ["className", "ingressClassName", "class"]) {
      const cls = str(value[field]);
      if (cls) out.push([[...path, field].join("."), cls]);
    }
  }
  return out;
}

export const ingressClassServed: StackValidationPolicy = {
  name: "ingress-class-served",
  description: "Every Ingress and Gateway API route is on a class a controller serves.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      externalIngressClasses: { type: "array", items: { type: "string" }, default: INGRESS_CLASS_SERVED_DEFAULTS.externalIngressClasses },
      externalGatewayClasses: { type: "array", items: { type: "string" }, default: INGRESS_CLASS_SERVED_DEFAULTS.externalGatewayClasses },
    },
  },
  validateStack: (args, report) => {
    const cfg = config(args, INGRESS_CLASS_SERVED_DEFAULTS);
    const served: Served = {
      controller: false,
      ingressClasses: new Set(cfg.externalIngressClasses),
      defaultIngressClass: false,
      gatewayClasses: new Set(cfg.externalGatewayClasses),
      gateways: new Map(),
    };
    // First pass: what is served.
    eachResource(report, args.resources, (r) => {
      if (r.type === INGRESS_CLASS) {
        served.controller = true;
        const name = str(metadata(r.props).name);
        if (name) served.ingressClasses.add(name);
        if (annotations(r.props)["ingressclass.kubernetes.io/is-default-class"] === "true") served.defaultIngressClass = true;
      }
      if (r.type === `${GW}GatewayClass`) {
        served.controller = true;
        const name = str(metadata(r.props).name);
        if (name) served.gatewayClasses.add(name);
      }
      if (r.type === TYPES.helmRelease) controllerClasses(r.props, served);
      if (r.type === `${GW}Gateway`) served.gateways.set(`${namespaceOf(r.type, r.props)}/${metadata(r.props).name}`, str(get(r.props, "spec", "gatewayClassName")) ?? "");
    });
    // A stack without any controller (a tenant shard): the platform stack's edge serves the estate's classes.
    if (!served.controller) {
      served.ingressClasses.add(PLATFORM.ingressClass);
      served.gatewayClasses.add(PLATFORM.gatewayClass);
      served.defaultIngressClass = true;
    }
    const ingressList = () => [...served.ingressClasses].sort().join(", ") || "none";
    const gatewayList = () => [...served.gatewayClasses].sort().join(", ") || "none";
    const checkGatewayRef = (r: PolicyResource, ref: Props, where: string) => {
      const kind = str(ref.kind) ?? "Gateway";
      if (kind !== "Gateway") return;
      const key = `${str(ref.namespace) ?? namespaceOf(r.type, r.props)}/${ref.name}`;
      const cls = served.gateways.get(key);
      if (cls === undefined) report(`${where} attaches to Gateway ${key}, which the stack does not have`, r.urn);
      else if (!served.gatewayClasses.has(cls)) report(`${where} attaches to Gateway ${key} of class ${cls || "(none)"}, which no controller serves (served: ${gatewayList()})`, r.urn);
    };
    // Second pass: what must be served.
    eachResource(report, args.resources, (r) => {
      const name = `${namespaceOf(r.type, r.props)}/${metadata(r.props).name}`;
      if (r.type === INGRESS) {
        const cls = str(get(r.props, "spec", "ingressClassName")) ?? str(annotations(r.props)[LEGACY_CLASS_ANNOTATION]);
        if (cls === undefined) {
          if (!served.defaultIngressClass) report(`Ingress ${name} names no class and the stack has no default IngressClass`, r.urn);
        } else if (!served.ingressClasses.has(cls)) report(`Ingress ${name} is on class ${cls}, which no controller serves (served: ${ingressList()})`, r.urn);
      }
      if (r.type === TYPES.helmRelease) {
        for (const [path, cls] of chartIngressClasses(r.props.values)) {
          if (!served.ingressClasses.has(cls)) report(`release ${r.props.name ?? chartName(r.props)}: values ${path} = ${cls}, a class no controller serves (served: ${ingressList()})`, r.urn);
        }
      }
      if (ISSUERS.includes(r.type)) {
        const solvers = get(r.props, "spec", "acme", "solvers");
        for (const [i, s] of (Array.isArray(solvers) ? solvers : []).entries()) {
          const ing = get(s, "http01", "ingress");
          const cls = isObject(ing) ? str(ing.ingressClassName) ?? str(ing.class) : undefined;
          if (cls && !served.ingressClasses.has(cls)) report(`issuer ${metadata(r.props).name}: solvers[${i}] answers HTTP-01 on class ${cls}, which no controller serves (served: ${ingressList()})`, r.urn);
          const refs = get(s, "http01", "gatewayHTTPRoute", "parentRefs");
          for (const ref of Array.isArray(refs) ? refs : []) if (isObject(ref)) checkGatewayRef(r, { namespace: "default", ...ref }, `issuer ${metadata(r.props).name}: solvers[${i}]`);
        }
      }
      if (r.type === `${GW}Gateway`) {
        const cls = str(get(r.props, "spec", "gatewayClassName")) ?? "";
        if (!served.gatewayClasses.has(cls)) report(`Gateway ${name} is of class ${cls || "(none)"}, which no controller serves (served: ${gatewayList()})`, r.urn);
      }
      for (const kind of ROUTES) {
        if (!r.type.endsWith(`:${kind}`) || !r.type.startsWith("kubernetes:gateway.networking.k8s.io/")) continue;
        const refs = get(r.props, "spec", "parentRefs");
        if (!Array.isArray(refs) || refs.length === 0) report(`${kind} ${name} attaches to no Gateway`, r.urn);
        for (const ref of Array.isArray(refs) ? refs : []) if (isObject(ref)) checkGatewayRef(r, ref, `${kind} ${name}`);
      }
    });
  },
};
