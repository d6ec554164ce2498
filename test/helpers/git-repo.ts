/**
 * Throw-away git repositories for tests of scripts that read history (scripts/affected-stacks.ts):
 * a copy of this project's tracked program and estate files, committed, then changed and
 * committed again by the test.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../scripts/harness";

export interface TempRepo {
  dir: string;
  git: (...args: string[]) => string;
  read: (file: string) => string;
  write: (file: string, text: string) => void;
  commit: (message: string) => string;
  remove: () => void;
}

/** A repository holding the tracked files of this project matching `include` (default: the program, the estates, the policy pack, docs). */
export function tempRepo(include: RegExp = /^(components|programs|policies|docs)\/|^(index\.ts|package\.json|package-lock\.json|Pulumi\.[^/]+\.yaml|tsconfig\.json)$/): TempRepo {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "liiibre-repo-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter((f) => f && include.test(f) && fs.existsSync(path.join(REPO_ROOT, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org" } });
  git("init", "-q", "-b", "main");
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD").trim();
  };
  commit("base");
  return {
    dir,
    git,
    read: (f) => fs.readFileSync(path.join(dir, f), "utf8"),
    write: (f, text) => {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    },
    commit,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
