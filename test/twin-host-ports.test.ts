/**
 * The twin's `host-port-collision` check (scripts/twin/checks/host-ports.ts). Expected outcomes
 * follow from Linux's bind rules (socket(7), SO_REUSEPORT: same effective UID for every socket of
 * the port) and the scheduler's NodePorts filter (declared host ports), not from the code:
 * - two host-network pods declaring one port never meet on a node (the scheduler keeps them
 *   apart): not a bind collision, `unique-host-port` counts whether the nodes suffice;
 * - one binding it undeclared (an argument only): EADDRINUSE, unless both share with
 *   SO_REUSEPORT under one UID;
 * - different nodes, or different specific addresses: no collision.
 * The last case renders the real Traefik chart (main release and the migration bridge) and feeds
 * the rendered DaemonSets to the twin, as `npm run plan -- --render` does.
 */
import { describe, expect, it } from "vitest";
import { EDGE_BRIDGE_PORTS, EDGE_INTERNAL_PORTS, TRAEFIK_BRIDGE_RELEASE, TRAEFIK_RELEASE, traefikBridgeValues, traefikValues } from "../components/platform";
import { PLATFORM } from "../components/conventions";
import { CHARTS } from "../components/versions";
import { renderPlan } from "../scripts/render/render";
import { hostBinds } from "../scripts/twin/checks/host-ports";
import { devEstate, findings, input, k8s, res } from "./helpers/twin";
import { HELM, itWithHelm, releaseResource } from "./helpers/render";

const estate = devEstate();
const CHECK = "host-port-collision";

/** A host-network DaemonSet on every node (tolerates everything, as node agents do). */
const ds = (name: string, container: Record<string, unknown>, pod: Record<string, unknown> = {}) =>
  k8s("apps/v1", "DaemonSet", "x", name, {
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { hostNetwork: true, tolerations: [{ operator: "Exists" }], containers: [{ name: "c", image: "i", ...container }], ...pod } } },
  });
const traefikLike = (name: string, uid: number | undefined, reuse: boolean, declared = false) =>
  ds(name, {
    args: ["--entryPoints.websecure.address=:443/tcp", ...(reuse ? ["--entryPoints.websecure.reusePort=true"] : [])],
    ports: declared ? [{ containerPort: 443 }] : [],
    ...(uid === undefined ? {} : { securityContext: { runAsUser: uid } }),
  });

