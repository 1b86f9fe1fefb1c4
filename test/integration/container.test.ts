// The container recipe without a container engine: the Dockerfile, .dockerignore, docker-compose.yaml
// and the release workflow read statically (plus hadolint where installed); then the Dockerfile is
// played by hand: its build stage's commands compile the binary from the .dockerignore'd context,
// and its final stage is rebuilt as a bare root holding only that binary, glibc (what distroless
// base provides) and the shipped config, run with the image's ENV, USER, ENTRYPOINT and HEALTHCHECK.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { VERSION } from "../../build.ts";
import { runCommand, startedLine, versionOf } from "../support/olla-process.ts";
import { withTimeout } from "../support/with-timeout.ts";

const ROOT = join(import.meta.dir, "../..");
const dockerfileText = readFileSync(join(ROOT, "Dockerfile"), "utf8");

// ---------- reading the Dockerfile ----------

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped, as Docker reads them. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    if (line.trimEnd().endsWith("\\")) {
      pending += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (!full) continue;
    const [, op = "", args = ""] = /^(\S+)\s*(.*)$/s.exec(full) ?? [];
    instructions.push({ op: op.toUpperCase(), args });
  }
  return instructions;
}

interface Stage {
  from: string;
  platform?: string;
  name?: string;
  instructions: Instruction[];
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.op === "FROM") {
      const [, platform, from = "", name] =
        /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, platform, name, instructions: [] });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const stages = stagesOf(parseDockerfile(dockerfileText));
const buildStage = stages[0]!;
const finalStage = stages.at(-1)!;
const all = (stage: Stage, op: string) => stage.instructions.filter((instruction) => instruction.op === op);
const last = (stage: Stage, op: string) => all(stage, op).at(-1);

/** `ENV A=1 B="two words"` → { A: "1", B: "two words" }. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, "ENV")) {
    for (const [, name = "", value = ""] of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g))
      env[name] = value.startsWith('"') ? JSON.parse(value) : value;
  }
  return env;
}

/** COPY [--from=x] src... dest */
function copiesOf(stage: Stage) {
  return all(stage, "COPY").map(({ args }) => {
    const words = args.split(/\s+/);
    const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
    const paths = words.filter((word) => !word.startsWith("--"));
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
  });
}

function execForm(args: string): string[] {
  expect(args.trim().startsWith("[")).toBe(true);
  return JSON.parse(args);
}

const entrypoint = execForm(last(finalStage, "ENTRYPOINT")?.args ?? "[]");
const cmd = execForm(last(finalStage, "CMD")?.args ?? "[]");
const healthcheck = (() => {
  const match = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(last(finalStage, "HEALTHCHECK")?.args ?? "");
  return match ? { options: match[1]!.trim(), cmd: execForm(match[2]!) } : undefined;
})();

// ---------- .dockerignore ----------

const ignorePatterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => {
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, "");
    return { negated, pattern, glob: new Bun.Glob(pattern) };
  });

/** Docker's rule: the last pattern matching the path, or any folder above it, decides. */
function isIgnored(path: string): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join("/"));
  let ignored = false;
  for (const { negated, glob } of ignorePatterns)
    if (candidates.some((candidate) => glob.match(candidate))) ignored = !negated;
  return ignored;
}

/** The build context Docker would send: every file not ignored (ignored folders pruned). */
function contextFiles(dir = ""): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const reincluded = ignorePatterns.some(
        ({ negated, pattern }) => negated && pattern.startsWith(`${path}/`),
      );
      if (!isIgnored(path) || reincluded) files.push(...contextFiles(path));
    } else if (!isIgnored(path)) files.push(path);
  }
  return files;
}

// ---------- static checks ----------

