/**
 * The 13 NetworkPolicies a bundle had before they were merged (one object per allowed path), kept
 * verbatim as the reference the merged set (components/tenant/networkPolicies.ts) is evaluated
 * against: test/tenant-netpol-merge.test.ts compares the reachability both give.
 */
import type * as k8s from "@pulumi/kubernetes";
import { PLATFORM } from "../../components/conventions";
import { PLATFORM_NAMESPACES } from "../../components/platform/common";
import { CNPG_NAMESPACE } from "../../components/storage/settings";
import { KUBERNETES_API_PORT, NON_PUBLIC_V4, NON_PUBLIC_V6, type NetworkPolicyArgs } from "../../components/tenant/networkPolicies";

type Policy = { name: string; spec: k8s.types.input.networking.v1.NetworkPolicySpec };

const NS_NAME = "kubernetes.io/metadata.name";
const MONITORING_NAMESPACE = PLATFORM_NAMESPACES.monitoring;
const inNamespace = (ns: string) => ({ namespaceSelector: { matchLabels: { [NS_NAME]: ns } } });
const tcp = (port: number) => ({ protocol: "TCP", port });
const udp = (port: number) => ({ protocol: "UDP", port });

export function legacyNetworkPolicies(a: NetworkPolicyArgs): Policy[] {
  const exceptV4 = [...new Set([a.podCIDR, a.serviceCIDR, ...NON_PUBLIC_V4])].filter((c) => c !== "0.0.0.0/0");
  const policies: Policy[] = [
    { name: "default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      name: "allow-same-namespace",
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] },
    },
    {
      name: "allow-from-ingress-controller",
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [inNamespace(PLATFORM.ingressNamespace)] }] },
    },
    {
      name: "allow-from-nodes",
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ ipBlock: { cidr: a.nodeCIDR } }] }] },
    },
    {
      // CloudNativePG's operator polls each instance's status endpoint.
      name: "allow-from-cnpg-operator",
      spec: {
        podSelector: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }] },
        policyTypes: ["Ingress"],
        ingress: [{ from: [inNamespace(CNPG_NAMESPACE)], ports: [tcp(8000), tcp(5432)] }],
      },
    },
    {
      name: "allow-from-monitoring",
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [inNamespace(MONITORING_NAMESPACE)] }] },
    },
    {
      name: "allow-dns",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ ...inNamespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [udp(53), tcp(53)] }],
      },
    },
    {
      // Public app URLs (office ↔ Nextcloud callbacks, OIDC discovery) hairpin through the edge.
      name: "allow-to-ingress-controller",
      spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [inNamespace(PLATFORM.ingressNamespace)], ports: [tcp(80), tcp(443)] }] },
    },
    {
      name: "allow-to-object-store",
      spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [inNamespace(PLATFORM.minioNamespace)], ports: [tcp(9000), tcp(443)] }] },
    },
    {
      name: "allow-to-keycloak",
      spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [inNamespace(PLATFORM.keycloakNamespace)], ports: [tcp(8080), tcp(443)] }] },
    },
    {
      // The CloudNativePG instance manager and k8up's backup pods talk to the Kubernetes API.
      // kube-router filters after the Service's DNAT: the packet goes to a controller's address
      // (in the nodes' network) on 6443, not to the kubernetes Service on 443.
      name: "allow-cnpg-to-kubernetes-api",
      spec: {
        podSelector: { matchExpressions: [{ key: "cnpg.io/cluster", operator: "Exists" }] },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: a.nodeCIDR } }], ports: [tcp(KUBERNETES_API_PORT)] }],
      },
    },
    {
      name: "allow-k8up-to-kubernetes-api",
      spec: {
        podSelector: { matchLabels: { k8upjob: "true" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: a.nodeCIDR } }], ports: [tcp(KUBERNETES_API_PORT)] }],
      },
    },
    {
      // Matrix federation (443 and 8448), app stores, OIDC through public URLs: the internet only.
      name: "allow-internet-egress",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: exceptV4 } }, { ipBlock: { cidr: "::/0", except: NON_PUBLIC_V6 } }],
            ports: [tcp(443), tcp(8448)],
          },
        ],
      },
    },
  ];
  if (a.jitsi) {
    policies.push({
      name: "allow-jitsi-media",
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/component": "jvb" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0", except: [a.podCIDR, a.serviceCIDR] } }, { ipBlock: { cidr: "::/0", except: NON_PUBLIC_V6 } }], ports: [udp(10000)] }],
      },
    });
  }
  return policies;
}
