/**
 * Cloud-init user data of a cloud server: a `#cloud-config` document that prepares a Debian
 * host for k0s (kernel modules, sysctls, SSH hardening, unattended security upgrades without
 * automatic reboots: kured coordinates those) and, for pools with a data volume,
 * mounts the Hetzner volume under /mnt/disks/ where the local-volume provisioner finds it.
 *
 * It depends only on the server's own pool settings: never on the k0s version, the other
 * nodes or secrets, so that upgrades and scale-outs never change it (and it is in the
 * server's `ignoreChanges` anyway: Hetzner replaces a server when its user data changes).
 * Validated by Debian's `cloud-init schema` in test/hetzner-cloud-init.test.ts.
 */
import { stringify } from "yaml";

export interface UserDataOptions {
  /** Mount the attached Hetzner volume (the pool has `cloud.volumeGB`). */
  dataVolume: boolean;
}

/** Where a cloud node's data volume is mounted (a directory the local-static-provisioner discovers). */
export const VOLUME_MOUNT_DIR = "/mnt/disks/hcloud-volume";

const MOUNT_SCRIPT = `#!/bin/sh
# Mounts the first Hetzner volume attached to this server at ${VOLUME_MOUNT_DIR} (idempotent).
set -eu
dev=$(ls /dev/disk/by-id/scsi-0HC_Volume_* 2>/dev/null | head -n 1 || true)
[ -n "$dev" ] || exit 0
mountpoint -q ${VOLUME_MOUNT_DIR} && exit 0
blkid "$dev" >/dev/null 2>&1 || mkfs.ext4 -q "$dev"
uuid=$(blkid -s UUID -o value "$dev")
mkdir -p ${VOLUME_MOUNT_DIR}
grep -q "$uuid" /etc/fstab || echo "UUID=$uuid ${VOLUME_MOUNT_DIR} ext4 defaults,nofail,discard 0 2" >> /etc/fstab
mount ${VOLUME_MOUNT_DIR}
`;

/** The `#cloud-config` document (YAML text, header included). */
export function cloudInitUserData(opts: UserDataOptions): string {
  const writeFiles: Array<Record<string, string>> = [
    {
      path: "/etc/modules-load.d/k0s.conf",
      content: "overlay\nbr_netfilter\n",
      permissions: "0644",
    },
    {
      path: "/etc/sysctl.d/90-k0s.conf",
      content: [
        "net.ipv4.ip_forward = 1",
        "net.ipv6.conf.all.forwarding = 1",
        "net.bridge.bridge-nf-call-iptables = 1",
        "fs.inotify.max_user_instances = 8192",
        "fs.inotify.max_user_watches = 524288",
        "",
      ].join("\n"),
      permissions: "0644",
    },
    {
      // Unattended security upgrades; reboots are kured's (coordinated, one node at a time,
      // respecting PodDisruptionBudgets), never the node's own.
      path: "/etc/apt/apt.conf.d/20auto-upgrades",
      content: 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
      permissions: "0644",
    },
    {
      path: "/etc/apt/apt.conf.d/52liiibre-unattended-upgrades",
      content: 'Unattended-Upgrade::Automatic-Reboot "false";\n',
      permissions: "0644",
    },
    {
      path: "/etc/ssh/sshd_config.d/90-liiibre.conf",
      content: "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
      permissions: "0644",
    },
  ];
  const runcmd: string[][] = [
    ["modprobe", "overlay"],
    ["modprobe", "br_netfilter"],
    ["sysctl", "--system"],
    ["systemctl", "reload", "ssh"],
  ];
  if (opts.dataVolume) {
    writeFiles.push(
      { path: "/usr/local/sbin/liiibre-mount-volume", content: MOUNT_SCRIPT, permissions: "0755" },
      {
        path: "/etc/systemd/system/liiibre-volume.service",
        content: "[Unit]\nDescription=Mount the Hetzner data volume\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/liiibre-mount-volume\n",
        permissions: "0644",
      },
      {
        // The volume is attached after the server boots (hcloud.VolumeAttachment): a path unit
        // mounts it as soon as its device appears, and at every boot.
        path: "/etc/systemd/system/liiibre-volume.path",
        content: "[Unit]\nDescription=Wait for the Hetzner data volume\n\n[Path]\nPathExistsGlob=/dev/disk/by-id/scsi-0HC_Volume_*\n\n[Install]\nWantedBy=multi-user.target\n",
        permissions: "0644",
      },
    );
    runcmd.push(["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "liiibre-volume.path"]);
  }
  const doc = {
    package_update: true,
    packages: ["ca-certificates", "curl", "iptables", "open-iscsi", "nfs-common", "unattended-upgrades"],
    write_files: writeFiles,
    runcmd,
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
