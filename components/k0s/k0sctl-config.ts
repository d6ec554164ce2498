/**
 * The k0sctl `Cluster` document (apiVersion k0sctl.k0sproject.io/v1beta1), built by a pure
 * function from typed inputs so that it can be tested directly and diffed in previews.
 *
 * Reference: k0sctl docs/configuration.md (hosts[*].role/ssh/privateAddress/installFlags/
 * hostname/reset, k0s.version/config, options.concurrency.workerDisruptionPercent) and the
 * k0s ClusterConfig (api.sans, network.provider/podCIDR/serviceCIDR/nodeLocalLoadBalancing,
 * telemetry.enabled). k0sctl substitutes `${VAR}` in the whole document before parsing: the
 * document must contain no other `$`.
 */
import type { NodeRole, Taint } from "../hetzner/nodes";

/**
 * Hook run on cloud hosts right after k0sctl has connected and detected the OS (`connect.after`,
 * k0sctl >= 0.26), before PrepareHosts installs packages and k0s binaries: a fresh server may
 * still be running cloud-init (apt, sysctls), and the two must not race. (`apply.before` ran
 * only after PrepareHosts and InstallBinaries: too late.)
 */
export const CLOUD_INIT_WAIT = "cloud-init status --wait > /dev/null 2>&1 || true";

/**
 * Hook run on every host (dedicated ones have no cloud-init; older cloud servers' user data is
 * frozen): unattended security upgrades, without automatic reboot, installed and
 * switched on idempotently at every apply; reboots are coordinated by kured (docs/operations.md).
 * No `$` in it: k0sctl expands variables in the whole document.
 */
export const UNATTENDED_UPGRADES_HOOK =
  "dpkg -s unattended-upgrades > /dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unattended-upgrades > /dev/null); " +
  "printf 'APT::Periodic::Update-Package-Lists \"1\";\\nAPT::Periodic::Unattended-Upgrade \"1\";\\n' > /etc/apt/apt.conf.d/20auto-upgrades; " +
  "printf 'Unattended-Upgrade::Automatic-Reboot \"false\";\\n' > /etc/apt/apt.conf.d/52liiibre-unattended-upgrades";

/** Environment variable holding the path of the SSH private key file while k0sctl runs. */
export const SSH_KEY_PATH_VAR = "K0SCTL_SSH_KEY_PATH";

export interface K0sctlHost {
  name: string;
  kind: "cloud" | "dedicated";
  role: NodeRole;
  /** SSH address (public IPv4). */
  address: string;
  /** Address on the private network. */
  privateAddress: string;
  labels: Record<string, string>;
  taints: Taint[];
  reset: boolean;
}

export interface K0sctlInput {
  clusterName: string;
  /** k0s release (components/versions.ts K0S_VERSION). */
  k0sVersion: string;
  /** DNS name of the API, added to the certificate SANs. */
  apiDomain: string;
  network: { provider: "kuberouter" | "calico"; podCIDR: string; serviceCIDR: string };
  ssh: { user: string; port: number };
  /** Max share of workers disrupted at once during upgrades (k0sctl workerDisruptionPercent). */
  workerDisruptionPercent: number;
  hosts: K0sctlHost[];
}

/** k0s node labels flag value: `k=v,k2=v2`, keys sorted (stable document). */
export const labelsFlag = (labels: Record<string, string>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");

/** k0s taints flag value: `key=value:Effect,…` (`key:Effect` when the value is empty). */
export const taintsFlag = (taints: Taint[]): string =>
  taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).join(",");

/** Provider ID given to dedicated nodes so that the hcloud CCM leaves them alone (hcloud-cloud-controller-manager#753). */
export const dedicatedProviderId = (name: string): string => `liiibre-dedicated://${name}`;

/** Flags for `k0s install` on one host. Pure controllers are not Kubernetes nodes: no node flags. */
export function installFlags(h: K0sctlHost): string[] {
  if (h.role === "controller") return [];
  const flags: string[] = [];
  if (Object.keys(h.labels).length) flags.push(`--labels=${labelsFlag(h.labels)}`);
  if (h.taints.length) flags.push(`--taints=${taintsFlag(h.taints)}`);
  if (h.kind === "cloud") {
    // kubelet --cloud-provider=external: the hcloud CCM initialises cloud nodes.
    flags.push("--enable-cloud-provider");
  } else {
    flags.push(`--kubelet-extra-args=--provider-id=${dedicatedProviderId(h.name)}`);
  }
  return flags;
}

/** The k0s `ClusterConfig` embedded in `spec.k0s.config`. */
export function k0sClusterConfig(input: K0sctlInput) {
  const controllers = input.hosts.filter((h) => h.role !== "worker" && !h.reset).sort((a, b) => a.name.localeCompare(b.name));
  const sans = [input.apiDomain, ...controllers.flatMap((h) => [h.address, h.privateAddress])].filter((v, i, a) => v && a.indexOf(v) === i);
  return {
    apiVersion: "k0s.k0sproject.io/v1beta1",
    kind: "ClusterConfig",
    metadata: { name: input.clusterName },
    spec: {
      api: { sans },
      network: {
        provider: input.network.provider,
        podCIDR: input.network.podCIDR,
        serviceCIDR: input.network.serviceCIDR,
        // Workers balance the API over every controller themselves: no external load balancer.
        nodeLocalLoadBalancing: { enabled: true, type: "EnvoyProxy" },
      },
      telemetry: { enabled: false },
    },
  };
}

/** The whole k0sctl `Cluster` document. Hosts are sorted by name (stable whatever the config order). */
export function k0sctlConfig(input: K0sctlInput) {
  const hosts = [...input.hosts].sort((a, b) => a.name.localeCompare(b.name));
  return {
    apiVersion: "k0sctl.k0sproject.io/v1beta1",
    kind: "Cluster",
    metadata: { name: input.clusterName },
    spec: {
      hosts: hosts.map((h) => {
        const flags = installFlags(h);
        return {
          role: h.role,
          hostname: h.name,
          ssh: { address: h.address, user: input.ssh.user, port: input.ssh.port, keyPath: `\${${SSH_KEY_PATH_VAR}}` },
          privateAddress: h.privateAddress,
          ...(flags.length ? { installFlags: flags } : {}),
          // A fresh cloud server may still be running cloud-init (packages, sysctls) when SSH is up.
          // Cloud hosts: wait for cloud-init first (it installs unattended-upgrades on new servers);
          // the upgrades hook also covers servers whose user data predates it (userData is ignored).
          hooks: { connect: { after: h.kind === "cloud" ? [CLOUD_INIT_WAIT, UNATTENDED_UPGRADES_HOOK] : [UNATTENDED_UPGRADES_HOOK] } },
          ...(h.reset ? { reset: true } : {}),
        };
      }),
      k0s: { version: input.k0sVersion, config: k0sClusterConfig(input) },
      options: {
        wait: { enabled: true },
        drain: { enabled: true, gracePeriod: "120s", timeout: "300s" },
        concurrency: { limit: 30, workerDisruptionPercent: input.workerDisruptionPercent },
      },
    },
  };
}
