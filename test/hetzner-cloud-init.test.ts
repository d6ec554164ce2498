/**
 * Cloud-init user data, validated by Debian's real `cloud-init schema` (package `cloud-init`,
 * installed on dev machines and in CI). Also: what the user data must never contain.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { VOLUME_MOUNT_DIR, cloudInitUserData } from "../components/hetzner/cloud-init";
import { K0S_VERSION } from "../components/versions";
import { itWithCloudInit } from "./helpers/tools";

function schemaCheck(text: string): { status: number | null; out: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cloud-init-")), "user-data.yaml");
  fs.writeFileSync(file, text);
  const r = spawnSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" });
  if (r.error) throw new Error(`cloud-init is not installed (apt-get install cloud-init): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("cloud-init user data", () => {
  for (const dataVolume of [false, true]) {
    itWithCloudInit(`is valid per \`cloud-init schema\` (dataVolume: ${dataVolume})`, () => {
      const r = schemaCheck(cloudInitUserData({ dataVolume }));
      expect(r.out).toContain("Valid cloud-config");
      expect(r.status).toBe(0);
    });
  }

  itWithCloudInit("is rejected by the same tool when broken (the check can fail)", () => {
    const broken = cloudInitUserData({ dataVolume: false }).replace("package_update: true", "package_update: maybe");
    const r = schemaCheck(broken);
    expect(r.status).not.toBe(0);
  });

  it("starts with #cloud-config and depends on nothing that changes on upgrades or scale-out", () => {
    const text = cloudInitUserData({ dataVolume: true });
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    expect(text).not.toContain(K0S_VERSION);
    expect(text).not.toMatch(/k0sctl|BEGIN .*PRIVATE KEY|MOCKSECRET/);
    expect(cloudInitUserData({ dataVolume: true })).toBe(text); // deterministic
  });

  it("turns on unattended security upgrades without automatic reboots (kured coordinates reboots)", () => {
    const doc = parseYaml(cloudInitUserData({ dataVolume: false }).replace(/^#cloud-config\n/, ""));
    expect(doc.packages).toContain("unattended-upgrades");
    const files = Object.fromEntries((doc.write_files as Array<{ path: string; content: string }>).map((f) => [f.path, f.content]));
    expect(files["/etc/apt/apt.conf.d/20auto-upgrades"]).toContain('APT::Periodic::Unattended-Upgrade "1";');
    expect(files["/etc/apt/apt.conf.d/52liiibre-unattended-upgrades"]).toContain('Unattended-Upgrade::Automatic-Reboot "false";');
  });

  it("mounts the data volume through a systemd path unit, and writes a syntactically valid mount script", () => {
    const doc = parseYaml(cloudInitUserData({ dataVolume: true }).replace(/^#cloud-config\n/, ""));
    const files = Object.fromEntries((doc.write_files as Array<{ path: string; content: string }>).map((f) => [f.path, f.content]));
    expect(files["/etc/systemd/system/liiibre-volume.path"]).toContain("PathExistsGlob=/dev/disk/by-id/scsi-0HC_Volume_*");
    const script = files["/usr/local/sbin/liiibre-mount-volume"];
    expect(script).toContain(VOLUME_MOUNT_DIR);
    expect(() => execFileSync("/bin/sh", ["-n", "-c", script])).not.toThrow();
    expect(doc.runcmd).toContainEqual(["systemctl", "enable", "--now", "liiibre-volume.path"]);
    const plain = parseYaml(cloudInitUserData({ dataVolume: false }).replace(/^#cloud-config\n/, ""));
    expect((plain.write_files as Array<{ path: string }>).map((f) => f.path)).not.toContain("/usr/local/sbin/liiibre-mount-volume");
  });
});
