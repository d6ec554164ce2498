/**
 * A worker process of the offline plan (scripts/plan-stacks.ts): evaluates tenant-shard stacks
 * one after the other, each on a fresh Pulumi runtime (the harness resets the mocks, config and
 * root stack per evaluation), with the platform's evaluated outputs answering the shard's
 * StackReference, checks the policy pack and sends the stack's plan back.
 *
 * Messages in: `ShardJob`; out: `{ stack, plan }` or `{ stack, error }`. Nothing secret travels:
 * the platform outputs of an offline evaluation hold only the harness's fake secrets.
 */
import type { RawConfig } from "../components/config";
import main from "../index";
import { checkPolicies } from "./check-policies";
import { evaluate } from "./harness";
import { buildPlan, type Plan } from "./plan-model";

export interface ShardJob {
  config: RawConfig;
  estateName: string;
  shard: string;
  stack: string;
  /** The referenced stack's outputs, by its full name (`<org>/<project>/<stack>`). */
  stackOutputs: Record<string, Record<string, unknown>>;
}

export type WorkerReply = { stack: string; plan: Plan } | { stack: string; error: string };

export async function planShard(job: ShardJob): Promise<Plan> {
  const evaluation = await evaluate({
    config: job.config,
    stack: job.stack,
    stackOutputs: job.stackOutputs,
    program: (estate) => main(estate, { layer: "shard", estateName: job.estateName, shard: job.shard }),
  });
  return buildPlan(evaluation, await checkPolicies(evaluation), { estateName: job.estateName, layer: "shard" });
}

if (require.main === module && process.send) {
  process.on("message", (job: ShardJob) => {
    planShard(job).then(
      (plan) => process.send!({ stack: job.stack, plan } satisfies WorkerReply),
      (err) => process.send!({ stack: job.stack, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
