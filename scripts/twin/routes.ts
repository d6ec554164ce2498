/**
 * What the edge routes, read the same way from both kinds of route object the estate declares:
 * `networking.k8s.io/v1` Ingress rules (the charts') and Gateway API HTTPRoute rules (the
 * program's own, components/routes.ts). One backend per (host, path, Service, port), so that
 * the checks that follow traffic (network paths, references) see every route whatever its kind.
 */
import type { KObject, TwinEstate } from "./model";

export interface RouteBackend {
  /** The Ingress or HTTPRoute. */
  route: KObject;
  host: string;
  path: string;
  /** Namespace of the backend Service (an HTTPRoute may name another one, with a ReferenceGrant). */
  namespace: string;
  service: string;
  /** Port number, or (Ingress only) port name. */
  port: number | string | undefined;
}

export function routeBackends(e: TwinEstate): RouteBackend[] {
  const out: RouteBackend[] = [];
  for (const ing of e.byKind.get("Ingress") ?? []) {
    const d = (ing.object.spec as any)?.defaultBackend?.service;
    if (d) out.push({ route: ing, host: "*", path: "/", namespace: ing.namespace!, service: d.name, port: d.port?.number ?? d.port?.name });
    for (const r of ((ing.object.spec as any)?.rules ?? []) as any[])
      for (const p of r.http?.paths ?? []) {
        const b = p.backend?.service;
        if (b) out.push({ route: ing, host: r.host ?? "*", path: p.path ?? "/", namespace: ing.namespace!, service: b.name, port: b.port?.number ?? b.port?.name });
      }
  }
  for (const hr of e.byKind.get("HTTPRoute") ?? []) {
    const spec = (hr.object.spec ?? {}) as any;
    const hosts: string[] = spec.hostnames?.length ? spec.hostnames : ["*"];
    for (const rule of (spec.rules ?? []) as any[]) {
      const paths: string[] = (rule.matches ?? []).map((m: any) => m.path?.value ?? "/");
      for (const b of (rule.backendRefs ?? []) as any[]) {
        if ((b.group ?? "") !== "" || (b.kind ?? "Service") !== "Service") continue;
        for (const host of hosts)
          for (const path of paths.length ? paths : ["/"])
            out.push({ route: hr, host, path, namespace: b.namespace ?? hr.namespace!, service: b.name, port: b.port });
      }
    }
  }
  return out;
}
