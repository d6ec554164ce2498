/**
 * What the mocked engine answers when a resource is registered: its inputs echoed back plus
 * the outputs a real provider would compute (ids, addresses, generated passwords…), fake
 * but deterministic. Fake secrets all carry MOCK_SECRET_MARKER so that tests can prove no
 * secret reaches a report.
 */
import { createHash } from "node:crypto";

export const MOCK_SECRET_MARKER = "MOCKSECRET";

const hash = (s: string) => createHash("sha256").update(s).digest();
/**
 * Unique fake addresses: `first` host numbers from `pool`, starting at the name's hash and
 * probing upwards on a collision, so that two resources never share an address (k0sctl refuses
 * duplicate host addresses, and the twin checks uniqueness as ops would see it). A name keeps
 * its address for the life of the process; the program registers in a fixed order, so the
 * assignment is deterministic.
 */
class AddressPool {
  private readonly byName = new Map<string, string>();
  private readonly used = new Set<number>();
  constructor(private readonly prefix: string, private readonly first: number, private readonly size: number) {}
  of(name: string): string {
    const known = this.byName.get(name);
    if (known) return known;
    const start = hash(name).readUInt16BE(0) % this.size;
    for (let i = 0; i < this.size; i++) {
      const host = this.first + ((start + i) % this.size);
      if (this.used.has(host)) continue;
      this.used.add(host);
      const ip = `${this.prefix}${host}`;
      this.byName.set(name, ip);
      return ip;
    }
    throw new Error(`mock address pool ${this.prefix}0 is exhausted (${this.size} addresses)`);
  }
}
const publicV4 = new AddressPool("198.51.100.", 1, 254);
const cloudSubnetV4 = new AddressPool("10.0.1.", 2, 250);

/** A deterministic address in TEST-NET-2 (198.51.100.0/24) for a resource name, unique per name. */
export const fakeIpv4 = (name: string) => publicV4.of(name);
const fakeIpv6 = (name: string) => `2001:db8:${hash(name).subarray(0, 2).toString("hex")}::1`;
const secret = (name: string, what: string) => `${MOCK_SECRET_MARKER}-${what}-${name}`;

const FAKE_KUBECONFIG = (name: string) => `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: https://mock-api.invalid:6443
    certificate-authority-data: ${Buffer.from(secret(name, "ca")).toString("base64")}
users:
- name: admin
  user:
    client-certificate-data: ${Buffer.from(secret(name, "cert")).toString("base64")}
    client-key-data: ${Buffer.from(secret(name, "key")).toString("base64")}
contexts:
- name: ${name}
  context: { cluster: ${name}, user: admin }
current-context: ${name}
`;

type Outputs = (name: string, inputs: Record<string, any>) => Record<string, unknown>;

/** Per resource type: outputs computed by the provider. */
export const PROVIDER_OUTPUTS: Record<string, Outputs> = {
  "random:index/randomPassword:RandomPassword": (n) => ({ result: secret(n, "password"), bcryptHash: secret(n, "bcrypt") }),
  "random:index/randomString:RandomString": (n) => ({ result: secret(n, "string") }),
  "random:index/randomBytes:RandomBytes": (n) => ({ base64: Buffer.from(secret(n, "bytes")).toString("base64"), hex: Buffer.from(secret(n, "bytes")).toString("hex") }),
  "random:index/randomId:RandomId": (n) => ({ hex: hash(n).subarray(0, 8).toString("hex"), b64Std: hash(n).subarray(0, 8).toString("base64") }),
  "random:index/randomUuid:RandomUuid": (n) => ({ result: `00000000-0000-4000-8000-${hash(n).subarray(0, 6).toString("hex")}` }),
  "tls:index/privateKey:PrivateKey": (n) => ({
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${secret(n, "pem")}\n-----END PRIVATE KEY-----\n`,
    privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret(n, "openssh")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    privateKeyPemPkcs8: secret(n, "pkcs8"),
    publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${hash(n).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 43)} ${n}`,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${hash(n).toString("base64")}\n-----END PUBLIC KEY-----\n`,
  }),
  "command:local:Command": (n, i) => ({
    stdout: /kubeconfig/.test(String(i.create ?? "")) ? FAKE_KUBECONFIG(n) : "",
    stderr: "",
  }),
  "hcloud:index/server:Server": (n) => ({ ipv4Address: fakeIpv4(n), ipv6Address: fakeIpv6(n), status: "running" }),
  "hcloud:index/primaryIp:PrimaryIp": (n, i) => ({ ipAddress: i.type === "ipv6" ? fakeIpv6(n) : fakeIpv4(n) }),
  "hcloud:index/floatingIp:FloatingIp": (n) => ({ ipAddress: fakeIpv4(n) }),
  "hcloud:index/loadBalancer:LoadBalancer": (n) => ({ ipv4: fakeIpv4(n), ipv6: fakeIpv6(n) }),
  "hcloud:index/volume:Volume": (n) => ({ linuxDevice: `/dev/disk/by-id/scsi-0HC_Volume_${hash(n).readUInt32BE(0)}` }),
  "hcloud:index/serverNetwork:ServerNetwork": (n, i) => ({ ip: i.ip ?? cloudSubnetV4.of(n) }),
  "hcloud:index/sshKey:SshKey": (n) => ({ fingerprint: hash(n).subarray(0, 16).toString("hex").replace(/(..)(?!$)/g, "$1:") }),
};

/** Numeric ids for hcloud resources (the provider's ids are integers as strings). */
const fakeId = (type: string, name: string) =>
  type.startsWith("hcloud:") ? String(100000 + (hash(`${type}/${name}`).readUInt32BE(0) % 900000)) : `${name}-id`;
/** The id the mocks give a resource: what another resource's input holds when it references it (the estate twin resolves references with it). */
export const mockId = fakeId;

export function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  const extra = PROVIDER_OUTPUTS[type]?.(name, inputs) ?? {};
  return { id: fakeId(type, name), state: { ...inputs, ...extra } };
}
