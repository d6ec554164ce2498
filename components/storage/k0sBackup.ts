/**
 * The cluster's own state off-site: a daily `k0s backup` (etcd, PKI, k0s config and manifests;
 * NOT PersistentVolumes) on every controller, uploaded to the Helsinki bucket `liiibre-k0s`
 * under `<controller>/`.
 *
 * k0s controllers run no kubelet (unless `controller+worker`), so this cannot be a CronJob: a
 * systemd timer is installed on each controller over SSH (`command.remote.Command`, re-run
 * when the installed files change). The upload uses Debian's curl (`--aws-sigv4`), no extra
 * binary. The Helsinki user may only PUT objects into that bucket: a compromised controller
 * can neither read other backups nor delete them (the bucket is versioned besides).
 * Backups hold the cluster CA's private keys: the bucket is the most sensitive one in Helsinki.
 */
import * as command from "@pulumi/command";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { Estate } from "../config";
import { S3User } from "./s3User";
import { K0S_BACKUP_BUCKET, S3_REGION, bucketArn, objectsArn, type PolicyDocument } from "./settings";

export interface K0sBackupArgs {
  estate: Estate;
  /** The controllers (hosts with a controller role): name and SSH address. */
  controllers: Array<{ name: string; publicIpv4: pulumi.Input<string> }>;
  sshPrivateKey: pulumi.Input<string>;
  backupMinio: minio.Provider;
  /** Host of the Helsinki S3 endpoint. */
  backupHost: string;
}

export const K0S_BACKUP_USER = "k0s-backup";
/** Time of the daily backup (systemd OnCalendar, UTC), before the tenants' k8up backups. */
export const K0S_BACKUP_CALENDAR = "*-*-* 01:00:00 UTC";

/** Write-only access to the k0s backup bucket. */
export function k0sBackupPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Bucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [bucketArn(K0S_BACKUP_BUCKET)] },
      { Sid: "PutOnly", Effect: "Allow", Action: ["s3:PutObject"], Resource: [objectsArn(K0S_BACKUP_BUCKET)] },
    ],
  };
}

/** The backup script run by the systemd service (reads /etc/liiibre/k0s-backup.env). */
export function k0sBackupScript(backupHost: string): string {
  return `#!/bin/sh
# k0s backup (etcd, PKI, config) to the Helsinki MinIO. Installed by Pulumi (components/storage/k0sBackup.ts).
set -eu
. /etc/liiibre/k0s-backup.env
dir=/var/lib/liiibre/k0s-backup
mkdir -p "$dir"
/usr/local/bin/k0s backup --save-path "$dir"
file=$(ls -t "$dir"/k0s_backup_*.tar.gz | head -n 1)
sum=$(sha256sum "$file" | cut -d' ' -f1)
# The credentials reach curl as its config on stdin (printf is a shell builtin), never argv.
printf 'user = "%s:%s"\\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" | curl -K - -fsS --retry 5 --aws-sigv4 "aws:amz:${S3_REGION}:s3" \\
  -H "x-amz-content-sha256: $sum" -T "$file" \\
  "https://${backupHost}/${K0S_BACKUP_BUCKET}/$(hostname)/$(basename "$file")"
# Keep three days locally (a quick restore without Helsinki).
find "$dir" -name 'k0s_backup_*.tar.gz' -mtime +3 -delete
`;
}

const SERVICE = `[Unit]
Description=k0s backup to the Helsinki MinIO
After=network-online.target k0scontroller.service
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/liiibre-k0s-backup
`;
const TIMER = `[Unit]
Description=Daily k0s backup to the Helsinki MinIO

[Timer]
OnCalendar=${K0S_BACKUP_CALENDAR}
RandomizedDelaySec=15min
Persistent=true

[Install]
WantedBy=timers.target
`;

/** What the SSH command runs: writes the files (credentials come on stdin) and enables the timer. */
export function k0sBackupInstallScript(backupHost: string): string {
  const heredoc = (path: string, mode: string, body: string) => `install -d -m 0755 "$(dirname ${path})"\ncat > ${path} <<'LIIIBRE_EOF'\n${body}LIIIBRE_EOF\nchmod ${mode} ${path}\n`;
  return `set -eu
command -v curl >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl) </dev/null  # stdin carries the credentials
install -d -m 0700 /etc/liiibre
umask 077
cat > /etc/liiibre/k0s-backup.env
umask 022
${heredoc("/usr/local/sbin/liiibre-k0s-backup", "0755", k0sBackupScript(backupHost))}${heredoc("/etc/systemd/system/liiibre-k0s-backup.service", "0644", SERVICE)}${heredoc("/etc/systemd/system/liiibre-k0s-backup.timer", "0644", TIMER)}systemctl daemon-reload
systemctl enable --now liiibre-k0s-backup.timer
`;
}

export const K0S_BACKUP_UNINSTALL = "systemctl disable --now liiibre-k0s-backup.timer || true";

export class K0sBackup extends pulumi.ComponentResource {
  constructor(name: string, args: K0sBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:storage:K0sBackup", name, {}, opts);
    const user = new S3User(`${name}-user`, { userName: K0S_BACKUP_USER, policy: k0sBackupPolicy(), minioProvider: args.backupMinio }, { parent: this });
    const script = k0sBackupInstallScript(args.backupHost);
    const digest = createHash("sha256").update(script).digest("hex").slice(0, 16);
    const ssh = args.estate.cluster.ssh;
    for (const c of args.controllers) {
      new command.remote.Command(
        `${name}-${c.name}`,
        {
          connection: { host: c.publicIpv4, user: ssh.user, port: ssh.port, privateKey: args.sshPrivateKey },
          create: script,
          delete: K0S_BACKUP_UNINSTALL,
          stdin: pulumi.secret(pulumi.interpolate`S3_ACCESS_KEY=${user.userName}\nS3_SECRET_KEY=${user.secretKey}\n`),
          triggers: [digest],
          logging: "stdoutAndStderr",
        },
        { parent: this, dependsOn: [user] },
      );
    }
    this.registerOutputs({});
  }
}
