/**
 * The Kubernetes kit (components/kit): derived secrets are HMAC-SHA256 of a purpose label under
 * the bundle's key (RFC 2104, checked against RFC 4231's published vector through the same
 * primitive), distinct per purpose and per key; bad labels are refused before anything is
 * registered; the derivation annotation is stable; one set of Helm defaults.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DERIVED_ANNOTATION, HELM_DEFAULTS, deriveFromKey, derivedAnnotation, opaqueSecret } from "../components/kit";
import { repositoryPassword } from "../components/storage/settings";

describe("derived secrets", () => {
  it("are HMAC-SHA256 of `derived-secret:<purpose>` under the key, hex", () => {
    // RFC 4231 test case 2: the primitive itself.
    expect(createHmac("sha256", "Jefe").update("what do ya want for nothing?").digest("hex")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    const key = "k".repeat(64);
    expect(deriveFromKey(key, "oidc/nextcloud")).toBe(createHmac("sha256", key).update("derived-secret:oidc/nextcloud").digest("hex"));
    expect(deriveFromKey(key, "oidc/nextcloud")).toMatch(/^[0-9a-f]{64}$/); // 256 bits
  });

  it("differ by purpose and by key, and are stable", () => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    expect(deriveFromKey(a, "oidc/nextcloud")).not.toBe(deriveFromKey(a, "oidc/matrix"));
    expect(deriveFromKey(a, "oidc/nextcloud")).not.toBe(deriveFromKey(b, "oidc/nextcloud"));
    expect(deriveFromKey(a, "onlyoffice/jwt")).toBe(deriveFromKey(a, "onlyoffice/jwt"));
    // Never the k8up restic password of the same key (another message prefix).
    expect(deriveFromKey(a, "acme")).not.toBe(repositoryPassword(a, "acme"));
  });

  it("refuse a purpose label that is not a plain lower-case path", () => {
    for (const bad of ["", "OIDC/nextcloud", "a b", "x\ny", "-x"]) expect(() => deriveFromKey("k", bad), JSON.stringify(bad)).toThrow(/purpose label/);
  });

  it("are annotated by key and purpose, sorted, under a name the secrets policy reads as a reference", () => {
    expect(derivedAnnotation({ registration: "matrix/registration", OIDC_CLIENT_SECRET: "oidc/matrix" })).toBe("OIDC_CLIENT_SECRET=oidc/matrix,registration=matrix/registration");
    expect(DERIVED_ANNOTATION).toMatch(/keys$/);
  });

  it("a Secret refuses a derived key it does not hold", () => {
    expect(() => opaqueSecret("x", { name: "x", namespace: "n", stringData: { a: "1" }, derived: { b: "p/b" } }, {})).toThrow(/derived key b is not in stringData/);
  });
});

describe("Helm releases", () => {
  it("have one set of defaults: atomic, 15 minutes, 5 revisions", () => {
    expect(HELM_DEFAULTS).toEqual({ atomic: true, timeout: 900, maxHistory: 5 });
  });
});
