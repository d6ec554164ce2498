/**
 * The k0s layer: the k0sctl document (pure function over the real prod/dev estates), the
 * scripts local.Command runs (executed for real against a fake `k0sctl` on PATH), and the
 * K0sCluster component under the harness (stdin, secrets, logging, provider).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { parseEstate, sshPrivateKey, type Estate } from "../components/estate";
import { HetznerCompute, cloudNodes, dedicatedNodes } from "../components/hetzner";
import { K0sCluster, SSH_KEY_PATH_VAR, k0sctlConfig, type K0sctlHost, type K0sctlInput } from "../components/k0s";
import { APPLY_SCRIPT, KUBECONFIG_SCRIPT } from "../components/k0s/scripts";
import { K0SCTL_VERSION } from "../components/versions";
import { K0S_VERSION } from "../components/versions";
import { MOCK_SECRET_MARKER, evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile } from "../scripts/harness";

const estateOf = (stack: string): Estate => parseEstate(readStackConfig(stackConfigFile(stack)));

/** The estate's hosts with made-up addresses, as K0sCluster feeds them to k0sctlConfig. */
function hostsOf(estate: Estate): K0sctlHost[] {
  const cloud = cloudNodes(estate).map((n, i) => ({
    name: n.name, kind: "cloud" as const, role: n.role, address: `203.0.113.${i + 1}`, privateAddress: `10.0.1.${i + 2}`,
    labels: n.labels, taints: n.taints, reset: n.reset,
  }));
  const dedicated = dedicatedNodes(estate).map((d) => ({
    name: d.name, kind: "dedicated" as const, role: d.role, address: d.server.publicIpv4, privateAddress: d.server.privateIpv4,
    labels: d.labels, taints: d.taints, reset: d.reset,
  }));
  return [...cloud, ...dedicated];
}

function inputOf(estate: Estate, hosts = hostsOf(estate)): K0sctlInput {
  return {
    clusterName: estate.cluster.name,
    k0sVersion: K0S_VERSION,
    apiDomain: estate.cluster.apiDomain,
    network: estate.cluster.network,
    ssh: estate.cluster.ssh,
    workerDisruptionPercent: estate.cluster.workerUpgradeConcurrencyPercent,
    hosts,
  };
}