describe("Dockerfile", () => {
  test("two stages: the build compiles with build.ts on the build machine's platform; the final is distroless glibc", () => {
    expect(stages.length).toBe(2);
    expect(buildStage.name).toBe("build");
    // Cross-compiling in the build stage: a multi-arch image needs no emulation.
    expect(buildStage.platform).toBe("$BUILDPLATFORM");
    const build = all(buildStage, "RUN").find(({ args }) => args.includes("build.ts"));
    expect(build?.args).toContain("--binaries-only");
    expect(build?.args).toContain('--target "linux-$arch"');
    // distroless/static has no libc; the compiled Bun binary links glibc.
    expect(finalStage.from).toMatch(
      /^gcr\.io\/distroless\/(base|cc)-debian12(:[\w.-]+)?(@sha256:[0-9a-f]+)?$/,
    );
  });

  test("the final stage runs nothing (distroless has no shell) and runs as a non-root user", () => {
    expect(all(finalStage, "RUN")).toEqual([]);
    const user = last(finalStage, "USER")?.args.split(":")[0];
    expect(user === "65532" || user === "nonroot").toBe(true);
  });

  test("exposes 40114 and ships the default config at /config/config.yaml, named by OLLA_CONFIG_FILE", () => {
    expect(all(finalStage, "EXPOSE").flatMap(({ args }) => args.split(/\s+/))).toContain("40114");
    expect(copiesOf(finalStage)).toContainEqual({
      from: undefined,
      sources: ["config/config.yaml"],
      dest: "/config/config.yaml",
    });
    expect(envOf(finalStage).OLLA_CONFIG_FILE).toBe("/config/config.yaml");
    // Inside a container olla must listen beyond loopback for -p to reach it.
    expect(envOf(finalStage).OLLA_SERVER_HOST).toBe("0.0.0.0");
  });

  test("ENTRYPOINT, CMD and HEALTHCHECK are in exec form; the health check is `olla health`", () => {
    expect(entrypoint).toEqual(["/usr/local/bin/olla"]);
    expect(cmd).toEqual(["serve"]);
    expect(healthcheck?.cmd).toEqual([entrypoint[0]!, "health"]);
    expect(healthcheck?.options).toMatch(/--interval=\S+/);
    expect(healthcheck?.options).toMatch(/--timeout=\S+/);
    const binary = copiesOf(finalStage).find(({ dest }) => dest === entrypoint[0]);
    expect(binary?.from).toBe("build");
  });

  test(".dockerignore: the context holds what the build copies, and no secrets, modules, binaries or tests", () => {
    const context = contextFiles();
    for (const { from, sources } of [...copiesOf(buildStage), ...copiesOf(finalStage)]) {
      if (from) continue;
      for (const source of sources)
        expect(context.some((file) => file === source || file.startsWith(`${source}/`))).toBe(true);
    }
    for (const path of [
      "config/config.local.yaml",
      "node_modules/zod/package.json",
      "dist/olla-linux-x64",
      ".git/HEAD",
      "test/integration/binary.test.ts",
      "src/http/router.test.ts",
      "bench/run.ts",
      ".env",
    ])
      expect(isIgnored(path)).toBe(true);
    expect(context.filter((file) => /node_modules|\.test\.ts$|^test\/|^dist\//.test(file))).toEqual([]);
  });

  test.skipIf(!Bun.which("hadolint"))("hadolint passes (skipped when hadolint is not installed)", () => {
    const lint = Bun.spawnSync(["hadolint", join(ROOT, "Dockerfile")], { timeout: 30_000 });
    expect(lint.stdout.toString() + lint.stderr.toString()).toBe("");
    expect(lint.exitCode).toBe(0);
  });
});

describe("docker-compose.yaml", () => {
  const text = readFileSync(join(ROOT, "docker-compose.yaml"), "utf8");
  const compose = parseYaml(text);

  test("one olla service: port 40114, your config mounted read-only over /config/config.yaml", () => {
    const service = compose.services.olla;
    expect(service.image).toMatch(/olla/);
    expect(service.build).toBe(".");
    expect(service.ports).toContain("40114:40114");
    expect(service.volumes.some((volume: string) => /^\S+:\/config\/config\.yaml:ro$/.test(volume))).toBe(
      true,
    );
  });

  test("is the one shown in the README", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = `\`\`\`yaml\n${text}\`\`\``;
    expect(readme.includes(block), "README.md should show docker-compose.yaml verbatim in a yaml block").toBe(
      true,
    );
  });
});

describe("release workflow", () => {
  const workflow = parseYaml(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8"));
  const steps = (job: string): { run?: string; uses?: string; with?: Record<string, unknown> }[] =>
    workflow.jobs[job].steps;

  test("a version tag runs the tests, then releases binaries and the image only after them", () => {
    expect(workflow.on.push.tags).toEqual(["v*.*.*"]);
    expect(steps("test").some((step) => step.run?.includes(".ci/run"))).toBe(true);
    expect(workflow.jobs.binaries.needs).toBe("test");
    expect(workflow.jobs.image.needs).toBe("test");
  });

  test("builds every target and attaches the archives and SHA256SUMS to the release", () => {
    const runs = steps("binaries").map((step) => step.run ?? "");
    expect(runs).toContain("npm run build");
    const publish = runs.find((run) => run.includes("gh release create"));
    for (const asset of ["dist/olla-*.tar.gz", "dist/olla-*.zip", "dist/SHA256SUMS", "install.sh"])
      expect(publish).toContain(asset);
  });

  test("pushes a linux/amd64 + linux/arm64 image, after a smoke test of its health check", () => {
    const push = steps("image").find((step) => step.with?.push === true);
    expect(push?.uses).toStartWith("docker/build-push-action@");
    expect(push?.with?.platforms).toBe("linux/amd64,linux/arm64");
    const smoke = steps("image").findIndex((step) => step.run?.includes("State.Health.Status"));
    expect(smoke).toBeGreaterThan(-1);
    expect(smoke).toBeLessThan(steps("image").indexOf(push!));
  });
});

// ---------- the Dockerfile played without Docker ----------

/** unshare, chroot, mount and sh, where this machine has them (sbin may not be on PATH). */
function findTools() {
  const unshare = Bun.which("unshare");
  const chroot = Bun.which("chroot") ?? (existsSync("/usr/sbin/chroot") ? "/usr/sbin/chroot" : undefined);
  const mount = Bun.which("mount") ?? (existsSync("/usr/bin/mount") ? "/usr/bin/mount" : undefined);
  const sh = Bun.which("sh") ?? "/bin/sh";
  return unshare && chroot && mount ? { unshare, chroot, mount, sh } : undefined;
}
const tools = process.platform === "linux" ? findTools() : undefined;

/** How to run a command inside a bare root with /proc mounted, or why it cannot be done here. */
function probeBareRoot(): { mode?: "root" | "userns"; reason?: string } {
  if (process.platform !== "linux") return { reason: "needs Linux (chroot, mount namespaces)" };
  if (!tools) return { reason: "unshare, chroot or mount is missing" };
  const lddTrue = Bun.spawnSync(["ldd", "/bin/true"], { timeout: 10_000 });
  if (lddTrue.exitCode !== 0) return { reason: "ldd is missing or /bin/true is not dynamic" };
  const probe = mkdtempSync(join(tmpdir(), "olla-probe-"));
  try {
    populateRoot(probe, "/bin/true", "/true");
    const errors: string[] = [];
    const modes = process.getuid?.() === 0 ? (["root", "userns"] as const) : (["userns"] as const);
    for (const mode of modes) {
      const result = Bun.spawnSync(inRoot(mode, probe, ["/true"]), { timeout: 10_000, stderr: "pipe" });
      if (result.exitCode === 0) return { mode };
      errors.push(`${mode}: ${result.stderr.toString().trim()}`);
    }
    return { reason: `cannot chroot with /proc here (needs root or user namespaces): ${errors.join("; ")}` };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Copies a dynamic binary and every library `ldd` lists (the loader included) into root. */
function populateRoot(root: string, binary: string, as: string): void {
  mkdirSync(join(root, "proc"), { recursive: true });
  chmodSync(root, 0o755);
  copyInto(root, binary, as, 0o755);
  const ldd = Bun.spawnSync(["ldd", binary], { timeout: 10_000 }).stdout.toString();
  const libraries = [...ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]!);
  for (const library of libraries) copyInto(root, library, library, 0o755);
}

function copyInto(root: string, source: string, target: string, mode: number): void {
  mkdirSync(join(root, dirname(target)), { recursive: true, mode: 0o755 });
  copyFileSync(source, join(root, target)); // follows symlinks: the library itself, not a link
  chmodSync(join(root, target), mode);
}

// The mount lives in a private mount namespace, so it disappears with the process; /proc is what a
// container engine mounts for every container (Bun aborts without it).
const ROOT_SCRIPT =
  'm=$1; c=$2; r=$3; u=$4; how=$5; shift 5; if [ "$how" = proc ]; then "$m" -t proc proc "$r/proc"; ' +
  'else "$m" --rbind /proc "$r/proc"; fi || exit 97; exec "$c" ${u:+--userspec=$u} "$r" "$@"';

function inRoot(mode: "root" | "userns", root: string, argv: string[], user = ""): string[] {
  const { unshare, chroot, mount, sh } = tools!;
  // Without real root, uid 65532 does not exist in the user namespace: run as its mapped root.
  const [flags, userspec, how] =
    mode === "root" ? [["--mount"], user, "proc"] : [["--user", "--map-root-user", "--mount"], "", "rbind"];
  return [unshare, ...flags, sh, "-c", ROOT_SCRIPT, "sh", mount, chroot, root, userspec, how, ...argv];
}

const bareRoot = probeBareRoot();
if (bareRoot.reason) console.warn(`container.test: skipping the bare-root run: ${bareRoot.reason}`);

describe("the image, played without Docker", () => {
  let work: string;
  let out: string;
  let binary: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "olla-container-"));
    out = join(work, "out");
    const context = join(work, "context");
    for (const file of contextFiles()) {
      mkdirSync(join(context, dirname(file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(context, file));
    }

    // The build stage: WORKDIR, COPY from the context, RUN. `npm ci` becomes a link to this checkout's
    // node_modules (same lockfile); the stage's /out is a temp folder.
    let workdir = "/";
    const args: Record<string, string> = {
      TARGETARCH: process.arch === "x64" ? "amd64" : process.arch,
      OLLA_COMMIT: "containertest", // as `--build-arg OLLA_COMMIT=...` would
    };
    const stageRoot = join(work, "build-stage");
    const local = (path: string) => join(stageRoot, path.startsWith("/") ? path : join(workdir, path));
    for (const { op, args: text } of buildStage.instructions) {
      if (op === "WORKDIR") {
        workdir = text;
        mkdirSync(local(""), { recursive: true });
      } else if (op === "ARG") {
        const [name = "", value] = text.split("=");
        args[name] ??= value ?? "";
      } else if (op === "COPY") {
        const words = text.split(/\s+/);
        const dest = words.at(-1)!;
        for (const source of words.slice(0, -1)) {
          const from = join(context, source);
          const into =
            dest.endsWith("/") || words.length > 2 ? join(local(dest), basename(source)) : local(dest);
          if (statSync(from).isDirectory()) cpSync(from, local(dest), { recursive: true });
          else {
            mkdirSync(dirname(into), { recursive: true });
            copyFileSync(from, into);
          }
        }
      } else if (op === "RUN" && /^npm ci\b/.test(text)) {
        symlinkSync(join(ROOT, "node_modules"), local("node_modules"));
      } else if (op === "RUN") {
        const command = text.replace(/(?<=[\s"'])\/out(?=[/\s"']|$)/g, out);
        const { code, stdout, stderr } = await runCommand(["sh", "-c", command], {
          cwd: local(""),
          env: { ...process.env, ...args } as Record<string, string>,
          timeoutMs: 180_000,
        });
        if (code !== 0) throw new Error(`build stage RUN failed (${code}): ${command}\n${stdout}${stderr}`);
      }
    }
    binary = join(out, "olla");
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the build stage's commands compile olla from the .dockerignore'd context, stamped", async () => {
    expect(await versionOf(binary)).toStartWith(`olla ${VERSION} (commit containertest, built `);
  });

  test("the binary needs only glibc's own libraries, which distroless base-debian12 has", () => {
    const ldd = Bun.spawnSync(["ldd", binary], { timeout: 10_000 }).stdout.toString();
    const names = [...ldd.matchAll(/^\s*(\S+)/gm)].map((match) => basename(match[1]!));
    expect(names.length).toBeGreaterThan(1);
    const glibc =
      /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
    // Not libstdc++/libgcc_s (distroless/cc) and certainly no musl.
    expect(names.filter((name) => !glibc.test(name))).toEqual([]);
  });

  test.skipIf(!bareRoot.mode)(
    `in a bare root like the final stage: serves with the image's ENV and USER; HEALTHCHECK healthy, then unhealthy${bareRoot.reason ? ` (skipped: ${bareRoot.reason})` : ""}`,
    async () => {
      const mode = bareRoot.mode!;
      const root = join(work, "root");
      // The final stage: distroless gives glibc (and /tmp); COPY puts the binary and the config in.
      mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o1777 });
      chmodSync(join(root, "tmp"), 0o1777);
      for (const copy of copiesOf(finalStage)) {
        const source =
          copy.from === "build" ? copy.sources[0]!.replace(/^\/out/, out) : join(ROOT, copy.sources[0]!);
        if (copy.dest === entrypoint[0]) populateRoot(root, source, copy.dest);
        else copyInto(root, source, copy.dest, 0o644);
      }
      const user = last(finalStage, "USER")!.args;
      const env = { PATH: "/usr/local/bin:/usr/bin:/bin", ...envOf(finalStage) };

      const version = Bun.spawnSync(inRoot(mode, root, [entrypoint[0]!, "--version"], user), {
        env,
        timeout: 15_000,
      });
      expect(version.stderr.toString()).toBe("");
      expect(version.stdout.toString()).toStartWith(`olla ${VERSION} (commit containertest`);

      // ENTRYPOINT + CMD, on a free loopback port instead of 40114 (tests listen on 127.0.0.1:0 only).
      const server = Bun.spawn(inRoot(mode, root, [...entrypoint, ...cmd], user), {
        env: { ...env, OLLA_SERVER_HOST: "127.0.0.1", OLLA_SERVER_PORT: "0" },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 60_000,
      });
      try {
        const started = await withTimeout(startedLine(server.stdout), 15_000, "olla start");
        expect(started.config).toBe("/config/config.yaml");
        if (mode === "root") {
          // The server really runs as the image's USER (the spawned pid is olla itself: every hop execs).
          const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1];
          expect(uid).toBe(user.split(":")[0]);
        }
        const port = new URL(started.listen).port;

        // The HEALTHCHECK exactly as Docker runs it: the image's env (host 0.0.0.0), the port the server has.
        const health = () =>
          Bun.spawnSync(inRoot(mode, root, healthcheck!.cmd, user), {
            env: { ...env, OLLA_SERVER_PORT: port },
            timeout: 15_000,
          });
        const healthy = health();
        expect(healthy.stdout.toString()).toContain('200 {"status":"healthy"}');
        expect(healthy.exitCode).toBe(0);

        server.kill("SIGTERM");
        await server.exited;
        const unhealthy = health();
        expect(unhealthy.exitCode).not.toBe(0);
      } finally {
        server.kill("SIGKILL");
        await server.exited;
      }
    },
    60_000,
  );
});
