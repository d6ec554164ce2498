/**
 * Uniqueness: what real systems refuse or silently break on when it is duplicated. k0sctl
 * refuses two hosts with the same address or hostname; two pods wanting the same host port
 * cannot share a node; of two Ingresses of one class for the same host and path one is never
 * reached; S3 bucket names are unique per server; Keycloak client ids per realm; a Kubernetes
 * object is declared once (as a resource, or as an entry of a bundle's objects release).
 */
import { unfitReason } from "../kube";
import type { TwinCheck, TwinEstate, TwinFinding } from "../model";
import { ref } from "../model";

function duplicates<T>(items: T[], key: (t: T) => string | undefined): Array<[string, T[]]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    if (!k) continue;
    m.set(k, [...(m.get(k) ?? []), i]);
  }
  return [...m.entries()].filter(([, v]) => v.length > 1);
}

const nodeAddresses: TwinCheck = {
  name: "unique-node-address",
  family: "uniqueness",
  models: "k0sctl's validation of the Cluster document: every host's SSH address, private address and hostname is unique",
  run(e) {
    const hosts = e.k0sctl?.hosts ?? [];
    const out: TwinFinding[] = [];
    for (const [field, key] of [["SSH address", (h: any) => h.ssh?.address], ["private address", (h: any) => h.privateAddress], ["hostname", (h: any) => h.hostname]] as const)
      for (const [v, hs] of duplicates(hosts, key))
        out.push({ check: this.name, level: "error", objects: hs.map((h) => String(h.hostname)), message: `${hs.length} hosts share the ${field} ${v}: k0sctl refuses the document and the cluster is not applied` });
    return out;
  },
};

const hostPorts: TwinCheck = {
  name: "unique-host-port",
  family: "uniqueness",
  models: "the scheduler's NodePorts filter: two pods binding the same host port and protocol never share a node",
  run(e: TwinEstate) {
    const out: TwinFinding[] = [];
    const wants = new Map<string, Array<{ id: string; pods: number; nodes: Set<string> }>>();
    for (const w of e.workloads) {
      const nodes = new Set(e.nodes.filter((n) => !unfitReason(w.spec, n, w.volumeTopology)).map((n) => n.name));
      const pods = w.replicas < 0 ? nodes.size : w.replicas;
      if (!pods) continue;
      for (const c of (w.spec.containers ?? []) as any[])
        for (const p of c.ports ?? []) {
          const hostPort = p.hostPort ?? (w.spec.hostNetwork ? p.containerPort : undefined);
          if (!hostPort) continue;
          const k = `${hostPort}/${p.protocol ?? "TCP"}`;
          wants.set(k, [...(wants.get(k) ?? []), { id: w.id, pods, nodes }]);
        }
    }
    for (const [port, ws] of wants) {
      const nodes = new Set(ws.flatMap((w) => [...w.nodes]));
      const pods = ws.reduce((n, w) => n + w.pods, 0);
      if (pods > nodes.size)
        out.push({ check: this.name, level: "error", objects: ws.map((w) => w.id), message: `${pods} pod(s) bind host port ${port} but only ${nodes.size} node(s) can run them: ${pods - nodes.size} stay Pending` });
    }
    return out;
  },
};

const ingressPaths: TwinCheck = {
  name: "unique-ingress-path",
  family: "uniqueness",
  models: "the edge controller's routing table: of two Ingresses of one class for the same host and path, one never receives traffic (Traefik picks one by rule priority; ingress-nginx's admission webhook refused the second)",
  run(e) {
    const rows: Array<{ key: string; ing: string }> = [];
    for (const ing of e.byKind.get("Ingress") ?? []) {
      const cls = ing.object.spec?.ingressClassName ?? ing.object.metadata?.annotations?.["kubernetes.io/ingress.class"] ?? "";
      for (const r of (ing.object.spec?.rules ?? []) as any[])
        for (const p of r.http?.paths ?? []) rows.push({ key: `${cls} ${r.host ?? "*"}${p.path ?? "/"}`, ing: ref(ing) });
    }
    return duplicates(rows, (r) => r.key)
      .filter(([, rs]) => new Set(rs.map((r) => r.ing)).size > 1)
      .map(([k, rs]) => ({ check: this.name, level: "error" as const, objects: [...new Set(rs.map((r) => r.ing))], message: `${k.split(" ")[1]} (class ${k.split(" ")[0] || "default"}) is declared by ${rs.length} Ingresses: the admission webhook refuses the later ones` }));
  },
};

const buckets: TwinCheck = {
  name: "unique-bucket",
  family: "uniqueness",
  models: "S3: a bucket name exists once per server (a second CreateBucket answers BucketAlreadyOwnedByYou and the two owners share it)",
  run(e) {
    return duplicates(e.buckets, (b) => `${b.server}/${b.name}`).map(([k, bs]) => ({
      check: this.name, level: "error" as const, objects: bs.map((b) => b.urn), message: `bucket ${k} is declared ${bs.length} times: the owners share one bucket (and one quota)`,
    }));
  },
};

const keycloakClients: TwinCheck = {
  name: "unique-keycloak-client",
  family: "uniqueness",
  models: "Keycloak: a client id exists once per realm (the second create answers 409 Conflict)",
  run(e) {
    return duplicates(e.keycloakClients, (c) => `${c.realm}/${c.clientId}`).map(([k, cs]) => ({
      check: this.name, level: "error" as const, objects: cs.map((c) => c.urn), message: `client id ${k} is declared ${cs.length} times: Keycloak refuses the second (409 Conflict)`,
    }));
  },
};

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "core");

const objects: TwinCheck = {
  name: "unique-object",
  family: "uniqueness",
  models: "the API server and Helm's ownership: an object (group, kind, namespace, name) exists once; a second declaration — two resources, a resource and a bundle's entry, or two entries — is refused (AlreadyExists, or Helm's invalid ownership metadata) or fights the first over its fields",
  run(e) {
    // The program's own declarations: its resources (patches excepted) and its bundles' entries.
    const declared = e.objects.filter((o) => (o.origin === "program" && !/Patch$/.test(o.source.split("::")[2] ?? "")) || o.bundle);
    return duplicates(declared, (o) => `${groupOf(o.apiVersion)}/${o.kind}/${o.namespace ?? ""}/${o.name}`).map(([, os]) => ({
      check: this.name,
      level: "error" as const,
      objects: [ref(os[0]), ...os.map((o) => o.bundle ?? o.source)],
      message: `declared ${os.length} times (${os.map((o) => (o.bundle ? `an entry of ${o.release?.split("::").pop()}` : "a resource")).join(", ")}): Kubernetes keeps one object, so the second create is refused (AlreadyExists) or, with Helm, the release refuses an object it does not own`,
    }));
  },
};

export const UNIQUENESS_CHECKS: TwinCheck[] = [nodeAddresses, hostPorts, ingressPaths, buckets, keycloakClients, objects];
