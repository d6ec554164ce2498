/**
 * GitHub's workflow parser on files given as arguments; prints `{ file: [errors] }` as JSON. Run with
 * tsx in a child process (test/helpers/ci-lint.ts): the package imports its schema JSON without an
 * import attribute, which Node's own ESM loader (and so vitest's externalised modules) refuses.
 */
import * as fs from "node:fs";
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from "@actions/workflow-parser";

async function main(): Promise<void> {
  const out: Record<string, string[]> = {};
  for (const file of process.argv.slice(2)) {
    const parsed = parseWorkflow({ name: file, content: fs.readFileSync(file, "utf8") }, new NoOperationTraceWriter());
    const errors = parsed.context.errors.getErrors().map((e) => e.message);
    if (parsed.value) for (const e of (await convertWorkflowTemplate(parsed.context, parsed.value)).errors ?? []) if (!errors.includes(e.Message)) errors.push(e.Message);
    out[file] = errors;
  }
  process.stdout.write(JSON.stringify(out));
}
void main();
