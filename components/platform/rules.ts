/**
 * Config rules of the platform add-ons (components/platform). Assembled by components/estate.ts.
 */
import { describe, keyPath } from "../config/errors";
import type { Rule } from "../config/rules";

/**
 * The edge migration's bridge (issue 13) redirects each ingress node's own ports 80/443: it only
 * exists with the edge on the nodes' host network (behind the load balancer, the switch is the
 * load balancer's targets, docs/operations.md).
 */
export const edgeRules: Rule = (e) =>
  e.cluster.edgeMigration === "bridge" && e.cluster.ingressMode !== "hostNetwork"
    ? [{ path: keyPath(["cluster", "edgeMigration"]), message: `expected off | serve-nginx with cluster.ingressMode ${describe(e.cluster.ingressMode)} (bridge redirects the ingress nodes' own ports: hostNetwork only), got "bridge"` }]
    : [];
