/**
 * The Liiibre estate, as Pulumi programs composed of components (programs/).
 *
 * Pulumi calls the default export with no argument: the stack's name and config select the
 * program (programs/index.ts): the estate's stack runs the platform (and, when the estate is not
 * sharded, every organisation); a tenant-shard stack `<estate>-<shard>` runs its organisations'
 * bundles against the platform stack's contract. Bad config: exit 2 with one line per problem
 * before any resource is registered. The offline harness (scripts/harness.ts) passes the estate
 * it validated and the role it plans; without a role, the whole estate is built in one program.
 */
import type { Estate } from "./components/config";
import { currentTarget, runProgram, type ProgramRole } from "./programs";

export default async function main(estate?: Estate, role?: ProgramRole) {
  if (!estate) ({ estate, role } = currentTarget());
  return runProgram(estate, role);
}
