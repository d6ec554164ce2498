/**
 * The rule for tests needing an outside tool (helpers/tools.ts): run when it is there; skip
 * with a notice on a developer machine without it; never skip in CI, fail instead.
 */
import { describe, expect, it } from "vitest";
import { onPath, toolDecision } from "./helpers/tools";

describe("tests needing a tool", () => {
  it("run when the tool is there, skip without it, and fail without it in CI", () => {
    expect(toolDecision(true, {})).toBe("run");
    expect(toolDecision(true, { CI: "true" })).toBe("run");
    expect(toolDecision(false, {})).toBe("skip");
    expect(toolDecision(false, { CI: "false" })).toBe("skip");
    expect(toolDecision(false, { CI: "true" })).toBe("fail");
  });

  it("find tools on PATH only", () => {
    expect(onPath("sh")).toBe(true);
    expect(onPath("sh", { PATH: "/nonexistent" })).toBe(false);
    expect(onPath("liiibre-no-such-tool")).toBe(false);
  });
});
