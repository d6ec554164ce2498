/**
 * K0sCluster: the k0s cluster "ada-lovelace" driven by k0sctl.
 *
 * The k0sctl document is generated from the hosts (k0sctl-config.ts) and applied with
 * `local.Command` running `k0sctl apply --config -` (document on stdin). The command re-runs
 * only when its inputs change: the document (hosts, k0s version, config) or the key. Bumping
 * K0S_VERSION is therefore a k0sctl rolling upgrade (controllers one by one, workers in
 * batches of `cluster.workerUpgradeConcurrencyPercent`); no server input depends on it.
 * The admin kubeconfig (`k0sctl kubeconfig`) is a secret output and feeds one
 * `kubernetes.Provider` used by everything inside the cluster.
 *
 * That provider carries a fixed `clusterIdentifier` (clusterIdentifierOf): pulumi-kubernetes then
 * replaces it only when the identifier changes, and treats any other kubeconfig change as an
 * update. Without it, the kubeconfig being re-fetched after a `k0sctl apply` (unknown during the
 * preview, new client certificates) replaces the provider and with it every object in the
 * cluster (provider/pkg/provider/provider.go DiffConfig; adding the identifier to an existing
 * provider is itself an update, never a replacement).
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { Estate } from "../config";
import type { Host } from "../hetzner/hosts";
import { K0S_VERSION } from "../versions";
import { k0sctlConfig, type K0sctlHost } from "./k0sctl-config";
import { APPLY_SCRIPT, KUBECONFIG_SCRIPT } from "./scripts";

/**
 * The Kubernetes provider's `clusterIdentifier`: the cluster's name, which the estate never
 * changes for the same cluster (a new name is a new cluster: replacing the provider and
 * everything under it is then right). Plain and known at preview time on every stack, so the
 * platform stack and the tenant shards give their providers the same one.
 */
export function clusterIdentifierOf(estate: Pick<Estate, "cluster">): string {
  return `k0s/${estate.cluster.name}`;
}

export interface K0sClusterArgs {
  /** The validated estate (`cluster.*`). */
  estate: Estate;
  /** Every node, cloud and dedicated (HetznerCompute.hosts). */
  hosts: Host[];
  /** SSH private key k0sctl uses (secret config `liiibre:sshPrivateKey`). */
  sshPrivateKey: pulumi.Input<string>;
  /** k0s release. Default `K0S_VERSION` from components/versions.ts. */
  k0sVersion?: string;
}

export class K0sCluster extends pulumi.ComponentResource {
  /** The k0sctl document as applied (no secret in it: the key is passed as a file path). */
  readonly k0sctlDocument: pulumi.Output<string>;
  /** Admin kubeconfig (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** The provider every in-cluster resource uses. */
  readonly provider: k8s.Provider;
  /** The arguments of `provider` (the platform contract carries them to tenant shards). */
  readonly providerArgs: { kubeconfig: pulumi.Output<string>; enableServerSideApply: boolean; clusterIdentifier: string };
  readonly apply: command.local.Command;

  constructor(name: string, args: K0sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:k0s:K0sCluster", name, {}, opts);
    const { cluster } = args.estate;

    const hosts = pulumi
      .all(args.hosts.map((h) => pulumi.all([h.publicIpv4, h.privateIpv4])))
      .apply((addrs) =>
        args.hosts.map(
          (h, i): K0sctlHost => ({
            name: h.name,
            kind: h.kind,
            role: h.role,
            address: addrs[i][0],
            privateAddress: addrs[i][1],
            labels: h.labels,
            taints: h.taints,
            reset: h.reset,
          }),
        ),
      );
    const document = (hs: K0sctlHost[]) =>
      stringify(
        k0sctlConfig({
          clusterName: cluster.name,
          k0sVersion: args.k0sVersion ?? K0S_VERSION,
          apiDomain: cluster.apiDomain,
          network: cluster.network,
          ssh: cluster.ssh,
          workerDisruptionPercent: cluster.workerUpgradeConcurrencyPercent,
          hosts: hs,
        }),
        { lineWidth: 0 },
      );
    this.k0sctlDocument = hosts.apply(document);
    // `k0sctl kubeconfig` reads from the first controller of its document: never a reset one.
    const membersDocument = hosts.apply((hs) => document(hs.filter((h) => !h.reset)));

    const members = args.hosts.filter((h) => !h.reset).map((h) => h.name).sort().join(" ");
    const reset = args.hosts.filter((h) => h.reset).map((h) => h.name).sort().join(" ");
    const key = pulumi.secret(args.sshPrivateKey);

    this.apply = new command.local.Command(
      `${name}-apply`,
      {
        create: APPLY_SCRIPT,
        update: APPLY_SCRIPT,
        // No delete: destroying the stack must never reset a running cluster.
        stdin: this.k0sctlDocument,
        environment: { LIIIBRE_SSH_PRIVATE_KEY: key, LIIIBRE_MEMBERS: members, LIIIBRE_RESET: reset },
        addPreviousOutputInEnv: true,
        interpreter: ["/bin/sh", "-c"],
        // k0sctl's progress goes to stderr (logged); stdout is the member list.
        logging: "stderr",
      },
      // Servers up and attached first (their addresses alone do not order the creation).
      { parent: this, dependsOn: args.hosts.flatMap((h) => h.dependencies) },
    );

    const kubeconfigCmd = new command.local.Command(
      `${name}-kubeconfig`,
      {
        create: KUBECONFIG_SCRIPT,
        stdin: membersDocument,
        environment: { LIIIBRE_SSH_PRIVATE_KEY: key, LIIIBRE_API_DOMAIN: cluster.apiDomain },
        interpreter: ["/bin/sh", "-c"],
        // Fetch again after every apply (new controllers, renewed certificates).
        triggers: [this.apply.stdout],
        // stdout IS the admin kubeconfig: never log it.
        logging: "none",
      },
      { parent: this, dependsOn: [this.apply], additionalSecretOutputs: ["stdout"] },
    );
    this.kubeconfig = pulumi.secret(kubeconfigCmd.stdout);

    this.providerArgs = { kubeconfig: this.kubeconfig, enableServerSideApply: true, clusterIdentifier: clusterIdentifierOf(args.estate) };
    this.provider = new k8s.Provider(
      `${name}-provider`,
      this.providerArgs,
      { parent: this },
    );

    this.registerOutputs({ kubeconfig: this.kubeconfig, k0sctlDocument: this.k0sctlDocument });
  }
}
