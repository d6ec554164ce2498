/**
 * Shell scripts run by `local.Command` on the operator's machine (or CI). POSIX sh.
 * The SSH private key arrives in `LIIIBRE_SSH_PRIVATE_KEY` (a secret input, never logged),
 * is written to a 0600 temporary file removed on exit, and only its path reaches k0sctl.
 */
import { SSH_KEY_PATH_VAR } from "./k0sctl-config";
import { K0SCTL_VERSION } from "../versions";

const WITH_KEY = `set -eu
umask 077
key_file=$(mktemp)
trap 'rm -f "$key_file"' EXIT INT TERM
printf '%s\\n' "$LIIIBRE_SSH_PRIVATE_KEY" > "$key_file"
unset LIIIBRE_SSH_PRIVATE_KEY
export ${SSH_KEY_PATH_VAR}="$key_file"
command -v k0sctl >/dev/null || { echo "error: k0sctl is not installed (see docs/operations.md)" >&2; exit 127; }
k0sctl_version=$(k0sctl version < /dev/null 2>/dev/null | sed -n 's/^version: *//p')
[ "$k0sctl_version" = "${K0SCTL_VERSION}" ] || { echo "error: k0sctl ${K0SCTL_VERSION} is required (components/versions.ts), found \${k0sctl_version:-an unknown version}; see docs/operations.md" >&2; exit 127; }
`;

/**
 * `k0sctl apply` with the document on stdin. Before applying, refuses to drop a node that
 * was a member at the previous apply unless it went through `reset` first (its name is in
 * the previous run's `reset=` line). Prints `members=…` and `reset=…` on stdout: the next
 * run compares against them (PULUMI_COMMAND_STDOUT holds the previous stdout on update).
 */
export const APPLY_SCRIPT = `${WITH_KEY}
previous=$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^members=//p')
for node in $previous; do
  case " $LIIIBRE_MEMBERS $LIIIBRE_RESET " in
    *" $node "*) ;;
    *) echo "error: node $node left the configuration without being reset first; put it back, set its reset marker, apply, then remove it (docs/operations.md)" >&2; exit 3 ;;
  esac
done
k0sctl apply --config - >&2
printf 'members=%s\\nreset=%s\\n' "$LIIIBRE_MEMBERS" "$LIIIBRE_RESET"
`;

/** Prints the admin kubeconfig (stdout is a secret output; logging is off). */
export const KUBECONFIG_SCRIPT = `${WITH_KEY}
k0sctl kubeconfig --config - --address "https://$LIIIBRE_API_DOMAIN:6443"
`;
