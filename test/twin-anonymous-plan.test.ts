/**
 * The twin's `s3-anonymous` on the evaluated dev plan (a lean organisation with HedgeDoc and the
 * shared instance): browsers read each HedgeDoc's uploads, nothing else is anonymous; without the
 * program's bucket policies every HedgeDoc's images are refused, and a wider policy is caught.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseEstate } from "../components/estate";
import type { Plan, PlanResource } from "../scripts/plan-model";
import { twinInput } from "../scripts/twin/from-evaluation";
import { runTwin } from "../scripts/twin";
import { S3_CHECKS } from "../scripts/twin/checks/s3";
import { devConfig, devPlan } from "./helpers/estates";
import { objectsOfType } from "./helpers/objects";

const POLICY = "minio:index/s3BucketPolicy:S3BucketPolicy";
let plan: Plan;
beforeAll(async () => {
  plan = await devPlan();
}, 180_000);

const anonymous = async (resources: PlanResource[]) =>
  (await runTwin(twinInput(parseEstate(devConfig()), { ...plan, resources }), S3_CHECKS.filter((c) => c.name === "s3-anonymous"))).findings;

describe("s3-anonymous on dev's plan", () => {
  it("passes as planned: one policy per HedgeDoc (dedicated and shared), each on the bucket it uploads to", async () => {
    const policies = plan.resources.filter((r) => r.type === POLICY);
    // Resources or entries of an objects release (a lean organisation's, helpers/objects.ts).
    const pads = objectsOfType(plan.resources, "kubernetes:apps/v1:Deployment").filter((r) => (r.inputs as any).metadata?.name === "hedgedoc");
    expect(pads.length).toBeGreaterThanOrEqual(2);
    // Each HedgeDoc's bucket (CMD_S3_BUCKET): demo's and the shared instance's own `<slug>-hedgedoc`
    // (an organisation bucket's policy: test/organisation-bucket.test.ts).
    const uploadsTo = (d: PlanResource) => ((d.inputs as any).spec.template.spec.containers[0].env as any[]).find((e) => e.name === "CMD_S3_BUCKET").value;
    expect(pads.map(uploadsTo).sort()).toEqual(["demo-hedgedoc", "mutualise-hedgedoc"]);
    expect(policies.map((p) => p.inputs.bucket).sort()).toEqual(pads.map(uploadsTo).sort());
    expect(await anonymous(plan.resources)).toEqual([]);
  });
  it("fails without the bucket policies (each HedgeDoc's GET and HEAD refused), and on a policy opening the whole bucket", async () => {
    const without = await anonymous(plan.resources.filter((r) => r.type !== POLICY));
    const pads = plan.resources.filter((r) => r.type === POLICY).length;
    expect(without).toHaveLength(2 * pads);
    expect(without.every((f) => f.level === "error" && /images do not display/.test(f.message))).toBe(true);
    const wide = structuredClone(plan.resources).map((r) => {
      if (r.type !== POLICY) return r;
      const doc = JSON.parse(String(r.inputs.policy));
      doc.Statement[0].Resource = [`arn:aws:s3:::${r.inputs.bucket}/*`];
      doc.Statement[0].Action = ["s3:GetObject", "s3:ListBucket"];
      doc.Statement.push({ ...doc.Statement[0], Resource: [`arn:aws:s3:::${r.inputs.bucket}`] });
      return { ...r, inputs: { ...r.inputs, policy: JSON.stringify(doc) } };
    });
    const f = await anonymous(wide);
    expect(f.some((x) => /may ListObjectsV2/.test(x.message))).toBe(true);
    expect(f.some((x) => /may GetObject [a-z-]+-hedgedoc\/urn:oid:1/.test(x.message))).toBe(true);
  });
  it("fails when the S3 host's catch-all rule is behind the admin allow-list (browsers on the Internet cannot reach the images)", async () => {
    const closed = structuredClone(plan.resources).map((r) => {
      if (r.type !== "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" || (r.inputs as any).metadata?.namespace !== "minio") return r;
      const spec = (r.inputs as any).spec;
      for (const rule of spec.rules) if (rule.matches?.[0]?.path?.value === "/") rule.filters = spec.rules[0].filters;
      return r;
    });
    const f = await anonymous(closed);
    expect(f.length).toBeGreaterThanOrEqual(2);
    expect(f.every((x) => /browsers cannot reach hedgedoc's images at https:\/\/s3\.dev\.liiibre\.coop\/.*behind a middleware \(\["s3-admin-allowlist"\]\)/.test(x.message))).toBe(true);
  });
});
