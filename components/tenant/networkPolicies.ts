/**
 * A bundle's NetworkPolicies: default deny in both directions, then only what the apps
 * need. No rule names another tenant's namespace, and the internet rule excludes the pod
 * and service CIDRs and private ranges, so a bundle cannot reach another bundle except
 * through the public ingress (like anyone on the internet).
 */
import type * as k8s from "@pulumi/kubernetes";
import { PLATFORM } from "../conventions";
import { PLATFORM_NAMESPACES } from "../platform/common";
import { CNPG_NAMESPACE } from "../storage/settings";
import { STATELESS } from "../apps/nextcloud-stateless";

type Policy = { name: string; spec: k8s.types.input.networking.v1.NetworkPolicySpec };

const NS_NAME = "kubernetes.io/metadata.name";
const MONITORING_NAMESPACE = PLATFORM_NAMESPACES.monitoring;
const inNamespace = (ns: string) => ({ namespaceSelector: { matchLabels: { [NS_NAME]: ns } } });
const tcp = (port: number) => ({ protocol: "TCP", port });
/** Port of the Kubernetes API on the controllers (what pods reach after the kubernetes Service's DNAT). */
export const KUBERNETES_API_PORT = 6443;
const udp = (port: number) => ({ protocol: "UDP", port });

/** Private and special-purpose ranges never reached through the internet rule. */
export const NON_PUBLIC_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"];
export const NON_PUBLIC_V6 = ["fc00::/7", "fe80::/10", "::1/128"];

export interface NetworkPolicyArgs {
  podCIDR: string;
  serviceCIDR: string;
  /**
   * The nodes' private network (hetzner.network.ipRange). The edge (Traefik) runs with
   * hostNetwork on the ingress nodes: its connections to backends come from node addresses,
   * which no namespaceSelector matches.
   */
  nodeCIDR: string;
  /** The bundle runs a dedicated Jitsi: its videobridge takes UDP 10000 from anywhere. */
  jitsi: boolean;
  /** The bundle runs a stateless Nextcloud: its upgrade Job lists pods through the Kubernetes API. Default false. */
  nextcloudUpgrade?: boolean;
}

/** Namespaces (other than its own) a bundle may open connections to. */
export const EGRESS_NAMESPACES = [PLATFORM.ingressNamespace, PLATFORM.minioNamespace, PLATFORM.keycloakNamespace] as const;

/** Selector of a bundle's CloudNativePG instance pods (the operator labels them). */
const CNPG_PODS = { matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }] };

/**
 * Names of the merged policies. Each object groups every path of one pod selector: what was
 * one policy per path (13 objects) says the same in 4 (5 with a dedicated Jitsi), since a pod's
 * allowed connections are the union of the rules of every policy selecting it, whichever object
 * holds them (test/tenant-netpol-merge.test.ts evaluates both sets with the twin's evaluator).
 */
export const NETPOL = {
  /** Isolates every pod in both directions; kept alone so the isolation is one plain object (policy tenant-isolation). */
  defaultDeny: "default-deny",
  /** What every pod of the bundle may do (same namespace, edge, nodes, monitoring, DNS, MinIO, Keycloak, internet). */
  bundle: "allow-bundle",
  /** CloudNativePG instances: the operator's status polls in, the Kubernetes API out. */
  cnpg: "allow-cnpg",
  /** k8up's backup pods: the Kubernetes API. */
  k8up: "allow-k8up-to-kubernetes-api",
  /** A dedicated Jitsi's videobridge: UDP 10000 from anywhere. */
  jitsi: "allow-jitsi-media",
  /** A stateless Nextcloud's upgrade Job: the Kubernetes API (it waits until no app pod runs). */
  nextcloudUpgrade: "allow-nextcloud-upgrade-to-kubernetes-api",
} as const;

export function networkPolicies(a: NetworkPolicyArgs): Policy[] {
  const exceptV4 = [...new Set([a.podCIDR, a.serviceCIDR, ...NON_PUBLIC_V4])].filter((c) => c !== "0.0.0.0/0");
  const toApi = { to: [{ ipBlock: { cidr: a.nodeCIDR } }], ports: [tcp(KUBERNETES_API_PORT)] };
  const policies: Policy[] = [
    { name: NETPOL.defaultDeny, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      name: NETPOL.bundle,
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              { podSelector: {} },
              inNamespace(PLATFORM.ingressNamespace),
              // The edge (Traefik) runs with hostNetwork: its connections come from node addresses.
              { ipBlock: { cidr: a.nodeCIDR } },
              inNamespace(MONITORING_NAMESPACE),
            ],
          },
        ],
        egress: [
          { to: [{ podSelector: {} }] },
          { to: [{ ...inNamespace(PLATFORM_NAMESPACES.system), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [udp(53), tcp(53)] },
          // Public app URLs (office ↔ Nextcloud callbacks, OIDC discovery) hairpin through the edge.
          { to: [inNamespace(PLATFORM.ingressNamespace)], ports: [tcp(80), tcp(443)] },
          { to: [inNamespace(PLATFORM.minioNamespace)], ports: [tcp(9000), tcp(443)] },
          { to: [inNamespace(PLATFORM.keycloakNamespace)], ports: [tcp(8080), tcp(443)] },
          // Matrix federation (443 and 8448), app stores, OIDC through public URLs: the internet only.
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: exceptV4 } }, { ipBlock: { cidr: "::/0", except: NON_PUBLIC_V6 } }],
            ports: [tcp(443), tcp(8448)],
          },
        ],
      },
    },
    {
      // CloudNativePG's operator polls each instance's status endpoint; the instance manager talks
      // to the Kubernetes API. kube-router filters after the Service's DNAT: the packet goes to a
      // controller's address (in the nodes' network) on 6443, not to the kubernetes Service on 443.
      name: NETPOL.cnpg,
      spec: {
        podSelector: CNPG_PODS,
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [inNamespace(CNPG_NAMESPACE)], ports: [tcp(8000), tcp(5432)] }],
        egress: [toApi],
      },
    },
    // k8up's backup pods talk to the Kubernetes API too (another pod selector: another object).
    { name: NETPOL.k8up, spec: { podSelector: { matchLabels: { k8upjob: "true" } }, policyTypes: ["Egress"], egress: [toApi] } },
  ];
  if (a.nextcloudUpgrade) {
    policies.push({ name: NETPOL.nextcloudUpgrade, spec: { podSelector: { matchLabels: { ...STATELESS.apiLabel } }, policyTypes: ["Egress"], egress: [toApi] } });
  }
  if (a.jitsi) {
    policies.push({
      name: NETPOL.jitsi,
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/component": "jvb" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0", except: [a.podCIDR, a.serviceCIDR] } }, { ipBlock: { cidr: "::/0", except: NON_PUBLIC_V6 } }], ports: [udp(10000)] }],
      },
    });
  }
  return policies;
}
