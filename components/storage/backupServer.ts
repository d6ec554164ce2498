/**
 * The Helsinki backup server: a standalone MinIO that does not depend on the cluster.
 *
 * `backup.server.kind: cloud` creates, in `hetzner.locations.backup`:
 * - one protected `hcloud.Volume` per `backup.server.volumesGB` entry (XFS, MinIO drives);
 * - its own `hcloud.Firewall`: S3 (443) from the estate's node addresses and the admin CIDRs,
 *   SSH (22) from the admin CIDRs only, HTTP (80) from anywhere for Let's Encrypt's HTTP-01
 *   challenge (certbot listens only while it renews);
 * - the `hcloud.Server` (delete and rebuild protection, `protect`), its cloud-init installing
 *   the pinned MinIO under systemd (backupCloudInit.ts). `userData` changes are ignored: a new
 *   MinIO release is rolled by hand (docs/storage.md), never by replacing the server.
 * `kind: dedicated` creates no server: the declared box is prepared with the same cloud-config.
 *
 * Either way: the MinIO root password (random, protected) and a `@pulumi/minio` provider for it.
 */
import * as hcloud from "@pulumi/hcloud";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Estate } from "../config";
import { HCLOUD_LABELS } from "../conventions";
import { renderBackupCloudInit } from "./backupCloudInit";
import { S3_REGION } from "./settings";

export interface BackupServerArgs {
  estate: Estate;
  /** Public addresses of the estate's nodes as CIDRs (`HetznerCompute.nodeCidrs`): they may reach S3. */
  nodeCidrs: pulumi.Input<pulumi.Input<string>[]>;
  /** Hetzner SSH keys (names or ids) installed on the server. Default none (cloud kind only). */
  sshKeys?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Root user of the backup MinIO (its password is random). */
export const BACKUP_ROOT_USER = "liiibre-admin";

export class BackupServer extends pulumi.ComponentResource {
  /** The `@pulumi/minio` provider of the Helsinki MinIO. */
  public readonly provider: minio.Provider;
  /** Public IPv4 of the server (cloud kind), or the declared box's. */
  public readonly ipv4: pulumi.Output<string>;
  public readonly rootPassword: pulumi.Output<string>;
  /** The arguments of `provider` (the platform contract carries them to tenant shards). */
  public readonly providerArgs: { minioServer: string; minioSsl: boolean; minioRegion: string; minioUser: string; minioPassword: pulumi.Output<string> };

  constructor(name: string, args: BackupServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:BackupServer", name, {}, opts);
    const { estate } = args;
    const domain = estate.backup.s3Domain;
    const location = estate.hetzner.locations.backup;
    const cluster = estate.cluster.name;
    const labels = { [HCLOUD_LABELS.cluster]: cluster, [HCLOUD_LABELS.role]: "backup", [HCLOUD_LABELS.location]: location };

    const password = new random.RandomPassword(`${name}-root-password`, { length: 48, special: false }, { parent: this, protect: true });
    this.rootPassword = pulumi.secret(password.result);

    const server = estate.backup.server;
    /** What the provider waits for (the server must exist before anything talks to its MinIO). */
    const ready: pulumi.Resource[] = [];
    if (server.kind === "cloud") {
      const volumes = server.volumesGB.map(
        (size, i) =>
          new hcloud.Volume(
            `${name}-data-${i + 1}`,
            { name: `${cluster}-backup-${i + 1}`, size, location, format: "xfs", deleteProtection: true, labels },
            { parent: this, protect: true, retainOnDelete: true },
          ),
      );
      const adminCidrs = estate.hetzner.adminCidrs;
      const firewall = new hcloud.Firewall(
        `${name}-firewall`,
        {
          name: `${cluster}-backup`,
          labels,
          rules: [
            {
              description: "S3 from the estate's nodes and the admins",
              direction: "in",
              protocol: "tcp",
              port: "443",
              sourceIps: pulumi.output(args.nodeCidrs).apply((nodes) => [...new Set([...nodes, ...adminCidrs])]),
            },
            { description: "SSH from the admins", direction: "in", protocol: "tcp", port: "22", sourceIps: adminCidrs },
            { description: "Let's Encrypt HTTP-01 (certbot standalone)", direction: "in", protocol: "tcp", port: "80", sourceIps: ["0.0.0.0/0", "::/0"] },
          ],
        },
        { parent: this },
      );
      const userData = pulumi.secret(
        pulumi
          .all([password.result, ...volumes.map((v) => v.linuxDevice)])
          .apply(([rootPassword, ...devices]) =>
            renderBackupCloudInit({ domain, acmeEmail: estate.cluster.letsEncryptEmail, devices, rootUser: BACKUP_ROOT_USER, rootPassword }),
          ),
      );
      const vm = new hcloud.Server(
        `${name}-server`,
        {
          name: `${cluster}-backup-${location}`,
          serverType: server.serverType,
          image: "debian-12",
          location,
          labels,
          sshKeys: args.sshKeys,
          firewallIds: [firewall.id.apply((id) => Number(id))],
          userData,
          publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
          deleteProtection: true,
          rebuildProtection: true,
          shutdownBeforeDeletion: true,
        },
        // Like the nodes (components/hetzner/cloud-server.ts): a change of user data, image or
        // SSH keys would make Hetzner replace the server holding the backups; keys are rotated
        // on the host, not by rebuilding it.
        { parent: this, protect: true, ignoreChanges: ["userData", "image", "sshKeys"] },
      );
      ready.push(vm);
      volumes.forEach((v, i) =>
        ready.push(
          new hcloud.VolumeAttachment(
            `${name}-data-${i + 1}`,
            { volumeId: v.id.apply((id) => Number(id)), serverId: vm.id.apply((id) => Number(id)), automount: false },
            { parent: this },
          ),
        ),
      );
      this.ipv4 = vm.ipv4Address;
    } else {
      const box = estate.dedicatedServers.find((d) => d.name === server.name);
      if (!box) throw new Error(`liiibre:backup.server.name: no dedicatedServers entry named "${server.name}"`);
      this.ipv4 = pulumi.output(box.publicIpv4);
    }

    this.providerArgs = { minioServer: `${domain}:443`, minioSsl: true, minioRegion: S3_REGION, minioUser: BACKUP_ROOT_USER, minioPassword: this.rootPassword };
    this.provider = new minio.Provider(
      `${name}-minio`,
      this.providerArgs,
      { parent: this, dependsOn: ready },
    );
    this.registerOutputs({ ipv4: this.ipv4 });
  }
}