describe("k0sctl document (prod)", () => {
  const estate = estateOf("prod");
  const doc = k0sctlConfig(inputOf(estate));
  const hosts = doc.spec.hosts;

  it("is a k0sctl Cluster with the pinned k0s version", () => {
    expect(doc.apiVersion).toBe("k0sctl.k0sproject.io/v1beta1");
    expect(doc.kind).toBe("Cluster");
    expect(doc.metadata.name).toBe("ada-lovelace");
    expect(doc.spec.k0s.version).toBe(K0S_VERSION);
    expect(K0S_VERSION).toMatch(/^v\d+\.\d+\.\d+\+k0s\.\d+$/);
  });

  it("lists every host exactly once: 29 cloud servers and the 13 dedicated ones", () => {
    const cloudCount = estate.nodePools.reduce((n, p) => n + (p.cloud?.count ?? 0), 0);
    expect(cloudCount).toBe(29);
    expect(estate.dedicatedServers).toHaveLength(13);
    const names = hosts.map((h) => h.hostname);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(42);
    for (const d of estate.dedicatedServers) expect(names).toContain(d.name);
    const addresses = hosts.map((h) => h.ssh.address);
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it("has an odd number of controllers, at least 3, all cloud servers of the controllers pool", () => {
    const controllers = hosts.filter((h) => h.role === "controller" || h.role === "controller+worker");
    expect(controllers.length % 2).toBe(1);
    expect(controllers.length).toBeGreaterThanOrEqual(3);
    expect(controllers.map((h) => h.hostname)).toEqual(["ada-lovelace-controllers-01", "ada-lovelace-controllers-02", "ada-lovelace-controllers-03"]);
  });

  it("gives each host its pool's role and the SSH user, port and key path from config", () => {
    for (const h of hosts) {
      expect(h.ssh.user).toBe("root");
      expect(h.ssh.port).toBe(22);
      // k0sctl substitutes ${VAR} in the document; the scripts export the temp key path.
      expect(h.ssh.keyPath).toBe(`\${${SSH_KEY_PATH_VAR}}`);
      expect(h.privateAddress).toMatch(/^10\.0\.[12]\.\d+$/);
    }
    const byName = Object.fromEntries(hosts.map((h) => [h.hostname, h]));
    expect(byName["fsn-storage-01"].role).toBe("worker");
    expect(byName["fsn-storage-01"].privateAddress).toBe("10.0.2.31");
    expect(byName["fsn-storage-01"].ssh.address).toBe("136.243.61.111");
    expect(byName["ada-lovelace-general-12"].role).toBe("worker");
  });

  it("passes pool labels and taints as k0s install flags; cloud workers get the external cloud provider, dedicated ones a non-hcloud provider ID", () => {
    const byName = Object.fromEntries(hosts.map((h) => [h.hostname, h]));
    const storage = byName["fsn-storage-01"].installFlags!;
    expect(storage).toContain("--labels=liiibre.org/node-kind=dedicated,liiibre.org/pool=storage,liiibre.org/storage=true,topology.kubernetes.io/region=fsn1");
    expect(storage).toContain("--taints=liiibre.org/storage=true:NoSchedule");
    expect(storage).toContain("--kubelet-extra-args=--provider-id=liiibre-dedicated://fsn-storage-01");
    expect(storage).not.toContain("--enable-cloud-provider");
    const ingress = byName["ada-lovelace-ingress-01"].installFlags!;
    expect(ingress).toContain("--enable-cloud-provider");
    expect(ingress).toContain("--taints=liiibre.org/ingress=true:NoSchedule");
    expect(ingress.find((f) => f.startsWith("--labels="))).toContain("liiibre.org/ingress=true");
    // Pure controllers are not Kubernetes nodes: no node flags.
    expect(byName["ada-lovelace-controllers-01"].installFlags).toBeUndefined();
    // Cloud hosts wait for cloud-init right after k0sctl connects (connect.after), before
    // PrepareHosts installs anything; dedicated boxes (no cloud-init) get unattended upgrades there.
    const cloud = byName["ada-lovelace-ingress-01"].hooks;
    expect(Object.keys(cloud)).toEqual(["connect"]); // nothing left in apply.before (too late: after PrepareHosts)
    expect(cloud.connect.after[0]).toBe("cloud-init status --wait > /dev/null 2>&1 || true");
    expect(cloud.connect.after[1]).toContain("unattended-upgrades");
    const dedicated = byName["fsn-storage-01"].hooks.connect.after;
    expect(dedicated).toHaveLength(1);
    expect(dedicated[0]).toContain("apt-get install -y -qq unattended-upgrades");
    expect(dedicated[0]).toContain('APT::Periodic::Unattended-Upgrade "1"');
  });

  it("embeds a k0s ClusterConfig: API SANs with the API domain, network from config, telemetry off, NLLB", () => {
    const cfg = doc.spec.k0s.config;
    expect(cfg.apiVersion).toBe("k0s.k0sproject.io/v1beta1");
    expect(cfg.kind).toBe("ClusterConfig");
    expect(cfg.spec.api.sans).toContain("api.ada-lovelace.liiibre.coop");
    expect(cfg.spec.api.sans).toContain("203.0.113.1"); // controllers-01's public address
    expect(cfg.spec.network).toMatchObject({ provider: "kuberouter", podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12" });
    expect(cfg.spec.network.nodeLocalLoadBalancing).toEqual({ enabled: true, type: "EnvoyProxy" });
    expect(cfg.spec.telemetry.enabled).toBe(false);
  });

  it("upgrades workers in batches of cluster.workerUpgradeConcurrencyPercent", () => {
    expect(doc.spec.options.concurrency.workerDisruptionPercent).toBe(estate.cluster.workerUpgradeConcurrencyPercent);
    const custom = k0sctlConfig({ ...inputOf(estate), workerDisruptionPercent: 25 });
    expect(custom.spec.options.concurrency.workerDisruptionPercent).toBe(25);
  });

  it("does not depend on the order of pools or servers", () => {
    const shuffled = [...hostsOf(estate)].reverse();
    expect(k0sctlConfig(inputOf(estate, shuffled))).toEqual(doc);
  });

  it("marks hosts being removed with reset: true and keeps them out of the API SANs", () => {
    const raw = readStackConfig(stackConfigFile("prod"));
    const pools = (raw.nodePools as Array<Record<string, any>>).map((p) => (p.name === "general" ? { ...p, cloud: { ...p.cloud, reset: [12] } } : p));
    const servers = (raw.dedicatedServers as Array<Record<string, any>>).map((d) => (d.name === "fsn-apps-09" ? { ...d, reset: true } : d));
    const e = parseEstate({ ...raw, nodePools: pools, dedicatedServers: servers });
    const d = k0sctlConfig(inputOf(e));
    const reset = d.spec.hosts.filter((h) => h.reset === true).map((h) => h.hostname);
    expect(reset.sort()).toEqual(["ada-lovelace-general-12", "fsn-apps-09"]);
    expect(d.spec.hosts).toHaveLength(42); // still listed: k0sctl drains and resets them
  });

  it("serialises to YAML without any `$` other than the key path variable (k0sctl substitutes the whole file)", async () => {
    const { stringify } = await import("yaml");
    const text = stringify(doc);
    expect(text.replace(/\$\{K0SCTL_SSH_KEY_PATH\}/g, "")).not.toContain("$");
    expect(parseYaml(text)).toEqual(doc);
  });
});

// -------------------------------------------------------------------------------------
// The scripts, run for real with /bin/sh against a fake k0sctl
// -------------------------------------------------------------------------------------

const FAKE_K0SCTL = `#!/bin/sh
# \`k0sctl version\` prints "version: vX.Y.Z" (k0sctl cmd/version.go); FAKE_VERSION says which.
if [ "$1" = version ]; then printf 'version: %s\\ncommit: 0000000\\n' "$FAKE_VERSION"; exit 0; fi
log="$FAKE_LOG"
printf '%s\\n' "$*" >> "$log/args"
cat > "$log/stdin"
printf '%s\\n' "$${SSH_KEY_PATH_VAR}" > "$log/keypath"
stat -c %a "$${SSH_KEY_PATH_VAR}" > "$log/keyperm"
cat "$${SSH_KEY_PATH_VAR}" > "$log/key"
env > "$log/env"
if [ "$1" = kubeconfig ]; then printf 'apiVersion: v1\\nkind: Config\\n'; else echo "k0sctl progress" >&2; fi
`;

function runScript(script: string, env: Record<string, string>, stdin: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k0sctl-"));
  const bin = path.join(dir, "bin");
  const log = path.join(dir, "log");
  fs.mkdirSync(bin);
  fs.mkdirSync(log);
  fs.writeFileSync(path.join(bin, "k0sctl"), FAKE_K0SCTL, { mode: 0o755 });
  const res = spawnSync("/bin/sh", ["-c", script], {
    input: stdin,
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_LOG: log, TMPDIR: dir, FAKE_VERSION: K0SCTL_VERSION, ...env },
    encoding: "utf8",
  });
  const read = (f: string) => (fs.existsSync(path.join(log, f)) ? fs.readFileSync(path.join(log, f), "utf8") : undefined);
  return { ...res, read, dir };
}

describe("k0sctl apply script", () => {
  const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----";
  const env = { LIIIBRE_SSH_PRIVATE_KEY: KEY, LIIIBRE_MEMBERS: "a b c", LIIIBRE_RESET: "" };

  it("pipes the document to `k0sctl apply --config -` with the key in a 0600 file that is removed afterwards", () => {
    const r = runScript(APPLY_SCRIPT, env, "apiVersion: k0sctl.k0sproject.io/v1beta1\n");
    expect(r.status).toBe(0);
    expect(r.read("args")).toBe("apply --config -\n");
    expect(r.read("stdin")).toBe("apiVersion: k0sctl.k0sproject.io/v1beta1\n");
    expect(r.read("keyperm")).toBe("600\n");
    expect(r.read("key")).toBe(`${KEY}\n`);
    const keyPath = r.read("keypath")!.trim();
    expect(keyPath.startsWith(r.dir)).toBe(true);
    expect(fs.existsSync(keyPath)).toBe(false);
    // k0sctl itself never sees the key in its environment; its progress goes to stderr.
    expect(r.read("env")).not.toContain("not-a-real-key");
    expect(r.stderr).toContain("k0sctl progress");
    expect(r.stdout).toBe("members=a b c\nreset=\n");
  });

  it("refuses to drop a member that was not reset first (previous stdout lists it)", () => {
    const r = runScript(APPLY_SCRIPT, { ...env, LIIIBRE_MEMBERS: "a b", PULUMI_COMMAND_STDOUT: "members=a b c\nreset=\n" }, "doc");
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("node c left the configuration without being reset first");
    expect(r.read("args")).toBeUndefined(); // k0sctl never ran
  });

  it("accepts the removal once the node is marked reset, then its deletion from config", () => {
    const resetting = runScript(APPLY_SCRIPT, { ...env, LIIIBRE_MEMBERS: "a b", LIIIBRE_RESET: "c", PULUMI_COMMAND_STDOUT: "members=a b c\nreset=\n" }, "doc");
    expect(resetting.status).toBe(0);
    expect(resetting.stdout).toBe("members=a b\nreset=c\n");
    const removed = runScript(APPLY_SCRIPT, { ...env, LIIIBRE_MEMBERS: "a b", PULUMI_COMMAND_STDOUT: resetting.stdout }, "doc");
    expect(removed.status).toBe(0);
  });

  it("refuses a k0sctl other than the pinned one (components/versions.ts), before touching the cluster", () => {
    const r = runScript(APPLY_SCRIPT, { ...env, FAKE_VERSION: "v0.25.1" }, "doc");
    expect(r.status).toBe(127);
    expect(r.stderr).toContain(`k0sctl ${K0SCTL_VERSION} is required`);
    expect(r.stderr).toContain("found v0.25.1");
    expect(r.read("args")).toBeUndefined(); // apply never ran
  });

  it("fails clearly when k0sctl is missing", () => {
    const r = spawnSync("/bin/sh", ["-c", APPLY_SCRIPT], { input: "doc", env: { PATH: "/nonexistent", ...env }, encoding: "utf8" });
    expect(r.status).not.toBe(0);
  });

  it("kubeconfig script runs `k0sctl kubeconfig` against the API domain and prints only the kubeconfig", () => {
    const r = runScript(KUBECONFIG_SCRIPT, { LIIIBRE_SSH_PRIVATE_KEY: KEY, LIIIBRE_API_DOMAIN: "api.example.org" }, "doc");
    expect(r.status).toBe(0);
    expect(r.read("args")).toBe("kubeconfig --config - --address https://api.example.org:6443\n");
    expect(r.stdout).toBe("apiVersion: v1\nkind: Config\n");
  });

  it("is valid POSIX sh", () => {
    for (const s of [APPLY_SCRIPT, KUBECONFIG_SCRIPT]) expect(() => execFileSync("/bin/sh", ["-n", "-c", s])).not.toThrow();
  });
});

// -------------------------------------------------------------------------------------
// The component under the harness
// -------------------------------------------------------------------------------------

describe("K0sCluster", () => {
  const run = () =>
    evaluate({
      config: readStackConfig(stackConfigFile("prod")),
      program: (estate) => {
        const compute = new HetznerCompute("estate", { estate });
        const cluster = new K0sCluster(estate.cluster.name, { estate, hosts: compute.hosts, sshPrivateKey: sshPrivateKey() });
        return { kubeconfigIsSecret: pulumi.isSecret(cluster.kubeconfig), doc: cluster.k0sctlDocument };
      },
    });

  it("applies the generated document through local.Command, key secret, k0sctl output not logged on stdout, no delete", async () => {
    const ev = await run();
    const apply = ev.resources.find((r) => r.type === "command:local:Command" && r.name === "ada-lovelace-apply")!;
    expect(apply.urn).toBe("urn:pulumi:prod::liiibre::liiibre:k0s:K0sCluster$command:local:Command::ada-lovelace-apply");
    const doc = parseYaml(apply.inputs.stdin as string);
    expect(doc.kind).toBe("Cluster");
    expect(doc.spec.hosts).toHaveLength(42);
    expect(doc.spec.k0s.version).toBe(K0S_VERSION);
    expect(apply.inputs.create).toBe(APPLY_SCRIPT);
    expect(apply.inputs.update).toBe(APPLY_SCRIPT);
    expect(apply.inputs.delete).toBeUndefined();
    expect(apply.inputs.logging).toBe("stderr");
    // k0sctl runs once the servers exist and are attached to the private network.
    expect(apply.dependsOn).toContain("urn:pulumi:prod::liiibre::liiibre:hetzner:HetznerCompute$liiibre:hetzner:CloudServer$hcloud:index/server:Server::ada-lovelace-general-12");
    expect(apply.dependsOn).toContain("urn:pulumi:prod::liiibre::liiibre:hetzner:HetznerCompute$liiibre:hetzner:CloudServer$hcloud:index/serverNetwork:ServerNetwork::ada-lovelace-general-12-private");
    expect(apply.dependsOn).toHaveLength(29 * 2 + 19);
    const raw = secretAwareInputs(apply);
    expect(isSecretMarker(raw.environment)).toBe(true);
    expect(JSON.stringify(apply.inputs)).not.toContain(MOCK_SECRET_MARKER);
  });

  it("reads the kubeconfig from a document without the hosts being reset (k0sctl reads from the first controller)", async () => {
    const raw = readStackConfig(stackConfigFile("prod"));
    raw.nodePools = (raw.nodePools as any[]).map((p) => (p.name === "controllers" ? { ...p, cloud: { ...p.cloud, count: 4, reset: [1] } } : p));
    const ev = await evaluate({
      config: raw,
      program: (estate) => {
        const compute = new HetznerCompute("estate", { estate });
        new K0sCluster(estate.cluster.name, { estate, hosts: compute.hosts, sshPrivateKey: sshPrivateKey() });
        return {};
      },
    });
    const applied = parseYaml(ev.resources.find((r) => r.name === "ada-lovelace-apply")!.inputs.stdin as string);
    const read = parseYaml(ev.resources.find((r) => r.name === "ada-lovelace-kubeconfig")!.inputs.stdin as string);
    expect(applied.spec.hosts.find((h: any) => h.hostname === "ada-lovelace-controllers-01").reset).toBe(true);
    expect(read.spec.hosts.map((h: any) => h.hostname)).not.toContain("ada-lovelace-controllers-01");
    expect(read.spec.hosts.filter((h: any) => h.role === "controller")[0].hostname).toBe("ada-lovelace-controllers-02");
  });

  it("reads the kubeconfig with logging off, as a secret, and builds the provider from it", async () => {
    const ev = await run();
    const kc = ev.resources.find((r) => r.name === "ada-lovelace-kubeconfig")!;
    expect(kc.inputs.logging).toBe("none");
    expect(kc.dependsOn).toContain("urn:pulumi:prod::liiibre::liiibre:k0s:K0sCluster$command:local:Command::ada-lovelace-apply");
    const provider = ev.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.inputs.kubeconfig).toBe("[secret]");
    expect(ev.outputs.kubeconfigIsSecret).toBe(true);
  });
});
