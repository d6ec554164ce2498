/**
 * The evaluation harness records what the engine would receive: real-engine URNs, parents,
 * inputs with secrets redacted, and the options mocks never see.
 */
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as random from "@pulumi/random";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../components/config";
import { MOCK_SECRET_MARKER, SECRET_PLACEHOLDER, evaluate, isSecretMarker, readStackConfig, secretAwareInputs, stackConfigFile } from "../scripts/harness";

const config = () => readStackConfig(stackConfigFile("dev"));

class Box extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("liiibre:test:Box", name, {}, opts);
    const pw = new random.RandomPassword(`${name}-pw`, { length: 24 }, { parent: this });
    new hcloud.Volume(
      `${name}-data`,
      { size: 10, location: "fsn1", deleteProtection: true, labels: { owner: name } },
      { parent: this, protect: true, aliases: [{ name: `${name}-old-data` }], ignoreChanges: ["labels"] },
    );
    new hcloud.SshKey(`${name}-key`, { publicKey: pw.result.apply((p) => `ssh-ed25519 ${p}`) }, { parent: this, retainOnDelete: true, deleteBeforeReplace: true });
    this.registerOutputs({});
  }
}

describe("evaluate()", () => {
  it("records URNs as the real engine builds them: full parent type chain, nothing for the stack", async () => {
    const ev = await evaluate({
      config: config(),
      stack: "dev",
      program: () => {
        const outer = new Box("outer");
        new Box("inner", { parent: outer });
        return {};
      },
    });
    const urns = ev.resources.map((r) => r.urn);
    expect(urns).toContain("urn:pulumi:dev::liiibre::liiibre:test:Box::outer");
    expect(urns).toContain("urn:pulumi:dev::liiibre::liiibre:test:Box$hcloud:index/volume:Volume::outer-data");
    expect(urns).toContain("urn:pulumi:dev::liiibre::liiibre:test:Box$liiibre:test:Box::inner");
    expect(urns).toContain("urn:pulumi:dev::liiibre::liiibre:test:Box$liiibre:test:Box$hcloud:index/volume:Volume::inner-data");
    const inner = ev.resources.find((r) => r.name === "inner")!;
    expect(inner.parent).toBe("urn:pulumi:dev::liiibre::liiibre:test:Box::outer");
    expect(ev.resources.find((r) => r.name === "outer")!.parent).toBeNull();
    expect(ev.resources.some((r) => r.type === "pulumi:pulumi:Stack")).toBe(false);
    expect(new Set(urns).size).toBe(urns.length);
  });

  it("records the options mocks do not see", async () => {
    const ev = await evaluate({ config: config(), program: () => new Box("b") && {} });
    const vol = ev.resources.find((r) => r.name === "b-data")!;
    expect(vol).toMatchObject({ protect: true, retainOnDelete: false, ignoreChanges: ["labels"], aliases: [{ name: "b-old-data" }] });
    const key = ev.resources.find((r) => r.name === "b-key")!;
    expect(key).toMatchObject({ protect: false, retainOnDelete: true, deleteBeforeReplace: true });
    expect(ev.resources.find((r) => r.name === "b")!.custom).toBe(false);
    expect(vol.custom).toBe(true);
    expect(vol.inputs).toMatchObject({ size: 10, location: "fsn1", deleteProtection: true });
  });

  it("inherits protect from a protected parent, as the SDK does", async () => {
    const ev = await evaluate({ config: config(), program: () => new Box("p", { protect: true }) && {} });
    expect(ev.resources.find((r) => r.name === "p-key")!.protect).toBe(true);
  });

  it("replaces secrets with [secret], including values derived from provider-secret outputs", async () => {
    const ev = await evaluate({ config: config(), program: () => new Box("s") && {} });
    const key = ev.resources.find((r) => r.name === "s-key")!;
    expect(key.inputs.publicKey).toBe(SECRET_PLACEHOLDER);
    expect(JSON.stringify(ev.resources)).not.toContain(MOCK_SECRET_MARKER);
    // The policy runner still sees which value was secret.
    const raw = secretAwareInputs(key).publicKey;
    expect(isSecretMarker(raw)).toBe(true);
  });

  it("keeps a value explicitly made secret secret, and gives secret config a fake", async () => {
    const ev = await evaluate({
      config: config(),
      program: () => {
        const key = new pulumi.Config("liiibre").requireSecret("sshPrivateKey");
        new hcloud.SshKey("k", { publicKey: key, labels: { plain: "visible" } });
        return {};
      },
    });
    const k = ev.resources.find((r) => r.name === "k")!;
    expect(k.inputs).toEqual({ publicKey: SECRET_PLACEHOLDER, labels: { plain: "visible" } });
  });

  it("refuses an invalid configuration before anything is registered", async () => {
    let registered = 0;
    const bad = { ...config(), tenants: [{ slug: "x" }] };
    await expect(evaluate({ config: bad, program: () => ++registered })).rejects.toBeInstanceOf(ConfigError);
    expect(registered).toBe(0);
  });

  it("can evaluate several times in one process, each run starting clean", async () => {
    const a = await evaluate({ config: config(), program: () => new Box("first") && {} });
    const b = await evaluate({ config: config(), program: () => new Box("second") && {} });
    expect(a.resources.every((r) => r.name.startsWith("first"))).toBe(true);
    expect(b.resources.every((r) => r.name.startsWith("second"))).toBe(true);
  });
});
