/**
 * The Liiibre policy pack: the offer's rules as CrossGuard policies.
 *
 *   pulumi preview --policy-pack policies --policy-pack-config policies/prod.json
 *
 * One policy per file; the list is data in ./list.ts (docs/policies.md), read by the offline
 * runner (scripts/check-policies.ts) and the tests. This file only creates the pack from it:
 * never import it elsewhere (creating the pack starts the analyzer's gRPC server).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK, POLICIES } from "./list";

new PolicyPack(PACK.name, {
  description: PACK.description,
  enforcementLevel: PACK.enforcementLevel,
  policies: [...POLICIES],
});
