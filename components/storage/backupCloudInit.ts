/**
 * The cloud-config of the Helsinki backup server (Debian 12): a standalone MinIO under
 * systemd, listening on 443 with a Let's Encrypt certificate (certbot, HTTP-01 on port 80),
 * its drives on the attached Hetzner volumes (one XFS file system per volume).
 *
 * Pure function: tests validate its output with Debian's `cloud-init schema`. The same
 * document prepares a declared dedicated box (docs/storage.md#backup-server-helsinki).
 */
import { MINIO_RELEASE } from "../versions";
import { S3_REGION } from "./settings";

export interface BackupCloudInitArgs {
  /** Public S3 host of the server (the certificate's name). */
  domain: string;
  /** Let's Encrypt account e-mail. */
  acmeEmail: string;
  /** Devices of the data volumes (`/dev/disk/by-id/scsi-0HC_Volume_<id>`), in order. */
  devices: string[];
  rootUser: string;
  rootPassword: string;
}

/** Daily package lists and unattended (security) upgrades (Debian's apt periodic settings). */
export const AUTO_UPGRADES = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n';
/**
 * The backup server is no Kubernetes node (kured does not reach it): it reboots by itself when
 * an upgrade needs it, at 07:30 UTC, after the backup and prune windows (liiibre:backup.windows).
 */
export const BACKUP_REBOOT_TIME = "07:30";
export const BACKUP_REBOOT_POLICY = `Unattended-Upgrade::Automatic-Reboot "true";\nUnattended-Upgrade::Automatic-Reboot-Time "${BACKUP_REBOOT_TIME}";\n`;

/** Mount point of drive `i` (1-based). */
export const driveMount = (i: number): string => `/srv/minio/disk${i}`;

const indent = (text: string, n: number) => text.split("\n").map((l) => (l ? " ".repeat(n) + l : l)).join("\n");

export function renderBackupCloudInit(a: BackupCloudInitArgs): string {
  if (a.devices.length < 1) throw new Error("the backup server needs at least one data volume");
  const n = a.devices.length;
  const volumes = n === 1 ? driveMount(1) : `/srv/minio/disk{1...${n}}`;
  const binary = `https://dl.min.io/server/minio/release/linux-amd64/archive/minio.${MINIO_RELEASE}`;
  const env = [
    `MINIO_ROOT_USER=${a.rootUser}`,
    `MINIO_ROOT_PASSWORD=${a.rootPassword}`,
    `MINIO_VOLUMES="${volumes}"`,
    `MINIO_OPTS="--address :443 --console-address 127.0.0.1:9001 --certs-dir /etc/minio/certs"`,
    `MINIO_SITE_REGION=${S3_REGION}`,
    `MINIO_PROMETHEUS_AUTH_TYPE=public`,
    ``,
  ].join("\n");
  const unit = `[Unit]
Description=MinIO (Liiibre off-site copies)
Wants=network-online.target
After=network-online.target local-fs.target
# Never serve S3 in clear text: wait for the certificate.
ConditionPathExists=/etc/minio/certs/public.crt
AssertFileIsExecutable=/usr/local/bin/minio

[Service]
User=minio-user
Group=minio-user
EnvironmentFile=/etc/default/minio
ExecStart=/usr/local/bin/minio server $MINIO_OPTS $MINIO_VOLUMES
AmbientCapabilities=CAP_NET_BIND_SERVICE
Restart=always
LimitNOFILE=1048576
TasksMax=infinity
TimeoutStopSec=infinity
SendSIGKILL=no

[Install]
WantedBy=multi-user.target
`;
  const setup = `#!/bin/sh
# First boot: wait for the volumes, mount them, install the pinned MinIO, get the certificate.
set -eu
i=0
for dev in ${a.devices.join(" ")}; do
  i=$((i + 1))
  t=0
  while [ ! -e "$dev" ] && [ $t -lt 600 ]; do sleep 5; t=$((t + 5)); done
  blkid "$dev" >/dev/null 2>&1 || mkfs.xfs -L "minio$i" "$dev"
  mkdir -p "/srv/minio/disk$i"
  grep -q "^$dev " /etc/fstab || echo "$dev /srv/minio/disk$i xfs defaults,noatime,nofail,x-systemd.device-timeout=300 0 2" >> /etc/fstab
done
mount -a
id minio-user >/dev/null 2>&1 || useradd --system --home /srv/minio --shell /usr/sbin/nologin minio-user
chown -R minio-user:minio-user /srv/minio
install -d -o minio-user -g minio-user -m 0750 /etc/minio/certs
curl -fsSL --retry 5 -o /tmp/minio "${binary}"
curl -fsSL --retry 5 -o /tmp/minio.sha256sum "${binary}.sha256sum"
(cd /tmp && echo "$(cut -d' ' -f1 minio.sha256sum)  minio" | sha256sum -c -)
install -m 0755 /tmp/minio /usr/local/bin/minio
systemctl daemon-reload
systemctl enable minio.service liiibre-minio-cert.timer
systemctl start liiibre-minio-cert.service || true
systemctl start liiibre-minio-cert.timer
`;
  const deployHook = `#!/bin/sh
# certbot deploy hook: hand the renewed certificate to MinIO and restart it.
set -eu
live=/etc/letsencrypt/live/${a.domain}
install -o minio-user -g minio-user -m 0644 "$live/fullchain.pem" /etc/minio/certs/public.crt
install -o minio-user -g minio-user -m 0600 "$live/privkey.pem" /etc/minio/certs/private.key
systemctl restart minio.service
`;
  const certService = `[Unit]
Description=Obtain the Let's Encrypt certificate of ${a.domain} (until it exists)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!/etc/letsencrypt/live/${a.domain}/fullchain.pem

[Service]
Type=oneshot
ExecStart=/usr/bin/certbot certonly --standalone --non-interactive --agree-tos -m ${a.acmeEmail} -d ${a.domain} --deploy-hook /usr/local/sbin/liiibre-minio-certs
`;
  const certTimer = `[Unit]
Description=Retry the first certificate of ${a.domain} every 15 minutes (DNS may lag)

[Timer]
OnBootSec=2min
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
`;
  const file = (path: string, permissions: string, content: string) =>
    `  - path: ${path}\n    permissions: "${permissions}"\n    owner: root:root\n    content: |\n${indent(content, 6)}`;
  return `#cloud-config
package_update: true
package_upgrade: true
packages:
  - curl
  - certbot
  - xfsprogs
  - unattended-upgrades
write_files:
${file("/etc/default/minio", "0600", env)}
${file("/etc/systemd/system/minio.service", "0644", unit)}
${file("/etc/systemd/system/liiibre-minio-cert.service", "0644", certService)}
${file("/etc/systemd/system/liiibre-minio-cert.timer", "0644", certTimer)}
${file("/usr/local/sbin/liiibre-minio-certs", "0755", deployHook)}
${file("/usr/local/sbin/liiibre-backup-setup", "0755", setup)}
${file("/etc/apt/apt.conf.d/20auto-upgrades", "0644", AUTO_UPGRADES)}
${file("/etc/apt/apt.conf.d/52liiibre-unattended-upgrades", "0644", BACKUP_REBOOT_POLICY)}
runcmd:
  - [/usr/local/sbin/liiibre-backup-setup]
`;
}