describe("host-port-collision", () => {
  it("two host-network DaemonSets declaring one port: never side by side (no bind collision); unique-host-port finds the Pending pods", async () => {
    const i = input(estate, [ds("node-exporter", { ports: [{ containerPort: 9100 }] }), ds("edge", { ports: [{ containerPort: 9100, name: "metrics" }] })]);
    expect(await findings(i, CHECK)).toEqual([]);
    expect(await findings(i, "unique-host-port")).toHaveLength(1);
  });

  it("a port bound from an argument only, beside one declared (or k0s's kube-router on 8080): EADDRINUSE", async () => {
    const f = await findings(input(estate, [ds("node-exporter", { ports: [{ containerPort: 9100 }] }), ds("exporter2", { args: ["--web.listen-address=:9100"] })]), CHECK);
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/without SO_REUSEPORT/);
    // k0s's kube-router holds 8080 on every node (not in the plan: the check's facts).
    const k = await findings(input(estate, [ds("edge", { args: ["--entryPoints.traefik.address=:8080/tcp"] })]), CHECK);
    expect(k.map((x) => [...x.objects].sort())).toEqual([["DaemonSet/kube-system/kube-router", "DaemonSet/x/edge/c"]]);
  });

  it("SO_REUSEPORT shares a port only when both set it under one stated UID, and not both declare it", async () => {
    expect(await findings(input(estate, [traefikLike("a", 0, true), traefikLike("b", 0, true)]), CHECK)).toEqual([]);
    // One declares it, the other binds it undeclared: both are placed, the kernel lets them share.
    expect(await findings(input(estate, [traefikLike("a", 0, true, true), traefikLike("b", 0, true)]), CHECK)).toEqual([]);
    // ingress-nginx runs as uid 101, Traefik as root: the kernel refuses the second listener.
    expect((await findings(input(estate, [traefikLike("nginx", 101, true), traefikLike("traefik", 0, true)]), CHECK))[0].message).toMatch(/same effective UID \(101 vs 0\)/);
    // An image's default user is unknown: not assumed equal.
    expect(await findings(input(estate, [traefikLike("a", undefined, true), traefikLike("b", undefined, true)]), CHECK)).toHaveLength(1);
    expect((await findings(input(estate, [traefikLike("a", 0, true), traefikLike("b", 0, false)]), CHECK))[0].message).toMatch(/DaemonSet\/x\/b\/c binds it without SO_REUSEPORT/);
    expect(await findings(input(estate, [traefikLike("a", 0, true, true), traefikLike("b", 0, true, true)]), CHECK)).toEqual([]);
  });

  it("no collision on disjoint nodes, nor between two specific addresses; the loopback and the wildcard collide", async () => {
    const on = (name: string, label: string, port: number) => ds(name, { ports: [{ containerPort: port }] }, { nodeSelector: { [label]: "true" }, tolerations: [] });
    const est = devEstate((raw) => {
      raw.nodePools[1].labels = { ...raw.nodePools[1].labels, "only-a": "true" };
    });
    expect(await findings(input(est, [on("a", "only-a", 7000), on("b", "nobody-has-this", 7000)]), CHECK)).toEqual([]);
    const at = (name: string, ip: string) => ds(name, { args: [`--metrics-bind-address=${ip}:7001`] });
    expect(await findings(input(estate, [at("a", "127.0.0.1"), at("b", "127.0.0.2")]), CHECK)).toEqual([]);
    expect(await findings(input(estate, [at("a", "127.0.0.1"), at("b", "")]), CHECK)).toHaveLength(1);
    // The kubelet's own 10250 on every node.
    expect((await findings(input(estate, [ds("x", { ports: [{ containerPort: 10250 }] })]), CHECK))[0].objects).toContain("kubelet");
    // Jitsi's videobridges of several bundles all declare UDP 10000: spread by the scheduler, no collision.
    const jvb = (name: string) => k8s("apps/v1", "Deployment", name, "jvb", { spec: { replicas: 1, selector: { matchLabels: { a: "jvb" } }, template: { metadata: { labels: { a: "jvb" } }, spec: { hostNetwork: true, containers: [{ name: "jvb", ports: [{ containerPort: 10000, protocol: "UDP" }] }] } } } });
    expect(await findings(input(estate, [jvb("a"), jvb("b")]), CHECK)).toEqual([]);
  });

  it("a Deployment on the host network binding undeclared: two replicas may meet on a node", async () => {
    const d = (replicas: number) => k8s("apps/v1", "Deployment", "x", "d", { spec: { replicas, selector: { matchLabels: { a: "d" } }, template: { metadata: { labels: { a: "d" } }, spec: { hostNetwork: true, containers: [{ name: "c", args: ["--listen-address=:7002"] }] } } } });
    expect(await findings(input(estate, [d(1)]), CHECK)).toEqual([]);
    expect(await findings(input(estate, [d(2)]), CHECK)).toHaveLength(1);
  });

  it("reads what a pod binds: declared ports, Traefik's entry points (reusePort), listen flags", () => {
    const binds = hostBinds({ id: "DaemonSet/x/t", spec: { hostNetwork: true, securityContext: { runAsUser: 0 }, containers: [{ name: "t", ports: [{ containerPort: 443 }], args: ["--entryPoints.websecure.address=:443/tcp", "--entryPoints.websecure.reusePort=true", "--entryPoints.dns.address=[::]:53/udp", "--web.listen-address=127.0.0.1:9100"] }] } });
    expect(binds.map((b) => [b.port, b.protocol, b.ip, b.reusePort, b.declared, b.uid])).toEqual([
      [443, "TCP", "0.0.0.0", true, true, 0],
      [53, "UDP", "0.0.0.0", false, false, 0],
      [9100, "TCP", "127.0.0.1", false, false, 0],
    ]);
    // Off the host network, only hostPorts bind on the node.
    expect(hostBinds({ id: "Deployment/x/p", spec: { containers: [{ name: "p", ports: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }], args: ["--web.listen-address=:9100"] }] } }).map((b) => b.port)).toEqual([8081]);
  });

  itWithHelm("the rendered Traefik releases of the bridge phase share the ingress nodes without a collision; a bridge on the main's ports does not", async () => {
    const e = devEstate((raw) => (raw.cluster.edgeMigration = "bridge"));
    const run = async (bridgeValues: Record<string, any>) => {
      const rels = [
        releaseResource("traefik", CHARTS.traefik.version, traefikValues(e), TRAEFIK_RELEASE, PLATFORM.ingressNamespace),
        releaseResource("traefik", CHARTS.traefik.version, bridgeValues, TRAEFIK_BRIDGE_RELEASE, PLATFORM.ingressNamespace),
      ];
      const r = await renderPlan(rels, { helm: HELM, programResources: false });
      expect(r.problems).toEqual([]);
      const resources = rels.map((x) => res(x.type, x.name, x.inputs, { urn: x.urn }));
      const i = input(e, [ds("node-exporter", { ports: [{ containerPort: 9100 }] }), ...resources], { rendered: r.releases });
      return { bind: await findings(i, CHECK), pending: await findings(i, "unique-host-port") };
    };
    expect(await run(traefikBridgeValues(e))).toEqual({ bind: [], pending: [] });
    // The bridge on the main's ping port: both declare it, so the bridge pods stay Pending.
    const clash = traefikBridgeValues(e) as any;
    clash.ports = { ...clash.ports, traefik: { port: EDGE_INTERNAL_PORTS.traefik } };
    const pending = (await run(clash)).pending;
    expect(pending).toHaveLength(1);
    expect(pending[0].message).toMatch(new RegExp(`host port ${EDGE_INTERNAL_PORTS.traefik}/TCP`));
    // Bound without being declared (an extra entry point on kube-router's 8080): a bind collision.
    const undeclared = traefikBridgeValues(e) as any;
    undeclared.additionalArguments = ["--entryPoints.extra.address=:8080/tcp"];
    const bind = (await run(undeclared)).bind;
    expect(bind.map((f) => [...f.objects].sort())).toEqual([["DaemonSet/kube-system/kube-router", `DaemonSet/${PLATFORM.ingressNamespace}/${TRAEFIK_BRIDGE_RELEASE}/${TRAEFIK_BRIDGE_RELEASE}`]]);
    expect(EDGE_BRIDGE_PORTS.traefik).not.toBe(EDGE_INTERNAL_PORTS.traefik);
  }, 120_000);
});
