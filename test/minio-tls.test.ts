/**
 * The certificate chain between Traefik (and the replication Jobs' mc) and the primary MinIO,
 * checked with the real OpenSSL (Debian's `openssl`) on a stand-in of what the cluster issues:
 * - the MinIO Operator (`requestAutoCert: true`) sends a CSR to the Kubernetes certificates API
 *   with signer `kubernetes.io/kubelet-serving` (subject O=system:nodes, usages digital signature,
 *   key encipherment, server auth) and approves it; kube-controller-manager signs it with its
 *   cluster-signing CA, on k0s `/var/lib/k0s/pki/ca.crt`, the CA the `kube-root-ca.crt`
 *   ConfigMap publishes in every namespace (minio/operator pkg/controller/csr.go);
 * - the Tenant certificate's names are `AllMinIOHosts`: `minio.<ns>.svc.<domain>`, `minio.<ns>`,
 *   `minio`, `*.<tenant>-hl.<ns>.svc.<domain>` (minio/operator pkg/apis/minio.min.io/v2).
 * The program's side is real: the BackendTLSPolicy of the S3 route (its hostname and CA
 * ConfigMap, from the route builder) and the URL the replication Jobs use.
 * The public side needs no check of ours: cert-manager's ACME Secret carries the leaf and the
 * issuer's intermediates in `tls.crt`, which Traefik serves as they are.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect } from "vitest";
import { backendTlsPolicyManifest } from "../components/routes";
import { MINIO_INTERNAL_HOST, MINIO_INTERNAL_URL, MINIO_SERVICE } from "../components/storage/primaryObjectStore";
import { MINIO_TENANT_NAME, STORAGE_NAMESPACE } from "../components/storage/settings";
import { itNeeding, onPath } from "./helpers/tools";

const itWithOpenssl = itNeeding("openssl", onPath("openssl"), "apt-get install -y openssl");

/** The Tenant certificate's DNS names as the operator requests them (AllMinIOHosts). */
const operatorNames = (domain = "cluster.local") => [
  `${MINIO_SERVICE}.${STORAGE_NAMESPACE}.svc.${domain}`,
  `${MINIO_SERVICE}.${STORAGE_NAMESPACE}`,
  MINIO_SERVICE,
  `*.${MINIO_TENANT_NAME}-hl.${STORAGE_NAMESPACE}.svc.${domain}`,
];

function issue(dir: string, names: string[]): { ca: string; leaf: string } {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=kubernetes-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/O=system:nodes/CN=system:node:${names[0]}`);
  fs.writeFileSync(path.join(dir, "ext.cnf"), `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "1", "-extfile", "ext.cnf");
  return { ca: path.join(dir, "ca.crt"), leaf: path.join(dir, "leaf.crt") };
}

/** `openssl verify` as a TLS client checking a server for `host` would: chain to the CA, server purpose, name. */
function verifies(ca: string, leaf: string, host: string): boolean {
  try {
    execFileSync("openssl", ["verify", "-CAfile", ca, "-purpose", "sslserver", "-verify_hostname", host, leaf], { stdio: ["ignore", "pipe", "pipe"] });
    return true;
  } catch {
    return false;
  }
}

describe("primary MinIO's in-cluster TLS", () => {
  const policy = backendTlsPolicyManifest({
    name: "s3", namespace: STORAGE_NAMESPACE, host: "s3.example", rules: [{ service: MINIO_SERVICE, port: 443 }],
    backendTls: { service: MINIO_SERVICE, caConfigMap: "kube-root-ca.crt", hostname: MINIO_INTERNAL_HOST },
  })!;
  const validation = (policy.spec as any).validation;

  itWithOpenssl("the S3 route's BackendTLSPolicy and mc's URL name a host the operator's certificate covers, chained to the cluster CA", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minio-tls-"));
    const { ca, leaf } = issue(dir, operatorNames());
    expect(validation.caCertificateRefs).toEqual([{ group: "", kind: "ConfigMap", name: "kube-root-ca.crt" }]);
    expect(verifies(ca, leaf, validation.hostname)).toBe(true);
    expect(verifies(ca, leaf, new URL(MINIO_INTERNAL_URL).hostname)).toBe(true);
    // A server pod by its headless name (MinIO's own node-to-node traffic) is covered by the wildcard.
    expect(verifies(ca, leaf, `${MINIO_TENANT_NAME}-pool-0-0.${MINIO_TENANT_NAME}-hl.${STORAGE_NAMESPACE}.svc.cluster.local`)).toBe(true);
  });

  itWithOpenssl("the checks can fail: another namespace's name, another cluster domain, another CA", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minio-tls-"));
    const { ca, leaf } = issue(dir, operatorNames());
    expect(verifies(ca, leaf, `${MINIO_SERVICE}.storage.svc.cluster.local`)).toBe(false);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "minio-tls-"));
    const elsewhere = issue(other, operatorNames("k0s.local"));
    expect(verifies(elsewhere.ca, elsewhere.leaf, validation.hostname)).toBe(false);
    expect(verifies(elsewhere.ca, leaf, validation.hostname)).toBe(false);
  });
});
