import { describe, expect, test } from "bun:test";
import { parseCommand, UsageError } from "../../src/cli.ts";

describe("parseCommand", () => {
  test.each([
    [[], { name: "serve", configPath: undefined }],
    [["serve", "-c", "a.yaml"], { name: "serve", configPath: "a.yaml" }],
    [["--config", "b.yaml"], { name: "serve", configPath: "b.yaml" }],
    [["validate", "--config=c.yaml"], { name: "validate", configPath: "c.yaml" }],
    [["config"], { name: "config", configPath: undefined }],
    [
      ["health", "--url", "http://127.0.0.1:1"],
      { name: "health", configPath: undefined, url: "http://127.0.0.1:1" },
    ],
    [["--version"], { name: "version" }],
    [["-v"], { name: "version" }],
    [["version"], { name: "version" }],
    [["--help"], { name: "help" }],
    [["validate", "-h"], { name: "help" }],
  ] as const)("%p", (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected as never);
  });

  test.each([[["launch"]], [["--port", "1"]], [["serve", "extra"]], [["-c"]], [["validate", "--url", "x"]]])(
    "%p is a usage error",
    (argv) => {
      expect(() => parseCommand(argv)).toThrow(UsageError);
    },
  );
});
