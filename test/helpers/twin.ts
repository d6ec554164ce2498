/**
 * Small estates for the twin's tests: the dev configuration (1 controller, 2 cloud workers of
 * type cpx31 with a 100 GB volume each), with the Kubernetes objects, MinIO users, firewalls
 * and k0sctl document each test declares. Nothing is evaluated: the twin's input is plain data.
 */
import { stringify } from "yaml";
import { parseEstate, type Estate } from "../../components/estate";
import { cloudNodes } from "../../components/hetzner/nodes";
import { readStackConfig, stackConfigFile } from "../../scripts/harness";
import { TWIN_CHECKS, runTwin } from "../../scripts/twin";
import type { TwinFinding, TwinInput } from "../../scripts/twin/model";

type Res = TwinInput["resources"][number];

export function devEstate(edit?: (raw: Record<string, any>) => void): Estate {
  const raw = readStackConfig(stackConfigFile("dev")) as Record<string, any>;
  // Fixed here, whatever dev's file says: the tests' arithmetic counts on these two workers.
  raw.nodePools[1].cloud = { serverType: "cpx31", count: 2, volumeGB: 100 };
  edit?.(raw);
  return parseEstate(raw);
}

/** Prod's configuration (13 dedicated servers beside the cloud pools). */
export function prodEstate(): Estate {
  return parseEstate(readStackConfig(stackConfigFile("prod")));
}

let n = 0;
export function res(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<Res> = {}): Res {
  return {
    urn: `urn:pulumi:test::liiibre::${type}::${name}-${n++}`, type, name, parent: null, custom: true, inputs,
    protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], replaceOnChanges: [], aliases: [], dependsOn: [], provider: null, tenant: null, stack: "test", ...extra,
  };
}

/** A Kubernetes object as the program would declare it. */
export function k8s(apiVersion: string, kind: string, namespace: string | null, name: string, body: Record<string, unknown> = {}, extra: Partial<Res> = {}): Res {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return res(`kubernetes:${group}/${version}:${kind}`, name, { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}), ...((body.metadata as object) ?? {}) }, ...Object.fromEntries(Object.entries(body).filter(([k]) => k !== "metadata")) }, extra);
}

export const deployment = (ns: string, name: string, pod: Record<string, unknown>, replicas = 1, labels: Record<string, string> = { app: name }) =>
  k8s("apps/v1", "Deployment", ns, name, { spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } } });

export const namespace = (name: string, labels: Record<string, string> = {}) => k8s("v1", "Namespace", null, name, { metadata: { labels } });

/** The k0sctl apply command with the dev nodes at distinct addresses (or the ones given). */
export function k0sctl(estate: Estate, addresses?: Record<string, string>): Res {
  const hosts = cloudNodes(estate).map((h, i) => ({
    role: h.role, hostname: h.name, ssh: { address: addresses?.[h.name] ?? `198.51.100.${10 + i}` }, privateAddress: `10.0.1.${10 + i}`,
  }));
  return res("command:local:Command", "apply", { create: "k0sctl apply --config -", stdin: stringify({ apiVersion: "k0sctl.k0sproject.io/v1beta1", kind: "Cluster", spec: { hosts } }) });
}

export function input(estate: Estate, resources: Res[], more: Partial<TwinInput> = {}): TwinInput {
  return { stack: "test", estate, resources: [k0sctl(estate), ...resources], tenants: [], secretKeys: {}, ...more };
}

/** Findings of one check (by name) on an input. */
export async function findings(i: TwinInput, check: string): Promise<TwinFinding[]> {
  const c = TWIN_CHECKS.find((x) => x.name === check);
  if (!c) throw new Error(`no twin check ${check}`);
  return (await runTwin(i, [c])).findings;
}

/** A MinIO user made like S3User makes one: user, policy, attachment and credentials Secret under one parent. */
export function s3User(server: "primary" | "backup", userName: string, policy: object, secret?: { namespace: string; name: string; keys: string[] }): { resources: Res[]; secretKeys: Record<string, string[]> } {
  const parent = `urn:pulumi:test::liiibre::liiibre:storage:S3User::${userName}`;
  const provider = `urn:pulumi:test::liiibre::pulumi:providers:minio::storage-${server}-minio`;
  const out: Res[] = [
    res("liiibre:storage:S3User", userName, {}, { urn: parent, custom: false }),
    res("minio:index/iamUser:IamUser", userName, { name: userName, secret: "[secret]" }, { parent, provider }),
    res("minio:index/iamPolicy:IamPolicy", userName, { name: userName, policy: JSON.stringify(policy) }, { parent, provider }),
    res("minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment", userName, { userName, policyName: userName }, { parent, provider }),
  ];
  const secretKeys: Record<string, string[]> = {};
  if (secret) {
    const s = k8s("v1", "Secret", secret.namespace, secret.name, { type: "Opaque", stringData: "[secret]" }, { parent });
    secretKeys[s.urn] = secret.keys;
    out.push(s);
  }
  return { resources: out, secretKeys };
}

export const bucket = (server: "primary" | "backup", name: string) =>
  res("minio:index/s3Bucket:S3Bucket", name, { bucket: name }, { provider: `urn:pulumi:test::liiibre::pulumi:providers:minio::storage-${server}-minio` });
