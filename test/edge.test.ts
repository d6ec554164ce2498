/**
 * The edge over the whole prod program (index.ts under the harness): every Gateway API object
 * and Traefik Middleware the program declares validates against the CRD schemas of the charts
 * in the offline cache (gateway-api-crds 1.6.1, the same CRDs as upstream's standard-install.yaml
 * that the cluster gets; traefik 41.3.0), every route reaches a Gateway of the served class with
 * a certificate, and no ingress-nginx dialect is left anywhere in the plan.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { EdgeMigrationPhase, Estate } from "../components/config";
import { PLATFORM } from "../components/conventions";
import { tlsSecretName } from "../components/routes";
import { CHARTS, GATEWAY_API_CRDS } from "../components/versions";
import main from "../index";
import { evaluate, readStackConfig, stackConfigFile, type Evaluation, type RecordedResource } from "../scripts/harness";
import { EDGE_BRIDGE_PORTS, TRAEFIK_BRIDGE_RELEASE, traefikBridgeValues, traefikValues } from "../components/platform";
import { renderPlan } from "../scripts/render/render";
import { cachedCrds, itWithCharts } from "./helpers/charts";
import { HELM, itWithHelm, releaseResource } from "./helpers/render";

const GW = "kubernetes:gateway.networking.k8s.io/v1:";
const meta = (r: RecordedResource) => r.inputs.metadata as { name: string; namespace: string; annotations?: Record<string, string> };
const spec = (r: RecordedResource) => r.inputs.spec as any;
const manifest = (r: RecordedResource) => ({ apiVersion: r.inputs.apiVersion, kind: r.inputs.kind, metadata: r.inputs.metadata, spec: r.inputs.spec });

let ev: Evaluation;
let gateways: RecordedResource[];
let routes: RecordedResource[];
beforeAll(async () => {
  ev = await evaluate({ config: readStackConfig(stackConfigFile("prod")), program: (e: Estate) => main(e) });
  gateways = ev.resources.filter((r) => r.type === `${GW}Gateway`);
  routes = ev.resources.filter((r) => r.type === `${GW}HTTPRoute`);
}, 120_000);

describe("Gateway API objects against the CRDs", () => {
  // The Gateway API CRDs the cluster gets (upstream's standard-install.yaml) are the cache's
  // gateway-api-crds package of that version; Traefik's Middleware CRD is in its chart.
  const CHARTS_NEEDED = [
    { chart: "gateway-api-crds", version: GATEWAY_API_CRDS.version.replace(/^v/, "") },
    { chart: "traefik", version: CHARTS.traefik.version },
  ];
  const errors = (crds: NonNullable<ReturnType<typeof cachedCrds>>, obj: Record<string, unknown>) => {
    const r = crds.validate(obj);
    if (!r) return [`no CRD for ${obj.apiVersion} ${obj.kind}`];
    return r.errors.map((e) => `${e.field}: ${e.message}`);
  };

  itWithCharts(CHARTS_NEEDED)("every Gateway, HTTPRoute, BackendTLSPolicy and Middleware validates against its CRD's openAPIV3Schema", () => {
    const crds = cachedCrds(CHARTS_NEEDED)!;
    const ours = ev.resources.filter((r) => r.type.startsWith(GW) || r.type === "kubernetes:traefik.io/v1alpha1:Middleware");
    // The platform Gateway and redirect, one Gateway + HTTPRoute per routed host (S3, office, pads, Jitsi adapters…).
    expect(gateways.length).toBeGreaterThan(10);
    expect(routes.length).toBe(gateways.length);
    for (const r of ours) expect(errors(crds, manifest(r)), r.urn).toEqual([]);
    // The validator does refuse what the API server would: a wrong enum, a missing field, an unknown field.
    const route = manifest(routes[0]) as any;
    const broken = structuredClone(route);
    broken.spec.rules[0].matches[0].path.type = "Prefix";
    expect(errors(crds, broken).join()).toMatch(/spec\.rules\[0\]\.matches\[0\]\.path\.type/);
    const noName = structuredClone(route);
    delete noName.spec.parentRefs[0].name;
    expect(errors(crds, noName).join()).toMatch(/name/);
    const unknown = structuredClone(manifest(gateways[0])) as any;
    unknown.spec.listeners[0].certificate = "x";
    expect(errors(crds, unknown).join()).toMatch(/certificate/);
  });
});

describe("Traefik through real Helm", () => {
  // prod runs hostNetwork; the loadBalancer mode and the migration provider are rendered here
  // (schema, every values key read, every object valid), the prod values by the render check.
  itWithHelm("renders clean in both ingress modes, in every phase of the move from ingress-nginx, and the bridge", async () => {
    const variant = (mode: "hostNetwork" | "loadBalancer", phase: EdgeMigrationPhase) => {
      const e = structuredClone(ev.estate);
      e.cluster.ingressMode = mode;
      e.cluster.edgeMigration = phase;
      return e;
    };
    const variants = (["hostNetwork", "loadBalancer"] as const).flatMap((mode) =>
      (["off", "serve-nginx"] as const).map((phase) =>
        releaseResource("traefik", CHARTS.traefik.version, traefikValues(variant(mode, phase)), `traefik-${mode.toLowerCase()}-${phase}`, PLATFORM.ingressNamespace),
      ),
    );
    variants.push(releaseResource("traefik", CHARTS.traefik.version, traefikBridgeValues(variant("hostNetwork", "bridge")), TRAEFIK_BRIDGE_RELEASE, PLATFORM.ingressNamespace));
    const r = await renderPlan(variants, { helm: HELM, programResources: false });
    expect(r.problems).toEqual([]);
    const objects = (name: string) => r.releases.find((x) => x.release === name)!.objects;
    const lb = objects("traefik-loadbalancer-off");
    expect(lb.find((o) => o.kind === "Deployment")).toBeDefined();
    const svc = lb.find((o) => o.kind === "Service" && (o.object as any).spec.type === "LoadBalancer")!.object as any;
    expect(svc.metadata.annotations["load-balancer.hetzner.cloud/name"]).toBe(`${ev.estate.cluster.name}-ingress`);
    const ds = objects("traefik-hostnetwork-off").find((o) => o.kind === "DaemonSet")!.object as any;
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    const args: string[] = ds.spec.template.spec.containers[0].args;
    expect(args).toEqual(expect.arrayContaining(["--entryPoints.web.address=:80/tcp", "--entryPoints.websecure.address=:443/tcp", "--entryPoints.websecure.asDefault=true", "--providers.kubernetesgateway"]));
    // Ports 80/443 on the host network: the kernel's unprivileged-port floor (1024) applies, and a
    // non-root process loses NET_BIND_SERVICE at exec (no ambient capabilities from the runtime,
    // no file capability on the image's binary: Traefik chart EXAMPLES.md). Root with only that
    // capability in its bounding set binds them and nothing else privileged.
    const mainPod = ds.spec.template.spec;
    expect(mainPod.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
    expect(mainPod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } });
    expect(mainPod.containers[0].ports.filter((p: any) => p.containerPort < 1024).map((p: any) => p.containerPort).sort()).toEqual([443, 80].sort());
    const migrating = objects("traefik-hostnetwork-serve-nginx").find((o) => o.kind === "DaemonSet")!.object as any;
    expect(migrating.spec.template.spec.containers[0].args).toContain("--providers.kubernetesingressnginx.ingressClass=nginx");
    expect(args.some((a) => a.startsWith("--providers.kubernetesingressnginx"))).toBe(false);

    // The bridge: same nodes, host network, its own ports, only the nginx class, no classes or Service of its own.
    const bridge = objects(TRAEFIK_BRIDGE_RELEASE);
    const bds = bridge.find((o) => o.kind === "DaemonSet")!.object as any;
    const pod = bds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.nodeSelector).toEqual(ds.spec.template.spec.nodeSelector);
    const bargs: string[] = pod.containers[0].args;
    expect(bargs).toEqual(expect.arrayContaining([
      `--entryPoints.web.address=:${EDGE_BRIDGE_PORTS.http}/tcp`, `--entryPoints.websecure.address=:${EDGE_BRIDGE_PORTS.https}/tcp`,
      `--entryPoints.traefik.address=:${EDGE_BRIDGE_PORTS.traefik}/tcp`, `--entryPoints.metrics.address=:${EDGE_BRIDGE_PORTS.metrics}/tcp`,
      "--providers.kubernetesingressnginx.ingressClass=nginx", "--entryPoints.websecure.http.tls=true",
    ]));
    expect(bargs.filter((a) => /^--providers\.kubernetes(gateway|ingress|crd)(=|$|\.)/i.test(a) && !a.includes("kubernetesingressnginx"))).toEqual([]);
    // The host ports the scheduler reserves (hostNetwork: containerPort = hostPort) are the bridge's own.
    expect(pod.containers[0].ports.map((p: any) => p.containerPort).sort()).toEqual(Object.values(EDGE_BRIDGE_PORTS).sort());
    expect(bridge.filter((o) => ["IngressClass", "GatewayClass", "Service", "ServiceMonitor"].includes(o.kind)).map((o) => o.kind)).toEqual([]);
    // Non-root without capabilities: nothing below 1024 to bind.
    expect(pod.securityContext.runAsUser).toBe(65532);
    expect(pod.containers[0].securityContext.capabilities).toEqual({ drop: ["ALL"] });
  }, 120_000);
});

describe("routes of the prod plan", () => {
  it("every route attaches to a declared Gateway of the served class, on a listener that exists and admits it", () => {
    for (const r of routes) {
      for (const p of spec(r).parentRefs) {
        const ns = p.namespace ?? meta(r).namespace;
        const gw = gateways.find((g) => meta(g).name === p.name && meta(g).namespace === ns);
        expect(gw, `${r.urn} → ${ns}/${p.name}`).toBeDefined();
        expect(spec(gw!).gatewayClassName).toBe(PLATFORM.gatewayClass);
        const listener = spec(gw!).listeners.find((l: any) => l.name === p.sectionName);
        expect(listener, `${r.urn} → listener ${p.sectionName}`).toBeDefined();
        const from = listener.allowedRoutes?.namespaces?.from ?? "Same";
        expect(from === "All" || ns === meta(r).namespace, r.urn).toBe(true);
        // The route's hosts are the listener's (an HTTPS listener serves one host).
        if (listener.hostname) expect(spec(r).hostnames).toEqual([listener.hostname]);
      }
    }
  });

  it("every HTTPS host has a certificate: the Gateway asks cert-manager, or an Ingress of the same namespace already does for that Secret", () => {
    const ingresses = ev.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress");
    const releases = ev.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    for (const g of gateways) {
      for (const l of spec(g).listeners.filter((x: any) => x.protocol === "HTTPS")) {
        const secret = l.tls.certificateRefs[0].name;
        if (meta(g).annotations?.["cert-manager.io/cluster-issuer"] === PLATFORM.clusterIssuer) {
          expect(secret).toBe(tlsSecretName(l.hostname));
          continue;
        }
        // Not issued by this Gateway: a chart release of the namespace names that Secret for the host.
        const inNs = releases.filter((rel) => rel.inputs.namespace === meta(g).namespace);
        const byChart =
          inNs.some((rel) => JSON.stringify(rel.inputs.values).includes(`"secretName":"${secret}"`)) ||
          // matrix-stack names its certificate Secrets itself: `<release>-<ingress>-certmanager-tls`
          // (ess-library `_ingress.tpl`), issued when `certManager` is set, for the component's host.
          inNs.some((rel) => {
            const v = rel.inputs.values as any;
            return String(rel.inputs.chart).endsWith("matrix-stack") && v.certManager?.clusterIssuer && v.synapse?.ingress?.host === l.hostname && secret === `${rel.inputs.name}-synapse-certmanager-tls`;
          });
        const byIngress = ingresses.some((i) => meta(i).namespace === meta(g).namespace && (spec(i).tls ?? []).some((t: any) => t.secretName === secret));
        expect(byChart || byIngress, `${g.urn}: nobody issues ${secret}`).toBe(true);
      }
    }
  });

  it("plain HTTP: one redirect to HTTPS on the platform Gateway, below cert-manager's challenge routes", () => {
    const edge = gateways.find((g) => meta(g).name === PLATFORM.gateway)!;
    expect(meta(edge).namespace).toBe(PLATFORM.ingressNamespace);
    const http = spec(edge).listeners.filter((l: any) => l.protocol === "HTTP");
    expect(http).toEqual([{ name: PLATFORM.gatewayHttpListener, protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "All" } } }]);
    // No other Gateway listens on plain HTTP.
    for (const g of gateways.filter((x) => x !== edge)) for (const l of spec(g).listeners) expect(l.protocol, g.urn).toBe("HTTPS");
    const redirect = routes.filter((r) => spec(r).parentRefs.some((p: any) => p.name === PLATFORM.gateway));
    expect(redirect).toHaveLength(1);
    expect(spec(redirect[0]).hostnames).toBeUndefined();
    expect(spec(redirect[0]).rules).toEqual([
      { matches: [{ path: { type: "PathPrefix", value: "/" } }], filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);
  });

  it("per-app limits: OnlyOffice bodies up to 100 MiB, Collabora and S3 unlimited", () => {
    const mws = ev.resources.filter((r) => r.type === "kubernetes:traefik.io/v1alpha1:Middleware");
    const office = routes.find((r) => meta(r).name === "onlyoffice")!;
    const filter = spec(office).rules[0].filters[0];
    expect(filter).toEqual({ type: "ExtensionRef", extensionRef: { group: "traefik.io", kind: "Middleware", name: "onlyoffice-body-limit" } });
    const mw = mws.find((m) => meta(m).name === filter.extensionRef.name && meta(m).namespace === meta(office).namespace)!;
    expect(spec(mw).buffering.maxRequestBodyBytes).toBe(100 * 1024 * 1024);
    // No body limit on any rule of Collabora or S3 (S3's admin rules carry only the admin allow-list).
    for (const name of ["collabora", "s3"]) {
      const r = routes.find((x) => meta(x).name === name)!;
      for (const rule of spec(r).rules) {
        for (const f of rule.filters ?? []) {
          const m = mws.find((x) => meta(x).name === f.extensionRef.name && meta(x).namespace === meta(r).namespace)!;
          expect(Object.keys(spec(m)), `${name} ${rule.matches[0].path.value}`).toEqual(["ipAllowList"]);
        }
      }
      const root = spec(r).rules.find((x: any) => x.matches[0].path.value === "/");
      expect(root.filters, name).toBeUndefined();
    }
  });

  it("S3 goes to MinIO over HTTPS, verified against the cluster CA for the Service's name", () => {
    const s3 = routes.find((r) => meta(r).name === "s3")!;
    expect(spec(s3).hostnames).toEqual([ev.estate.storage.s3Domain]);
    expect(spec(s3).rules[0].backendRefs).toEqual([{ group: "", kind: "Service", name: "minio", port: 443 }]);
    const tls = ev.resources.find((r) => r.type === `${GW}BackendTLSPolicy` && meta(r).namespace === meta(s3).namespace)!;
    expect(spec(tls).targetRefs).toEqual([{ group: "", kind: "Service", name: "minio" }]);
    expect(spec(tls).validation).toEqual({ caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "kube-root-ca.crt" }], hostname: "minio.minio.svc.cluster.local" });
  });

  it("Jitsi's `/oidc/` goes to the Keycloak adapter, beside the chart's Ingress for `/` of the same host", () => {
    const adapters = routes.filter((r) => meta(r).name === "jitsi-keycloak-adapter");
    expect(adapters.length).toBeGreaterThan(0);
    for (const r of adapters) {
      expect(spec(r).rules[0].matches[0].path).toEqual({ type: "PathPrefix", value: "/oidc/" });
      expect(spec(r).rules[0].backendRefs[0].name).toBe("jitsi-keycloak-adapter");
    }
  });
});

describe("no ingress-nginx left", () => {
  // The annotation prefix, spelled in parts so that the source tree itself holds none.
  const NGINX_PREFIX = ["nginx", "ingress", "kubernetes", "io"].join(".") + "/";
  it("no release of the ingress-nginx chart, no nginx annotation, no nginx class anywhere in the prod plan", () => {
    const releases = ev.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => r.inputs.chart)).not.toContain("ingress-nginx");
    const text = JSON.stringify(ev.resources.map((r) => r.inputs));
    expect(text.includes(NGINX_PREFIX)).toBe(false);
    expect(text).not.toMatch(/"(ingressClassName|className|class)":"nginx"/);
    expect(text).not.toMatch(/"controllerType":"ingress-nginx"/);
    // …and the same search does find the dialect when it is there.
    expect(JSON.stringify({ annotations: { [`${NGINX_PREFIX}proxy-body-size`]: "0" } }).includes(NGINX_PREFIX)).toBe(true);
  });
});

describe("phases of cluster.edgeMigration (docs/operations.md)", () => {
  const phase = (p: EdgeMigrationPhase) => {
    const e = structuredClone(ev.estate);
    e.cluster.edgeMigration = p;
    return e;
  };
  it("leaving the bridge for serve-nginx changes nothing of the main Traefik (no restart at step 9); off does", () => {
    expect(traefikValues(phase("bridge"))).toEqual(traefikValues(phase("serve-nginx")));
    expect(traefikValues(phase("off"))).not.toEqual(traefikValues(phase("serve-nginx")));
  });
  it("the bridge serves only the nginx class, on its own ports, with the main Traefik's HTTPS middlewares", () => {
    const b = traefikBridgeValues(phase("bridge")) as any;
    const m = traefikValues(phase("bridge")) as any;
    expect(b.providers.kubernetesIngressNGINX).toEqual({ enabled: true, ingressClass: "nginx" });
    expect([b.providers.kubernetesIngress.enabled, b.providers.kubernetesGateway.enabled, b.providers.kubernetesCRD.enabled]).toEqual([false, false, false]);
    expect(b.providers.file).toEqual(m.providers.file);
    expect(b.ports.websecure.http).toEqual(m.ports.websecure.http);
    expect([b.ports.web.port, b.ports.websecure.port]).toEqual([EDGE_BRIDGE_PORTS.http, EDGE_BRIDGE_PORTS.https]);
    expect(b.nodeSelector).toEqual(m.nodeSelector);
    expect(b.hostNetwork).toBe(true);
  });
});
