// `npm test`: type check, lint/format check, then the whole bun test suite. Ends with the line
// "N passed, N failed[, N skipped]" that CI reads (bun prints its own summary in another form).

const steps: { name: string; cmd: string[] }[] = [
  { name: "type check", cmd: ["tsc", "--noEmit"] },
  { name: "format", cmd: ["prettier", "--check", "."] },
];

for (const step of steps) {
  process.stdout.write(`\n== ${step.name}: ${step.cmd.join(" ")}\n`);
  const proc = Bun.spawn(step.cmd, { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    process.stdout.write(`${step.name} failed\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}

// Integration tests start real servers and programs: each stays bounded, with room for a loaded 2-core
// machine (Bun's default is 5 s, and bunfig.toml cannot change it).
const TEST_TIMEOUT_MS = 20_000;

process.stdout.write("\n== tests: bun test\n");
const tests = Bun.spawn(["bun", "test", `--timeout=${TEST_TIMEOUT_MS}`, ...process.argv.slice(2)], {
  stdout: "inherit",
  stderr: "pipe",
});
const decoder = new TextDecoder();
let tail = "";
for await (const chunk of tests.stderr) {
  process.stderr.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const code = await tests.exited;
const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, "m").exec(tail)?.[1] ?? 0);
const [passed, failed, skipped] = [count("pass"), count("fail"), count("skip")];
// A crash before bun's summary still counts as a failure.
const reportedFailed = code !== 0 && failed === 0 ? 1 : failed;
process.stdout.write(
  `\n${passed} passed, ${reportedFailed} failed${skipped ? `, ${skipped} skipped` : ""}\n`,
);
process.exit(code);
