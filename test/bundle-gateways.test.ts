/**
 * A bundle's Gateways (components/routes.ts `BundleGateways`), pure: one listener per host, the
 * host's certificate Secret kept, the two kinds (issued by cert-manager from the Gateway, or by a
 * chart's Ingress) on two Gateways, and the conflicts refused. The same manifests validate
 * against the Gateway API CRDs in edge.test.ts (prod plan).
 */
import { describe, expect, it } from "vitest";
import { BundleGateways, httpRouteManifest, listenerName, sharedGatewayManifest, tlsSecretName } from "../components/routes";
import { PLATFORM } from "../components/conventions";

const gw = () => new BundleGateways("bundle", "acme", { "liiibre.org/tenant": "acme" });

describe("bundle Gateways", () => {
  it("give each host one listener with its certificate Secret, sorted, whatever the attach order", () => {
    const a = gw();
    const b = gw();
    for (const h of ["pad.acme.org", "office.acme.org", "collabora.acme.org"]) a.attach({ host: h });
    for (const h of ["collabora.acme.org", "pad.acme.org", "office.acme.org", "pad.acme.org"]) b.attach({ host: h });
    expect(a.manifests()).toEqual(b.manifests());
    const [g] = a.manifests() as any[];
    expect(g.metadata).toEqual({ name: "bundle", namespace: "acme", labels: { "liiibre.org/tenant": "acme" }, annotations: { "cert-manager.io/cluster-issuer": PLATFORM.clusterIssuer } });
    expect(g.spec.listeners.map((l: any) => [l.name, l.hostname, l.tls.certificateRefs[0].name])).toEqual([
      ["https-collabora-acme-org", "collabora.acme.org", "collabora-acme-org-tls"],
      ["https-office-acme-org", "office.acme.org", "office-acme-org-tls"],
      ["https-pad-acme-org", "pad.acme.org", "pad-acme-org-tls"],
    ]);
    expect(g.spec.listeners.every((l: any) => l.protocol === "HTTPS" && l.port === PLATFORM.edgePorts.https && l.allowedRoutes.namespaces.from === "Same")).toBe(true);
  });

  it("put hosts certified by a chart's Ingress on a second Gateway that asks cert-manager for nothing", () => {
    const g = gw();
    const issued = g.attach({ host: "pad.acme.org" });
    const reused = g.attach({ host: "matrix.acme.org", tlsSecret: "matrix-synapse-certmanager-tls", issueCertificate: false });
    expect(issued.gateway).toEqual({ name: "bundle", sectionName: listenerName("pad.acme.org") });
    expect(reused.gateway).toEqual({ name: "bundle-chart-tls", sectionName: "https-matrix-acme-org" });
    const [, second] = g.manifests() as any[];
    expect(second.metadata.annotations).toBeUndefined();
    expect(second.spec.listeners[0].tls.certificateRefs[0].name).toBe("matrix-synapse-certmanager-tls");
    // A route names its listener.
    const route = httpRouteManifest({ name: "well-known", namespace: "acme", host: "matrix.acme.org", rules: [{ service: "wk", port: 80 }], gateway: reused.gateway }) as any;
    expect(route.spec.parentRefs).toEqual([{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "bundle-chart-tls", sectionName: "https-matrix-acme-org" }]);
  });

  it("refuse a host with two Secrets, a host of both kinds and more than 64 listeners", () => {
    const g = gw();
    g.attach({ host: "pad.acme.org" });
    expect(() => g.attach({ host: "pad.acme.org", tlsSecret: "other" })).toThrow(/two certificate Secrets/);
    expect(() => g.attach({ host: "pad.acme.org", issueCertificate: false })).toThrow(/both issues/);
    const listeners = Array.from({ length: 65 }, (_, i) => ({ host: `h${i}.acme.org`, tlsSecret: tlsSecretName(`h${i}.acme.org`) }));
    expect(() => sharedGatewayManifest({ name: "x", namespace: "acme", issue: true, listeners })).toThrow(/at most 64/);
    expect(() => sharedGatewayManifest({ name: "x", namespace: "acme", issue: true, listeners: listeners.slice(0, 64) })).not.toThrow();
  });
});
